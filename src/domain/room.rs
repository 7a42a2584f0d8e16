//! [`Room`], the one shape every room source produces.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

/// How early the vendor admits people to a strict room, and how long after its end.
pub const STRICT_MARGIN_MINUTES: i64 = 60;

/// A LiveWebinar room ("widget") as roomgate needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Room {
    /// Vendor id, used by REST paths; catalog rooms may not have one.
    pub id: Option<u64>,
    /// Public room key, the embed's `_license_key`.
    pub license: String,
    pub name: String,
    /// Plain text; never rendered as HTML.
    pub agenda: String,
    pub kind: RoomKind,
    pub status: RoomStatus,
    /// Start instant, for scheduled rooms (the first occurrence of a repeating room).
    pub start: Option<DateTime<Utc>>,
    /// How a scheduled room repeats (catalog rooms only; the vendor has no recurrence).
    pub repeat: Option<Repeat>,
    pub duration_minutes: u32,
    pub timezone: Tz,
    /// The vendor admits no one earlier than 60 minutes before the start.
    pub strict_event: bool,
    pub password_protected: bool,
    /// Role name → role token (the hash in role links).
    pub roles: BTreeMap<String, String>,
}

/// Scheduled rooms have a start; permanent rooms are always open.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum RoomKind {
    Scheduled,
    Permanent,
}

/// Inactive rooms answer 410.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum RoomStatus {
    Active,
    Inactive,
}

/// A repeating schedule: every day or every week from the room's `start`, at the same
/// UTC instant (so the local time moves with summer time, exactly as in the calendar
/// file's `RRULE`), up to and including an occurrence that starts at `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeat {
    pub every: Frequency,
    pub until: Option<DateTime<Utc>>,
}

/// How often a room repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    Daily,
    Weekly,
}

impl Frequency {
    /// The time between two occurrences.
    pub fn period(self) -> Duration {
        match self {
            Frequency::Daily => Duration::days(1),
            Frequency::Weekly => Duration::weeks(1),
        }
    }

    /// The `FREQ` value of an iCalendar `RRULE`.
    pub fn rrule_name(self) -> &'static str {
        match self {
            Frequency::Daily => "DAILY",
            Frequency::Weekly => "WEEKLY",
        }
    }
}

/// How long after its start an occurrence still counts (visitors of strict rooms may stay
/// an hour past the end).
fn counts_for(room: &Room) -> Duration {
    let strict = if room.strict_event {
        Duration::minutes(STRICT_MARGIN_MINUTES)
    } else {
        Duration::zero()
    };
    Duration::minutes(i64::from(room.duration_minutes)) + strict
}

impl Room {
    /// The end instant of the first occurrence of a scheduled room.
    pub fn end(&self) -> Option<DateTime<Utc>> {
        self.start?
            .checked_add_signed(Duration::minutes(i64::from(self.duration_minutes)))
    }

    /// The start of the occurrence that matters at `now`: for a room that does not
    /// repeat, its start; for a repeating room, the occurrence under way or the next one,
    /// or the last one once the series is over (so the room reads as ended).
    pub fn start_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = self.start?;
        let Some(repeat) = self.repeat else {
            return Some(start);
        };
        let period = repeat.every.period().num_seconds();
        let first_close = start.checked_add_signed(counts_for(self))?;
        let index = if now < first_close {
            0
        } else {
            // The first occurrence whose close lies after `now`.
            (now - first_close).num_seconds() / period + 1
        };
        let last = repeat
            .until
            .map(|until| (until - start).num_seconds().max(0) / period);
        let index = last.map_or(index, |last| index.min(last));
        start.checked_add_signed(Duration::seconds(index.checked_mul(period)?))
    }

    /// The end of the occurrence that starts at `start`.
    pub fn end_from(&self, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
        start.checked_add_signed(Duration::minutes(i64::from(self.duration_minutes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn weekly(until: Option<&str>, strict: bool) -> Room {
        Room {
            id: None,
            license: "123-123-123".into(),
            name: "Office hours".into(),
            agenda: String::new(),
            kind: RoomKind::Scheduled,
            status: RoomStatus::Active,
            start: Some(at("2026-12-01T15:00:00Z")),
            repeat: Some(Repeat {
                every: Frequency::Weekly,
                until: until.map(at),
            }),
            duration_minutes: 90,
            timezone: chrono_tz::UTC,
            strict_event: strict,
            password_protected: false,
            roles: BTreeMap::new(),
        }
    }

    #[test]
    fn a_repeating_room_points_at_the_occurrence_under_way_or_the_next() {
        let r = weekly(None, false);
        for (now, expected) in [
            ("2026-11-01T00:00:00Z", "2026-12-01T15:00:00Z"),
            ("2026-12-01T16:29:59Z", "2026-12-01T15:00:00Z"),
            ("2026-12-01T16:30:00Z", "2026-12-08T15:00:00Z"),
            ("2026-12-08T15:10:00Z", "2026-12-08T15:00:00Z"),
            ("2028-01-06T12:00:00Z", "2028-01-11T15:00:00Z"),
        ] {
            assert_eq!(r.start_at(at(now)), Some(at(expected)), "at {now}");
        }
    }

    #[test]
    fn a_strict_occurrence_counts_until_an_hour_after_its_end() {
        let r = weekly(None, true);
        assert_eq!(
            r.start_at(at("2026-12-01T17:29:59Z")),
            Some(at("2026-12-01T15:00:00Z"))
        );
        assert_eq!(
            r.start_at(at("2026-12-01T17:30:00Z")),
            Some(at("2026-12-08T15:00:00Z"))
        );
    }

    #[test]
    fn a_series_ends_with_its_last_occurrence_on_or_before_until() {
        let r = weekly(Some("2026-12-15T23:59:59Z"), false);
        assert_eq!(
            r.start_at(at("2026-12-10T00:00:00Z")),
            Some(at("2026-12-15T15:00:00Z"))
        );
        assert_eq!(
            r.start_at(at("2027-03-01T00:00:00Z")),
            Some(at("2026-12-15T15:00:00Z")),
            "after the series, its last occurrence (which has ended)"
        );
    }

    #[test]
    fn a_room_that_does_not_repeat_keeps_its_start() {
        let mut r = weekly(None, false);
        r.repeat = None;
        assert_eq!(
            r.start_at(at("2030-01-01T00:00:00Z")),
            Some(at("2026-12-01T15:00:00Z"))
        );
    }

    #[test]
    fn an_unrepresentable_start_gives_no_occurrence_instead_of_a_panic() {
        let mut r = weekly(None, false);
        r.start = Some(DateTime::<Utc>::MAX_UTC);
        assert_eq!(r.end(), None);
        assert_eq!(r.start_at(at("2026-12-01T00:00:00Z")), None);
    }
}

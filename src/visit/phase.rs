//! Where a room stands at a given instant (the server's clock decides; the page's script
//! only counts down).

use chrono::{DateTime, Duration, Utc};

use crate::domain::{Room, STRICT_MARGIN_MINUTES};

/// Where a room stands for one visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Open: the embed is loaded. Permanent rooms are always open.
    Live,
    /// Before the start but already admitting: the embed is loaded, with a countdown.
    Upcoming { starts_at: DateTime<Utc> },
    /// A strict room more than 60 minutes before its start: no embed (the vendor would
    /// refuse), a countdown, and the page reloads itself when the room opens.
    Waiting { opens_at: DateTime<Utc> },
    /// Over: no embed.
    Ended,
}

impl Phase {
    /// Whether the page loads the embed.
    pub fn shows_room(self) -> bool {
        matches!(self, Phase::Live | Phase::Upcoming { .. })
    }

    /// The name templates use.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Live => "live",
            Phase::Upcoming { .. } => "upcoming",
            Phase::Waiting { .. } => "waiting",
            Phase::Ended => "ended",
        }
    }
}

/// Where `room` stands at `now` for a visitor; hosts (`privileged`, any valid role hash)
/// always get the room.
pub fn phase(room: &Room, now: DateTime<Utc>, privileged: bool) -> Phase {
    // A repeating room is judged by the occurrence that matters now. A schedule whose
    // dates cannot be represented counts as no schedule.
    let Some(start) = room.start_at(now) else {
        return Phase::Live;
    };
    let Some(end) = room.end_from(start) else {
        return Phase::Live;
    };
    let margin = Duration::minutes(STRICT_MARGIN_MINUTES);
    if !privileged {
        let closes_at = if room.strict_event {
            end.checked_add_signed(margin).unwrap_or(end)
        } else {
            end
        };
        if now >= closes_at {
            return Phase::Ended;
        }
        let opens_at = start.checked_sub_signed(margin).unwrap_or(start);
        if room.strict_event && now < opens_at {
            return Phase::Waiting { opens_at };
        }
    }
    if now < start {
        Phase::Upcoming { starts_at: start }
    } else {
        Phase::Live
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RoomKind, RoomStatus};

    fn room(strict: bool) -> Room {
        Room {
            id: None,
            license: "123-123-123".into(),
            name: "Demo".into(),
            agenda: String::new(),
            kind: RoomKind::Scheduled,
            status: RoomStatus::Active,
            start: Some(at("2026-12-01T15:00:00Z")),
            repeat: None,
            duration_minutes: 90,
            timezone: chrono_tz::Europe::Warsaw,
            strict_event: strict,
            password_protected: false,
            roles: Default::default(),
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_strict_room_at_fixed_instants() {
        let r = room(true);
        let cases = [
            (
                "2026-12-01T13:59:59Z",
                false,
                Phase::Waiting {
                    opens_at: at("2026-12-01T14:00:00Z"),
                },
            ),
            (
                "2026-12-01T14:00:00Z",
                false,
                Phase::Upcoming {
                    starts_at: at("2026-12-01T15:00:00Z"),
                },
            ),
            ("2026-12-01T15:00:00Z", false, Phase::Live),
            ("2026-12-01T17:29:59Z", false, Phase::Live),
            ("2026-12-01T17:30:00Z", false, Phase::Ended),
            (
                "2026-11-30T09:00:00Z",
                true,
                Phase::Upcoming {
                    starts_at: at("2026-12-01T15:00:00Z"),
                },
            ),
            ("2026-12-02T09:00:00Z", true, Phase::Live),
        ];
        for (now, host, expected) in cases {
            assert_eq!(
                phase(&r, at(now), host),
                expected,
                "strict, {now}, host {host}"
            );
        }
    }

    #[test]
    fn a_room_that_is_not_strict_at_fixed_instants() {
        let r = room(false);
        let cases = [
            (
                "2026-11-30T09:00:00Z",
                false,
                Phase::Upcoming {
                    starts_at: at("2026-12-01T15:00:00Z"),
                },
            ),
            ("2026-12-01T15:30:00Z", false, Phase::Live),
            ("2026-12-01T16:29:59Z", false, Phase::Live),
            ("2026-12-01T16:30:00Z", false, Phase::Ended),
            ("2026-12-01T16:30:00Z", true, Phase::Live),
        ];
        for (now, host, expected) in cases {
            assert_eq!(
                phase(&r, at(now), host),
                expected,
                "not strict, {now}, host {host}"
            );
        }
        assert!(
            !Phase::Ended.shows_room()
                && !Phase::Waiting {
                    opens_at: at(cases[0].0)
                }
                .shows_room()
        );
    }

    #[test]
    fn permanent_rooms_are_always_live() {
        let mut r = room(true);
        r.kind = RoomKind::Permanent;
        r.start = None;
        assert_eq!(phase(&r, at("2030-01-01T00:00:00Z"), false), Phase::Live);
    }
}

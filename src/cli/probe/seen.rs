//! What the probe saw at the vendor, as plain data for the verdicts: the listings, one
//! room's detail, each step of the write part; and the temporary room it sends.

use std::collections::HashSet;

use chrono::{DateTime, Days, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use secrecy::SecretString;
use serde_json::Value;

use crate::vendor::tolerant::as_u64;

/// What a call gave, or why it gave nothing (the vendor's message, as `ApiError` words it).
pub type Seen<T> = Result<T, String>;

/// The page size of the small listings: two rooms a page, so that three rooms make a
/// second page.
pub const SMALL_LIMIT: usize = 2;

/// The page size roomgate and the vendor's own plugin ask for.
pub const FULL_LIMIT: usize = 500;

/// One listing answer: its room ids in order and the total it announced, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub ids: Vec<u64>,
    pub total: Option<u64>,
}

impl Listing {
    /// Its ids as a set.
    pub fn set(&self) -> HashSet<u64> {
        self.ids.iter().copied().collect()
    }
}

/// The listings of the read-only part (all `sort=id&order=desc`).
#[derive(Debug, Clone)]
pub struct Listings {
    /// `limit=2&page=1`, no scope.
    pub small_page1: Seen<Listing>,
    /// `limit=2&page=2`, no scope.
    pub small_page2: Seen<Listing>,
    /// `limit=500&page=1`, no scope.
    pub full_page1: Seen<Listing>,
    /// `limit=500&page=2`, no scope.
    pub full_page2: Seen<Listing>,
    /// `limit=500&scope=active`.
    pub active: Seen<Listing>,
    /// `limit=500&scope=inactive`.
    pub inactive: Seen<Listing>,
}

impl Listings {
    /// How many rooms the account has at least: every id any listing showed, or the
    /// largest total announced.
    pub fn known_rooms(&self) -> usize {
        let all = [
            &self.small_page1,
            &self.small_page2,
            &self.full_page1,
            &self.full_page2,
            &self.active,
            &self.inactive,
        ];
        let ids: HashSet<u64> = all
            .iter()
            .filter_map(|l| l.as_ref().ok())
            .flat_map(|l| l.ids.iter().copied())
            .collect();
        let total = all
            .iter()
            .filter_map(|l| l.as_ref().ok()?.total)
            .max()
            .unwrap_or(0);
        ids.len().max(usize::try_from(total).unwrap_or(usize::MAX))
    }
}

/// Everything the read-only part saw.
#[derive(Debug, Clone)]
pub struct ReadSeen {
    /// `GET me` → `data`.
    pub account: Seen<Value>,
    pub listings: Listings,
    /// `GET widgets/{id}` → `data` of one listed room; `None` when no listing held one.
    pub room: Option<Seen<Value>>,
}

/// A step of the write part: run, or why not.
#[derive(Debug, Clone, PartialEq)]
pub enum Step<T> {
    /// It ran: what it saw.
    Ran(Seen<T>),
    /// Not run, for this reason (no --email, no temporary room).
    NotRun(&'static str),
    /// Ctrl-C came first.
    Interrupted,
}

/// A room's status after a `PUT status=…`, by its field and by the scoped listings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusSeen {
    /// The `status` field read back, if the room has one.
    pub status: Option<String>,
    /// Whether the listing of the status asked for (`scope=inactive` after closing,
    /// `scope=active` after reopening) holds the room; `None` if that listing failed.
    pub in_scope: Option<bool>,
    /// Whether the unscoped listing holds the room; `None` if it failed.
    pub in_unscoped: Option<bool>,
}

/// What reading a deleted room back answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadBack {
    /// 404, 410 or 403: gone.
    Gone(u16),
    /// The room is still there.
    StillThere,
    /// Some other failure.
    Unreadable(String),
}

/// The temporary room the write part creates, and the change it makes.
pub struct Sent {
    pub name: String,
    pub agenda: String,
    pub password: SecretString,
    pub duration_minutes: u32,
    pub timezone: Tz,
    /// The start as sent: wall clock in `timezone`, `YYYY-MM-DD HH:MM:SS`.
    pub start_wall: String,
    /// The same start as an instant.
    pub start_at: DateTime<Utc>,
    /// The name and agenda of the update (the only fields the `PUT` sends).
    pub new_name: String,
    pub new_agenda: String,
}

/// The time zone of the temporary room: not UTC, so that a vendor reading the start in
/// UTC shows.
const PROBE_TIMEZONE: Tz = chrono_tz::Europe::Warsaw;

impl Sent {
    /// The temporary room for a run at `now`: named after `now`, starting 30 days later at
    /// 10:00 in Warsaw (never in a daylight-saving gap), with `password`.
    pub fn new(now: DateTime<Utc>, password: SecretString) -> Self {
        let stamp = now.format("%Y%m%dT%H%M%SZ");
        let day = now
            .with_timezone(&PROBE_TIMEZONE)
            .date_naive()
            .checked_add_days(Days::new(30))
            .unwrap_or_else(|| now.date_naive());
        let wall = day.and_time(NaiveTime::from_hms_opt(10, 0, 0).unwrap_or_default());
        let start_at = PROBE_TIMEZONE
            .from_local_datetime(&wall)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now);
        Sent {
            name: format!("roomgate probe {stamp}"),
            agenda: "Temporary room of `roomgate probe`; it deletes the room when done.".into(),
            password,
            duration_minutes: 45,
            timezone: PROBE_TIMEZONE,
            start_wall: wall.format("%Y-%m-%d %H:%M:%S").to_string(),
            start_at,
            new_name: format!("roomgate probe {stamp} (changed)"),
            new_agenda: "Temporary room of `roomgate probe`, changed by its PUT.".into(),
        }
    }
}

/// Everything the write part saw.
#[derive(Debug, Clone)]
pub struct WriteSeen {
    /// `POST widgets` → the new room's id.
    pub create: Seen<u64>,
    /// `GET widgets/{id}` → `data` right after creating.
    pub created: Step<Value>,
    /// `GET widgets/{id}` → `data` after the `PUT` of name and agenda.
    pub updated: Step<Value>,
    pub closed: Step<StatusSeen>,
    pub reopened: Step<StatusSeen>,
    /// `POST widgets/{id}/personal` → `data`.
    pub personal: Step<Value>,
    /// `DELETE widgets/{id}`, then what reading the room back answered.
    pub deleted: Step<ReadBack>,
}

/// The listing an answer holds: the ids of `data[]` and the total it announces.
pub fn listing_of(answer: &Value) -> Seen<Listing> {
    let items = match answer.get("data").unwrap_or(answer) {
        Value::Array(items) => items,
        _ => return Err("the answer holds no list of rooms".to_owned()),
    };
    let total = [
        answer.pointer("/meta/total"),
        answer.get("total"),
        answer.pointer("/meta/pagination/total"),
    ]
    .into_iter()
    .flatten()
    .find_map(as_u64);
    Ok(Listing {
        ids: items
            .iter()
            .filter_map(|item| item.get("id").and_then(as_u64))
            .collect(),
        total,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn listings_are_read_with_or_without_a_total() {
        let l =
            listing_of(&json!({"data": [{"id": 3}, {"id": "2"}, {"x": 1}], "meta": {"total": 9}}))
                .unwrap();
        assert_eq!(l.ids, [3, 2]);
        assert_eq!(l.total, Some(9));
        let nested =
            listing_of(&json!({"data": [], "meta": {"pagination": {"total": "4"}}})).unwrap();
        assert_eq!(nested.total, Some(4));
        assert_eq!(listing_of(&json!({"data": []})).unwrap().total, None);
        assert!(listing_of(&json!({"data": {"id": 1}})).is_err());
    }

    fn sent() -> Sent {
        Sent::new(
            "2026-03-20T08:00:00Z".parse().unwrap(),
            SecretString::from("pw-secret"),
        )
    }

    #[test]
    fn the_temporary_room_starts_at_ten_in_warsaw_thirty_days_on() {
        let s = sent();
        assert_eq!(s.name, "roomgate probe 20260320T080000Z");
        assert_eq!(s.start_wall, "2026-04-19 10:00:00");
        // Summer time by then: UTC+2.
        assert_eq!(s.start_at.to_rfc3339(), "2026-04-19T08:00:00+00:00");
    }
}

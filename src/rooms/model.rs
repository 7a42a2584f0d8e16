//! [`Room`], the one shape every room source produces.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

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
    /// Start instant, for scheduled rooms.
    pub start: Option<DateTime<Utc>>,
    pub duration_minutes: u32,
    pub timezone: Tz,
    /// The vendor admits no one earlier than 60 minutes before the start.
    pub strict_event: bool,
    pub password_protected: bool,
    /// Role name → role token (the hash in role links).
    pub roles: BTreeMap<String, String>,
}

/// Scheduled rooms have a start; permanent rooms are always open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RoomKind {
    Scheduled,
    Permanent,
}

/// Inactive rooms answer 410.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RoomStatus {
    Active,
    Inactive,
}

impl Room {
    /// The end instant of a scheduled room.
    pub fn end(&self) -> Option<DateTime<Utc>> {
        self.start
            .map(|start| start + Duration::minutes(i64::from(self.duration_minutes)))
    }
}

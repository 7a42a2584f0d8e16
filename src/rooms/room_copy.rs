//! How a cached lookup is written for the other instances of the fleet: roomgate's
//! [`Room`] (not the vendor's widget, whose tolerant reading happened once already) and
//! when the vendor answered. Private to the fleet: any change of layout is read as "no
//! copy", which only costs a vendor call.

use std::{collections::BTreeMap, sync::Arc};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::lookup::Lookup;
use crate::{
    domain::{Frequency, Repeat, Room, RoomKind, RoomStatus},
    vendor::models::Index,
};

/// A lookup as kept in the fleet.
#[derive(Serialize, Deserialize)]
struct Copy {
    /// When the vendor answered, Unix milliseconds.
    fetched_ms: u64,
    /// The room; `None`: gone.
    room: Option<RoomCopy>,
}

#[derive(Serialize, Deserialize)]
struct RoomCopy {
    id: Option<u64>,
    license: String,
    name: String,
    agenda: String,
    kind: RoomKind,
    status: RoomStatus,
    start: Option<DateTime<Utc>>,
    repeat: Option<(Frequency, Option<DateTime<Utc>>)>,
    duration_minutes: u32,
    timezone: String,
    strict_event: bool,
    password_protected: bool,
    roles: BTreeMap<String, String>,
}

/// The bytes of `lookup`, fetched at `fetched_ms`; `None` for what is not shared
/// ("no such room" stays with each instance's negative cache).
pub(super) fn encode(lookup: &Lookup, fetched_ms: u64) -> Option<Vec<u8>> {
    let room = match lookup {
        Lookup::Found(room) => Some(RoomCopy {
            id: room.id,
            license: room.license.clone(),
            name: room.name.clone(),
            agenda: room.agenda.clone(),
            kind: room.kind,
            status: room.status,
            start: room.start,
            repeat: room.repeat.map(|r| (r.every, r.until)),
            duration_minutes: room.duration_minutes,
            timezone: room.timezone.name().to_owned(),
            strict_event: room.strict_event,
            password_protected: room.password_protected,
            roles: room.roles.clone(),
        }),
        Lookup::Gone => None,
        Lookup::NotFound => return None,
    };
    serde_json::to_vec(&Copy { fetched_ms, room }).ok()
}

/// The lookup in `bytes` and when it was fetched, if they hold one.
pub(super) fn decode(bytes: &[u8]) -> Option<(Lookup, u64)> {
    let copy: Copy = serde_json::from_slice(bytes).ok()?;
    let lookup = match copy.room {
        None => Lookup::Gone,
        Some(r) => Lookup::Found(Arc::new(Room {
            id: r.id,
            license: r.license,
            name: r.name,
            agenda: r.agenda,
            kind: r.kind,
            status: r.status,
            start: r.start,
            repeat: r.repeat.map(|(every, until)| Repeat { every, until }),
            duration_minutes: r.duration_minutes,
            timezone: r.timezone.parse().ok()?,
            strict_event: r.strict_event,
            password_protected: r.password_protected,
            roles: r.roles,
        })),
    };
    Some((lookup, copy.fetched_ms))
}

/// The index as kept in the fleet.
#[derive(Serialize, Deserialize)]
struct IndexCopy {
    /// When the vendor listed it, Unix milliseconds.
    listed_ms: u64,
    rooms: Index,
}

/// The bytes of `index`, listed at `listed_ms`.
pub(super) fn encode_index(index: &Index, listed_ms: u64) -> Option<Vec<u8>> {
    serde_json::to_vec(&IndexCopy {
        listed_ms,
        rooms: index.clone(),
    })
    .ok()
}

/// The index in `bytes` and when it was listed.
pub(super) fn decode_index(bytes: &[u8]) -> Option<(Index, u64)> {
    let copy: IndexCopy = serde_json::from_slice(bytes).ok()?;
    Some((copy.rooms, copy.listed_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> Room {
        Room {
            id: Some(42),
            license: "123-123-123".into(),
            name: "Quarterly review".into(),
            agenda: "<b>numbers</b>".into(),
            kind: RoomKind::Scheduled,
            status: RoomStatus::Inactive,
            start: Some("2026-12-01T15:00:00Z".parse().unwrap()),
            repeat: Some(Repeat {
                every: Frequency::Weekly,
                until: None,
            }),
            duration_minutes: 90,
            timezone: chrono_tz::Europe::Warsaw,
            strict_event: true,
            password_protected: true,
            roles: BTreeMap::from([("host".to_owned(), "a".repeat(32))]),
        }
    }

    #[test]
    fn a_room_and_a_gone_room_read_back_as_written() {
        let bytes = encode(&Lookup::Found(Arc::new(room())), 1234).unwrap();
        match decode(&bytes) {
            Some((Lookup::Found(back), 1234)) => assert_eq!(*back, room()),
            other => panic!("{other:?}"),
        }
        let bytes = encode(&Lookup::Gone, 7).unwrap();
        assert!(matches!(decode(&bytes), Some((Lookup::Gone, 7))));
        assert!(encode(&Lookup::NotFound, 7).is_none(), "not shared");
    }

    #[test]
    fn an_index_reads_back_as_written() {
        let index = Index::from([("123-123-123".to_owned(), 42)]);
        let bytes = encode_index(&index, 9).unwrap();
        assert_eq!(decode_index(&bytes), Some((index, 9)));
        assert_eq!(decode_index(b"[]"), None);
    }

    #[test]
    fn anything_else_is_no_copy() {
        assert!(decode(b"{}").is_none());
        assert!(decode(b"not json").is_none());
        let mut json: serde_json::Value =
            serde_json::from_slice(&encode(&Lookup::Found(Arc::new(room())), 1).unwrap()).unwrap();
        json["room"]["timezone"] = "Mars/Olympus".into();
        assert!(decode(json.to_string().as_bytes()).is_none());
    }
}

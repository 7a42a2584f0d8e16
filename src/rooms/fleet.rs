//! The room directory in a fleet of instances (`shared.backend = "redis"`).
//!
//! - An operator's change is applied here at once, then told to the others (`shared::
//!   changes`); each instance applies the others' changes in the background. After a
//!   gap it cannot replay, it marks its rooms stale instead of dropping them: they are
//!   still served (and under stale-if-error while the vendor fails), each refreshed on
//!   its next view.
//! - What one instance fetched from the vendor is copied to Redis (`shared::
//!   room_copies`) for the others: a local miss reads the copy first and asks the vendor
//!   only when there is none fresh, and a copy past its TTL still serves while the vendor
//!   fails, up to `cache.max_stale_secs`.
//! - Likewise the index of room keys: an instance about to list the vendor's rooms takes
//!   a listing another instance made less than `cache.index_min_interval_secs` ago.
//! - A cached room's page makes no Redis call: the copy is read on a local miss only,
//!   written off the request path, and the changes arrive on a task of their own.
//!
//! With the local backend every call here does nothing, at once.
//!
//! This file holds what the directory keeps of the fleet; `fleet_cache` applies it to
//! the cache.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, atomic::AtomicBool},
};

use crate::shared::{
    Backend,
    changes::{Change, Changes, LocalChanges, RedisChanges, now_ms},
    room_copies::{LocalCopies, RedisCopies, RoomCopies},
};

/// The other instances, as the directory sees them.
pub struct Fleet {
    pub(super) changes: Arc<dyn Changes>,
    pub(super) copies: Arc<dyn RoomCopies>,
    /// Whether this directory hears the others' changes yet (from its first lookup on:
    /// the command line, which makes none, never subscribes).
    pub(super) following: AtomicBool,
    /// The next listing must be the vendor's own (an operator looks for a new room).
    pub(super) index_forced: AtomicBool,
    /// When each room last changed as far as this instance knows (its clock, Unix
    /// milliseconds): a vendor answer or a copy from before may show the old room.
    changed: Mutex<HashMap<String, u64>>,
}

/// Rooms whose last change is remembered; past it, those changed over an hour ago (when
/// no fetch or fresh copy can predate the change any more) are forgotten.
const CHANGES_REMEMBERED: usize = 10_000;

/// The copy of the index of room keys.
pub(super) const INDEX: &str = "index";

/// The copy of a room.
pub(super) fn room_copy_name(license: &str) -> String {
    format!("room:{license}")
}

impl Fleet {
    /// No other instance: nothing is told or copied.
    pub fn alone() -> Self {
        Fleet::with(Arc::new(LocalChanges), Arc::new(LocalCopies))
    }

    /// The fleet of `backend`.
    pub fn of(backend: &Backend) -> Self {
        match backend.redis() {
            None => Fleet::alone(),
            Some(link) => Fleet::with(
                Arc::new(RedisChanges::new(link.clone())),
                Arc::new(RedisCopies::new(link.clone())),
            ),
        }
    }

    /// A fleet of these changes and copies.
    pub fn with(changes: Arc<dyn Changes>, copies: Arc<dyn RoomCopies>) -> Self {
        Fleet {
            changes,
            copies,
            following: AtomicBool::new(false),
            index_forced: AtomicBool::new(false),
            changed: Mutex::default(),
        }
    }

    /// Notes that `license` changed now.
    pub(super) fn note_change(&self, license: &str) {
        let now = now_ms();
        let mut changed = self.changed.lock().unwrap_or_else(|e| e.into_inner());
        if changed.len() >= CHANGES_REMEMBERED {
            changed.retain(|_, at| now.saturating_sub(*at) < 3_600_000);
            if changed.len() >= CHANGES_REMEMBERED {
                changed.clear();
            }
        }
        changed.insert(license.to_owned(), now);
    }

    /// Whether `license` changed at or after `ms`: what was fetched then may be older.
    pub(super) fn changed_since(&self, license: &str, ms: u64) -> bool {
        let changed = self.changed.lock().unwrap_or_else(|e| e.into_inner());
        changed.get(license).is_some_and(|at| *at >= ms)
    }

    /// Tells the others that `license` changed; its copy goes first, so that an
    /// instance that hears of the change fetches the room anew.
    pub(super) async fn room_changed(&self, license: &str) {
        self.copies.forget(&room_copy_name(license)).await;
        self.changes
            .publish(&Change::Room(license.to_owned()))
            .await;
    }

    /// Tells the others that rooms were created or deleted; the shared listing goes
    /// first.
    pub(super) async fn index_changed(&self) {
        self.copies.forget(INDEX).await;
        self.changes.publish(&Change::Index).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_dates_what_was_fetched_before_it_and_nothing_after() {
        let fleet = Fleet::alone();
        let before = now_ms();
        assert!(!fleet.changed_since("123-123-123", before));
        fleet.note_change("123-123-123");
        assert!(fleet.changed_since("123-123-123", before));
        assert!(!fleet.changed_since("123-123-123", now_ms() + 1));
        assert!(!fleet.changed_since("234-234-234", before), "another room");
    }

    #[test]
    fn the_memory_of_changes_stays_bounded() {
        let fleet = Fleet::alone();
        for i in 0..=CHANGES_REMEMBERED {
            fleet.note_change(&i.to_string());
        }
        let held = fleet.changed.lock().unwrap().len();
        assert!(held <= CHANGES_REMEMBERED, "{held}");
        assert!(
            fleet.changed_since(&CHANGES_REMEMBERED.to_string(), 0),
            "the newest stays"
        );
    }
}

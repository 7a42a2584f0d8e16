//! Server-side records of things that may happen only once: SSO token ids (`jti`), OAuth
//! `state` values, sign-ins that have ended.
//!
//! The session lives in the visitor's cookie, and a copy of a cookie can be replayed: only
//! a record on the server can say "this was used" or "this sign-in has ended". A record
//! needs keeping only while the thing it refuses could still be accepted, so each key comes
//! with an `until` instant (the token's `exp` plus leeway, the identity's own expiry…) and
//! is forgotten after it.
//!
//! Time is the application's clock (passed in as `now`), never the wall clock of a cache:
//! the checks that accept a token use that clock, so the record must follow the same one.
//! If that clock moves back after a record was forgotten, the record cannot tell "never
//! used" from "forgotten": every key whose `until` is not after the latest forgotten one
//! counts as used. The same rule bounds memory: when the record is full, the entry closest
//! to its end is forgotten early, and keys ending no later count as used from then on, so
//! being full makes the record stricter, never more lenient.
//!
//! This is the local implementation of `one_time::OneTimeRecord`; in fleet mode the Redis
//! one (`SET NX` with an expiry) is the record, and this one keeps the instance's copy.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex, PoisonError},
};

/// A bounded record of used keys, each kept until its own instant (Unix seconds).
pub struct UsedOnce {
    /// What the record holds, for the log ("sso token ids"…).
    what: &'static str,
    capacity: usize,
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    until: HashMap<Arc<str>, i64>,
    /// The same entries in the order they may be forgotten.
    by_end: BTreeSet<(i64, Arc<str>)>,
    /// Keys ending at or before this instant may have been forgotten: they count as used.
    forgotten_through: Option<i64>,
}

impl UsedOnce {
    /// An empty record of at most `capacity` keys (at least one).
    pub fn new(what: &'static str, capacity: usize) -> Self {
        UsedOnce {
            what,
            capacity: capacity.max(1),
            inner: Mutex::new(Entries::default()),
        }
    }

    /// Records `key` as used until `until` and says whether this was its first use, at
    /// `now`. Atomic: of two concurrent calls with one key, exactly one gets `true`.
    pub fn first_use(&self, key: &str, until: i64, now: i64) -> bool {
        let mut entries = self.entries();
        entries.forget_ended(now);
        if entries.may_have_forgotten(until) {
            return false;
        }
        if let Some(&kept) = entries.until.get(key) {
            // Used before; a later end keeps it longer (a sign-out of a renewed identity).
            if until > kept {
                let key: Arc<str> = Arc::from(key);
                entries.by_end.remove(&(kept, key.clone()));
                entries.by_end.insert((until, key.clone()));
                entries.until.insert(key, until);
            }
            return false;
        }
        if entries.until.len() >= self.capacity {
            entries.forget_soonest();
            tracing::warn!(
                record = self.what,
                capacity = self.capacity,
                "one-time record full: the entry closest to its end was forgotten early, and keys ending before it now count as used"
            );
            if entries.may_have_forgotten(until) {
                return false;
            }
        }
        let key: Arc<str> = Arc::from(key);
        entries.by_end.insert((until, key.clone()));
        entries.until.insert(key, until);
        true
    }

    /// Whether `key` (which would be kept until `until`) has been used.
    pub fn was_used(&self, key: &str, until: i64) -> bool {
        let entries = self.entries();
        entries.may_have_forgotten(until) || entries.until.contains_key(key)
    }

    /// How many keys are held (the tests watch the record's size).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries().until.len()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        // The entries stay consistent between statements, so a panic elsewhere while the
        // lock was held leaves nothing half-done.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Entries {
    /// Forgets the entries that ended before `now`.
    fn forget_ended(&mut self, now: i64) {
        while self.by_end.first().is_some_and(|(until, _)| *until < now) {
            self.forget_soonest();
        }
    }

    /// Forgets the entry closest to its end; keys ending no later count as used from now on.
    fn forget_soonest(&mut self) {
        if let Some((until, key)) = self.by_end.pop_first() {
            self.until.remove(&key);
            self.forgotten_through = Some(self.forgotten_through.map_or(until, |t| t.max(until)));
        }
    }

    /// Whether a key ending at `until` may have been held and forgotten.
    fn may_have_forgotten(&self, until: i64) -> bool {
        self.forgotten_through.is_some_and(|t| until <= t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_used_once() {
        let record = UsedOnce::new("test", 10);
        assert!(!record.was_used("a", 100));
        assert!(record.first_use("a", 100, 0));
        assert!(!record.first_use("a", 100, 0));
        assert!(record.was_used("a", 100));
        assert!(record.first_use("b", 100, 0), "another key is free");
    }

    #[test]
    fn an_entry_is_held_through_its_last_instant_and_dropped_after_it() {
        let record = UsedOnce::new("test", 10);
        assert_eq!(record.len(), 0);
        assert!(record.first_use("a", 100, 0));
        assert!(record.first_use("b", 500, 100));
        assert_eq!(record.len(), 2, "a is still held at its last instant");
        assert!(record.first_use("c", 500, 250));
        assert_eq!(
            record.len(),
            2,
            "a is dropped once its end has passed, not kept forever"
        );
        assert!(!record.first_use("a", 100, 250), "and still counts as used");
    }

    #[test]
    fn a_key_is_kept_until_its_own_end_on_the_given_clock() {
        let record = UsedOnce::new("test", 10);
        assert!(record.first_use("a", 100, 0));
        // However much wall-clock time passes, only `now` decides.
        assert!(
            !record.first_use("a", 100, 100),
            "still kept at its last instant"
        );
        assert!(record.first_use("b", 200, 101), "forgotten after it");
        assert_eq!(record.len(), 1);
    }

    #[test]
    fn a_forgotten_key_still_counts_as_used_when_the_clock_moves_back() {
        let record = UsedOnce::new("test", 10);
        assert!(record.first_use("a", 100, 0));
        assert!(record.first_use("b", 500, 200), "a is forgotten here");
        // The clock moves back to a time when "a" could be accepted again.
        assert!(!record.first_use("a", 100, 50));
        assert!(record.was_used("a", 100));
        assert!(!record.was_used("c", 101), "later keys are unaffected");
        assert!(record.first_use("c", 101, 50));
    }

    #[test]
    fn a_full_record_forgets_the_soonest_end_and_refuses_what_ends_before_it() {
        let record = UsedOnce::new("test", 2);
        assert!(record.first_use("late", 300, 0));
        assert!(record.first_use("soon", 100, 0));
        assert!(
            record.first_use("middle", 200, 0),
            "room made by forgetting 'soon'"
        );
        assert_eq!(record.len(), 2);
        assert!(
            record.was_used("soon", 100),
            "forgotten, still counts as used"
        );
        assert!(!record.first_use("soon", 100, 0));
        assert!(
            !record.first_use("other", 50, 0),
            "ends before a forgotten key"
        );
    }

    #[test]
    fn a_later_end_keeps_a_key_longer() {
        let record = UsedOnce::new("test", 10);
        assert!(record.first_use("a", 100, 0));
        assert!(!record.first_use("a", 300, 0));
        assert!(record.first_use("b", 400, 200));
        assert!(record.was_used("a", 300), "kept past its first end");
    }

    #[test]
    fn extreme_instants_do_not_overflow() {
        let record = UsedOnce::new("test", 1);
        assert!(record.first_use("a", i64::MAX, i64::MIN));
        assert!(
            !record.first_use("b", i64::MAX, i64::MAX),
            "full: 'a' is forgotten, and 'b' ends no later, so it counts as used"
        );
        assert!(record.was_used("a", i64::MAX));
    }
}

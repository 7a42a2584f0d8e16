//! What the fleet tells, applied to the room cache (see `fleet` for the rules): the
//! others' changes, the gap after which rooms are marked stale, and the copies read on a
//! local miss and written after a vendor fetch.

use std::{
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use super::{
    directory::{Directory, Entry, Inner, Miss},
    fleet::{INDEX, room_copy_name},
    room_copy,
};
use crate::{
    shared::changes::{Change, Heard, now_ms},
    vendor::models::Index,
};

impl Directory {
    /// Starts applying the other instances' changes, once, on the runtime of the caller
    /// (a server worker: what it logs goes to the application's log).
    pub(super) fn follow_changes(&self) {
        let fleet = &self.inner().fleet;
        // A read first: the swap writes, and every lookup passes here.
        if fleet.following.load(Ordering::Relaxed) || fleet.following.swap(true, Ordering::Relaxed)
        {
            return;
        }
        let mut heard = fleet.changes.follow();
        let directory = Arc::downgrade(self.inner());
        tokio::spawn(async move {
            while let Some(heard) = heard.recv().await {
                let Some(inner) = directory.upgrade() else {
                    return;
                };
                inner.apply(heard).await;
            }
        });
    }
}

impl Inner {
    /// Applies what the fleet told.
    async fn apply(&self, heard: Heard) {
        match heard {
            Heard::Change {
                change,
                published_ms,
            } => {
                match &change {
                    Change::Room(license) => self.forget_room(license).await,
                    Change::Index => self.forget_listing().await,
                }
                tracing::debug!(
                    delay_ms = now_ms().saturating_sub(published_ms),
                    "applied a change from another instance"
                );
            }
            Heard::Gap => self.mark_stale().await,
        }
    }

    /// Forgets `license` here, and that what was fetched before is out of date.
    pub(super) async fn forget_room(&self, license: &str) {
        self.fleet.note_change(license);
        self.rooms.invalidate(license).await;
        self.missing.invalidate(license).await;
    }

    /// Lists the rooms again on the next unknown key.
    pub(super) async fn forget_listing(&self) {
        *self.index_listed.lock().await = None;
    }

    /// Lists the rooms again at the vendor on the next unknown key, whatever the fleet's
    /// last listing.
    pub(super) async fn force_listing(&self) {
        self.fleet.index_forced.store(true, Ordering::Relaxed);
        self.forget_listing().await;
    }

    /// The fleet's listing, when one was made recently enough to stand for this
    /// instance's own, and when it was made.
    pub(super) async fn shared_index(&self) -> Option<(Index, Instant)> {
        if self.fleet.index_forced.swap(false, Ordering::Relaxed) {
            return None;
        }
        let bytes = self.fleet.copies.get(INDEX).await?;
        let (index, listed_ms) = room_copy::decode_index(&bytes)?;
        let age = Duration::from_millis(now_ms().saturating_sub(listed_ms));
        if age >= self.policy.index_min_interval {
            return None;
        }
        tracing::debug!(rooms = index.len(), "room index taken from the fleet");
        Some((index, Instant::now().checked_sub(age)?))
    }

    /// Copies this instance's listing for the fleet, off the request path.
    pub(super) fn copy_index(&self, index: &Index) {
        let Some(bytes) = room_copy::encode_index(index, now_ms()) else {
            return;
        };
        let copies = self.fleet.copies.clone();
        let keep = self.policy.index_min_interval;
        tokio::spawn(async move { copies.put(INDEX, bytes, keep).await });
    }

    /// Changes may have been missed: every room is refreshed on its next view but still
    /// served meanwhile; "no such room" and the listing, which protect nothing while the
    /// vendor fails, are forgotten.
    async fn mark_stale(&self) {
        let mut marked = 0_u64;
        for (_, entry) in self.rooms.iter() {
            entry.stale.store(true, Ordering::Relaxed);
            marked += 1;
        }
        self.missing.invalidate_all();
        self.forget_listing().await;
        tracing::info!(
            rooms = marked,
            "cached rooms marked stale after missed changes"
        );
    }

    /// What to cache for `license`: a fresh copy from the fleet, else the vendor's
    /// answer (copied for the fleet), else, while the vendor fails, a copy still within
    /// `max_stale`.
    pub(super) async fn fetch(&self, license: &str) -> Result<Arc<Entry>, Miss> {
        let started_ms = now_ms();
        let copy = self.read_copy(license).await;
        if let Some(entry) = &copy
            && entry.fetched.elapsed() < self.policy.ttl
        {
            return Ok(entry.clone());
        }
        match self.fetch_from_vendor(license).await {
            Ok(entry) => {
                if self.fleet.changed_since(license, started_ms) {
                    // An operator changed the room while the vendor answered: the answer
                    // may predate the change. Served, refreshed on its next view, and
                    // not copied for the others.
                    entry.stale.store(true, Ordering::Relaxed);
                } else {
                    self.write_copy(license, &entry, started_ms);
                }
                Ok(entry)
            }
            Err(Miss::Vendor(e)) => match copy {
                Some(entry) if entry.fetched.elapsed() < self.policy.max_stale => {
                    tracing::warn!(error = %e, "the vendor failed; serving the fleet's copy of the room");
                    entry.refresh_failed.store(true, Ordering::Relaxed);
                    Ok(entry)
                }
                _ => Err(Miss::Vendor(e)),
            },
            Err(miss) => Err(miss),
        }
    }

    /// The fleet's copy of `license`, as an entry as old as the copy.
    async fn read_copy(&self, license: &str) -> Option<Arc<Entry>> {
        let bytes = self.fleet.copies.get(&room_copy_name(license)).await?;
        let (lookup, fetched_ms) = room_copy::decode(&bytes)?;
        // Written by a fetch that began before the room's last change here (a race with
        // the change's removal of the copy): out of date.
        if self.fleet.changed_since(license, fetched_ms) {
            return None;
        }
        let age = Duration::from_millis(now_ms().saturating_sub(fetched_ms));
        let fetched = Instant::now().checked_sub(age)?;
        Some(Arc::new(Entry::new(lookup, fetched)))
    }

    /// Copies `entry` for the fleet, for as long as it could serve, off the request path.
    /// `fetched_ms` is when the fetch began: its answer is at least that recent.
    fn write_copy(&self, license: &str, entry: &Entry, fetched_ms: u64) {
        let keep = self.policy.ttl.max(self.policy.max_stale);
        let Some(bytes) = room_copy::encode(&entry.lookup, fetched_ms) else {
            return;
        };
        let copies = self.fleet.copies.clone();
        let name = room_copy_name(license);
        tokio::spawn(async move { copies.put(&name, bytes, keep).await });
    }
}

//! The room directory: a cache in front of the vendor API that keeps pages fast and up.
//!
//! - One upstream call per key however many visitors arrive at once (`try_get_with`).
//! - Fresh for `cache.ttl_secs`; after that the old entry is served while one background
//!   refresh runs (stale-while-revalidate).
//! - While the vendor fails, entries keep being served up to `cache.max_stale_secs` old
//!   (stale-if-error); then they are evicted and the page answers 503.
//! - "No such room" is cached for `cache.negative_ttl_secs`, and an unknown key lists the
//!   vendor's rooms again at most once per `cache.index_min_interval_secs`, so random
//!   keys cannot make roomgate hammer the vendor.
//! - At most `cache.capacity` rooms, and apart from them at most
//!   `cache.negative_capacity` unknown keys: anyone can send well-formed keys that no room
//!   has, and in a shared cache they would push the real rooms out (and with them their
//!   stale-if-error protection).
//!
//! - While the vendor asks us to wait (`Retry-After` on a 429 or 503), no lookup calls
//!   it: listings and detail fetches fail fast with the vendor's answer, cached rooms are
//!   served as above, and the 503 page passes the wait on.
//!
//! Each lookup is counted by what the cache did for it ([`CacheEvent`]).
//!
//! In fleet mode the instances share their fetches and the operators' changes
//! ([`Fleet`], applied in `fleet_cache`); a cached room's page never waits for Redis.
//!
//! The vendor has no lookup by room key: an index of key → id is built by listing all
//! widgets, and details come from `GET widgets/{id}`. A listing may miss rooms (closed
//! ones, or those past an ignored `page`), so every key listed is also remembered
//! ([`KnownKeys`]); a remembered key the listing lacks is checked with `GET widgets/{id}`.

use std::{
    collections::HashSet,
    future::Future,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use moka::future::Cache;

pub use super::cache_policy::CachePolicy;
use super::{
    answers::{found, is_gone, still_has_key},
    cache_events::CacheEvent,
    fleet::Fleet,
    known_keys::KnownKeys,
    lookup::{Lookup, RoomSource, Unavailable},
    vendor_wait::VendorWait,
};
use crate::{
    domain::{Clock, LicensePattern, Readiness},
    vendor::{
        Api, ApiError,
        models::{Index, Widget},
    },
};

/// The last listing of the vendor's rooms.
pub(super) struct Listing {
    at: Instant,
    /// Why it failed, if it did: until the next listing, unknown keys answer this error
    /// (503), not "no such room", which would be remembered as such.
    failure: Option<ApiError>,
}

/// One cached room (found, or gone since) and when it was fetched.
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) lookup: Lookup,
    /// When the vendor answered (for a copy from the fleet: when it answered the
    /// instance that fetched it).
    pub(super) fetched: Instant,
    /// The last background refresh failed: serving it now is stale-if-error. Set in
    /// place, since inserting the entry again would restart its time to live.
    pub(super) refresh_failed: AtomicBool,
    /// Changes may have been missed (see `fleet`): served as if past its TTL.
    pub(super) stale: AtomicBool,
}

impl Entry {
    /// An entry of `lookup`, as the vendor answered it at `fetched`.
    pub(super) fn new(lookup: Lookup, fetched: Instant) -> Self {
        Entry {
            lookup,
            fetched,
            refresh_failed: AtomicBool::new(false),
            stale: AtomicBool::new(false),
        }
    }

    /// Whether it is due for a refresh.
    fn past(&self, ttl: Duration) -> bool {
        self.stale.load(Ordering::Relaxed) || self.fetched.elapsed() >= ttl
    }
}

/// Why a fetch brought no room to cache.
#[derive(Debug, thiserror::Error)]
pub(super) enum Miss {
    /// The vendor has no room with this key: remembered in the negative cache.
    #[error("no such room")]
    NotFound,
    #[error(transparent)]
    Vendor(#[from] ApiError),
}

/// Where the vendor id of a key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Located {
    /// The last listing holds the key.
    Listed(u64),
    /// The listing lacks the key, but it was seen before with this id: to be checked.
    Remembered(u64),
    /// Neither listed nor remembered.
    Unknown,
}

/// What `GET widgets/{id}` says of a remembered key.
#[derive(Debug)]
enum Checked {
    /// The widget still has the key.
    Same(Box<Widget>),
    /// The widget is deleted, or no longer ours.
    Gone,
    /// The widget has another key now: the remembered one is wrong.
    Other,
}

/// Rooms of the vendor API behind the cache.
#[derive(Clone)]
pub struct Directory {
    inner: Arc<Inner>,
}

pub(super) struct Inner {
    api: Api,
    pattern: LicensePattern,
    pub(super) policy: CachePolicy,
    /// Rooms the vendor has, or had (gone).
    pub(super) rooms: Cache<String, Arc<Entry>>,
    /// Keys the vendor has no room for, each for `negative_ttl`.
    pub(super) missing: Cache<String, ()>,
    index: RwLock<Arc<Index>>,
    /// When the index was last listed, and how that went; the lock makes listings
    /// single-flight.
    pub(super) index_listed: tokio::sync::Mutex<Option<Listing>>,
    /// Keys with a background refresh under way.
    refreshing: Mutex<HashSet<String>>,
    /// Every key listed so far, with its id: found again when a listing lacks it.
    known: Arc<dyn KnownKeys>,
    /// While the vendor asked us to wait: lookups fail fast instead of calling it.
    wait: VendorWait,
    /// The vendor's waits are counted on the application's clock.
    clock: Clock,
    /// The other instances: their changes and their copies (nobody, by default).
    pub(super) fleet: Fleet,
}

impl Directory {
    /// A directory over `api` with `policy`; room keys of the index must match `pattern`.
    /// `known` remembers every key listed; `clock` counts the vendor's `Retry-After`;
    /// `fleet` shares changes and copies with the other instances.
    pub fn new(
        api: Api,
        pattern: LicensePattern,
        policy: CachePolicy,
        known: Arc<dyn KnownKeys>,
        clock: Clock,
        fleet: Fleet,
    ) -> Self {
        let rooms = Cache::builder()
            .max_capacity(policy.capacity)
            // Past this age an entry is of no use, even while the vendor is down.
            .time_to_live(policy.max_stale.max(policy.ttl))
            .build();
        let missing = Cache::builder()
            .max_capacity(policy.negative_capacity)
            .time_to_live(policy.negative_ttl)
            .build();
        Directory {
            inner: Arc::new(Inner {
                api,
                pattern,
                policy,
                rooms,
                missing,
                index: RwLock::new(Arc::new(Index::new())),
                index_listed: tokio::sync::Mutex::new(None),
                refreshing: Mutex::new(HashSet::new()),
                known,
                wait: VendorWait::default(),
                clock,
                fleet,
            }),
        }
    }

    /// The vendor API this directory reads.
    pub fn api(&self) -> &Api {
        &self.inner.api
    }

    pub(super) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    /// Forgets `license`, so the next view fetches it again (after an operator's change),
    /// here at once, then on the other instances of the fleet.
    pub async fn invalidate(&self, license: &str) {
        self.inner.forget_room(license).await;
        self.inner.fleet.room_changed(license).await;
    }

    /// How many rooms the cache holds (unknown keys apart), its pending work done first.
    pub async fn cached_rooms(&self) -> u64 {
        self.inner.rooms.run_pending_tasks().await;
        self.inner.rooms.entry_count()
    }

    /// Forgets the index too, so a new room is found at once, here and on the other
    /// instances.
    pub async fn invalidate_index(&self) {
        self.inner.forget_listing().await;
        self.inner.fleet.index_changed().await;
    }

    /// The vendor id of `license`; with `fresh`, the rooms are listed again if the key is
    /// neither listed nor remembered, whatever the interval (for operators' calls, which
    /// are few). A remembered key counts only if its widget still has it, so a closed room
    /// that no listing shows can still be reopened by its key.
    pub async fn vendor_id(&self, license: &str, fresh: bool) -> Result<Option<u64>, ApiError> {
        let inner = &self.inner;
        if fresh
            && !inner.index_snapshot().contains_key(license)
            && inner.known.get(license).await.is_none()
        {
            // Only this operator's call needs the new listing: the fleet is not told.
            inner.force_listing().await;
        }
        Ok(match inner.locate(license).await? {
            Located::Listed(id) => Some(id),
            Located::Remembered(id) => match inner.check_remembered(license, id).await? {
                Checked::Same(_) => Some(id),
                Checked::Gone | Checked::Other => None,
            },
            Located::Unknown => None,
        })
    }
}

#[async_trait::async_trait]
impl RoomSource for Directory {
    async fn lookup(&self, license: &str) -> Result<Lookup, Unavailable> {
        let inner = &self.inner;
        let brand = inner.api.client().brand();
        // No Redis here: a flag on first use, then the changes arrive in the background.
        self.follow_changes();
        let too_old = inner.policy.ttl.max(inner.policy.max_stale);
        if let Some(entry) = inner.rooms.get(license).await {
            // A copy from the fleet came in already aged: its own age bounds it, not the
            // time it has spent here.
            if entry.fetched.elapsed() >= too_old {
                inner.rooms.invalidate(license).await;
                return self.lookup(license).await;
            }
            if entry.past(inner.policy.ttl) {
                let failing =
                    entry.refresh_failed.load(Ordering::Relaxed) || inner.held().is_some();
                self.refresh_in_background(license, &entry);
                if failing {
                    CacheEvent::StaleIfError.count(brand);
                } else {
                    CacheEvent::Stale.count(brand);
                }
            } else {
                CacheEvent::Hit.count(brand);
            }
            return Ok(entry.lookup.clone());
        }
        if inner.missing.contains_key(license) {
            CacheEvent::NegativeHit.count(brand);
            return Ok(Lookup::NotFound);
        }
        // Only rooms go into `rooms`: "no such room" comes back as an error, which moka
        // shares with every waiter of this key without caching it.
        let asked = AtomicBool::new(false);
        let fetch = async {
            asked.store(true, Ordering::Relaxed);
            inner.fetch(license).await
        };
        let result = inner.rooms.try_get_with(license.to_owned(), fetch).await;
        // Only the lookup whose fetch moka ran asked the vendor; the others waited for it.
        if asked.load(Ordering::Relaxed) {
            CacheEvent::Miss.count(brand);
        } else {
            CacheEvent::Coalesced.count(brand);
        }
        match result {
            Ok(entry) => Ok(entry.lookup.clone()),
            Err(miss) => match miss.as_ref() {
                Miss::NotFound => Ok(Lookup::NotFound),
                Miss::Vendor(e) => Err(Unavailable {
                    reason: e.to_string(),
                    retry_after_secs: inner.wait.wait_secs((inner.clock)()),
                }),
            },
        }
    }

    async fn readiness(&self) -> Readiness {
        self.inner.api.auth().readiness().await
    }
}

impl Directory {
    /// Refreshes a stale entry once in the background; the old entry stays on failure,
    /// marked as such. Not while the vendor asked us to wait: the refresh could only fail.
    fn refresh_in_background(&self, license: &str, entry: &Arc<Entry>) {
        if self.inner.held().is_some() {
            return;
        }
        {
            let mut refreshing = self
                .inner
                .refreshing
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if !refreshing.insert(license.to_owned()) {
                return;
            }
        }
        let inner = self.inner.clone();
        let license = license.to_owned();
        let old = entry.clone();
        // On this thread (an actix worker runs its tasks on its own thread): the vendor
        // calls are counted in this application's recorder.
        tokio::spawn(async move {
            match inner.fetch(&license).await {
                Ok(entry) => inner.rooms.insert(license.clone(), entry).await,
                // No longer listed: now in the negative cache, so out of the rooms.
                Err(Miss::NotFound) => inner.rooms.invalidate(&license).await,
                Err(Miss::Vendor(e)) => {
                    old.refresh_failed.store(true, Ordering::Relaxed);
                    tracing::warn!(error = %e, "room refresh failed; serving the cached room")
                }
            }
            inner
                .refreshing
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&license);
        });
    }
}

impl Inner {
    /// Asks the vendor about `license`: its id from the index (or the memory of keys
    /// seen), then its details. A key without a room is remembered in the negative cache
    /// here, once per fetch.
    pub(super) async fn fetch_from_vendor(&self, license: &str) -> Result<Arc<Entry>, Miss> {
        let lookup = match self.locate(license).await? {
            Located::Unknown => {
                self.missing.insert(license.to_owned(), ()).await;
                return Err(Miss::NotFound);
            }
            Located::Listed(id) => match self.ask(self.api.widget(id)).await {
                Ok(widget) => found(license, &widget),
                // Listed, but gone now: deleted (404/410) or no longer ours (403).
                Err(e) if is_gone(&e) => Lookup::Gone,
                Err(e) => return Err(e.into()),
            },
            Located::Remembered(id) => match self.check_remembered(license, id).await? {
                Checked::Same(widget) => found(license, &widget),
                Checked::Gone => Lookup::Gone,
                Checked::Other => {
                    self.missing.insert(license.to_owned(), ()).await;
                    return Err(Miss::NotFound);
                }
            },
        };
        Ok(Arc::new(Entry::new(lookup, Instant::now())))
    }

    /// Where the vendor id of `license` comes from: the index, else the memory of keys
    /// seen, else a new listing when the last one is old enough.
    async fn locate(&self, license: &str) -> Result<Located, ApiError> {
        if let Some(id) = self.index_snapshot().get(license) {
            return Ok(Located::Listed(*id));
        }
        // Before listing: the listing may well not hold it (a closed room), and the
        // memory answers without a call.
        if let Some(id) = self.known.get(license).await {
            return Ok(Located::Remembered(id));
        }
        let mut listed = self.index_listed.lock().await;
        // Someone else may have listed while we waited for the lock.
        if let Some(id) = self.index_snapshot().get(license) {
            return Ok(Located::Listed(*id));
        }
        if let Some(last) = listed.as_ref()
            && last.at.elapsed() < self.policy.index_min_interval
        {
            return match &last.failure {
                Some(e) => Err(e.clone()),
                None => Ok(Located::Unknown),
            };
        }
        // Not counted as a listing: none was made.
        if let Some(error) = self.held() {
            return Err(error);
        }
        let (index, at) = match self.shared_index().await {
            Some(shared) => shared,
            None => {
                // Counted even when it fails: a failing vendor is not asked more often.
                let widgets = match self.ask(self.api.all_widgets()).await {
                    Ok(widgets) => widgets,
                    Err(e) => {
                        *listed = Some(Listing {
                            at: Instant::now(),
                            failure: Some(e.clone()),
                        });
                        return Err(e);
                    }
                };
                let index: Index = widgets
                    .into_iter()
                    .filter_map(|w| Some((w.token.filter(|t| self.pattern.matches(t))?, w.id)))
                    .collect();
                tracing::debug!(rooms = index.len(), "room index listed");
                self.copy_index(&index);
                (index, Instant::now())
            }
        };
        *listed = Some(Listing { at, failure: None });
        let id = index.get(license).copied();
        let seen: Vec<(String, u64)> = index.iter().map(|(k, id)| (k.clone(), *id)).collect();
        *self.index.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(index);
        // After the index, so that lookups meanwhile find listed keys there.
        self.known.remember(&seen).await;
        Ok(id.map_or(Located::Unknown, Located::Listed))
    }

    /// `GET widgets/{id}` for a remembered key the listing lacks: whether `id` still is
    /// that room. A wrong memory is forgotten.
    async fn check_remembered(&self, license: &str, id: u64) -> Result<Checked, ApiError> {
        match self.ask(self.api.widget(id)).await {
            Ok(widget) if still_has_key(&widget, license) => Ok(Checked::Same(Box::new(widget))),
            Ok(widget) => {
                tracing::info!(
                    id,
                    now_key = widget.token,
                    "a remembered room key now belongs to another room; forgotten"
                );
                self.known.forget(license).await;
                Ok(Checked::Other)
            }
            Err(e) if is_gone(&e) => Ok(Checked::Gone),
            Err(e) => Err(e),
        }
    }

    /// Runs one call to the vendor, unless it asked us to wait: then fails at once with
    /// what it answered. An answer asking us to wait starts the wait.
    async fn ask<T>(&self, call: impl Future<Output = Result<T, ApiError>>) -> Result<T, ApiError> {
        if let Some(error) = self.held() {
            return Err(error);
        }
        let result = call.await;
        if let Err(error) = &result {
            self.wait.note((self.clock)(), error);
        }
        result
    }

    /// The vendor's answer while its wait runs.
    fn held(&self) -> Option<ApiError> {
        self.wait.held((self.clock)())
    }

    fn index_snapshot(&self) -> Arc<Index> {
        self.index.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

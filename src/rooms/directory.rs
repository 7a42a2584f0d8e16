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
//! The vendor has no lookup by room key: an index of key → id is built by listing all
//! widgets, and details come from `GET widgets/{id}`.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use moka::future::Cache;

use super::{
    from_vendor::room_of,
    lookup::{Lookup, RoomSource, Unavailable},
};
use crate::{
    domain::{LicensePattern, Readiness},
    settings::CacheSettings,
    vendor::{Api, ApiError, models::Index},
};

/// The cache's timing rules.
#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    pub ttl: Duration,
    pub max_stale: Duration,
    pub negative_ttl: Duration,
    pub index_min_interval: Duration,
    pub capacity: u64,
    pub negative_capacity: u64,
}

impl From<&CacheSettings> for CachePolicy {
    fn from(c: &CacheSettings) -> Self {
        CachePolicy {
            ttl: Duration::from_secs(c.ttl_secs),
            max_stale: Duration::from_secs(c.max_stale_secs),
            negative_ttl: Duration::from_secs(c.negative_ttl_secs),
            index_min_interval: Duration::from_secs(c.index_min_interval_secs),
            capacity: c.capacity,
            negative_capacity: c.negative_capacity,
        }
    }
}

/// The last listing of the vendor's rooms.
struct Listing {
    at: Instant,
    /// Why it failed, if it did: until the next listing, unknown keys answer this error
    /// (503), not "no such room", which would be remembered as such.
    failure: Option<ApiError>,
}

/// One cached room (found, or gone since) and when it was fetched.
#[derive(Debug)]
struct Entry {
    lookup: Lookup,
    fetched: Instant,
}

/// Why a fetch brought no room to cache.
#[derive(Debug, thiserror::Error)]
enum Miss {
    /// The vendor has no room with this key: remembered in the negative cache.
    #[error("no such room")]
    NotFound,
    #[error(transparent)]
    Vendor(#[from] ApiError),
}

/// Rooms of the vendor API behind the cache.
#[derive(Clone)]
pub struct Directory {
    inner: Arc<Inner>,
}

struct Inner {
    api: Api,
    pattern: LicensePattern,
    policy: CachePolicy,
    /// Rooms the vendor has, or had (gone).
    rooms: Cache<String, Arc<Entry>>,
    /// Keys the vendor has no room for, each for `negative_ttl`.
    missing: Cache<String, ()>,
    index: RwLock<Arc<Index>>,
    /// When the index was last listed, and how that went; the lock makes listings
    /// single-flight.
    index_listed: tokio::sync::Mutex<Option<Listing>>,
    /// Keys with a background refresh under way.
    refreshing: Mutex<HashSet<String>>,
}

impl Directory {
    /// A directory over `api` with `policy`; room keys of the index must match `pattern`.
    pub fn new(api: Api, pattern: LicensePattern, policy: CachePolicy) -> Self {
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
            }),
        }
    }

    /// The vendor API this directory reads.
    pub fn api(&self) -> &Api {
        &self.inner.api
    }

    /// Forgets `license`, so the next view fetches it again (after an operator's change).
    pub async fn invalidate(&self, license: &str) {
        self.inner.rooms.invalidate(license).await;
        self.inner.missing.invalidate(license).await;
    }

    /// Forgets the index too, so a new room is found at once.
    pub async fn invalidate_index(&self) {
        *self.inner.index_listed.lock().await = None;
    }

    /// The vendor id of `license`; with `fresh`, the rooms are listed again if the key is
    /// unknown, whatever the interval (for operators' calls, which are few).
    pub async fn vendor_id(&self, license: &str, fresh: bool) -> Result<Option<u64>, ApiError> {
        if fresh {
            let known = self.inner.index_snapshot().get(license).copied();
            if known.is_none() {
                self.invalidate_index().await;
            }
        }
        self.inner.id_for(license).await
    }
}

#[async_trait::async_trait]
impl RoomSource for Directory {
    async fn lookup(&self, license: &str) -> Result<Lookup, Unavailable> {
        let inner = &self.inner;
        if let Some(entry) = inner.rooms.get(license).await {
            if entry.fetched.elapsed() >= inner.policy.ttl {
                self.refresh_in_background(license);
            }
            return Ok(entry.lookup.clone());
        }
        if inner.missing.contains_key(license) {
            return Ok(Lookup::NotFound);
        }
        // Only rooms go into `rooms`: "no such room" comes back as an error, which moka
        // shares with every waiter of this key without caching it.
        match inner
            .rooms
            .try_get_with(license.to_owned(), inner.fetch(license))
            .await
        {
            Ok(entry) => Ok(entry.lookup.clone()),
            Err(miss) => match miss.as_ref() {
                Miss::NotFound => Ok(Lookup::NotFound),
                Miss::Vendor(e) => Err(Unavailable {
                    reason: e.to_string(),
                }),
            },
        }
    }

    async fn readiness(&self) -> Readiness {
        self.inner.api.auth().readiness().await
    }
}

impl Directory {
    /// Refreshes a stale entry once in the background; the old entry stays on failure.
    fn refresh_in_background(&self, license: &str) {
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
        tokio::spawn(async move {
            match inner.fetch(&license).await {
                Ok(entry) => inner.rooms.insert(license.clone(), entry).await,
                // No longer listed: now in the negative cache, so out of the rooms.
                Err(Miss::NotFound) => inner.rooms.invalidate(&license).await,
                Err(Miss::Vendor(e)) => {
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
    /// Asks the vendor about `license`: its id from the index, then its details. A key
    /// without a room is remembered in the negative cache here, once per fetch.
    async fn fetch(&self, license: &str) -> Result<Arc<Entry>, Miss> {
        let lookup = match self.id_for(license).await? {
            None => {
                self.missing.insert(license.to_owned(), ()).await;
                return Err(Miss::NotFound);
            }
            Some(id) => match self.api.widget(id).await {
                Ok(widget) => {
                    let mut room = room_of(&widget);
                    room.license = license.to_owned();
                    Lookup::Found(Arc::new(room))
                }
                // Listed, but gone now: deleted (404/410) or no longer ours (403).
                Err(ApiError::NotFound { .. } | ApiError::Vendor { status: 403, .. }) => {
                    Lookup::Gone
                }
                Err(e) => return Err(e.into()),
            },
        };
        Ok(Arc::new(Entry {
            lookup,
            fetched: Instant::now(),
        }))
    }

    /// The vendor id of `license`, listing the vendor's rooms again when the key is
    /// unknown and the last listing is old enough.
    async fn id_for(&self, license: &str) -> Result<Option<u64>, ApiError> {
        if let Some(id) = self.index_snapshot().get(license) {
            return Ok(Some(*id));
        }
        let mut listed = self.index_listed.lock().await;
        // Someone else may have listed while we waited for the lock.
        if let Some(id) = self.index_snapshot().get(license) {
            return Ok(Some(*id));
        }
        if let Some(last) = listed.as_ref()
            && last.at.elapsed() < self.policy.index_min_interval
        {
            return match &last.failure {
                Some(e) => Err(e.clone()),
                None => Ok(None),
            };
        }
        // Counted even when the listing fails: a failing vendor is not asked more often.
        let widgets = match self.api.all_widgets().await {
            Ok(widgets) => widgets,
            Err(e) => {
                *listed = Some(Listing {
                    at: Instant::now(),
                    failure: Some(e.clone()),
                });
                return Err(e);
            }
        };
        *listed = Some(Listing {
            at: Instant::now(),
            failure: None,
        });
        let index: Index = widgets
            .into_iter()
            .filter_map(|w| Some((w.token.filter(|t| self.pattern.matches(t))?, w.id)))
            .collect();
        tracing::debug!(rooms = index.len(), "room index listed");
        let id = index.get(license).copied();
        *self.index.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(index);
        Ok(id)
    }

    fn index_snapshot(&self) -> Arc<Index> {
        self.index.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

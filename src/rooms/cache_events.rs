//! What the room cache did for each lookup, counted as
//! `roomgate_room_cache_events_total{event, brand}` in the recorder of the calling thread
//! (see `observe`); `brand` is the brand whose account the cache holds rooms of.

use crate::vendor::call_metrics::BrandLabel;

/// What the cache did for one lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheEvent {
    /// A fresh room from the cache.
    Hit,
    /// Not cached: this lookup asked the vendor.
    Miss,
    /// Not cached, and another lookup was already asking the vendor: this one waited for
    /// its answer instead of asking again.
    Coalesced,
    /// A room past its TTL, served while a background refresh runs.
    Stale,
    /// A room past its TTL, served because the vendor failed its last refresh (or asks
    /// us to wait).
    StaleIfError,
    /// A key remembered to have no room.
    NegativeHit,
}

impl CacheEvent {
    /// Counts the event once, for the cache of `brand`'s account.
    pub fn count(self, brand: &BrandLabel) {
        let event = match self {
            CacheEvent::Hit => "hit",
            CacheEvent::Miss => "miss",
            CacheEvent::Coalesced => "coalesced",
            CacheEvent::Stale => "stale",
            CacheEvent::StaleIfError => "stale_if_error",
            CacheEvent::NegativeHit => "negative_hit",
        };
        metrics::counter!(
            "roomgate_room_cache_events_total",
            "event" => event, "brand" => brand.value()
        )
        .increment(1);
    }
}

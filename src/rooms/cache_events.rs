//! What the room cache did for each lookup, counted as
//! `roomgate_room_cache_events_total{event}` in the recorder of the calling thread (see
//! `observe`). Literal labels make each a static key: counting allocates nothing.

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
    /// Counts the event once.
    pub fn count(self) {
        const NAME: &str = "roomgate_room_cache_events_total";
        let counter = match self {
            CacheEvent::Hit => metrics::counter!(NAME, "event" => "hit"),
            CacheEvent::Miss => metrics::counter!(NAME, "event" => "miss"),
            CacheEvent::Coalesced => metrics::counter!(NAME, "event" => "coalesced"),
            CacheEvent::Stale => metrics::counter!(NAME, "event" => "stale"),
            CacheEvent::StaleIfError => metrics::counter!(NAME, "event" => "stale_if_error"),
            CacheEvent::NegativeHit => metrics::counter!(NAME, "event" => "negative_hit"),
        };
        counter.increment(1);
    }
}

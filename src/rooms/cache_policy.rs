//! The room cache's timing rules, from `cache.*`.

use std::time::Duration;

use crate::settings::CacheSettings;

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

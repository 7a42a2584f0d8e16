//! What every room source answers: a lookup by room key, and whether it can answer now.

use std::sync::Arc;

use crate::domain::{Readiness, Room};

/// The answer to a lookup by room key.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// The room exists (it may still be inactive: see [`Room::status`]).
    Found(Arc<Room>),
    /// No room has this key: 404.
    NotFound,
    /// The room existed but was deleted: 410.
    Gone,
}

/// Why a source could not answer: the page answers 503 with `Retry-After`.
#[derive(Debug, thiserror::Error)]
#[error("the room source is unavailable: {reason}")]
pub struct Unavailable {
    /// For the log only; never shown to visitors.
    pub reason: String,
    /// Seconds the upstream asked us to wait (its `Retry-After`), still to run; the 503
    /// page passes them on. `None`: it did not say.
    pub retry_after_secs: Option<u64>,
}

impl Unavailable {
    /// Unavailable for `reason`, with no word on how long.
    pub fn because(reason: impl Into<String>) -> Self {
        Unavailable {
            reason: reason.into(),
            retry_after_secs: None,
        }
    }
}

/// Something that can find rooms by key: the catalog file, or the vendor API behind the
/// cache; pages do not care which one is configured.
#[async_trait::async_trait]
pub trait RoomSource: Send + Sync + 'static {
    /// Looks a room up by its key (`_license_key`). The key is already syntax-checked.
    async fn lookup(&self, license: &str) -> Result<Lookup, Unavailable>;

    /// Whether lookups can succeed right now.
    async fn readiness(&self) -> Readiness;
}

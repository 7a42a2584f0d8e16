//! Rooms: roomgate's own room model, and the sources that answer "which room has this key".
//!
//! Pages only ever see [`Room`]; each source (the catalog file, later the vendor API behind
//! a cache) maps its own data into it.

mod catalog;
mod directory;
mod model;

use std::sync::Arc;

pub use catalog::{Catalog, CatalogError};
pub use directory::{CachePolicy, Directory};
pub use model::{Frequency, Repeat, Room, RoomKind, RoomStatus};

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
}

/// Whether a source can answer lookups right now (`/readyz`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// `code` is a short fixed reason, the only one `/readyz` shows; `detail` (which may
    /// hold the vendor's own words: host names, account ids) goes only to the log.
    NotReady {
        code: &'static str,
        detail: String,
    },
}

/// Something that can find rooms by key. The catalog implements it now; the vendor API
/// behind the cache implements it too, so pages do not care which one is configured.
#[async_trait::async_trait]
pub trait RoomSource: Send + Sync + 'static {
    /// Looks a room up by its key (`_license_key`). The key is already syntax-checked.
    async fn lookup(&self, license: &str) -> Result<Lookup, Unavailable>;

    /// Whether lookups can succeed right now.
    async fn readiness(&self) -> Readiness;
}

//! Room sources: the catalog file, and the vendor API behind a cache, each mapping its
//! own data into [`Room`](crate::domain::Room). Pages only ever see that room.

pub mod answers;
pub mod cache_events;
pub mod cache_policy;
pub mod catalog;
pub mod directory;
pub mod fleet;
mod fleet_cache;
pub mod from_vendor;
pub mod known_keys;
pub mod lookup;
mod room_copy;
pub mod source;
mod vendor_wait;

pub use catalog::{Catalog, CatalogError};
pub use directory::{CachePolicy, Directory};
pub use fleet::Fleet;
pub use known_keys::{FileKnownKeys, KnownKeys};
pub use lookup::{Lookup, RoomSource, Unavailable};
pub use source::{Source, SourceError, build_source};

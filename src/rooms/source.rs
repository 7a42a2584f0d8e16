//! The room source the settings name, built in one place for the server and the command
//! line alike.

use std::sync::Arc;

use super::{
    catalog::Catalog,
    directory::{CachePolicy, Directory},
    fleet::Fleet,
    known_keys::{self, FileKnownKeys},
    lookup::RoomSource,
};
use crate::{
    domain::Clock,
    settings::{RoomSourceKind, Settings},
    shared::Backend,
    vendor::build_api,
};

/// The room source chosen by the settings, keeping the parts operators need.
#[derive(Clone)]
pub enum Source {
    /// The catalog file (rooms are edited in the file).
    Catalog(Arc<Catalog>),
    /// The vendor API behind the cache.
    Api(Directory),
    /// Any other source (tests): lookups only.
    Custom(Arc<dyn RoomSource>),
}

impl Source {
    /// The source as pages use it.
    pub fn as_room_source(&self) -> Arc<dyn RoomSource> {
        match self {
            Source::Catalog(c) => c.clone(),
            Source::Api(d) => Arc::new(d.clone()),
            Source::Custom(s) => s.clone(),
        }
    }
}

/// Why the source cannot be built: one line per problem.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct SourceError(pub Vec<String>);

/// The room source of `rooms.source`: the catalog file, loaded and checked, or the
/// vendor API, signed in, behind the cache, with the keys it has seen remembered in
/// `room-keys.json` beside `api.token_file`.
pub async fn build_source(settings: &Settings, clock: Clock) -> Result<Source, SourceError> {
    let pattern = settings.parsed.license_pattern.clone();
    match settings.rooms.source {
        RoomSourceKind::Catalog => {
            let catalog = Catalog::load(&settings.catalog.path, pattern)
                .map_err(|e| SourceError(e.problems))?;
            tracing::info!(rooms = catalog.len(), path = %settings.catalog.path.display(), "catalog loaded");
            Ok(Source::Catalog(Arc::new(catalog)))
        }
        RoomSourceKind::Api => {
            let api = build_api(settings, clock.clone())
                .await
                .map_err(|e| SourceError(vec![e]))?;
            // A link of its own (they connect lazily): the command line has no server.
            let backend =
                Backend::from_settings(&settings.shared).map_err(|e| SourceError(vec![e]))?;
            let path = known_keys::path_beside(&settings.api.token_file);
            let known = FileKnownKeys::open(&path, known_keys::CAPACITY)
                .map_err(|e| SourceError(vec![e.to_string()]))?;
            tracing::info!(keys = known.len(), path = %path.display(), "room keys remembered");
            Ok(Source::Api(Directory::new(
                api,
                pattern,
                CachePolicy::from(&settings.cache),
                Arc::new(known),
                clock,
                Fleet::of(&backend),
            )))
        }
    }
}

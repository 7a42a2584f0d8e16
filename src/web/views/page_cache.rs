//! Rendered room pages for visitors who bring nothing of their own.
//!
//! Most visitors open a plain attendee or role link without any query values, sign-in or
//! remembered values: their page depends only on the room, the role and the language, so
//! it is rendered once and served as bytes until the room changes. Pages that carry a
//! visitor's own values (names, tokens, emails) are never stored here.

use std::{sync::Arc, time::Duration};

use actix_web::web::Bytes;
use moka::sync::Cache;

use crate::domain::{Language, Room};

/// Which page: brand (its site's index), room key, role hash (already checked), language.
type Key = (usize, String, Option<String>, Language);

/// A page and the room it was rendered from.
struct Cached {
    room: Arc<Room>,
    html: Bytes,
}

/// Rendered pages, at most `capacity`, each kept at most a minute.
pub struct PageCache {
    pages: Cache<Key, Arc<Cached>>,
}

impl PageCache {
    /// An empty cache of at most `capacity` pages.
    pub fn new(capacity: u64) -> Self {
        PageCache {
            pages: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(Duration::from_secs(60))
                .build(),
        }
    }

    /// The page rendered from this very room (the same `Arc`: a refreshed or reloaded room
    /// is a new one, and the old page no longer counts).
    pub fn get(
        &self,
        brand: usize,
        room: &Arc<Room>,
        role_hash: Option<&str>,
        lang: Language,
    ) -> Option<Bytes> {
        let key = (
            brand,
            room.license.clone(),
            role_hash.map(str::to_owned),
            lang,
        );
        self.pages
            .get(&key)
            .filter(|cached| Arc::ptr_eq(&cached.room, room))
            .map(|cached| cached.html.clone())
    }

    /// Stores a page rendered from `room`.
    pub fn put(
        &self,
        brand: usize,
        room: Arc<Room>,
        role_hash: Option<&str>,
        lang: Language,
        html: Bytes,
    ) {
        let key = (
            brand,
            room.license.clone(),
            role_hash.map(str::to_owned),
            lang,
        );
        self.pages.insert(key, Arc::new(Cached { room, html }));
    }
}

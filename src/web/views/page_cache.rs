//! Live room pages, kept per (brand, room, role, language) while the room stays the same.
//!
//! Most visitors open a plain attendee or role link without any query values, sign-in or
//! remembered values: their page depends only on the brand, the room, the role and the
//! language, so it is rendered once and served as bytes until the room changes. Visitors
//! who bring values of their own (a name, a token, a sign-in) get the same page compiled
//! once and spliced with their values (`spliced`), which costs a fraction of a render.
//! Pages that carry a visitor's own values are never stored.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use actix_web::web::Bytes;
use moka::sync::Cache;

use super::spliced::CompiledRoomPages;
use crate::domain::{Language, Room};

/// Which page: brand (its site's index), room key, role hash (already checked), language.
type Key = (usize, String, Option<String>, Language);

/// One live room page: the bytes of visitors without values of their own, and the compiled
/// variants for the others, all made from `room`.
#[derive(Debug)]
pub struct CachedPage {
    room: Arc<Room>,
    /// The page of visitors who bring nothing of their own, once rendered.
    pub shared: OnceLock<Bytes>,
    /// The page's variants, compiled as visitors need them.
    pub compiled: CompiledRoomPages,
}

/// Live room pages, at most `capacity`, each kept at most a minute.
pub struct PageCache {
    pages: Cache<Key, Arc<CachedPage>>,
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

    /// The page of this very room (the same `Arc`: a refreshed or reloaded room is a new
    /// one, and the page of the old one no longer counts), made empty if there is none.
    pub fn page(
        &self,
        brand: usize,
        room: &Arc<Room>,
        role_hash: Option<&str>,
        lang: Language,
    ) -> Arc<CachedPage> {
        let key = (
            brand,
            room.license.clone(),
            role_hash.map(str::to_owned),
            lang,
        );
        if let Some(page) = self.pages.get(&key)
            && Arc::ptr_eq(&page.room, room)
        {
            return page;
        }
        let page = Arc::new(CachedPage {
            room: room.clone(),
            shared: OnceLock::new(),
            compiled: CompiledRoomPages::new(),
        });
        self.pages.insert(key, page.clone());
        page
    }
}

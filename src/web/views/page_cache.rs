//! Live room pages, kept per (brand, room, role, language) while the room stays the same.
//!
//! Most visitors open a plain attendee or role link without any query values, sign-in or
//! remembered values: their page depends only on the brand, the room, the role and the
//! language, so it is rendered once and served as bytes until the room changes. Visitors
//! who bring values of their own (a name, a token, a sign-in) get the same page compiled
//! once and spliced with their values (`spliced`), which costs a fraction of a render.
//! Pages that carry a visitor's own values are never stored.

use std::{
    hash::{BuildHasher, RandomState},
    sync::{Arc, OnceLock},
    time::Duration,
};

use actix_web::web::Bytes;
use moka::sync::Cache;

use super::spliced::CompiledRoomPages;
use crate::domain::{Language, Room};

/// One live room page: the bytes of visitors without values of their own, and the compiled
/// variants for the others, all made from `room` for one brand (its site's index), role
/// hash (already checked) and language.
#[derive(Debug)]
pub struct CachedPage {
    room: Arc<Room>,
    brand: usize,
    role_hash: Option<Box<str>>,
    lang: Language,
    /// The page of visitors who bring nothing of their own, once rendered.
    pub shared: OnceLock<Bytes>,
    /// The page's variants, compiled as visitors need them.
    pub compiled: CompiledRoomPages,
}

/// Live room pages, at most `capacity`, each kept at most a minute.
///
/// Pages are found by a keyed digest of (brand, room key, role hash, language) and the page
/// found is checked against all four, so a lookup copies no key (it is on every room page)
/// and a digest shared by two pages can only make one of them a miss.
pub struct PageCache {
    pages: Cache<u64, Arc<CachedPage>>,
    digests: RandomState,
}

impl PageCache {
    /// An empty cache of at most `capacity` pages.
    pub fn new(capacity: u64) -> Self {
        PageCache {
            pages: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(Duration::from_secs(60))
                .build(),
            digests: RandomState::new(),
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
        let key = self
            .digests
            .hash_one((brand, room.license.as_str(), role_hash, lang));
        if let Some(page) = self.pages.get(&key)
            && Arc::ptr_eq(&page.room, room)
            && page.brand == brand
            && page.role_hash.as_deref() == role_hash
            && page.lang == lang
        {
            return page;
        }
        let page = Arc::new(CachedPage {
            room: room.clone(),
            brand,
            role_hash: role_hash.map(Into::into),
            lang,
            shared: OnceLock::new(),
            compiled: CompiledRoomPages::new(),
        });
        self.pages.insert(key, page.clone());
        page
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RoomKind, RoomStatus};

    fn room(license: &str) -> Arc<Room> {
        Arc::new(Room {
            id: None,
            license: license.into(),
            name: "Demo".into(),
            agenda: String::new(),
            kind: RoomKind::Permanent,
            status: RoomStatus::Active,
            start: None,
            repeat: None,
            duration_minutes: 60,
            timezone: chrono_tz::UTC,
            strict_event: false,
            password_protected: false,
            roles: Default::default(),
        })
    }

    #[test]
    fn each_brand_room_role_and_language_has_its_own_page() {
        let cache = PageCache::new(100);
        let (a, b) = (room("111-111-111"), room("222-222-222"));
        let page = cache.page(0, &a, Some("host"), Language::En);
        assert!(Arc::ptr_eq(
            &page,
            &cache.page(0, &a, Some("host"), Language::En)
        ));
        for other in [
            cache.page(1, &a, Some("host"), Language::En),
            cache.page(0, &b, Some("host"), Language::En),
            cache.page(0, &a, Some("guest"), Language::En),
            cache.page(0, &a, None, Language::En),
            cache.page(0, &a, Some("host"), Language::Pl),
        ] {
            assert!(!Arc::ptr_eq(&page, &other), "{other:?}");
        }
        assert!(
            Arc::ptr_eq(&page, &cache.page(0, &a, Some("host"), Language::En)),
            "the others did not push it out"
        );
    }

    #[test]
    fn a_changed_room_gets_a_new_page() {
        let cache = PageCache::new(100);
        let page = cache.page(0, &room("111-111-111"), None, Language::En);
        let again = cache.page(0, &room("111-111-111"), None, Language::En);
        assert!(!Arc::ptr_eq(&page, &again), "another Arc: a refreshed room");
    }
}

//! What a visitor's session remembers, and the session cookie itself.
//!
//! The whole state lives in one encrypted cookie (actix-session's cookie store in private
//! mode), so it must stay small: tokens are kept for a bounded number of recent rooms and
//! the oldest are dropped until the serialised state fits [`STATE_BUDGET_BYTES`].

use actix_session::{
    Session, SessionMiddleware,
    config::{CookieContentSecurity, PersistentSession},
    storage::CookieSessionStore,
};
use actix_web::cookie::{Key, SameSite, time::Duration as CookieDuration};
use base64::Engine;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::{error::PageError, room::query::RoomQuery};

/// Session key under which [`VisitorState`] is stored.
pub const STATE_KEY: &str = "v";

/// Largest serialised state. Encryption adds 28 bytes and base64 a third, so the cookie
/// stays under the 4096 bytes browsers accept, with room for its name and attributes.
pub const STATE_BUDGET_BYTES: usize = 2800;

/// The visitor's remembered values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorState {
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "n")]
    pub nickname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "e")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "a")]
    pub avatar_url: Option<String>,
    /// Per-room tokens, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty", rename = "r")]
    pub rooms: Vec<RoomTokens>,
    /// The language chosen with `?lang=`.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "lg")]
    pub lang: Option<String>,
    /// Anti-CSRF token for this session's forms.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "c")]
    pub csrf: Option<String>,
    /// The operator's OAuth `state`, between `/oauth/connect` and `/oauth/callback`.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "o")]
    pub oauth_state: Option<OAuthState>,
    /// A signed-in identity handed over by the company's site; locks the name fields.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "i")]
    pub identity: Option<Identity>,
}

/// Tokens remembered for one room.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomTokens {
    #[serde(rename = "l")]
    pub license: String,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "p")]
    pub personal_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "w")]
    pub password_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "g")]
    pub registrant_token: Option<String>,
}

/// A pending OAuth authorization: the random `state` and when it was issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthState {
    pub value: String,
    /// Unix seconds.
    pub issued_at: i64,
}

/// A signed-in person. A cookie cannot be revoked, so it carries its own expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// Unix seconds after which the identity no longer counts.
    pub expires_at: i64,
}

impl VisitorState {
    /// The tokens remembered for `license`, if any.
    pub fn room(&self, license: &str) -> Option<&RoomTokens> {
        self.rooms.iter().find(|r| r.license == license)
    }

    /// The identity, if it has not expired at `now` (Unix seconds).
    pub fn identity_at(&self, now: i64) -> Option<&Identity> {
        self.identity.as_ref().filter(|i| i.expires_at > now)
    }

    /// Stores the query's values (tokens under `license`); true when anything changed.
    /// The room becomes the most recent one; the oldest rooms are dropped past
    /// `max_rooms` or when the state would no longer fit the cookie.
    pub fn remember(&mut self, license: &str, query: &RoomQuery, max_rooms: usize) -> bool {
        let before = self.clone();
        replace_if_some(&mut self.nickname, &query.nickname);
        replace_if_some(&mut self.email, &query.email);
        replace_if_some(&mut self.avatar_url, &query.avatar_url);

        if query.personal_token.is_some()
            || query.password_token.is_some()
            || query.registrant_token.is_some()
        {
            let mut tokens = match self.rooms.iter().position(|r| r.license == license) {
                Some(i) => self.rooms.remove(i),
                None => RoomTokens {
                    license: license.to_owned(),
                    ..RoomTokens::default()
                },
            };
            replace_if_some(&mut tokens.personal_token, &query.personal_token);
            replace_if_some(&mut tokens.password_token, &query.password_token);
            replace_if_some(&mut tokens.registrant_token, &query.registrant_token);
            self.rooms.push(tokens);
        }
        self.fit(max_rooms);
        *self != before
    }

    /// Drops the oldest rooms past `max_rooms`, then until the state fits the budget.
    pub fn fit(&mut self, max_rooms: usize) {
        if self.rooms.len() > max_rooms {
            let excess = self.rooms.len() - max_rooms;
            self.rooms.drain(..excess);
        }
        // The newest room's tokens matter more than an avatar picture.
        while self.serialised_len() > STATE_BUDGET_BYTES && self.rooms.len() > 1 {
            self.rooms.remove(0);
        }
        if self.serialised_len() > STATE_BUDGET_BYTES {
            self.avatar_url = None;
        }
        if self.serialised_len() > STATE_BUDGET_BYTES {
            self.rooms.clear();
        }
    }

    /// This session's anti-CSRF token, created on first use (the caller saves the state).
    pub fn csrf_token(&mut self) -> &str {
        self.csrf.get_or_insert_with(new_secret_token)
    }

    /// Whether `given` is this session's anti-CSRF token (constant-time comparison).
    pub fn csrf_matches(&self, given: &str) -> bool {
        self.csrf
            .as_deref()
            .is_some_and(|mine| bool::from(mine.as_bytes().ct_eq(given.as_bytes())))
    }

    fn serialised_len(&self) -> usize {
        serde_json::to_vec(self)
            .map(|v| v.len())
            .unwrap_or(usize::MAX)
    }
}

fn replace_if_some(slot: &mut Option<String>, value: &Option<String>) {
    if let Some(v) = value {
        *slot = Some(v.clone());
    }
}

/// 256 random bits, base64url: CSRF tokens and the like.
pub fn new_secret_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The visitor's state; an unreadable or tampered cookie counts as a fresh session.
pub fn load(session: &Session) -> VisitorState {
    session
        .get::<VisitorState>(STATE_KEY)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Stores the visitor's state in the cookie.
pub fn save(session: &Session, state: &VisitorState) -> Result<(), PageError> {
    session
        .insert(STATE_KEY, state)
        .map_err(|e| PageError::Unexpected(anyhow::anyhow!("cannot store the session: {e}")))
}

/// The cookie's name: `__Host-roomgate` whenever it is `Secure`, which the prefix demands.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-roomgate"
    } else {
        "roomgate"
    }
}

/// The session middleware: encrypted cookie, HttpOnly, SameSite=Lax, 30 days.
pub fn middleware(key: Key, secure: bool) -> SessionMiddleware<CookieSessionStore> {
    SessionMiddleware::builder(CookieSessionStore::default(), key)
        .cookie_name(cookie_name(secure).to_owned())
        .cookie_secure(secure)
        .cookie_http_only(true)
        // Strict would drop the cookie on links opened from mail and calendars.
        .cookie_same_site(SameSite::Lax)
        .cookie_path("/".to_owned())
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(PersistentSession::default().session_ttl(CookieDuration::days(30)))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query_with_token(token: &str) -> RoomQuery {
        RoomQuery {
            personal_token: Some(token.to_owned()),
            password_token: Some(token.to_owned()),
            registrant_token: Some(token.to_owned()),
            ..RoomQuery::default()
        }
    }

    #[test]
    fn tokens_are_remembered_per_room() {
        let mut s = VisitorState::default();
        assert!(s.remember("111-111-111", &query_with_token("A"), 5));
        assert!(s.remember("222-222-222", &query_with_token("B"), 5));
        assert_eq!(
            s.room("111-111-111").unwrap().personal_token.as_deref(),
            Some("A")
        );
        assert_eq!(
            s.room("222-222-222").unwrap().personal_token.as_deref(),
            Some("B")
        );
        assert!(
            !s.remember("222-222-222", &query_with_token("B"), 5),
            "nothing new"
        );
    }

    #[test]
    fn the_oldest_room_is_dropped_first() {
        let mut s = VisitorState::default();
        for i in 0..7 {
            s.remember(&format!("{i:03}-000-000"), &query_with_token("T"), 5);
        }
        assert_eq!(s.rooms.len(), 5);
        assert!(s.room("000-000-000").is_none());
        assert!(s.room("006-000-000").is_some());
    }

    #[test]
    fn the_state_always_fits_the_cookie_budget() {
        let mut s = VisitorState {
            nickname: Some("ł".repeat(100)),
            email: Some(format!("{}@example.com", "a".repeat(60))),
            avatar_url: Some(format!("https://x.example/{}", "a".repeat(2000))),
            ..VisitorState::default()
        };
        for i in 0..50 {
            s.remember(
                &format!("{i:03}-000-000"),
                &query_with_token(&"t".repeat(128)),
                50,
            );
        }
        assert!(s.serialised_len() <= STATE_BUDGET_BYTES);
        assert!(s.room("049-000-000").is_some(), "the newest room is kept");
    }

    #[test]
    fn csrf_tokens_are_random_and_checked() {
        let mut s = VisitorState::default();
        assert!(!s.csrf_matches(""), "no token yet: nothing matches");
        let token = s.csrf_token().to_owned();
        assert_eq!(token.len(), 43);
        assert_eq!(s.csrf_token(), token, "stable within a session");
        assert!(s.csrf_matches(&token));
        assert!(!s.csrf_matches(&new_secret_token()));
    }

    #[test]
    fn an_expired_identity_does_not_count() {
        let s = VisitorState {
            identity: Some(Identity {
                name: "Ada".into(),
                email: None,
                avatar_url: None,
                expires_at: 100,
            }),
            ..VisitorState::default()
        };
        assert!(s.identity_at(99).is_some());
        assert!(s.identity_at(100).is_none());
    }
}

//! What a visitor's session remembers, and the rules for changing it.
//!
//! The whole state lives in one encrypted cookie (see `web::session`), so it must stay
//! small: tokens are kept for a bounded number of recent rooms and the oldest are dropped
//! until the serialised state fits [`STATE_BUDGET_BYTES`].
//!
//! A cookie cannot be revoked: a copy saved before a sign-out still holds the identity.
//! Each sign-in therefore gets a random id, ending it records the id on the server, and
//! [`VisitorState::forget_ended_sign_in`] drops an identity whose sign-in has ended.

use base64::Engine;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::query::RoomQuery;

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
    /// The random id of the sign-in that stored `identity`: ending the sign-in records it
    /// on the server, which a saved copy of the cookie cannot undo.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "s")]
    pub sign_in_id: Option<String>,
    /// The brand this state belongs to (none: the default brand); state of another brand
    /// is never read.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "b")]
    pub brand: Option<String>,
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
        if query.is_empty() && self.rooms.len() <= max_rooms {
            // Nothing to store, and the state already fit when it was saved: most page
            // views end here, without a copy or a trial serialisation.
            return false;
        }
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

    /// Drops the oldest rooms past `max_rooms`, then values until the state fits the
    /// budget: older rooms, avatars (the visitor's own, then the identity's), the newest
    /// room, the visitor's own name and address, the identity's address. What is left (the
    /// identity's name of at most 100 characters and a few short tokens) always fits.
    pub fn fit(&mut self, max_rooms: usize) {
        if self.rooms.len() > max_rooms {
            let excess = self.rooms.len() - max_rooms;
            self.rooms.drain(..excess);
        }
        // The newest room's tokens matter more than an avatar picture.
        while self.over_budget() && self.rooms.len() > 1 {
            self.rooms.remove(0);
        }
        // The visitor's own picture is hidden behind the identity's while signed in.
        if self.over_budget() {
            self.avatar_url = None;
        }
        if self.over_budget()
            && let Some(identity) = &mut self.identity
        {
            identity.avatar_url = None;
        }
        if self.over_budget() {
            self.rooms.clear();
        }
        // Only unusually long names and addresses are left; the signed-in person's own
        // values outrank what the visitor typed before.
        if self.over_budget() {
            self.nickname = None;
            self.email = None;
        }
        if self.over_budget()
            && let Some(identity) = &mut self.identity
        {
            identity.email = None;
        }
    }

    /// Signs `identity` in, replacing any other, under a new sign-in id and with a new
    /// anti-CSRF token (one known before the sign-in, perhaps planted by another site, must
    /// not act for the signed-in person), then fits the state into the cookie.
    pub fn sign_in(&mut self, identity: Identity, max_rooms: usize) {
        self.identity = Some(identity);
        self.sign_in_id = Some(new_sign_in_id());
        self.csrf = Some(new_secret_token());
        self.fit(max_rooms);
    }

    /// Forgets the signed-in identity (the caller records the sign-in as ended).
    pub fn sign_out(&mut self) {
        self.identity = None;
        self.sign_in_id = None;
    }

    /// The sign-in to record as ended when this one signs out or in again: its id, and
    /// the instant until which its identity would count (the record keeps it that long).
    pub fn sign_in_to_end(&self) -> Option<(&str, i64)> {
        match (&self.identity, &self.sign_in_id) {
            (Some(identity), Some(id)) => Some((id, identity.expires_at)),
            _ => None,
        }
    }

    /// Drops the identity when `ended(id, until)` says its sign-in has ended, or when it has
    /// no sign-in id (a cookie from before ids existed cannot be signed out, so it no
    /// longer counts). True when something was dropped.
    pub fn forget_ended_sign_in(&mut self, ended: impl FnOnce(&str, i64) -> bool) -> bool {
        let Some(identity) = &self.identity else {
            return false;
        };
        let is_over = match &self.sign_in_id {
            Some(id) => ended(id, identity.expires_at),
            None => true,
        };
        if is_over {
            self.sign_out();
        }
        is_over
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

    fn over_budget(&self) -> bool {
        self.serialised_len() > STATE_BUDGET_BYTES
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

/// 128 random bits, base64url: names one sign-in (unique, not secret; the cookie is
/// encrypted anyway).
fn new_sign_in_id() -> String {
    let bytes: [u8; 16] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
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

    fn identity(name: &str, avatar_bytes: usize) -> Identity {
        Identity {
            name: name.into(),
            email: Some(format!("{}@example.com", "g".repeat(60))),
            avatar_url: Some(format!("https://x.example/{}", "b".repeat(avatar_bytes))),
            expires_at: 1_000,
        }
    }

    #[test]
    fn signing_in_rotates_the_csrf_token_and_names_the_sign_in() {
        let mut s = VisitorState::default();
        let before = s.csrf_token().to_owned();
        s.sign_in(identity("Ada", 10), 5);
        let first_id = s.sign_in_id.clone().expect("a sign-in id");
        assert_ne!(s.csrf_token(), before);
        assert_eq!(s.sign_in_to_end(), Some((first_id.as_str(), 1_000)));
        s.sign_in(identity("Grace", 10), 5);
        assert_eq!(s.identity.as_ref().unwrap().name, "Grace", "replaced");
        assert_ne!(s.sign_in_id.as_deref(), Some(first_id.as_str()));
        s.sign_out();
        assert_eq!((s.identity.is_none(), s.sign_in_to_end()), (true, None));
    }

    #[test]
    fn an_identity_whose_sign_in_ended_or_has_no_id_is_forgotten() {
        let mut s = VisitorState::default();
        s.sign_in(identity("Ada", 10), 5);
        assert!(!s.forget_ended_sign_in(|_, _| false));
        assert!(s.identity.is_some());
        let id = s.sign_in_id.clone().unwrap();
        assert!(s.forget_ended_sign_in(|ended, until| ended == id && until == 1_000));
        assert!(s.identity.is_none() && s.sign_in_id.is_none());

        let mut legacy = VisitorState {
            identity: Some(identity("Old", 10)),
            ..VisitorState::default()
        };
        assert!(
            legacy.forget_ended_sign_in(|_, _| false),
            "no id: cannot be ended"
        );
        assert!(!legacy.forget_ended_sign_in(|_, _| true), "nothing left");
    }

    #[test]
    fn a_signed_in_state_always_fits_dropping_avatars_first() {
        let mut s = VisitorState {
            nickname: Some("ł".repeat(100)),
            email: Some(format!("{}@example.com", "a".repeat(60))),
            avatar_url: Some(format!("https://x.example/{}", "a".repeat(2000))),
            ..VisitorState::default()
        };
        for i in 0..5 {
            s.remember(
                &format!("{i:03}-000-000"),
                &query_with_token(&"t".repeat(128)),
                5,
            );
        }
        s.sign_in(identity("ł", 2000), 5);
        assert!(s.serialised_len() <= STATE_BUDGET_BYTES);
        assert_eq!(s.avatar_url, None, "the visitor's own picture went first");
        let kept = s.identity.as_ref().unwrap();
        assert_eq!(kept.avatar_url, None, "then the identity's");
        assert!(kept.email.is_some(), "before anything else of the identity");
        assert!(
            s.room("004-000-000").is_some(),
            "and before the newest room"
        );
        assert!(s.nickname.is_some() && s.email.is_some());

        // Every field at its limit: the avatar goes, the identity stays.
        s.sign_in(identity(&"𝔊".repeat(100), 2000), 5);
        s.oauth_state = Some(OAuthState {
            value: new_secret_token(),
            issued_at: 0,
        });
        s.fit(5);
        assert!(s.serialised_len() <= STATE_BUDGET_BYTES);
        let kept = s.identity.as_ref().unwrap();
        assert_eq!(kept.name, "𝔊".repeat(100));
        assert_eq!(kept.avatar_url, None);
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

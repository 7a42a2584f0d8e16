//! The visitor-supplied part of a room URL's query string.
//!
//! Parsed by hand rather than with `web::Query` because a bad pair must only drop that
//! value: invalid percent-encoding or UTF-8 anywhere in the query is no reason to refuse
//! the page.

use percent_encoding::percent_decode;

use crate::domain::grammar::{
    clean_avatar_url, clean_email, clean_nickname, is_personal_token, is_token,
};

/// Values from the query, each already checked; anything invalid is simply absent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RoomQuery {
    pub nickname: Option<String>,
    pub personal_token: Option<String>,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub password_token: Option<String>,
    pub registrant_token: Option<String>,
}

impl RoomQuery {
    /// Reads the known keys from a raw query string; the first valid value of a key wins.
    pub fn parse(raw: &str) -> Self {
        let mut q = RoomQuery::default();
        for (key, value) in pairs(raw) {
            match key.as_str() {
                "_nickname" => set_once(&mut q.nickname, || clean_nickname(&value)),
                "_personal_token" => set_once(&mut q.personal_token, || personal_token(value)),
                "_email" => set_once(&mut q.email, || clean_email(&value)),
                "_avatar_url" => set_once(&mut q.avatar_url, || clean_avatar_url(&value)),
                "_password_token" => set_once(&mut q.password_token, || token(value)),
                "_registrant_token" => set_once(&mut q.registrant_token, || token(value)),
                _ => {}
            }
        }
        q
    }

    /// Whether the query carried anything worth remembering.
    pub fn is_empty(&self) -> bool {
        *self == RoomQuery::default()
    }
}

fn token(value: String) -> Option<String> {
    is_token(&value).then_some(value)
}

/// The vendor's personal tokens follow a slightly wider grammar than role hashes.
fn personal_token(value: String) -> Option<String> {
    is_personal_token(&value).then_some(value)
}

fn set_once(slot: &mut Option<String>, value: impl FnOnce() -> Option<String>) {
    if slot.is_none() {
        *slot = value();
    }
}

/// `application/x-www-form-urlencoded` pairs; pairs that do not decode to UTF-8 are skipped.
pub fn pairs(raw: &str) -> impl Iterator<Item = (String, String)> + '_ {
    raw.split('&').filter(|p| !p.is_empty()).filter_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        Some((decode(k)?, decode(v)?))
    })
}

/// Strict form decoding: a `%` not followed by two hex digits makes the part invalid.
fn decode(part: &str) -> Option<String> {
    let bytes = part.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(i, b)| {
        *b != b'%'
            || (bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    let spaced = part.replace('+', " ");
    percent_decode(spaced.as_bytes())
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_are_decoded_and_checked() {
        let q = RoomQuery::parse(
            "_nickname=Ada+Lovelace&_personal_token=abc_1-2&_email=ada%40example.com&x=1",
        );
        assert_eq!(q.nickname.as_deref(), Some("Ada Lovelace"));
        assert_eq!(q.personal_token.as_deref(), Some("abc_1-2"));
        assert_eq!(q.email.as_deref(), Some("ada@example.com"));
        assert_eq!(q.avatar_url, None);
    }

    #[test]
    fn a_bad_pair_drops_only_itself() {
        let q = RoomQuery::parse("_nickname=%FF%FE&_personal_token=ok&_email=%zz&_avatar_url=%4");
        assert_eq!(q.nickname, None);
        assert_eq!(q.personal_token.as_deref(), Some("ok"));
        assert_eq!(q.email, None);
    }

    #[test]
    fn personal_tokens_may_hold_dots_and_tildes_other_tokens_may_not() {
        let q = RoomQuery::parse("_personal_token=v1.Ab%7Ecd&_password_token=v1.Ab");
        assert_eq!(q.personal_token.as_deref(), Some("v1.Ab~cd"));
        assert_eq!(q.password_token, None);
    }

    #[test]
    fn the_first_valid_value_wins() {
        let q = RoomQuery::parse("_nickname=&_nickname=First&_nickname=Second");
        assert_eq!(q.nickname.as_deref(), Some("First"));
    }

    #[test]
    fn an_ampersand_inside_a_nickname_stays_in_the_nickname() {
        let q = RoomQuery::parse("_nickname=a%26_role_token%3DX");
        assert_eq!(q.nickname.as_deref(), Some("a&_role_token=X"));
    }
}

//! The session cookie's format: the visitor's state as JSON, wrapped as `{"v": "<state>"}`,
//! encrypted and authenticated with AES-256-GCM by the `cookie` crate's private jar (the
//! cookie's name is part of what is authenticated), then percent-encoded.
//!
//! This is the format actix-session's cookie store wrote in private mode, which roomgate
//! used until the cookie page's speed (issue 16) showed that its general machinery cost a
//! quarter of the page: every cookie of the request parsed and copied into a jar, the state
//! kept as a map of JSON strings, and all of it on every request whether or not a handler
//! reads the session. Keeping the format keeps every visitor's cookie good across the
//! upgrade, and lets instances before and after it share visitors during a rolling one.
//! The cryptography stays the `cookie` crate's.

use actix_web::{
    cookie::{Cookie, CookieJar, Key, SameSite, time::Duration},
    http::header::{COOKIE, HeaderMap, HeaderValue},
};
use serde::{Deserialize, Deserializer, Serialize, de};

use crate::visit::remembered::VisitorState;

/// How long a browser keeps the cookie after it was last written.
const LIFETIME: Duration = Duration::days(30);

/// The key and the cookie's attributes; one per server.
pub struct SessionCookie {
    key: Key,
    secure: bool,
}

/// The cookie's plaintext as read: the visitor's state, as a JSON string under `v`.
#[derive(Deserialize)]
struct Stored {
    #[serde(default, deserialize_with = "json_in_a_string")]
    v: Option<VisitorState>,
}

/// The cookie's plaintext as written.
#[derive(Serialize)]
struct ToStore<'a> {
    v: &'a str,
}

/// The state parsed straight from the unescaped string, without keeping the string.
fn json_in_a_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<VisitorState>, D::Error> {
    struct Json;
    impl de::Visitor<'_> for Json {
        type Value = VisitorState;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("the visitor's state as a JSON string")
        }
        fn visit_str<E: de::Error>(self, json: &str) -> Result<VisitorState, E> {
            serde_json::from_str(json).map_err(E::custom)
        }
    }
    d.deserialize_str(Json).map(Some)
}

impl SessionCookie {
    pub fn new(key: Key, secure: bool) -> Self {
        Self { key, secure }
    }

    /// `__Host-roomgate` whenever the cookie is `Secure`, which the prefix demands.
    pub fn name(&self) -> &'static str {
        name(self.secure)
    }

    /// The session cookie's value as the request carries it (still percent-encoded): the
    /// first cookie of that name in its `Cookie` headers. Other cookies are not parsed.
    pub fn find<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        let name = self.name();
        headers
            .get_all(COOKIE)
            .filter_map(|value| std::str::from_utf8(value.as_bytes()).ok())
            .find_map(|header| value_of(header, name))
    }

    /// The state held by a cookie `value` as [`find`](Self::find) gives it; none for a
    /// value that is not one this key sealed under this name (tampered, foreign,
    /// truncated) or whose plaintext is not a stored state.
    pub fn open(&self, value: &str) -> Option<VisitorState> {
        let sealed = Cookie::new(self.name(), percent_decoded(value)?);
        let opened = CookieJar::new().private(&self.key).decrypt(sealed)?;
        serde_json::from_str::<Stored>(opened.value()).ok()?.v
    }

    /// A `Set-Cookie` value that stores `state` for [`LIFETIME`].
    pub fn seal(&self, state: &VisitorState) -> Result<HeaderValue, serde_json::Error> {
        let plaintext = serde_json::to_string(&ToStore {
            v: &serde_json::to_string(state)?,
        })?;
        let mut cookie = Cookie::new(self.name(), plaintext);
        // HttpOnly, SameSite=Lax (Strict would drop the cookie on links opened from mail
        // and calendars), the whole site, Secure when configured.
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_path("/");
        cookie.set_secure(self.secure);
        cookie.set_max_age(LIFETIME);
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(cookie);
        let sealed = jar.delta().next().expect("the cookie just added");
        Ok(header_value(&sealed.encoded().to_string()))
    }
}

/// The cookie's name: `__Host-roomgate` whenever it is `Secure`, which the prefix demands.
pub fn name(secure: bool) -> &'static str {
    if secure {
        "__Host-roomgate"
    } else {
        "roomgate"
    }
}

/// The value of the cookie `name` in one `Cookie` header (`a=1; name=value; b=2`).
fn value_of<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (n, v) = pair.split_once('=')?;
        (n.trim_ascii() == name).then(|| v.trim_ascii())
    })
}

/// `value` with its `%XX` escapes decoded (the `cookie` crate escapes the `/` and `=` of
/// the base64 text); none for a malformed escape. A dozen lines rather than the
/// `percent-encoding` crate's byte-by-byte iterator, which cost several times as much.
fn percent_decoded(value: &str) -> Option<String> {
    let mut parts = value.split('%');
    let mut out = Vec::with_capacity(value.len());
    out.extend_from_slice(parts.next()?.as_bytes());
    for part in parts {
        let hex = part
            .get(..2)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))?;
        out.push(u8::from_str_radix(hex, 16).ok()?);
        out.extend_from_slice(&part.as_bytes()[2..]);
    }
    String::from_utf8(out).ok()
}

/// A cookie the `cookie` crate wrote: its name is ours, its value base64 percent-encoded
/// and its attributes fixed, so it is always a valid header value.
fn header_value(cookie: &str) -> HeaderValue {
    HeaderValue::from_str(cookie).expect("a cookie the cookie crate encoded")
}

#[cfg(test)]
mod tests;

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
use serde::{Deserialize, Serialize};

/// How long a browser keeps the cookie after it was last written.
const LIFETIME: Duration = Duration::days(30);

/// The key and the cookie's attributes; one per server.
pub struct SessionCookie {
    key: Key,
    secure: bool,
}

/// The cookie's plaintext: the visitor's state as a JSON string under `v`.
#[derive(Serialize, Deserialize)]
struct Stored<'a> {
    #[serde(borrow)]
    v: Option<std::borrow::Cow<'a, str>>,
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
        let name = self.name().as_bytes();
        headers.get_all(COOKIE).find_map(|value| {
            // Bytes, not text: only the session cookie's own value needs to be text.
            value.as_bytes().split(|b| *b == b';').find_map(|pair| {
                let eq = pair.iter().position(|b| *b == b'=')?;
                let (n, v) = (pair[..eq].trim_ascii(), pair[eq + 1..].trim_ascii());
                (n == name).then(|| std::str::from_utf8(v).ok()).flatten()
            })
        })
    }

    /// The state's JSON held by a cookie `value` as [`find`](Self::find) gives it; none
    /// for a value that is not one this key sealed under this name (tampered, foreign,
    /// truncated) or whose plaintext is not the stored form.
    pub fn open(&self, value: &str) -> Option<String> {
        let sealed = Cookie::new(self.name(), percent_decoded(value)?);
        let opened = CookieJar::new().private(&self.key).decrypt(sealed)?;
        let stored: Stored<'_> = serde_json::from_str(opened.value()).ok()?;
        stored.v.map(std::borrow::Cow::into_owned)
    }

    /// A `Set-Cookie` value that stores `state_json` for [`LIFETIME`].
    pub fn seal(&self, state_json: &str) -> HeaderValue {
        let stored = Stored {
            v: Some(state_json.into()),
        };
        let plaintext = serde_json::to_string(&stored).expect("a struct of one string serialises");
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
        header_value(&sealed.encoded().to_string())
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

/// `value` with its `%XX` escapes decoded (the `cookie` crate escapes the `/` and `=` of
/// the base64 text); none for a malformed escape. Ten lines rather than the
/// `percent-encoding` crate's iterator, which cost three times as much per request.
fn percent_decoded(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let digit = |b: u8| (b as char).to_digit(16);
            out.push((digit(hex[0])? * 16 + digit(hex[1])?) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
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

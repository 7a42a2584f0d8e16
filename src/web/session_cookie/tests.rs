use actix_web::{
    cookie::Key,
    http::header::{COOKIE, HeaderMap, HeaderValue},
};

use super::SessionCookie;
use crate::visit::remembered::VisitorState;

/// The key both fixtures below were written with (`session.key`).
const FIXTURE_KEY: &str = "fixture-key-for-the-session-cookie-compatibility-test-0123456789";

/// Written by roomgate with actix-session 0.11's cookie store (private mode) for
/// `/room/123-123-123?_nickname=Ann%20Lee&_personal_token=Ann.personal-Token_1&lang=de`.
const ACTIX_SESSION_COOKIE: &str = "50iuN5ZGEA6OpsuCzIFaRKQvsa%2FpqM8z1BsfhFCDng2bEGzb2kgnvzGKPF9zsdzS4VTjdc5ZdTZgdNR7NzFSJedtTWwa7ln0WHoJ7xAIMh+8QnPOd597zGxFwpUzf38fYTJBvtfbbyE0tQL0y9fMSTD0l4ObyQ%3D%3D";

/// The same, `Secure` (so named `__Host-roomgate`), for `?_nickname=Bob`.
const ACTIX_SESSION_SECURE_COOKIE: &str =
    "Uja6p%2F7nNCHkXcZ9ccOtv3iLZ2gbT1OjeI%2FsjIuqNTC92itz6uxpJtLE1Ck3e4Wn79d%2F";

fn cookie(secure: bool) -> SessionCookie {
    SessionCookie::new(Key::derive_from(FIXTURE_KEY.as_bytes()), secure)
}

fn state(json: &str) -> VisitorState {
    serde_json::from_str(json).expect("the state's JSON")
}

fn seal(jar: &SessionCookie, json: &str) -> HeaderValue {
    jar.seal(&state(json)).expect("seals")
}

/// The value a browser sends back for a `Set-Cookie` header: `name=value`.
fn sent_back(set_cookie: &HeaderValue) -> String {
    let text = set_cookie.to_str().unwrap();
    text.split(';').next().unwrap().to_owned()
}

fn headers(cookies: &[&str]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for c in cookies {
        map.append(COOKIE, HeaderValue::from_str(c).unwrap());
    }
    map
}

#[test]
fn a_cookie_written_with_actix_session_still_opens() {
    let ann = cookie(false).open(ACTIX_SESSION_COOKIE).expect("opens");
    assert_eq!(ann.nickname.as_deref(), Some("Ann Lee"));
    assert_eq!(ann.lang, None, "de is not one of roomgate's languages");
    let room = ann.room("123-123-123").expect("the room's tokens");
    assert_eq!(room.personal_token.as_deref(), Some("Ann.personal-Token_1"));

    let secure = cookie(true)
        .open(ACTIX_SESSION_SECURE_COOKIE)
        .expect("opens");
    assert_eq!(secure.nickname.as_deref(), Some("Bob"));
}

#[test]
fn a_sealed_state_opens_again_with_the_same_key_and_name_only() {
    let json = r#"{"n":"Zoë \"Z\" <b>","r":[{"l":"123-123-123","p":"a.b~c"}]}"#;
    for secure in [false, true] {
        let jar = cookie(secure);
        let set_cookie = seal(&jar, json);
        let back = sent_back(&set_cookie);
        let request = headers(&[&back]);
        let value = jar.find(&request).expect("found");
        assert_eq!(jar.open(value), Some(state(json)));

        // The name is authenticated: the same value under the other name does not open.
        let other = cookie(!secure);
        assert_eq!(other.open(value), None);
        // Nor under another key.
        let stranger = SessionCookie::new(Key::derive_from(&[7; 64]), secure);
        assert_eq!(stranger.open(value), None);
    }
}

#[test]
fn a_tampered_or_truncated_value_does_not_open() {
    let jar = cookie(false);
    let value = ACTIX_SESSION_COOKIE;
    let flipped = format!("A{}", &value[1..]);
    let flipped = if flipped == value {
        format!("B{}", &value[1..])
    } else {
        flipped
    };
    for bad in [
        flipped.as_str(),
        &value[..value.len() - 6],
        "",
        "%ZZ",
        "not base64 at all!",
    ] {
        assert_eq!(jar.open(bad), None, "{bad:?}");
    }
}

#[test]
fn the_cookie_is_http_only_lax_site_wide_for_thirty_days() {
    let plain = seal(&cookie(false), "{}");
    let plain = plain.to_str().unwrap();
    assert!(plain.starts_with("roomgate="), "{plain}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(
            plain.split("; ").any(|a| a == attribute),
            "{attribute} in {plain}"
        );
    }
    assert!(!plain.contains("Secure"), "{plain}");

    let secure = seal(&cookie(true), "{}");
    let secure = secure.to_str().unwrap();
    assert!(secure.starts_with("__Host-roomgate="), "{secure}");
    assert!(secure.split("; ").any(|a| a == "Secure"), "{secure}");
    assert!(
        !secure.contains("Domain"),
        "the __Host- prefix forbids a domain: {secure}"
    );
}

#[test]
fn only_the_session_cookie_is_picked_from_the_request() {
    let jar = cookie(false);
    assert_eq!(jar.find(&headers(&[])), None);
    assert_eq!(
        jar.find(&headers(&["other=1; xroomgate=2; roomgatex=3"])),
        None
    );
    assert_eq!(
        jar.find(&headers(&["other=1;  roomgate=abc%2F ; last=2"])),
        Some("abc%2F")
    );
    // Several Cookie headers (HTTP/2 sends one per cookie): the first of the name wins.
    assert_eq!(
        jar.find(&headers(&["a=1", "roomgate=first", "roomgate=second"])),
        Some("first")
    );
    // The secure name does not answer to the plain one, nor the reverse.
    assert_eq!(cookie(true).find(&headers(&["roomgate=abc"])), None);
    assert_eq!(
        cookie(true).find(&headers(&["__Host-roomgate=abc"])),
        Some("abc")
    );
}

#[test]
fn a_malformed_escape_is_no_value() {
    for bad in ["%", "%2", "abc%", "%ZZ", "%+1", "%-1", "%C3"] {
        assert_eq!(super::percent_decoded(bad), None, "{bad:?}");
    }
    assert_eq!(super::percent_decoded("a%2Fb%3d").as_deref(), Some("a/b="));
}

proptest::proptest! {
    /// The decoder undoes what the percent-encoding crate escapes, whatever it escaped.
    #[test]
    fn escapes_are_undone_as_the_percent_encoding_crate_writes_them(text in ".{0,64}") {
        use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
        let escaped = utf8_percent_encode(&text, NON_ALPHANUMERIC).to_string();
        proptest::prop_assert_eq!(super::percent_decoded(&escaped), Some(text.clone()));
        proptest::prop_assert_eq!(super::percent_decoded(&escaped.to_lowercase()).is_some(), true);
    }
}

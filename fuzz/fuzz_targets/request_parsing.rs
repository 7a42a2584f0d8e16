//! Everything a visitor can put in a room URL or the name prompt, parsed from arbitrary
//! bytes: the query (`RoomQuery::parse`, `pairs`), return paths (`safe_return_path`),
//! room keys (`LicensePattern::matches` with the default pattern), tokens (`is_token`) and
//! nicknames (`clean_nickname`). Panics if a function panics or breaks its contract.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;
use roomgate::{
    domain::grammar::{LicensePattern, clean_avatar_url, clean_email, clean_nickname, is_token},
    visit::{
        query::{RoomQuery, pairs},
        redirect::safe_return_path,
    },
};

/// The default `rooms.license_pattern`.
static DEFAULT_PATTERN: LazyLock<LicensePattern> =
    LazyLock::new(|| LicensePattern::new("^[0-9]{3}-[0-9]{3}-[0-9]{3}$").unwrap());

/// `^[0-9]{3}-[0-9]{3}-[0-9]{3}$`, by hand.
fn is_default_key(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11
        && b.iter().enumerate().all(|(i, c)| match i {
            3 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// `^[A-Za-z0-9_-]{1,128}$`, by hand.
fn is_token_by_hand(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

fn check(s: &str) {
    // The query: no panic, and every kept value passes its own check again unchanged.
    let q = RoomQuery::parse(s);
    if let Some(n) = &q.nickname {
        assert_eq!(clean_nickname(n).as_ref(), Some(n), "nickname not stable");
    }
    if let Some(e) = &q.email {
        assert_eq!(clean_email(e).as_ref(), Some(e), "email not stable");
    }
    if let Some(a) = &q.avatar_url {
        assert_eq!(
            clean_avatar_url(a).as_ref(),
            Some(a),
            "avatar URL not stable"
        );
    }
    for t in [&q.personal_token, &q.password_token, &q.registrant_token]
        .into_iter()
        .flatten()
    {
        assert!(is_token(t), "token {t:?} kept");
    }
    // At most one pair per `&`-separated part.
    assert!(pairs(s).count() <= s.split('&').count());

    // Return paths: one leading `/`, no `\`, no scheme, no control character, on our
    // origin, at every further decoding.
    if let Some(p) = safe_return_path(s) {
        assert_eq!(p, s, "a kept path is kept verbatim");
        let base = url::Url::parse("http://rooms.test/").unwrap();
        let mut current = p.clone();
        for _ in 0..5 {
            assert!(
                current.starts_with('/') && !current.starts_with("//"),
                "{current:?}"
            );
            assert!(!current.contains('\\'), "{current:?}");
            assert!(!current.contains(char::is_control), "{current:?}");
            assert!(
                url::Url::parse(&current).is_err(),
                "{current:?} has a scheme"
            );
            let joined = base.join(&current).unwrap();
            assert_eq!(
                joined.origin(),
                base.origin(),
                "{current:?} leaves the site"
            );
            let Ok(next) = percent_decode_str(&current).decode_utf8() else {
                break;
            };
            if next == current {
                break;
            }
            current = next.into_owned();
        }
    }

    // Grammars.
    assert_eq!(
        DEFAULT_PATTERN.matches(s),
        is_default_key(s),
        "license {s:?}"
    );
    assert_eq!(is_token(s), is_token_by_hand(s), "token {s:?}");

    // Nicknames: 1–100 characters, trimmed, no control characters, stable.
    if let Some(n) = clean_nickname(s) {
        let count = n.chars().count();
        assert!((1..=100).contains(&count), "{count} chars");
        assert_eq!(n.trim(), n);
        assert!(!n.chars().any(char::is_control));
        assert_eq!(clean_nickname(&n).as_ref(), Some(&n));
    }
}

fuzz_target!(|data: &[u8]| {
    // Browsers and proxies can send any bytes; roomgate sees them as text once decoded.
    check(&String::from_utf8_lossy(data));
    if let Ok(s) = std::str::from_utf8(data) {
        // The same text as a path, as a query value and as a form body.
        check(&format!("/{s}"));
        check(&format!(
            "_nickname={s}&_personal_token={s}&_email={s}&_avatar_url={s}"
        ));
    }
});

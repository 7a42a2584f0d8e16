//! Hardening (issue: outside security review): tests named after the review's items.
//! This module: sessions and sign-in (items 3, 4, 10, 11, and the CSRF part of 15).

use jsonwebtoken::{Algorithm, Header};
use serde_json::json;

use crate::fake_vendor::Vendor;
use crate::helpers::{
    L, PUBLIC_URL, TestApp, embed_block, form_body, get_with_cookie, input_value, new_client,
};
use crate::oauth::{connect_as_operator, exchange_answers, location_of, oauth_app};
use crate::sso::{claims, hand_over, now, sign, sign_with, sso_app};

/// Longest `Set-Cookie` header browsers keep (RFC 6265 §6.1: at least 4096 bytes for
/// name, value and attributes together).
const BROWSER_COOKIE_LIMIT: usize = 4096;

/// The session cookie an answer sets, as a `Cookie` header value (`name=value`), and the
/// whole `Set-Cookie` header's length.
fn set_session_cookie(res: &reqwest::Response) -> Option<(String, usize)> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("roomgate="))
        .map(|v| {
            let pair = v.split(';').next().unwrap_or_default().to_owned();
            (pair, v.len())
        })
}

/// Posts the sign-out form with `csrf` from our own origin.
async fn sign_out(app: &TestApp, csrf: &str) -> reqwest::Response {
    app.client
        .post(app.url("/sso/logout"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", PUBLIC_URL)
        .body(form_body(&[("csrf", csrf), ("return_to", "/")]))
        .send()
        .await
        .unwrap()
}

/// The nickname the room page hands to the embed.
fn embed_nickname(html: &str) -> Option<String> {
    embed_block(html).unwrap().options.nickname
}

// Item 3: sign-out and a used OAuth state are refused server-side.

#[tokio::test]
async fn h3_a_cookie_saved_before_sign_out_no_longer_signs_in() {
    let app = sso_app(&[]).await;
    let res = hand_over(&app, &sign(&claims("Grace", "h3-out")), "/").await;
    assert_eq!(res.status(), 303);
    let (saved, _) = set_session_cookie(&res).expect("the sign-in sets the session cookie");
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    let csrf = input_value(&html, "csrf").expect("the sign-out form");
    assert_eq!(sign_out(&app, &csrf).await.status(), 303);

    let (status, html) = get_with_cookie(&app, &format!("/room/{L}?_nickname=Ada"), &saved).await;
    assert_eq!(status, 200);
    assert_eq!(
        embed_nickname(&html).as_deref(),
        Some("Ada"),
        "a copy of the cookie saved before the sign-out no longer carries the identity"
    );
    assert!(!html.contains("Grace"), "no trace of the signed-out name");
}

#[tokio::test]
async fn h3_a_new_sign_in_ends_the_one_it_replaces() {
    let app = sso_app(&[]).await;
    let res = hand_over(&app, &sign(&claims("Grace", "h3-first")), "/").await;
    let (saved, _) = set_session_cookie(&res).unwrap();
    let res = hand_over(&app, &sign(&claims("Ada", "h3-second")), "/").await;
    assert_eq!(res.status(), 303);

    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    assert_eq!(embed_nickname(&html).as_deref(), Some("Ada"));
    let (_, html) = get_with_cookie(&app, &format!("/room/{L}?_nickname=Eve"), &saved).await;
    assert_eq!(
        embed_nickname(&html).as_deref(),
        Some("Eve"),
        "the replaced identity no longer counts"
    );
}

#[tokio::test]
async fn h3_an_oauth_state_is_used_once_even_when_the_cookie_is_replayed() {
    let vendor = Vendor::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = oauth_app(&vendor, &dir.path().join("t.json"), &[]).await;
    // One exchange only: wiremock checks the count when the vendor is dropped.
    exchange_answers(
        &vendor,
        "C",
        json!({"access_token": "AT", "refresh_token": "RT", "expires_in": 3600}),
        1,
    )
    .await;
    let res = connect_as_operator(&app.client, &app).await;
    let (saved, _) = set_session_cookie(&res).expect("connect stores the state in the cookie");
    let location = location_of(&res);
    let state = location
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();

    let callback = format!("/oauth/callback?code=C&state={state}");
    assert_eq!(app.get(&callback).await.status(), 200);
    let (status, _) = get_with_cookie(&app, &callback, &saved).await;
    assert_eq!(
        status, 400,
        "the cookie saved before the callback cannot use the state again"
    );
}

// Item 4: the identity is measured as stored, always fits the cookie, and its token is
// used up only by a sign-in that succeeds.

/// An avatar URL of `n` "é": 2 bytes each as sent, 6 once percent-encoded.
fn accented_avatar(n: usize) -> String {
    format!("https://cdn.example.com/{}", "é".repeat(n))
}

#[tokio::test]
async fn h4_a_long_avatar_is_measured_as_stored_and_the_cookie_still_fits() {
    let app = sso_app(&[]).await;
    for (i, n) in [400, 600, 1000].into_iter().enumerate() {
        let mut c = claims("Grace", &format!("h4-avatar-{i}"));
        c["avatar_url"] = json!(accented_avatar(n));
        let token = sign(&c);
        let res = hand_over(&app, &token, "/").await;
        assert_eq!(res.status(), 303, "{n} × é: the sign-in succeeds");
        let (_, len) = set_session_cookie(&res).expect("a session cookie");
        assert!(
            len < BROWSER_COOKIE_LIMIT,
            "{n} × é: Set-Cookie of {len} bytes would be dropped by browsers"
        );
        let (_, html) = app.get_html(&format!("/room/{L}?_nickname=Mallory")).await;
        let options = embed_block(&html).unwrap().options;
        assert_eq!(options.nickname.as_deref(), Some("Grace"), "{n} × é");
        assert_eq!(
            options.avatar_url.map(|a| a.len()),
            None,
            "{n} × é: over 2048 bytes once encoded, the avatar is dropped"
        );
        assert_eq!(
            hand_over(&app, &token, "/").await.status(),
            400,
            "{n} × é: a token that signed in is used up"
        );
    }
}

#[tokio::test]
async fn h4_the_identity_fits_beside_a_full_session_by_dropping_avatars_first() {
    let app = sso_app(&[]).await;
    // The visitor already brought the most a session can hold: a long avatar, a name,
    // an address and tokens for several rooms.
    let avatar = format!("https://cdn.example.com/{}", "a".repeat(2000));
    for i in 0..5 {
        let room = if i == 4 {
            L.to_owned()
        } else {
            format!("{i:03}-000-000")
        };
        let query = form_body(&[
            ("_avatar_url", avatar.as_str()),
            ("_nickname", &"𝔊".repeat(100)),
            ("_email", &format!("{}@example.com", "m".repeat(60))),
            ("_personal_token", &"T".repeat(128)),
        ]);
        app.get(&format!("/room/{room}?{query}")).await;
    }
    // An identity with every field at its limit.
    let mut c = claims(&"𝔊".repeat(100), "h4-full");
    c["email"] = json!(format!("{}@example.com", "g".repeat(60)));
    c["avatar_url"] = json!(format!("https://cdn.example.com/{}", "b".repeat(2000)));
    let res = hand_over(&app, &sign(&c), "/").await;
    assert_eq!(res.status(), 303, "the sign-in succeeds");
    let (_, len) = set_session_cookie(&res).expect("a session cookie");
    assert!(len < BROWSER_COOKIE_LIMIT, "Set-Cookie of {len} bytes");

    let (_, html) = app.get_html(&format!("/room/{L}?_nickname=Mallory")).await;
    let options = embed_block(&html).unwrap().options;
    assert_eq!(
        options.nickname.as_deref(),
        Some("𝔊".repeat(100).as_str()),
        "the identity was kept"
    );
    assert_eq!(
        options.personal_token.as_deref(),
        Some("T".repeat(128).as_str()),
        "the newest room's token matters more than an avatar picture"
    );
}

// Item 10: lifetime arithmetic cannot overflow; a used token stays used for its whole life.

#[tokio::test]
async fn h10_lifetime_arithmetic_cannot_overflow() {
    let app = sso_app(&[]).await;
    let cases = [
        ("exp max, iat min", i64::MAX, i64::MIN),
        ("iat min", now() + 60, i64::MIN),
        ("exp max, iat now", i64::MAX, now()),
        ("exp min, iat max", i64::MIN, i64::MAX),
        ("exp before iat", now() + 1, now() + 5),
    ];
    for (i, (what, exp, iat)) in cases.into_iter().enumerate() {
        let mut c = claims("Grace", &format!("h10-overflow-{i}"));
        c["exp"] = json!(exp);
        c["iat"] = json!(iat);
        let res = hand_over(&app, &sign(&c), &format!("/room/{L}")).await;
        assert_eq!(res.status(), 400, "{what}");
    }
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    assert_eq!(embed_nickname(&html), None, "nothing was stored");
}

#[tokio::test]
async fn h10_a_used_token_stays_used_until_its_own_expiry_on_the_app_clock() {
    let app = sso_app(&[]).await;
    let token = sign(&claims("Grace", "h10-kept")); // exp = now + 120
    assert_eq!(hand_over(&app, &token, "/").await.status(), 303);
    // The last second the token itself would still be accepted: exp + leeway (10 s).
    app.advance(chrono::Duration::seconds(130));
    let res = new_client()
        .get(app.url(&format!("/sso?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "still remembered as used");
    assert!(app.logs().contains("the token was used before"));
}

// Item 11: unknown critical header parameters are refused (RFC 7515 §4.1.11).

#[tokio::test]
async fn h11_a_token_with_critical_header_parameters_is_refused() {
    let app = sso_app(&[]).await;
    let mut header = Header::new(Algorithm::HS256);
    header.crit = Some(vec!["x-must-understand".into()]);
    header.extras.insert("x-must-understand", true);
    let token = sign_with(header, &claims("Grace", "h11-crit"), crate::sso::SECRET);
    let res = hand_over(&app, &token, &format!("/room/{L}")).await;
    assert_eq!(res.status(), 400);
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    assert_eq!(embed_nickname(&html), None, "not signed in");
}

// Item 15 (first part): signing in rotates the CSRF token.

#[tokio::test]
async fn h15_signing_in_rotates_the_csrf_token() {
    let app = sso_app(&[("ROOMGATE__ROOMS__REQUIRE_NICKNAME", "true")]).await;
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    let before = input_value(&html, "csrf").expect("the name prompt's token");

    assert_eq!(
        hand_over(&app, &sign(&claims("Grace", "h15")), "/")
            .await
            .status(),
        303
    );
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    let after = input_value(&html, "csrf").expect("the sign-out form's token");
    assert_ne!(before, after, "a new token after signing in");
    assert_eq!(
        sign_out(&app, &before).await.status(),
        403,
        "the token from before the sign-in no longer works"
    );
    assert_eq!(sign_out(&app, &after).await.status(), 303);
}

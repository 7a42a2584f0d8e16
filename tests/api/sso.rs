//! The sign-in handoff: `/sso?token=JWT&return_to=…` and `POST /sso/logout`.

use std::collections::HashMap;

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::helpers::{L, TestApp, embed_block, input_value, spawn_app, spawn_app_with};

pub(crate) const SECRET: &str = "sso-secret-0123456789-0123456789-abcdef";

/// The apps' clock (`TEST_NOW`): tokens are minted at the instant the app believes it is.
pub(crate) fn now() -> i64 {
    crate::helpers::test_now().timestamp()
}

pub(crate) fn claims(name: &str, jti: &str) -> Value {
    json!({
        "name": name, "email": "grace@example.com", "avatar_url": "https://cdn.example.com/g.png",
        "iat": now(), "exp": now() + 120, "jti": jti,
    })
}

pub(crate) fn sign(claims: &Value) -> String {
    sign_with(Header::new(Algorithm::HS256), claims, SECRET)
}

pub(crate) fn sign_with(header: Header, claims: &Value, secret: &str) -> String {
    encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

pub(crate) async fn sso_app(extra: &[(&str, &str)]) -> TestApp {
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    spawn_app_with(move |e: &mut HashMap<String, String>| {
        e.insert("ROOMGATE__SSO__SECRET".into(), SECRET.into());
        e.extend(extra);
    })
    .await
}

pub(crate) async fn hand_over(app: &TestApp, token: &str, return_to: &str) -> reqwest::Response {
    let return_to: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
    app.get(&format!("/sso?token={token}&return_to={return_to}"))
        .await
}

#[tokio::test]
async fn a_valid_token_signs_in_and_locks_the_name() {
    let app = sso_app(&[]).await;
    let res = hand_over(
        &app,
        &sign(&claims("Grace Hopper", "jti-1")),
        &format!("/room/{L}"),
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], format!("/room/{L}").as_str());

    let (_, html) = app
        .get_html(&format!(
            "/room/{L}?_nickname=Mallory&_email=m%40evil.example"
        ))
        .await;
    let options = embed_block(&html).unwrap().options;
    assert_eq!(
        options.nickname.as_deref(),
        Some("Grace Hopper"),
        "the query cannot change a signed-in name"
    );
    assert_eq!(options.email.as_deref(), Some("grace@example.com"));
    assert_eq!(
        options.avatar_url.as_deref(),
        Some("https://cdn.example.com/g.png")
    );
    assert!(html.contains("Grace Hopper") && html.contains("Sign out"));
}

#[tokio::test]
async fn every_bad_token_gets_the_same_400_page_and_nothing_is_stored() {
    let app = sso_app(&[("ROOMGATE__SSO__AUDIENCE", "roomgate")]).await;
    let good = |jti: &str| {
        let mut c = claims("Grace", jti);
        c["aud"] = json!("roomgate");
        c
    };
    let mut cases: Vec<(&str, String)> = Vec::new();
    let mut expired = good("e1");
    expired["iat"] = json!(now() - 600);
    expired["exp"] = json!(now() - 300);
    cases.push(("expired", sign(&expired)));
    let mut future_iat = good("e2");
    future_iat["iat"] = json!(now() + 120);
    future_iat["exp"] = json!(now() + 240);
    cases.push(("issued in the future", sign(&future_iat)));
    let mut future_nbf = good("e3");
    future_nbf["nbf"] = json!(now() + 120);
    cases.push(("not yet valid", sign(&future_nbf)));
    cases.push((
        "wrong key",
        sign_with(
            Header::new(Algorithm::HS256),
            &good("e4"),
            "another-secret-0123456789-0123456789",
        ),
    ));
    cases.push((
        "HS512",
        sign_with(Header::new(Algorithm::HS512), &good("e5"), SECRET),
    ));
    cases.push((
        "RS256 header",
        format!(
            "{}.{}.c2lnbmF0dXJl",
            b64(&json!({"alg": "RS256", "typ": "JWT"})),
            b64(&good("e6"))
        ),
    ));
    cases.push((
        "alg none",
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT"})),
            b64(&good("e7"))
        ),
    ));
    let mut jku = Header::new(Algorithm::HS256);
    jku.jku = Some("https://evil.example/keys.json".into());
    cases.push(("key URL in the header", sign_with(jku, &good("e8"), SECRET)));
    let mut wrong_aud = good("e9");
    wrong_aud["aud"] = json!("another-app");
    cases.push(("wrong audience", sign(&wrong_aud)));
    let mut no_aud = good("e10");
    no_aud.as_object_mut().unwrap().remove("aud");
    cases.push(("missing audience", sign(&no_aud)));
    let mut no_name = good("e11");
    no_name.as_object_mut().unwrap().remove("name");
    cases.push(("missing name", sign(&no_name)));
    let mut no_jti = good("e12");
    no_jti.as_object_mut().unwrap().remove("jti");
    cases.push(("missing jti", sign(&no_jti)));
    let mut too_long = good("e13");
    too_long["exp"] = json!(now() + 3600);
    cases.push(("lifetime over sso.max_age_secs", sign(&too_long)));
    let mut string_exp = good("e14");
    string_exp["exp"] = json!((now() + 120).to_string());
    cases.push(("exp as a string", sign(&string_exp)));
    cases.push(("garbage", "not.a.token".into()));
    cases.push(("empty", String::new()));

    for (what, token) in cases {
        let res = hand_over(&app, &token, &format!("/room/{L}")).await;
        assert_eq!(res.status(), 400, "{what}");
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("That sign-in link is not valid"),
            "{what}"
        );
    }
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    assert_eq!(
        embed_block(&html).unwrap().options.nickname,
        None,
        "nothing was stored"
    );

    let res = hand_over(&app, &sign(&good("ok-1")), &format!("/room/{L}")).await;
    assert_eq!(res.status(), 303, "a good token with the audience works");
}

#[tokio::test]
async fn a_token_works_once() {
    let app = sso_app(&[]).await;
    let token = sign(&claims("Grace", "once"));
    assert_eq!(hand_over(&app, &token, "/").await.status(), 303);
    let stranger = crate::helpers::new_client();
    let res = stranger
        .get(app.url(&format!("/sso?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        400,
        "a replayed token is refused, even from another browser"
    );
}

#[tokio::test]
async fn return_to_stays_on_this_site() {
    let app = sso_app(&[]).await;
    for (i, target) in [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "/%5Cevil.example",
        "\t/evil.example",
        "javascript:alert(1)",
        "%2F%2Fevil.example",
        "",
    ]
    .iter()
    .enumerate()
    {
        let res = hand_over(&app, &sign(&claims("Grace", &format!("redir-{i}"))), target).await;
        assert_eq!(res.status(), 303, "{target:?}");
        assert_eq!(res.headers()["location"], "/", "{target:?}");
    }
}

#[tokio::test]
async fn an_identity_past_its_session_lifetime_no_longer_counts() {
    let app = sso_app(&[("ROOMGATE__SSO__SESSION_MAX_AGE_SECS", "60")]).await;
    hand_over(&app, &sign(&claims("Grace", "short")), "/").await;
    let (_, html) = app.get_html(&format!("/room/{L}?_nickname=Ada")).await;
    assert_eq!(
        embed_block(&html).unwrap().options.nickname.as_deref(),
        Some("Grace")
    );
    app.advance(chrono::Duration::seconds(59));
    let (_, html) = app.get_html(&format!("/room/{L}?_nickname=Ada")).await;
    assert_eq!(
        embed_block(&html).unwrap().options.nickname.as_deref(),
        Some("Grace"),
        "still locked in the last second of its lifetime"
    );
    app.advance(chrono::Duration::seconds(1));
    let (_, html) = app.get_html(&format!("/room/{L}?_nickname=Ada")).await;
    assert_eq!(
        embed_block(&html).unwrap().options.nickname.as_deref(),
        Some("Ada"),
        "the lock is gone"
    );
}

#[tokio::test]
async fn sign_out_needs_the_csrf_token_and_clears_the_identity() {
    let app = sso_app(&[]).await;
    hand_over(&app, &sign(&claims("Grace", "logout")), "/").await;
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    let csrf = input_value(&html, "csrf").expect("the sign-out form");

    let post = |form: Vec<(&str, String)>| {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        app.client
            .post(app.url("/sso/logout"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", crate::helpers::PUBLIC_URL)
            .body(body)
            .send()
    };
    assert_eq!(
        post(vec![("csrf", "forged".into())])
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(post(vec![]).await.unwrap().status(), 400, "no token at all");
    let res = post(vec![("csrf", csrf), ("return_to", format!("/room/{L}"))])
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], format!("/room/{L}").as_str());
    let (_, html) = app.get_html(&format!("/room/{L}?_nickname=Ada")).await;
    assert_eq!(
        embed_block(&html).unwrap().options.nickname.as_deref(),
        Some("Ada")
    );
}

#[tokio::test]
async fn without_a_secret_there_is_no_sso() {
    let app = spawn_app().await;
    assert_eq!(
        app.get(&format!("/sso?token={}", sign(&claims("G", "x"))))
            .await
            .status(),
        404
    );
}

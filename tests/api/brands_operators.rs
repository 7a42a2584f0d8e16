//! Who is let in on a deployment with several brands: each brand signs visitors in with
//! its own SSO key only, and an operator token is good for the brands it was made for.

use serde_json::{Value, json};
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path},
};

use crate::brands_setup::{
    ADMIN, ALPHA, ALPHA_ROOM, ALPHA_SCHEDULED, ALPHA_URL, BETA, BETA_ADMIN, BETA_URL, ELSEWHERE,
    admin_on, brands_app_from, brands_app_with, brands_text, get_on, page_with_cookie, request_on,
    session_cookie,
};
use crate::fake_vendor::{Vendor, api_env, widget};
use crate::helpers::{L, PUBLIC_URL, SCHEDULED, TestApp, embed_block};
use crate::oauth::{basic, location_of};
use crate::sso::{SECRET, claims, sign_with};

const ALPHA_SSO: &str = "alpha-sso-secret-0123456789-0123456789";
const BETA_SSO: &str = "beta-sso-secret-0123456789-0123456789-x";

/// A sign-in token for `name` signed with `secret`, with `aud` when given.
fn token(secret: &str, name: &str, aud: Option<&str>) -> String {
    let mut claims = claims(name, &format!("jti-{name}"));
    if let Some(aud) = aud {
        claims["aud"] = json!(aud);
    }
    sign_with(
        jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        secret,
    )
}

/// `GET /sso` on `host` with `token`, back to `/room/{room}`.
async fn hand_over_on(app: &TestApp, host: &str, token: &str, room: &str) -> reqwest::Response {
    get_on(
        app,
        host,
        &format!("/sso?token={token}&return_to=%2Froom%2F{room}"),
    )
    .await
}

/// The nickname a room page on `host` hands to the embed, with `cookie`.
async fn nickname_on(app: &TestApp, host: &str, room: &str, cookie: &str) -> Option<String> {
    let (status, html) = page_with_cookie(app, host, &format!("/room/{room}"), cookie).await;
    assert_eq!(status, 200);
    embed_block(&html).unwrap().options.nickname
}

#[tokio::test]
async fn a_sign_in_token_works_only_on_the_brand_whose_key_signed_it() {
    let app = brands_app_with(
        &format!("sso = {{ secret = \"{ALPHA_SSO}\" }}"),
        &format!("sso = {{ secret = \"{BETA_SSO}\" }}"),
        |env| {
            env.insert("ROOMGATE__SSO__SECRET".into(), SECRET.into());
        },
    )
    .await;
    let res = hand_over_on(&app, ALPHA, &token(ALPHA_SSO, "Grace", None), ALPHA_ROOM).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("/room/{ALPHA_ROOM}").as_str()
    );
    let cookie = session_cookie(&res);
    assert_eq!(
        nickname_on(&app, ALPHA, ALPHA_ROOM, &cookie)
            .await
            .as_deref(),
        Some("Grace")
    );
    // The identity stays on alpha.
    assert_eq!(nickname_on(&app, BETA, L, &cookie).await, None);
    assert_eq!(nickname_on(&app, ELSEWHERE, L, &cookie).await, None);

    for (host, secret, name, room) in [
        (BETA, ALPHA_SSO, "Alan", L),
        (ELSEWHERE, ALPHA_SSO, "Alice", L),
        (ALPHA, SECRET, "Mallory", ALPHA_ROOM),
        (BETA, SECRET, "Mel", L),
        (ALPHA, BETA_SSO, "Bob", ALPHA_ROOM),
    ] {
        let res = hand_over_on(&app, host, &token(secret, name, None), room).await;
        assert_eq!(res.status(), 400, "{name} on {host}");
        assert!(
            res.headers().get("set-cookie").is_none(),
            "{name} on {host}"
        );
    }
    // Each key still signs in on its own brand.
    for (host, secret, room) in [(BETA, BETA_SSO, L), (ELSEWHERE, SECRET, L)] {
        let res = hand_over_on(&app, host, &token(secret, "Ada", None), room).await;
        assert_eq!(res.status(), 303, "{host}");
        let cookie = session_cookie(&res);
        assert_eq!(
            nickname_on(&app, host, room, &cookie).await.as_deref(),
            Some("Ada")
        );
    }
}

#[tokio::test]
async fn a_brand_without_its_own_sso_key_has_no_sso_even_with_a_top_level_key() {
    let app = brands_app_with("", "", |env| {
        env.insert("ROOMGATE__SSO__SECRET".into(), SECRET.into());
    })
    .await;
    for (host, room) in [(ALPHA, ALPHA_ROOM), (BETA, L)] {
        let res = hand_over_on(&app, host, &token(SECRET, "Grace", None), room).await;
        assert_eq!(res.status(), 404, "{host}");
        assert!(res.headers().get("set-cookie").is_none(), "{host}");
    }
    let res = hand_over_on(&app, ELSEWHERE, &token(SECRET, "Grace", None), L).await;
    assert_eq!(
        res.status(),
        303,
        "the top-level key signs in on the default brand"
    );
}

#[tokio::test]
async fn brands_sharing_one_sso_key_tell_their_tokens_apart_by_audience() {
    let app = brands_app_with(
        &format!("sso = {{ secret = \"{ALPHA_SSO}\", audience = \"alpha\" }}"),
        &format!("sso = {{ secret = \"{ALPHA_SSO}\", audience = \"beta\" }}"),
        |_| {},
    )
    .await;
    let for_alpha = token(ALPHA_SSO, "Grace", Some("alpha"));
    assert_eq!(hand_over_on(&app, BETA, &for_alpha, L).await.status(), 400);
    let res = hand_over_on(&app, ALPHA, &for_alpha, ALPHA_ROOM).await;
    assert_eq!(res.status(), 303);
    let for_beta = token(ALPHA_SSO, "Ada", Some("beta"));
    assert_eq!(
        hand_over_on(&app, ALPHA, &for_beta, ALPHA_ROOM)
            .await
            .status(),
        400
    );
    assert_eq!(hand_over_on(&app, BETA, &for_beta, L).await.status(), 303);
}

/// The app with the top-level admin token and beta's own.
async fn operated_app() -> TestApp {
    brands_app_with("", &format!("admin_token = \"{BETA_ADMIN}\""), |env| {
        env.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
    })
    .await
}

/// The keys and attendee links of a room list.
fn rooms_of(list: &Value) -> Vec<(String, String)> {
    list["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["license"].as_str().unwrap().to_owned(),
                r["attendee_link"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_top_level_admin_token_works_on_every_brand_and_each_list_shows_its_rooms_only() {
    let app = operated_app().await;
    let listed = |base: &str, keys: &[&str]| -> Vec<(String, String)> {
        keys.iter()
            .map(|k| (k.to_string(), format!("{base}/room/{k}")))
            .collect()
    };
    let alpha = listed(ALPHA_URL, &[ALPHA_ROOM, ALPHA_SCHEDULED]);
    let beta = listed(BETA_URL, &[L, SCHEDULED]);
    for (host, query, expected) in [
        (ALPHA, "", &alpha),
        (ELSEWHERE, "?brand=alpha", &alpha),
        (BETA, "", &beta),
        (ALPHA, "?brand=beta", &beta),
    ] {
        let (status, list) = admin_on(
            &app,
            host,
            "GET",
            &format!("/admin/api/rooms{query}"),
            ADMIN,
        )
        .await;
        assert_eq!(status, 200, "{host}{query}: {list}");
        assert_eq!(&rooms_of(&list), expected, "{host}{query}");
    }
    let (status, list) = admin_on(&app, ELSEWHERE, "GET", "/admin/api/rooms", ADMIN).await;
    assert_eq!(status, 200);
    let default = rooms_of(&list);
    assert_eq!(default.len(), 7, "every room of the default catalog");
    assert!(default.contains(&(L.to_owned(), format!("{PUBLIC_URL}/room/{L}"))));
    assert!(!default.iter().any(|(k, _)| k == ALPHA_ROOM));
}

#[tokio::test]
async fn a_brands_own_admin_token_works_on_that_brand_only() {
    let app = operated_app().await;
    for (host, query) in [
        (BETA, ""),
        (ELSEWHERE, "?brand=beta"),
        (ALPHA, "?brand=beta"),
    ] {
        let (status, list) = admin_on(
            &app,
            host,
            "GET",
            &format!("/admin/api/rooms{query}"),
            BETA_ADMIN,
        )
        .await;
        assert_eq!(status, 200, "{host}{query}: {list}");
        assert_eq!(rooms_of(&list).len(), 2);
    }
    for (host, query) in [
        (ALPHA, ""),
        (ELSEWHERE, ""),
        (BETA, "?brand=alpha"),
        (BETA, "?brand=default"),
    ] {
        let path = format!("/admin/api/rooms/{L}/links{query}");
        let (status, body) = admin_on(&app, host, "GET", &path, BETA_ADMIN).await;
        assert_eq!(status, 401, "{host}{path}: {body}");
        assert_eq!(body["error"]["message"], "a valid admin token is required");
    }
    // Only the deployment's operator learns that a brand does not exist; a brand's token
    // (or none) is told what a wrong token is told, so brand ids cannot be listed.
    let (status, body) = admin_on(&app, BETA, "GET", "/admin/api/rooms?brand=nope", ADMIN).await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({"error": {"message": "no such brand"}}));
    for brand in ["nope", "alpha"] {
        let path = format!("/admin/api/rooms?brand={brand}");
        let (status, body) = admin_on(&app, BETA, "GET", &path, BETA_ADMIN).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert_eq!(body["error"]["message"], "a valid admin token is required");
    }
}

#[tokio::test]
async fn a_brands_own_admin_token_opens_no_admin_api_on_other_brands() {
    let app = brands_app_with("", &format!("admin_token = \"{BETA_ADMIN}\""), |_| {}).await;
    assert_eq!(
        admin_on(&app, BETA, "GET", "/admin/api/rooms", BETA_ADMIN)
            .await
            .0,
        200
    );
    for host in [ALPHA, ELSEWHERE] {
        let (status, body) = admin_on(&app, host, "GET", "/admin/api/rooms", BETA_ADMIN).await;
        assert_eq!(status, 404, "{host}");
        assert_eq!(body["error"]["message"], "not found");
    }
}

#[tokio::test]
async fn a_brand_with_a_room_list_cannot_create_rooms_but_the_default_can() {
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 0..).await;
    Mock::given(method("POST"))
        .and(path("/api/widgets"))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"data": {"id": 9, "token": "999-000-999", "roles": {"host": "Host9"}}}),
        ))
        .expect(1)
        .mount(&vendor.server)
        .await;
    vendor
        .detail(9, widget(9, "999-000-999", "New room"), 0..)
        .await;
    vendor.list(&[(9, "999-000-999")], 0..).await;
    let env = api_env(&vendor);
    let app = brands_app_with("", "", move |e| {
        e.extend(env);
        e.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
    })
    .await;
    let create = |host: &'static str| {
        request_on(&app, "POST", host, "/admin/api/rooms")
            .bearer_auth(ADMIN)
            .json(&json!({"name": "New room"}))
            .send()
    };
    let res = create(BETA).await.unwrap();
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("`rooms` list"), "{message}");

    let res = create(ELSEWHERE).await.unwrap();
    assert_eq!(res.status(), 201);
    let room: Value = res.json().await.unwrap();
    assert_eq!(
        room["links"]["attendee"],
        format!("{PUBLIC_URL}/room/999-000-999")
    );
}

/// Where `/oauth/connect` on `host` with the operator's `password` sends the browser:
/// the status, and the client id and callback it hands the vendor.
async fn connect_on(app: &TestApp, host: &str, password: &str) -> (u16, Option<(String, String)>) {
    let res = request_on(app, "GET", host, "/oauth/connect")
        .header("authorization", basic(password))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let sent = (status == 303).then(|| {
        let q: std::collections::HashMap<_, _> =
            location_of(&res).query_pairs().into_owned().collect();
        (q["client_id"].clone(), q["redirect_uri"].clone())
    });
    (status, sent)
}

/// The default account (OAuth) shared by beta; alpha with an OAuth account of its own.
/// Beta's operator may run beta's rooms on the shared account, but connecting that account
/// (a new authorization replaces the tokens every brand on it uses) is the default's.
#[tokio::test]
async fn only_the_brand_that_owns_a_vendor_account_can_connect_it() {
    let vendor = Vendor::start().await;
    let dir = tempfile::tempdir().unwrap();
    let alpha_source = format!(
        "[brands.source]\nkind = \"api\"\nclient_id = \"alpha-client\"\n\
         client_secret = \"alpha-secret\"\nauth = \"oauth\"\nbase_url = \"{}\"\ntoken_file = \"{}\"\n",
        vendor.uri(),
        dir.path().join("alpha-tokens.json").display()
    );
    let text = brands_text("", &format!("admin_token = \"{BETA_ADMIN}\""));
    let catalog = text
        .lines()
        .skip_while(|l| *l != "[brands.source]")
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    let text = text.replace(&catalog, &alpha_source);
    let env = api_env(&vendor);
    let token_file = dir.path().join("tokens.json").display().to_string();
    let app = brands_app_from(&text, move |e| {
        e.extend(env);
        e.insert("ROOMGATE__API__AUTH".into(), "oauth".into());
        e.insert("ROOMGATE__API__TOKEN_FILE".into(), token_file);
        e.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
    })
    .await;

    let default_account = Some((
        crate::fake_vendor::CLIENT_ID.to_owned(),
        format!("{PUBLIC_URL}/oauth/callback"),
    ));
    assert_eq!(
        connect_on(&app, ELSEWHERE, ADMIN).await,
        (303, default_account)
    );
    let alpha_account = Some((
        "alpha-client".to_owned(),
        format!("{ALPHA_URL}/oauth/callback"),
    ));
    assert_eq!(connect_on(&app, ALPHA, ADMIN).await, (303, alpha_account));

    for password in [BETA_ADMIN, ADMIN] {
        assert_eq!(connect_on(&app, BETA, password).await, (404, None));
    }
    let res = get_on(&app, BETA, "/oauth/callback?code=C&state=S").await;
    assert_eq!(res.status(), 404);
}

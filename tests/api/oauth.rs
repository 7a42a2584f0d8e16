//! The OAuth2 authorization code flow: `/oauth/connect`, `/oauth/callback`, refresh.

use std::{collections::HashMap, os::unix::fs::PermissionsExt, path::Path, time::Duration};

use base64::Engine;
use serde_json::{Value, json};
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{body_string, header, method, path, query_param},
};

use crate::fake_vendor::{CLIENT_ID, Vendor, spawn_api_app, widget};
use crate::helpers::{PUBLIC_URL, TestApp, new_client};

pub(crate) const ADMIN: &str = "admin-token-0123456789-abcdefghijkl";
const ROOM: &str = "555-555-555";

pub(crate) fn basic(password: &str) -> String {
    let raw = format!("admin:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

pub(crate) async fn oauth_app(
    vendor: &Vendor,
    token_file: &Path,
    extra: &[(&str, &str)],
) -> TestApp {
    let token_file = token_file.display().to_string();
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    spawn_api_app(vendor, move |e: &mut HashMap<String, String>| {
        e.insert("ROOMGATE__API__AUTH".into(), "oauth".into());
        e.insert("ROOMGATE__API__TOKEN_FILE".into(), token_file);
        e.insert(
            "ROOMGATE__API__APP_URL".into(),
            "https://app.example".into(),
        );
        e.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
        e.extend(extra);
    })
    .await
}

/// The operator opens `/oauth/connect` with `client`: the 303 to the vendor's page.
pub(crate) async fn connect_as_operator(
    client: &reqwest::Client,
    app: &TestApp,
) -> reqwest::Response {
    let res = client
        .get(app.url("/oauth/connect"))
        .header("authorization", basic(ADMIN))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    res
}

/// Where a redirect sends the browser.
pub(crate) fn location_of(res: &reqwest::Response) -> url::Url {
    url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap()
}

/// The `state` a connect's redirect hands the vendor.
pub(crate) fn state_of(res: &reqwest::Response) -> String {
    location_of(res)
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned()
}

/// Starts the flow as the operator and returns the `state` sent to the vendor.
async fn connect(app: &TestApp) -> String {
    let res = connect_as_operator(&app.client, app).await;
    let location = location_of(&res);
    assert_eq!(
        location.origin().ascii_serialization(),
        "https://app.example"
    );
    assert_eq!(location.path(), "/auth/oauth2/authorize");
    let q: HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["redirect_uri"], format!("{PUBLIC_URL}/oauth/callback"));
    assert_eq!(q["response_type"], "code");
    assert!(q["state"].len() >= 43, "at least 256 random bits");
    q["state"].clone()
}

pub(crate) async fn exchange_answers(vendor: &Vendor, code: &str, answer: Value, times: u64) {
    let redirect: String =
        url::form_urlencoded::byte_serialize(format!("{PUBLIC_URL}/oauth/callback").as_bytes())
            .collect();
    Mock::given(method("POST"))
        .and(path("/api/oauth/access_token"))
        .and(body_string(format!(
            "grant_type=authorization_code&client_id={CLIENT_ID}&client_secret=s3cret%26%3D%2B+%C5%BC%C3%B3%C5%82w&code={code}&redirect_uri={redirect}"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .expect(times)
        .mount(&vendor.server)
        .await;
}

fn stored(file: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

#[tokio::test]
async fn the_operator_connects_the_account_and_rooms_are_served_with_its_token() {
    let vendor = Vendor::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data/tokens.json");
    let app = oauth_app(&vendor, &file, &[]).await;
    assert_eq!(app.get("/readyz").await.status(), 503, "not connected yet");

    let state = connect(&app).await;
    exchange_answers(
        &vendor,
        "CODE-1",
        json!({"accessToken": {"access_token": "AT-1", "refresh_token": "RT-1", "expires_in": 3600, "token_type": "Bearer"}}),
        1,
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .and(header("authorization", "Bearer AT-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"id": 42, "email": "ops@example.com"}})),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    let (status, html) = app
        .get_html(&format!("/oauth/callback?code=CODE-1&state={state}"))
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("Connected to LiveWebinar"));
    assert!(html.contains("ops@example.com"));

    let saved = stored(&file);
    assert_eq!(saved["access_token"], "AT-1");
    assert_eq!(saved["refresh_token"], "RT-1");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Page 1 only: the listing asks for page 2 too (a short first page may be a capped
    // one), and the 404 it gets there ends the listing.
    Mock::given(method("GET"))
        .and(path("/api/widgets"))
        .and(query_param("page", "1"))
        .and(header("authorization", "Bearer AT-1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": [{"id": 7, "token": ROOM}]})),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    vendor.detail(7, widget(7, ROOM, "Via OAuth"), 1).await;
    assert!(
        app.get_html(&format!("/room/{ROOM}"))
            .await
            .1
            .contains("Via OAuth")
    );
    assert_eq!(app.get("/readyz").await.status(), 200);
}

#[tokio::test]
async fn a_forged_missing_reused_or_foreign_state_is_refused_and_nothing_is_exchanged() {
    let vendor = Vendor::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens.json");
    let app = oauth_app(&vendor, &file, &[]).await;
    exchange_answers(&vendor, "C", json!({"access_token": "AT"}), 0).await;

    let state = connect(&app).await;
    let stranger = new_client();
    let foreign = stranger
        .get(app.url(&format!("/oauth/callback?code=C&state={state}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        foreign.status(),
        400,
        "another browser's session has no such state"
    );

    for query in ["code=C&state=forged", "code=C", "code=C&state="] {
        let state = connect(&app).await;
        let (status, html) = app.get_html(&format!("/oauth/callback?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert!(html.contains("not understood"), "{query}");
        // The real state was used up by the failed attempt.
        assert_eq!(
            app.get(&format!("/oauth/callback?code=C&state={state}"))
                .await
                .status(),
            400
        );
    }
    assert!(!file.exists(), "nothing stored");
}

#[tokio::test]
async fn a_reused_state_is_refused_after_a_successful_connection() {
    let vendor = Vendor::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = oauth_app(&vendor, &dir.path().join("t.json"), &[]).await;
    exchange_answers(
        &vendor,
        "C",
        json!({"access_token": "AT", "refresh_token": "RT", "expires_in": 3600}),
        1,
    )
    .await;
    let state = connect(&app).await;
    assert_eq!(
        app.get(&format!("/oauth/callback?code=C&state={state}"))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get(&format!("/oauth/callback?code=C&state={state}"))
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn the_operator_pages_need_the_admin_token() {
    let vendor = Vendor::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = oauth_app(
        &vendor,
        &dir.path().join("t.json"),
        &[("ROOMGATE__SECURITY__ROLE_GUESS_LIMIT", "3")],
    )
    .await;
    let res = app.get("/oauth/connect").await;
    assert_eq!(res.status(), 401);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic realm=")
    );
    for _ in 0..3 {
        let res = app
            .client
            .get(app.url("/oauth/connect"))
            .header("authorization", basic("wrong"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let res = app
        .client
        .get(app.url("/oauth/connect"))
        .header("authorization", basic(ADMIN))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        429,
        "too many wrong tokens: even the right one waits"
    );

    let off = spawn_api_app(&vendor, |e| {
        e.insert("ROOMGATE__API__AUTH".into(), "oauth".into());
        e.insert(
            "ROOMGATE__API__TOKEN_FILE".into(),
            dir.path().join("u.json").display().to_string(),
        );
    })
    .await;
    let res = off
        .client
        .get(off.url("/oauth/connect"))
        .header("authorization", basic(ADMIN))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        404,
        "without admin.token the surface does not exist"
    );
}

pub(crate) fn write_tokens(file: &Path, access: &str, refresh: &str, expires_in: i64) {
    let expires_at = crate::helpers::test_now().timestamp() + expires_in;
    std::fs::write(
        file,
        json!({"access_token": access, "refresh_token": refresh, "expires_at": expires_at})
            .to_string(),
    )
    .unwrap();
}

pub(crate) async fn refresh_answers(
    vendor: &Vendor,
    refresh: &str,
    answer: ResponseTemplate,
    times: u64,
) {
    Mock::given(method("POST"))
        .and(path("/api/oauth/access_token/refresh"))
        .and(body_string(format!(
            "grant_type=refresh_token&refresh_token={refresh}&client_id={CLIENT_ID}&client_secret=s3cret%26%3D%2B+%C5%BC%C3%B3%C5%82w"
        )))
        .respond_with(answer)
        .expect(times)
        .mount(&vendor.server)
        .await;
}

async fn me_with(vendor: &Vendor, token: &str, status: u16, times: u64) {
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(
            ResponseTemplate::new(status)
                .set_body_json(json!({"data": {"id": 1, "email": "ops@example.com"}})),
        )
        .expect(times)
        .mount(&vendor.server)
        .await;
}

#[tokio::test]
async fn an_expired_token_is_refreshed_and_stored() {
    let vendor = Vendor::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.json");
    write_tokens(&file, "AT-OLD", "RT-OLD", 5);
    refresh_answers(
        &vendor,
        "RT-OLD",
        ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "AT-NEW", "refresh_token": "RT-NEW", "expires_in": 3600}),
        ),
        1,
    )
    .await;
    let app = oauth_app(&vendor, &file, &[]).await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let saved = stored(&file);
    assert_eq!(saved["access_token"], "AT-NEW");
    assert_eq!(saved["refresh_token"], "RT-NEW");
    // A restart reads the refreshed tokens.
    let again = oauth_app(&vendor, &file, &[]).await;
    assert_eq!(again.get("/readyz").await.status(), 200);
}

#[tokio::test]
async fn a_401_refreshes_the_token_and_retries_once() {
    let vendor = Vendor::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.json");
    write_tokens(&file, "AT-REVOKED", "RT-1", 3600);
    me_with(&vendor, "AT-REVOKED", 401, 1).await;
    refresh_answers(
        &vendor,
        "RT-1",
        ResponseTemplate::new(200)
            .set_body_json(json!({"accessToken": {"access_token": "AT-2", "expires_in": 3600}})),
        1,
    )
    .await;
    me_with(&vendor, "AT-2", 200, 1).await;
    let mut env = crate::helpers::test_env();
    env.extend(crate::fake_vendor::api_env(&vendor));
    env.insert("ROOMGATE__API__AUTH".into(), "oauth".into());
    env.insert(
        "ROOMGATE__API__TOKEN_FILE".into(),
        file.display().to_string(),
    );
    let api = roomgate::vendor::build_api(
        &crate::helpers::load_settings(&env).unwrap(),
        crate::helpers::app_clock(&crate::helpers::hand_clock()),
    )
    .await
    .unwrap();
    assert_eq!(
        api.me().await.unwrap().email.as_deref(),
        Some("ops@example.com")
    );
    let saved = stored(&file);
    assert_eq!(saved["access_token"], "AT-2");
    assert_eq!(
        saved["refresh_token"], "RT-1",
        "the old refresh token is kept when none comes back"
    );
}

#[tokio::test]
async fn a_rejected_refresh_token_asks_for_a_reconnect_and_cached_pages_stay_up() {
    let vendor = Vendor::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.json");
    write_tokens(&file, "AT-1", "RT-DEAD", 3600);
    let before = std::fs::read_to_string(&file).unwrap();
    Mock::given(method("GET"))
        .and(path("/api/widgets"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": [{"id": 7, "token": ROOM}]})),
        )
        .mount(&vendor.server)
        .await;
    let good = Mock::given(method("GET"))
        .and(path("/api/widgets/7"))
        .and(header("authorization", "Bearer AT-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": widget(7, ROOM, "Cached room")})),
        )
        .expect(1)
        .mount_as_scoped(&vendor.server)
        .await;
    let app = oauth_app(
        &vendor,
        &file,
        &[
            ("ROOMGATE__CACHE__TTL_SECS", "1"),
            ("ROOMGATE__CACHE__INDEX_MIN_INTERVAL_SECS", "0"),
        ],
    )
    .await;
    assert_eq!(app.get(&format!("/room/{ROOM}")).await.status(), 200);
    drop(good);

    Mock::given(method("GET"))
        .and(path("/api/widgets/7"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"message": "Unauthenticated."}})),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    refresh_answers(
        &vendor,
        "RT-DEAD",
        ResponseTemplate::new(400)
            .set_body_json(json!({"error": {"message": "The refresh token is invalid."}})),
        1,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..5 {
        let (status, html) = app.get_html(&format!("/room/{ROOM}")).await;
        assert_eq!(status, 200);
        assert!(html.contains("Cached room"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["reason"], "reconnect_needed", "{body}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        before,
        "stored tokens untouched"
    );
    assert_eq!(
        app.get("/room/999-999-999").await.status(),
        503,
        "new rooms cannot be looked up"
    );
}

#[tokio::test]
async fn a_corrupt_token_file_stops_start_up_with_a_clear_line() {
    let vendor = Vendor::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.json");
    std::fs::write(&file, "{\"access_token\": ").unwrap();
    let mut env = crate::helpers::test_env();
    env.extend(crate::fake_vendor::api_env(&vendor));
    env.insert("ROOMGATE__API__AUTH".into(), "oauth".into());
    env.insert(
        "ROOMGATE__API__TOKEN_FILE".into(),
        file.display().to_string(),
    );
    let settings = crate::helpers::load_settings(&env).unwrap();
    let err = roomgate::web::Application::build(settings)
        .await
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(
        text.contains("t.json") && text.contains("corrupt"),
        "{text}"
    );
}

//! Items of the OWASP ASVS checklist (shared security-checklist.md) not already proven by
//! another test, each named after its 4.0.3 id (5.0 id in the doc line).

use serde_json::json;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};

use crate::fake_vendor::{Vendor, spawn_api_app};
use crate::helpers::{L, load_settings, spawn_app_with, test_env};

const ADMIN: &str = "admin-token-0123456789-abcdefghijkl";

/// V8.1.1 / V8.2.1 (5.0 V14.2.2, V14.3.2): answers that can carry tokens are never stored
/// by shared caches: room, prompt, sso, oauth and admin answers.
#[tokio::test]
async fn v8_1_1_no_store_on_room_prompt_sso_oauth_and_admin_answers() {
    let app = spawn_app_with(|e| {
        e.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
        e.insert(
            "ROOMGATE__SSO__SECRET".into(),
            "sso-secret-0123456789-0123456789-abcdef".into(),
        );
        e.insert("ROOMGATE__ROOMS__REQUIRE_NICKNAME".into(), "true".into());
    })
    .await;
    let admin = app
        .client
        .get(app.url("/admin/api/rooms"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let answers = vec![
        (
            "room page with a role token",
            app.get(&format!("/room/{L}/HostToken123?_personal_token=T"))
                .await,
        ),
        ("name prompt", app.get(&format!("/room/{L}")).await),
        ("sso refusal", app.get("/sso?token=bad").await),
        ("oauth connect", app.get("/oauth/connect").await),
        ("admin api", admin),
        ("calendar", app.get("/room/234-234-234/calendar.ics").await),
    ];
    for (what, res) in answers {
        assert_eq!(
            res.headers()["cache-control"],
            "private, no-store",
            "{what}"
        );
    }
}

/// V14.4.5 (5.0 V3.4.1): HSTS once roomgate is served over https.
#[tokio::test]
async fn v14_4_5_hsts_when_the_public_url_is_https() {
    let app = spawn_app_with(|e| {
        e.insert(
            "ROOMGATE__SERVER__PUBLIC_URL".into(),
            "https://events.example.com".into(),
        );
    })
    .await;
    let res = app.get(&format!("/room/{L}")).await;
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let plain = crate::helpers::spawn_app().await;
    assert!(
        plain
            .get(&format!("/room/{L}"))
            .await
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
}

/// V14.3.3 (5.0 V13.4.6): answers do not name the server software or its version.
#[tokio::test]
async fn v14_3_3_no_server_banner() {
    let app = crate::helpers::spawn_app().await;
    for path in [
        format!("/room/{L}"),
        "/nothing".into(),
        "/static/js/room.js".into(),
    ] {
        let res = app.get(&path).await;
        assert!(res.headers().get("server").is_none(), "{path}");
        assert!(res.headers().get("x-powered-by").is_none(), "{path}");
    }
}

/// 5.0 V15.3.2: the vendor client follows no redirect, so tokens never travel elsewhere.
#[tokio::test]
async fn v15_3_2_vendor_redirects_are_not_followed() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 1).await;
    Mock::given(method("GET"))
        .and(path("/api/widgets"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/steal", elsewhere.uri()).as_str()),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    let app = spawn_api_app(&vendor, |_| {}).await;
    let res = app.get("/room/555-555-555").await;
    assert_eq!(
        res.status(),
        503,
        "an upstream error, not a followed redirect"
    );
}

/// V2.10.4 / V2.5.4 (5.0 V13.3.1, V6.3.2): secrets are long enough, and production does
/// not start without the session key.
#[test]
fn v2_10_4_short_or_missing_secrets_are_refused() {
    let mut env = test_env();
    env.insert("ROOMGATE_ENV".into(), "production".into());
    env.insert("ROOMGATE__SSO__SECRET".into(), "tiny-sso-value".into());
    env.insert("ROOMGATE__ADMIN__TOKEN".into(), "tiny-admin-value".into());
    let problems = load_settings(&env).err().unwrap().0.join("\n");
    for key in [
        "session.key: required in production",
        "sso.secret: must be at least 32 bytes",
        "admin.token: must be at least 32 bytes",
    ] {
        assert!(problems.contains(key), "{key} in:\n{problems}");
    }
    for secret in ["tiny-sso-value", "tiny-admin-value"] {
        assert!(
            !problems.contains(secret),
            "the values themselves are never echoed"
        );
    }
}

/// V14.5.4 (5.0 V4.1.3): links never come from the Host or X-Forwarded-Host headers.
#[tokio::test]
async fn v14_5_4_links_ignore_host_headers() {
    let app = spawn_app_with(|e| {
        e.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
    })
    .await;
    let res = app
        .client
        .get(app.url(&format!("/admin/api/rooms/{L}/links")))
        .bearer_auth(ADMIN)
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .send()
        .await
        .unwrap();
    let body = res.text().await.unwrap();
    assert!(
        body.contains("http://rooms.test/room/123-123-123"),
        "{body}"
    );
    assert!(!body.contains("evil.example"), "{body}");
}

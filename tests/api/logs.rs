//! The log: one line per vendor call and per request, and never a secret or token.

use serde_json::json;
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path},
};

use crate::fake_vendor::{CLIENT_SECRET, Vendor, spawn_api_app, widget};
use crate::helpers::{H, L, spawn_app};

#[tokio::test]
async fn logs_carry_calls_and_requests_but_no_secret() {
    let vendor = Vendor::start().await;
    vendor.login("JWT-SECRET-VALUE", 3600, 1).await;
    vendor.list(&[(7, "555-555-555")], 1).await;
    vendor
        .detail(7, widget(7, "555-555-555", "Logged"), 1)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"id": 1}})))
        .mount(&vendor.server)
        .await;
    let api_app = spawn_api_app(&vendor, |_| {}).await;
    assert_eq!(
        api_app
            .get("/room/555-555-555/Host7?_personal_token=PersonalSecret1&_nickname=Ada")
            .await
            .status(),
        200
    );

    let app = spawn_app().await;
    app.get(&format!(
        "/room/{L}/{H}?_personal_token=PersonalSecret2&_email=ada%40example.com"
    ))
    .await;
    app.get(&format!("/room/{L}/WrongGuess99")).await;

    let logs = format!("{}{}", api_app.logs(), app.logs());
    assert!(
        logs.contains("\"message\":\"vendor call\""),
        "vendor calls are logged"
    );
    assert!(logs.contains("\"path\":\"widgets/7\""), "with their path");
    assert!(logs.contains("\"elapsed_ms\""), "and duration");
    assert!(logs.contains("request finished"), "every request is logged");
    assert!(
        logs.contains("/room/123-123-123/[redacted]"),
        "role hashes are redacted"
    );
    for secret in [
        CLIENT_SECRET,
        "JWT-SECRET-VALUE",
        "Host7",
        H,
        "WrongGuess99",
        "PersonalSecret1",
        "PersonalSecret2",
        "ada@example.com",
    ] {
        assert!(!logs.contains(secret), "{secret:?} appears in the log");
    }
}

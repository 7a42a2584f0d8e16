//! Signing in to the vendor: headers, form encoding, renewal, 401 handling, backoff.

use std::time::Duration;

use roomgate::vendor::{Api, build_api};
use serde_json::json;
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{body_string, header, method, path},
};

use crate::fake_vendor::{ACCEPT, CLIENT_ID, Vendor, api_env, spawn_api_app};
use crate::helpers::{HandClock, app_clock, hand_clock, load_settings};

async fn api_for(
    vendor: &Vendor,
    tweak: impl FnOnce(&mut std::collections::HashMap<String, String>),
) -> Api {
    api_at(vendor, &hand_clock(), tweak).await
}

/// The signed-in API client telling time by `clock`.
async fn api_at(
    vendor: &Vendor,
    clock: &HandClock,
    tweak: impl FnOnce(&mut std::collections::HashMap<String, String>),
) -> Api {
    let mut env = crate::helpers::test_env();
    env.extend(api_env(vendor));
    tweak(&mut env);
    build_api(&load_settings(&env).unwrap(), app_clock(clock))
        .await
        .unwrap()
}

fn advance(clock: &HandClock, by: chrono::Duration) {
    *clock.lock().unwrap() += by;
}

async fn me_answers(vendor: &Vendor, token: &str, times: u64) {
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .and(header("accept", ACCEPT))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"data": {"id": 42, "email": "ops@example.com", "extra": true}}),
            ),
        )
        .expect(times)
        .mount(&vendor.server)
        .await;
}

#[tokio::test]
async fn login_sends_the_vendor_headers_and_a_properly_encoded_form() {
    let vendor = Vendor::start().await;
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .and(header("accept", ACCEPT))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(header("identifier", "my-deployment"))
        .and(body_string(format!(
            "client_id={CLIENT_ID}&client_secret=s3cret%26%3D%2B+%C5%BC%C3%B3%C5%82w&identifier=my-deployment"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"token": "JWT", "expires_in": 3600})))
        .expect(1)
        .mount(&vendor.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .and(header("identifier", "my-deployment"))
        .and(header("authorization", "Bearer JWT"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"id": 1, "email": "a@b.c"}})),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    let api = api_for(&vendor, |e| {
        e.insert("ROOMGATE__API__IDENTIFIER".into(), "my-deployment".into());
        e.insert(
            "ROOMGATE__API__SEND_IDENTIFIER_HEADER".into(),
            "true".into(),
        );
    })
    .await;
    assert_eq!(api.me().await.unwrap().email.as_deref(), Some("a@b.c"));
}

#[tokio::test]
async fn the_identifier_header_is_off_by_default() {
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 1).await;
    me_answers(&vendor, "JWT", 1).await;
    let api = api_for(&vendor, |_| {}).await;
    api.me().await.unwrap();
    let requests = vendor.server.received_requests().await.unwrap();
    assert!(
        requests
            .iter()
            .all(|r| !r.headers.contains_key("identifier"))
    );
}

#[tokio::test]
async fn one_login_serves_many_calls_and_concurrent_callers_share_it() {
    let vendor = Vendor::start().await;
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"token": "JWT", "expires_in": 3600}))
                .set_delay(Duration::from_millis(200)),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    me_answers(&vendor, "JWT", 50).await;
    let api = api_for(&vendor, |_| {}).await;
    let calls = (0..50).map(|_| {
        let api = api.clone();
        tokio::spawn(async move { api.me().await.is_ok() })
    });
    let results = futures_util::future::join_all(calls).await;
    assert!(results.into_iter().all(|r| r.unwrap()));
}

#[tokio::test]
async fn the_token_is_renewed_before_it_runs_out() {
    let vendor = Vendor::start().await;
    // Valid for an hour, renewed 10 minutes before the end.
    vendor.login("JWT", 3600, 2).await;
    me_answers(&vendor, "JWT", 4).await;
    let clock = hand_clock();
    let api = api_at(&vendor, &clock, |e| {
        e.insert("ROOMGATE__API__REFRESH_SKEW_SECS".into(), "600".into());
    })
    .await;
    api.me().await.unwrap();
    advance(&clock, chrono::Duration::seconds(2999));
    api.me().await.unwrap();
    assert_eq!(
        vendor.calls_to("/api/auth/login").await,
        1,
        "still in use 601 s before the end"
    );
    advance(&clock, chrono::Duration::seconds(1));
    api.me().await.unwrap();
    assert_eq!(
        vendor.calls_to("/api/auth/login").await,
        2,
        "renewed 600 s before the end"
    );
    api.me().await.unwrap();
}

#[tokio::test]
async fn a_401_logs_in_once_more_and_retries_the_call_once() {
    let vendor = Vendor::start().await;
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"token": "OLD", "expires_in": 3600})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&vendor.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"accessToken": {"access_token": "NEW", "expires_in": 3600}})),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .and(header("authorization", "Bearer OLD"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"message": "Token revoked"}})),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    me_answers(&vendor, "NEW", 2).await;
    let api = api_for(&vendor, |_| {}).await;
    api.me().await.unwrap();
    api.me().await.unwrap();
}

#[tokio::test]
async fn a_call_still_refused_after_the_retry_is_not_retried_again() {
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 2).await;
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"error": {"message": "No access"}})),
        )
        .expect(2)
        .mount(&vendor.server)
        .await;
    let api = api_for(&vendor, |_| {}).await;
    let err = api.me().await.unwrap_err();
    assert!(err.to_string().contains("No access"), "{err}");
}

#[tokio::test]
async fn repeated_login_failures_back_off_doubling_the_pause_each_time() {
    let vendor = Vendor::start().await;
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"message": "Invalid client credentials"}})),
        )
        .expect(4)
        .mount(&vendor.server)
        .await;
    let clock = hand_clock();
    let api = api_at(&vendor, &clock, |_| {}).await;
    // (seconds since the first attempt, login attempts made by then): the pause after
    // failure n is 2^(n-1) seconds, so attempts come at 0, 1, 3 and 7 s.
    for (second, expected) in [(0, 1), (1, 2), (2, 2), (3, 3), (6, 3), (7, 4)] {
        *clock.lock().unwrap() = crate::helpers::test_now() + chrono::Duration::seconds(second);
        for _ in 0..5 {
            assert!(api.me().await.is_err());
        }
        assert_eq!(
            vendor.calls_to("/api/auth/login").await,
            expected,
            "login attempts by {second} s"
        );
    }
}

#[tokio::test]
async fn h7_readyz_gives_a_fixed_reason_code_and_the_vendors_words_go_only_to_the_log() {
    let vendor = Vendor::start().await;
    let vendor_words = "Invalid client secret for client internal-id 42 at db10.corp.local";
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"error": {"message": vendor_words}})),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    let app = spawn_api_app(&vendor, |_| {}).await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body = res.text().await.unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        json!({"ready": false, "reason": "vendor_sign_in_failed"})
    );
    assert!(
        !body.contains("db10") && !body.contains("internal-id"),
        "{body}"
    );
    assert!(
        app.logs().contains(vendor_words),
        "the log has the vendor's words"
    );
    assert!(
        !app.logs().contains(crate::fake_vendor::CLIENT_SECRET),
        "no secret in the log"
    );
    assert_eq!(app.get("/room/555-555-555").await.status(), 503);
}

//! The 503 page and `/readyz` against a failing (wiremock) vendor, and the 500 page
//! through a room source of the test's own that panics (nothing else can make one).

use std::sync::Arc;

use roomgate::{
    domain::Readiness,
    rooms::{Lookup, RoomSource, Unavailable},
};
use serde_json::json;
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path},
};

use crate::fake_vendor::{Vendor, spawn_api_app};
use crate::helpers::{L, hand_clock, spawn_app_with_source};

struct PanickingSource;

#[async_trait::async_trait]
impl RoomSource for PanickingSource {
    async fn lookup(&self, _: &str) -> Result<Lookup, Unavailable> {
        panic!("bug-detail-456")
    }
    async fn readiness(&self) -> Readiness {
        Readiness::Ready
    }
}

#[tokio::test]
async fn a_failing_vendor_answers_503_with_retry_after_and_no_detail() {
    let vendor = Vendor::start().await;
    vendor.login("JWT-503", 3600, 1).await;
    Mock::given(method("GET"))
        .and(path("/api/widgets"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"message": "vendor said secret-detail-123"}})),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    let app = spawn_api_app(&vendor, |_| {}).await;
    let res = app.get(&format!("/room/{L}")).await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "30");
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    let html = res.text().await.unwrap();
    assert!(html.contains("Temporarily unavailable"));
    assert!(!html.contains("secret-detail-123"), "no cause on the page");
}

#[tokio::test]
async fn readyz_reports_a_vendor_that_refuses_the_sign_in_and_healthz_calls_nothing() {
    let vendor = Vendor::start().await;
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"message": "vendor login failing"}})),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    let app = spawn_api_app(&vendor, |_| {}).await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["reason"], "vendor_sign_in_failed", "{body}");
    assert!(
        app.logs().contains("vendor login failing"),
        "the vendor's words are in the log"
    );
    let calls = vendor.server.received_requests().await.unwrap().len();
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(
        vendor.server.received_requests().await.unwrap().len(),
        calls,
        "healthz calls nothing upstream"
    );
}

#[tokio::test]
async fn a_panic_becomes_the_opaque_500_page_and_the_server_keeps_serving() {
    let app = spawn_app_with_source(Arc::new(PanickingSource), hand_clock()).await;
    for _ in 0..3 {
        let res = app.get(&format!("/room/{L}")).await;
        assert_eq!(res.status(), 500);
        assert!(res.headers().get("content-security-policy").is_some());
        let html = res.text().await.unwrap();
        assert!(html.contains("Something went wrong"));
        assert!(!html.contains("bug-detail-456"));
    }
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn malformed_keys_never_reach_the_source() {
    // The panicking source proves it: a lookup would answer 500.
    let app = spawn_app_with_source(Arc::new(PanickingSource), hand_clock()).await;
    assert_eq!(app.get("/room/not-a-key").await.status(), 404);
    assert_eq!(app.get(&format!("/room/{L}/bad.hash")).await.status(), 404);
}

//! The 503 and 500 pages, reached through room sources of the test's own.

use std::sync::Arc;

use roomgate::rooms::{Lookup, Readiness, RoomSource, Unavailable};

use crate::helpers::{L, real_clock, spawn_app_with_source};

struct DownSource;

#[async_trait::async_trait]
impl RoomSource for DownSource {
    async fn lookup(&self, _: &str) -> Result<Lookup, Unavailable> {
        Err(Unavailable {
            reason: "vendor said secret-detail-123".into(),
        })
    }
    async fn readiness(&self) -> Readiness {
        Readiness::NotReady("vendor login failing".into())
    }
}

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
async fn an_unavailable_source_answers_503_with_retry_after() {
    let app = spawn_app_with_source(Arc::new(DownSource), real_clock()).await;
    let res = app.get(&format!("/room/{L}")).await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "30");
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    let html = res.text().await.unwrap();
    assert!(html.contains("Temporarily unavailable"));
    assert!(!html.contains("secret-detail-123"), "no cause on the page");
}

#[tokio::test]
async fn readyz_reports_a_source_that_is_not_ready() {
    let app = spawn_app_with_source(Arc::new(DownSource), real_clock()).await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["reason"], "vendor login failing");
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "healthz calls nothing upstream"
    );
}

#[tokio::test]
async fn a_panic_becomes_the_opaque_500_page_and_the_server_keeps_serving() {
    let app = spawn_app_with_source(Arc::new(PanickingSource), real_clock()).await;
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
    let app = spawn_app_with_source(Arc::new(PanickingSource), real_clock()).await;
    assert_eq!(app.get("/room/not-a-key").await.status(), 404);
    assert_eq!(app.get(&format!("/room/{L}/bad.hash")).await.status(), 404);
}

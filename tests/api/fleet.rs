//! Fleet mode (`shared.backend = "redis"`): the settings it needs and what `/readyz`
//! says of the shared Redis. The shared state itself is tested in `fleet_*.rs`.

use crate::helpers::{load_settings, test_env};
use crate::redis_server::{RedisServer, spawn_fleet};

#[test]
fn fleet_mode_needs_a_redis_url_and_a_long_key_and_never_echoes_them() {
    let mut env = test_env();
    env.insert("ROOMGATE__SHARED__BACKEND".into(), "redis".into());
    let lines = load_settings(&env).unwrap_err().0.join("\n");
    assert!(lines.contains("shared.redis_url: needed"), "{lines}");
    assert!(lines.contains("shared.key: needed"), "{lines}");

    env.insert(
        "ROOMGATE__SHARED__REDIS_URL".into(),
        "http://:hunter2-secret@redis.internal:6379".into(),
    );
    env.insert("ROOMGATE__SHARED__KEY".into(), "short-secret-key".into());
    let lines = load_settings(&env).unwrap_err().0.join("\n");
    assert!(
        lines.contains("must be a redis:// or rediss:// URL"),
        "{lines}"
    );
    assert!(lines.contains("at least 32 bytes"), "{lines}");
    assert!(
        !lines.contains("hunter2") && !lines.contains("short-secret-key"),
        "no secret in the error lines: {lines}"
    );

    env.insert(
        "ROOMGATE__SHARED__REDIS_URL".into(),
        "rediss://:pw@redis.internal:6380/2".into(),
    );
    env.insert("ROOMGATE__SHARED__KEY".into(), "k".repeat(32));
    let settings = load_settings(&env).expect("a rediss URL and a 32-byte key are enough");
    assert_eq!(settings.shared.prefix, "roomgate:", "the default prefix");

    env.insert("ROOMGATE__SHARED__PREFIX".into(), "has space:".into());
    let lines = load_settings(&env).unwrap_err().0.join("\n");
    assert!(lines.contains("shared.prefix"), "{lines}");
}

#[tokio::test]
async fn readyz_says_whether_the_shared_redis_answers_and_stays_ready_without_it() {
    let mut redis = RedisServer::start().await;
    let apps = spawn_fleet(&redis, 1, |_| {}).await;
    let app = &apps[0];

    let body: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(body["ready"], true);
    assert_eq!(body["shared"], "up");

    redis.kill();
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200, "still serving what it holds");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["shared"], "degraded");
    let (status, _) = app.get_html(&format!("/room/{}", crate::helpers::L)).await;
    assert_eq!(status, 200, "pages do not need Redis");

    redis.restart().await;
    // The link retries after its short pause; readiness follows.
    let mut shared = String::new();
    for _ in 0..40 {
        let body: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
        shared = body["shared"].as_str().unwrap_or_default().to_owned();
        if shared == "up" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(shared, "up", "back once Redis is");
}

#[tokio::test]
async fn a_local_instance_says_nothing_of_shared_state() {
    let app = crate::helpers::spawn_app().await;
    let body: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(body["ready"], true);
    assert!(body.get("shared").is_none(), "{body}");
}

#[tokio::test]
async fn a_frozen_redis_costs_readyz_a_bounded_wait_and_pages_nothing() {
    let redis = RedisServer::start().await;
    let apps = spawn_fleet(&redis, 1, |_| {}).await;
    let app = &apps[0];
    let mut check = redis.connection().await;
    let pong: String = redis::cmd("PING").query_async(&mut check).await.unwrap();
    assert_eq!(pong, "PONG");
    assert_eq!(app.get("/readyz").await.status(), 200);

    redis.pause();
    let started = std::time::Instant::now();
    let body: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(body["shared"], "degraded");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "the Redis timeout bounds the wait: {:?}",
        started.elapsed()
    );
    let (status, _) = app.get_html(&format!("/room/{}", crate::helpers::L)).await;
    assert_eq!(status, 200);
    redis.resume();
}

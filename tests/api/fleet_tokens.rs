//! Fleet mode, item 2 of issue 13: the vendor token shared by every instance through one
//! sealed record in a real Redis. A connection made on one instance serves all; a token
//! that ran out is refreshed once for the fleet, under the record's lock, even when the
//! lock holder dies; nothing is refreshed without the lock while Redis is down.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use roomgate::vendor::build_api;
use serde_json::{Value, json};
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{header, method, path},
};

use crate::fake_vendor::{Vendor, api_env, widget};
use crate::helpers::{HandClock, TestApp, app_clock, hand_clock, load_settings, test_env};
use crate::oauth::{ADMIN, connect_as_operator, exchange_answers, refresh_answers, state_of};
use crate::redis_server::{RedisServer, fleet_env, spawn_fleet};

/// Where the fleet keeps the token (the default prefix, then the record's name).
const RECORD: &str = "roomgate:vendor:token";
/// One hour, the lifetime of every token the fake vendor hands out here.
const LIFETIME: i64 = 3600;

/// The settings of an instance in OAuth mode against `vendor`.
fn oauth_env(vendor: &Vendor) -> HashMap<String, String> {
    let mut env = api_env(vendor);
    env.insert("ROOMGATE__API__AUTH".into(), "oauth".into());
    env.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
    env
}

async fn oauth_fleet(redis: &RedisServer, vendor: &Vendor, n: usize) -> Vec<TestApp> {
    let env = oauth_env(vendor);
    spawn_fleet(redis, n, move |e| e.extend(env.clone())).await
}

/// The room key of vendor room `id`.
fn key(id: u64) -> String {
    format!("700-000-{id:03}")
}

/// Connects the vendor account on `app`, as the operator would: the vendor hands out
/// `access` and `refresh` for an hour.
async fn connect(app: &TestApp, vendor: &Vendor, access: &str, refresh: &str) {
    let code = format!("CODE-{access}");
    exchange_answers(
        vendor,
        &code,
        json!({"access_token": access, "refresh_token": refresh, "expires_in": LIFETIME}),
        1,
    )
    .await;
    let res = connect_as_operator(&app.client, app).await;
    let state = state_of(&res);
    let (status, html) = app
        .get_html(&format!("/oauth/callback?code={code}&state={state}"))
        .await;
    assert_eq!(status, 200, "{html}");
}

/// `GET widgets` lists `ids`, whatever the token.
async fn listing(vendor: &Vendor, ids: &[u64]) {
    let rooms: Vec<(u64, String)> = ids.iter().map(|id| (*id, key(*id))).collect();
    let rooms: Vec<(u64, &str)> = rooms.iter().map(|(id, k)| (*id, k.as_str())).collect();
    vendor.list(&rooms, 1..).await;
}

/// `GET widgets/{id}` answers `status` to `token` (any token when `None`).
async fn detail(
    vendor: &Vendor,
    id: u64,
    token: Option<&str>,
    status: u16,
    times: impl Into<wiremock::Times>,
) {
    let mut mock = Mock::given(method("GET")).and(path(format!("/api/widgets/{id}")));
    if let Some(token) = token {
        mock = mock.and(header("authorization", format!("Bearer {token}").as_str()));
    }
    let body: Value = if status == 200 {
        json!({"data": widget(id, &key(id), &format!("Room {id}"))})
    } else {
        json!({"error": {"message": "Unauthenticated."}})
    };
    mock.respond_with(ResponseTemplate::new(status).set_body_json(body))
        .expect(times)
        .mount(&vendor.server)
        .await;
}

/// The refresh of `refresh` answers `access`/`next` after `delay`.
fn refreshed(access: &str, next: &str, delay: Duration) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(
            json!({"access_token": access, "refresh_token": next, "expires_in": LIFETIME}),
        )
        .set_delay(delay)
}

async fn readyz(app: &TestApp) -> (u16, Value) {
    let res = app.get("/readyz").await;
    (res.status().as_u16(), res.json().await.unwrap())
}

fn past_expiry(apps: &[TestApp]) {
    for app in apps {
        app.advance(chrono::Duration::seconds(LIFETIME + 1));
    }
}

/// No app logged a token of `tokens`.
fn no_token_in_logs(apps: &[TestApp], tokens: &[&str]) {
    for app in apps {
        let logs = app.logs();
        for token in tokens {
            assert!(!logs.contains(token), "{token} logged");
        }
    }
}

#[tokio::test]
async fn a_connection_made_on_one_instance_makes_every_instance_ready_within_a_second() {
    let redis = RedisServer::start().await;
    let vendor = Vendor::start().await;
    let apps = oauth_fleet(&redis, &vendor, 3).await;
    for app in &apps {
        let (status, body) = readyz(app).await;
        assert_eq!(
            (status, body["reason"].as_str()),
            (503, Some("not_connected"))
        );
    }
    refresh_answers(&vendor, "RT-C1", refreshed("x", "y", Duration::ZERO), 0).await;

    connect(&apps[0], &vendor, "AT-C1", "RT-C1").await;
    let connected = Instant::now();
    for app in &apps[1..] {
        loop {
            let (status, body) = readyz(app).await;
            if status == 200 {
                assert_eq!(body["shared"], "up");
                break;
            }
            assert!(
                connected.elapsed() < Duration::from_secs(1),
                "not ready a second after the connection: {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // And each serves rooms with the connected token.
    listing(&vendor, &[1, 2, 3]).await;
    for (i, app) in apps.iter().enumerate() {
        let id = i as u64 + 1;
        detail(&vendor, id, Some("AT-C1"), 200, 1).await;
        let (status, _) = app.get_html(&format!("/room/{}", key(id))).await;
        assert_eq!(status, 200);
    }
    vendor.server.verify().await;
    no_token_in_logs(&apps, &["AT-C1", "RT-C1"]);
}

#[tokio::test]
async fn a_hundred_requests_on_an_expired_token_across_three_instances_refresh_it_once() {
    let redis = RedisServer::start().await;
    let vendor = Vendor::start().await;
    let apps = oauth_fleet(&redis, &vendor, 3).await;
    connect(&apps[0], &vendor, "AT-H1", "RT-H1").await;
    let ids: Vec<u64> = (1..=101).collect();
    listing(&vendor, &ids).await;
    // Each instance serves a room with the first token; its details may come from the
    // fleet's shared copy (fleet_copies.rs), so one to three detail calls.
    detail(&vendor, 101, Some("AT-H1"), 200, 1..=3).await;
    for app in &apps {
        assert_eq!(app.get_html(&format!("/room/{}", key(101))).await.0, 200);
    }

    past_expiry(&apps);
    // Slow, so that every instance finds the token due while the refresh is under way.
    refresh_answers(
        &vendor,
        "RT-H1",
        refreshed("AT-H2", "RT-H2", Duration::from_millis(300)),
        1,
    )
    .await;
    for id in 1..=100 {
        detail(&vendor, id, Some("AT-H2"), 200, 1).await;
    }
    let requests = (1..=100_u64).map(|id| {
        let app = &apps[id as usize % 3];
        async move { app.get(&format!("/room/{}", key(id))).await.status() }
    });
    let statuses = futures_util::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(vendor.calls_to("/api/oauth/access_token/refresh").await, 1);
    vendor.server.verify().await;
    no_token_in_logs(&apps, &["AT-H1", "RT-H1", "AT-H2", "RT-H2"]);
}

#[tokio::test]
async fn a_401_for_a_token_another_instance_already_replaced_refreshes_nothing() {
    let redis = RedisServer::start().await;
    let vendor = Vendor::start().await;
    let apps = oauth_fleet(&redis, &vendor, 2).await;
    connect(&apps[0], &vendor, "AT-O1", "RT-O1").await;
    listing(&vendor, &[1, 2, 3]).await;
    detail(&vendor, 1, Some("AT-O1"), 200, 1).await;
    assert_eq!(apps[1].get_html(&format!("/room/{}", key(1))).await.0, 200);

    // The first instance finds the token run out and refreshes it for the fleet.
    refresh_answers(
        &vendor,
        "RT-O1",
        refreshed("AT-O2", "RT-O2", Duration::ZERO),
        1,
    )
    .await;
    apps[0].advance(chrono::Duration::seconds(LIFETIME + 1));
    detail(&vendor, 2, Some("AT-O2"), 200, 1).await;
    assert_eq!(apps[0].get_html(&format!("/room/{}", key(2))).await.0, 200);

    // The second still holds the old token, which the vendor now refuses.
    detail(&vendor, 3, Some("AT-O1"), 401, 1).await;
    detail(&vendor, 3, Some("AT-O2"), 200, 1).await;
    assert_eq!(apps[1].get_html(&format!("/room/{}", key(3))).await.0, 200);
    vendor.server.verify().await;
}

#[tokio::test]
async fn a_lock_holder_that_dies_mid_refresh_delays_the_next_refresh_which_happens_once() {
    let redis = RedisServer::start().await;
    let vendor = Vendor::start().await;
    let apps = oauth_fleet(&redis, &vendor, 2).await;
    connect(&apps[0], &vendor, "AT-K1", "RT-K1").await;
    listing(&vendor, &[1, 2]).await;

    // The first refresh never answers in time; the next one does.
    Mock::given(method("POST"))
        .and(path("/api/oauth/access_token/refresh"))
        .respond_with(refreshed("AT-LOST", "RT-LOST", Duration::from_secs(30)))
        .up_to_n_times(1)
        .expect(1)
        .mount(&vendor.server)
        .await;
    refresh_answers(
        &vendor,
        "RT-K1",
        refreshed("AT-K2", "RT-K2", Duration::ZERO),
        1,
    )
    .await;

    // A third instance, in a runtime of its own, takes the lock and starts the refresh;
    // then it dies (its runtime stops with every task), holding the lock.
    let mut env = test_env();
    env.extend(oauth_env(&vendor));
    env.extend(fleet_env(&redis));
    let settings = load_settings(&env).unwrap();
    let clock: HandClock = hand_clock();
    *clock.lock().unwrap() += chrono::Duration::seconds(LIFETIME + 1);
    let doomed = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    doomed.spawn(async move {
        let api = build_api(&settings, app_clock(&clock)).await.unwrap();
        let _ = api.me().await;
    });
    let started = Instant::now();
    while vendor.calls_to("/api/oauth/access_token/refresh").await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no refresh began"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    doomed.shutdown_background();
    let mut redis_conn = redis.connection().await;
    let locked: bool = redis::cmd("EXISTS")
        .arg(format!("{RECORD}:lock"))
        .query_async(&mut redis_conn)
        .await
        .unwrap();
    assert!(locked, "the dead holder's lock stays until it runs out");

    past_expiry(&apps);
    detail(&vendor, 1, Some("AT-K2"), 200, 1).await;
    detail(&vendor, 2, Some("AT-K2"), 200, 1).await;
    let waited = Instant::now();
    assert_eq!(apps[1].get_html(&format!("/room/{}", key(1))).await.0, 200);
    assert!(
        waited.elapsed() >= Duration::from_millis(500),
        "waited for the lock: {:?}",
        waited.elapsed()
    );
    assert_eq!(apps[0].get_html(&format!("/room/{}", key(2))).await.0, 200);
    assert_eq!(vendor.calls_to("/api/oauth/access_token/refresh").await, 2);
    vendor.server.verify().await;
}

#[tokio::test]
async fn while_redis_is_down_a_rotating_token_is_not_refreshed_and_seen_rooms_still_answer() {
    let redis = RedisServer::start().await;
    let vendor = Vendor::start().await;
    let apps = oauth_fleet(&redis, &vendor, 2).await;
    connect(&apps[0], &vendor, "AT-D1", "RT-D1").await;
    listing(&vendor, &[1, 2]).await;
    // The second instance may take the room from the fleet's copy.
    detail(&vendor, 1, Some("AT-D1"), 200, 1..=2).await;
    for app in &apps {
        assert_eq!(app.get_html(&format!("/room/{}", key(1))).await.0, 200);
    }
    refresh_answers(
        &vendor,
        "RT-D1",
        refreshed("AT-D2", "RT-D2", Duration::ZERO),
        1,
    )
    .await;
    detail(&vendor, 2, Some("AT-D2"), 200, 1).await;

    redis.pause();
    past_expiry(&apps);
    for app in &apps {
        let (status, _) = app.get_html(&format!("/room/{}", key(1))).await;
        assert_eq!(status, 200, "a seen room answers from the cache");
        let (status, _) = app.get_html(&format!("/room/{}", key(2))).await;
        assert_eq!(status, 503, "a room never seen needs the token");
        let (status, body) = readyz(app).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["shared"], "degraded");
        assert_eq!(body["reason"], "token_refresh_needs_shared_state");
    }
    assert_eq!(
        vendor.calls_to("/api/oauth/access_token/refresh").await,
        0,
        "no refresh without the lock"
    );

    redis.resume();
    // The link waits out its short pause, then the fleet refreshes, once.
    let resumed = Instant::now();
    let mut status = 0;
    // On the instance that listed the rooms itself: the other took room 1 from the
    // fleet's copy, so room 2's key is new to it, and its listing failed during the
    // pause (no token), which holds new keys off for cache.index_min_interval_secs.
    while resumed.elapsed() < Duration::from_secs(5) {
        status = apps[0].get_html(&format!("/room/{}", key(2))).await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status, 200);
    assert_eq!(readyz(&apps[0]).await.1["shared"], "up");
    vendor.server.verify().await;
}

#[tokio::test]
async fn the_record_in_redis_holds_no_token_in_clear() {
    let redis = RedisServer::start().await;
    let vendor = Vendor::start().await;
    let apps = oauth_fleet(&redis, &vendor, 1).await;
    connect(&apps[0], &vendor, "AT-SEALED-7f3a", "RT-SEALED-91c2").await;

    let mut conn = redis.connection().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(keys.contains(&RECORD.to_owned()), "{keys:?}");
    let record: HashMap<String, Vec<u8>> = redis::cmd("HGETALL")
        .arg(RECORD)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(record["gen"], b"1");
    let body = &record["body"];
    assert!(body.len() > 20, "a body is stored");
    for key in &keys {
        let dump: Vec<u8> = redis::cmd("DUMP")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        for secret in ["AT-SEALED", "RT-SEALED", "7f3a", "91c2"] {
            assert!(
                !dump.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} readable in {key}"
            );
        }
    }
    no_token_in_logs(&apps, &["AT-SEALED", "RT-SEALED"]);
}

#[tokio::test]
async fn in_login_mode_the_fleet_logs_in_once_and_shares_the_token() {
    let redis = RedisServer::start().await;
    let vendor = Vendor::start().await;
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"token": "JWT-L1", "expires_in": LIFETIME}))
                .set_delay(Duration::from_millis(200)),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    let env = api_env(&vendor);
    let apps = spawn_fleet(&redis, 3, move |e| e.extend(env.clone())).await;
    let ids: Vec<u64> = (1..=30).collect();
    listing(&vendor, &ids).await;
    for id in &ids {
        detail(&vendor, *id, Some("JWT-L1"), 200, 1).await;
    }
    let requests = ids.iter().map(|id| {
        let app = &apps[*id as usize % 3];
        async move { app.get(&format!("/room/{}", key(*id))).await.status() }
    });
    let statuses = futures_util::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    vendor.server.verify().await;
}

#[tokio::test]
async fn a_401_for_the_current_token_refreshes_it_once_for_the_fleet() {
    let redis = RedisServer::start().await;
    let vendor = Vendor::start().await;
    let apps = oauth_fleet(&redis, &vendor, 3).await;
    connect(&apps[0], &vendor, "AT-R1", "RT-R1").await;
    listing(&vendor, &[1]).await;
    // The vendor revokes the token early: every instance is refused with it.
    detail(&vendor, 1, Some("AT-R1"), 401, 1..=3).await;
    detail(&vendor, 1, Some("AT-R2"), 200, 3).await;
    refresh_answers(
        &vendor,
        "RT-R1",
        refreshed("AT-R2", "RT-R2", Duration::from_millis(200)),
        1,
    )
    .await;
    let requests = apps
        .iter()
        .map(|app| async move { app.get(&format!("/room/{}", key(1))).await.status() });
    let statuses = futures_util::future::join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    vendor.server.verify().await;
}

#[tokio::test]
async fn in_login_mode_an_instance_logs_in_alone_while_redis_is_down() {
    let mut redis = RedisServer::start().await;
    let vendor = Vendor::start().await;
    vendor.login("JWT-ALONE", LIFETIME as u64, 1).await;
    let env = api_env(&vendor);
    let apps = spawn_fleet(&redis, 1, move |e| e.extend(env.clone())).await;
    listing(&vendor, &[1]).await;
    detail(&vendor, 1, Some("JWT-ALONE"), 200, 1).await;
    redis.kill();
    assert_eq!(apps[0].get_html(&format!("/room/{}", key(1))).await.0, 200);
    let (status, body) = readyz(&apps[0]).await;
    assert_eq!((status, &body["shared"]), (200, &json!("degraded")));
    vendor.server.verify().await;
}

#[tokio::test]
async fn after_redis_lost_the_record_an_instance_refreshes_from_its_own_copy_once_for_all() {
    let redis = RedisServer::start().await;
    let vendor = Vendor::start().await;
    let apps = oauth_fleet(&redis, &vendor, 2).await;
    connect(&apps[0], &vendor, "AT-F1", "RT-F1").await;
    listing(&vendor, &[1, 2, 3]).await;
    detail(&vendor, 1, Some("AT-F1"), 200, 1).await;
    assert_eq!(apps[1].get_html(&format!("/room/{}", key(1))).await.0, 200);

    let mut conn = redis.connection().await;
    let _: () = redis::cmd("FLUSHALL").query_async(&mut conn).await.unwrap();
    past_expiry(&apps);
    refresh_answers(
        &vendor,
        "RT-F1",
        refreshed("AT-F2", "RT-F2", Duration::ZERO),
        1,
    )
    .await;
    detail(&vendor, 2, Some("AT-F2"), 200, 1).await;
    detail(&vendor, 3, Some("AT-F2"), 200, 1).await;
    assert_eq!(apps[1].get_html(&format!("/room/{}", key(2))).await.0, 200);
    // The record starts again at generation 1, which the other instance also held: the
    // token, not only the number, tells it the record is newer.
    let generation: u64 = redis::cmd("HGET")
        .arg(RECORD)
        .arg("gen")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(generation, 1);
    assert_eq!(apps[0].get_html(&format!("/room/{}", key(3))).await.0, 200);
    vendor.server.verify().await;
}

//! Hardening (issue: outside security review): tests named after the review's items.

use std::time::Duration;

use serde_json::json;
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path},
};

use crate::fake_vendor::{Vendor, spawn_api_app, widget};
use crate::helpers::{
    H, L, TestApp, load_settings, new_client, raw_request, spawn_app_with, test_env,
};

const ROOM: &str = "555-555-555";
const ADMIN: &str = "hardening-admin-token-0123456789-abcdefgh";
const GUESSER: &str = "198.51.100.23";

/// Sends one request for each of `hashes` on `ROOM`, all at once and all from `client`,
/// and returns their statuses in order.
async fn overlapping(app: &TestApp, hashes: &[String], client: &str) -> Vec<u16> {
    let requests = hashes.iter().map(|hash| {
        let http = new_client();
        let url = app.url(&format!("/room/{ROOM}/{hash}"));
        let client = client.to_owned();
        tokio::spawn(async move {
            http.get(url)
                .header("x-forwarded-for", client)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    });
    futures_util::future::join_all(requests)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

/// An API app whose vendor takes `delay` to describe room 7 (`ROOM`), behind a trusted
/// proxy, allowing `limit` wrong hashes a minute.
async fn slow_vendor_app(vendor: &Vendor, delay: Duration, limit: u32) -> TestApp {
    vendor.login("JWT-1", 3600, 1).await;
    vendor.list(&[(7, ROOM)], 1).await;
    Mock::given(method("GET"))
        .and(path("/api/widgets/7"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": widget(7, ROOM, "Cold")}))
                .set_delay(delay),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    spawn_api_app(vendor, |e| {
        e.insert(
            "ROOMGATE__SERVER__TRUSTED_PROXIES".into(),
            "127.0.0.1".into(),
        );
        e.insert(
            "ROOMGATE__SECURITY__ROLE_GUESS_LIMIT".into(),
            limit.to_string(),
        );
        e.insert("ROOMGATE__API__TIMEOUT_MS".into(), "10000".into());
    })
    .await
}

#[tokio::test]
async fn h1_overlapping_wrong_hashes_on_a_cold_room_never_exceed_the_limit() {
    let vendor = Vendor::start().await;
    let app = slow_vendor_app(&vendor, Duration::from_secs(2), 10).await;

    let hashes: Vec<String> = (0..60).map(|i| format!("Wrong{i}")).collect();
    let statuses = overlapping(&app, &hashes, GUESSER).await;
    let wrong_hash_answers = statuses.iter().filter(|s| **s == 404).count();
    assert_eq!(
        wrong_hash_answers, 10,
        "at most role_guess_limit wrong-hash answers: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 404 || *s == 429),
        "{statuses:?}"
    );

    let right = format!("/room/{ROOM}/Host7");
    assert_eq!(app.get_from(&right, GUESSER).await.status(), 429);
    assert_eq!(
        app.get_from(&right, "198.51.100.24").await.status(),
        200,
        "other clients are unaffected"
    );
}

#[tokio::test]
async fn h1_overlapping_right_hashes_give_their_attempts_back() {
    let vendor = Vendor::start().await;
    let app = slow_vendor_app(&vendor, Duration::from_millis(500), 3).await;

    // Three right hashes in flight at once use the whole budget while the room is cold...
    let right = vec!["Host7".to_owned(); 3];
    assert_eq!(overlapping(&app, &right, GUESSER).await, [200, 200, 200]);
    // ...and hand it back once they turn out right.
    for i in 0..3 {
        let res = app
            .get_from(&format!("/room/{ROOM}/Wrong{i}"), GUESSER)
            .await;
        assert_eq!(res.status(), 404, "wrong hash {i}");
    }
    let res = app.get_from(&format!("/room/{ROOM}/Wrong3"), GUESSER).await;
    assert_eq!(res.status(), 429);
}

/// A well-formed room key that no vendor room has.
fn random_key(i: u32) -> String {
    format!(
        "{:03}-{:03}-{:03}",
        (i * 37 + 1) % 1000,
        (i * 7) % 1000,
        (i * 13) % 1000
    )
}

#[tokio::test]
async fn h2_a_flood_of_unknown_keys_never_evicts_a_room_that_was_found() {
    let vendor = Vendor::start().await;
    vendor.login("JWT-1", 3600, 1).await;
    vendor.list(&[(7, ROOM)], 1..).await;
    vendor.detail(7, widget(7, ROOM, "Real"), 1).await;
    let app = spawn_api_app(&vendor, |e| {
        e.insert("ROOMGATE__CACHE__CAPACITY".into(), "50".into());
        e.insert(
            "ROOMGATE__CACHE__INDEX_MIN_INTERVAL_SECS".into(),
            "60".into(),
        );
    })
    .await;
    assert_eq!(app.get(&format!("/room/{ROOM}")).await.status(), 200);

    // 900 requests for 300 keys, a few at a time, each key asked three times.
    let paths: Vec<String> = (0..900u32)
        .map(|i| format!("/room/{}", random_key(i % 300)))
        .collect();
    for chunk in paths.chunks(8) {
        let answers = chunk.iter().map(|p| app.get(p));
        for res in futures_util::future::join_all(answers).await {
            assert_eq!(res.status(), 404, "{}", res.url());
        }
    }

    let (status, html) = app.get_html(&format!("/room/{ROOM}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Real"));
    assert_eq!(
        vendor.calls_to("/api/widgets/7").await,
        1,
        "the room stayed cached: its next view did not ask the vendor"
    );
}

#[test]
fn h2_the_negative_cache_settings_are_checked_at_start_up() {
    for (key, bad) in [
        ("ROOMGATE__CACHE__NEGATIVE_CAPACITY", "0"),
        ("ROOMGATE__CACHE__NEGATIVE_TTL_SECS", "100000000000"),
    ] {
        let mut env = test_env();
        env.insert(key.into(), bad.into());
        let err = load_settings(&env).expect_err(key);
        let setting = key.trim_start_matches("ROOMGATE__").replace("__", ".");
        assert!(
            err.to_string().contains(&setting.to_lowercase()),
            "{key}={bad}: {err}"
        );
    }
}

async fn admin_app() -> TestApp {
    spawn_app_with(|e| {
        e.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
    })
    .await
}

#[tokio::test]
async fn h13_an_unauthenticated_large_post_is_401_before_its_body_is_read() {
    let app = admin_app().await;
    // Only the head: a server that waits for the body before looking at the token would
    // answer 413 (from the length alone) or not at all.
    let head = "POST /admin/api/rooms HTTP/1.1\r\nHost: rooms.test\r\n\
                Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n";
    let status = raw_request(&app.address, head.as_bytes()).await;
    assert!(status.starts_with("HTTP/1.1 401"), "{status}");

    // The same with the whole megabyte sent.
    let res = app
        .client
        .post(app.url("/admin/api/rooms"))
        .header("content-type", "application/json")
        .body(vec![b' '; 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn h13_a_body_left_unread_is_never_taken_for_a_next_request() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = admin_app().await;
    // The refused request's body is itself a request: answering it would let a client
    // smuggle requests past whatever checked the first one.
    let inner = "GET /healthz HTTP/1.1\r\nHost: rooms.test\r\n\r\n";
    let framings = [
        format!("Content-Length: {}\r\n\r\n{inner}", inner.len()),
        format!(
            "Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{inner}\r\n0\r\n\r\n",
            inner.len()
        ),
    ];
    for framing in framings {
        let request = format!(
            "POST /admin/api/rooms HTTP/1.1\r\nHost: rooms.test\r\n\
             Content-Type: application/json\r\n{framing}"
        );
        let address = app.address.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        // The server may keep the connection open after its one answer.
        let _ = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut answer)).await;
        let answer = String::from_utf8_lossy(&answer);
        let statuses: Vec<&str> = answer
            .lines()
            .filter(|l| l.starts_with("HTTP/1.1 "))
            .collect();
        assert_eq!(statuses, ["HTTP/1.1 401 Unauthorized"], "{framing:?}");
    }
}

#[tokio::test]
async fn h13_an_authenticated_oversized_body_is_still_413() {
    let app = admin_app().await;
    let res = app
        .client
        .post(app.url("/admin/api/rooms"))
        .bearer_auth(ADMIN)
        .header("content-type", "application/json")
        .body(vec![b' '; 128 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["error"]["message"].is_string(), "{body}");
}

#[tokio::test]
async fn h13_the_bearer_scheme_is_case_insensitive() {
    let app = admin_app().await;
    for scheme in ["bearer", "BEARER", "bEaReR", "Bearer "] {
        let res = app
            .client
            .get(app.url("/admin/api/rooms"))
            .header("authorization", format!("{scheme} {ADMIN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "scheme `{scheme}`");
    }
    let res = app
        .client
        .get(app.url("/admin/api/rooms"))
        .header("authorization", format!("Bearer{ADMIN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "the scheme and the token need a space");
}

async fn guessing_app(prefix_len: Option<&str>) -> TestApp {
    let prefix_len = prefix_len.map(str::to_owned);
    spawn_app_with(move |e| {
        e.insert(
            "ROOMGATE__SERVER__TRUSTED_PROXIES".into(),
            "127.0.0.1".into(),
        );
        e.insert("ROOMGATE__SECURITY__ROLE_GUESS_LIMIT".into(), "3".into());
        if let Some(len) = prefix_len {
            e.insert("ROOMGATE__SECURITY__IPV6_PREFIX_LEN".into(), len);
        }
    })
    .await
}

#[tokio::test]
async fn h14_ipv6_clients_share_one_budget_per_64() {
    let app = guessing_app(None).await;
    for i in 1..=3 {
        let res = app
            .get_from(
                &format!("/room/{L}/Guess{i}"),
                &format!("2001:db8:7:1::{i:x}"),
            )
            .await;
        assert_eq!(res.status(), 404, "guess {i}");
    }
    let same_64 = "2001:db8:7:1:ffff:ffff:ffff:fffe";
    assert_eq!(
        app.get_from(&format!("/room/{L}/{H}"), same_64)
            .await
            .status(),
        429,
        "a new address in the same /64 is the same client"
    );
    assert_eq!(
        app.get_from(&format!("/room/{L}/{H}"), "2001:db8:7:2::1")
            .await
            .status(),
        200,
        "the next /64 is another client"
    );
}

#[tokio::test]
async fn h14_the_ipv6_prefix_is_configurable() {
    let app = guessing_app(Some("48")).await;
    for i in 1..=3 {
        let res = app
            .get_from(
                &format!("/room/{L}/Guess{i}"),
                &format!("2001:db8:7:{i:x}::1"),
            )
            .await;
        assert_eq!(res.status(), 404, "guess {i}");
    }
    assert_eq!(
        app.get_from(&format!("/room/{L}/{H}"), "2001:db8:7:ff::1")
            .await
            .status(),
        429,
        "with a /48, the whole /48 is one client"
    );
}

#[tokio::test]
async fn h14_ipv4_mapped_ipv6_addresses_count_as_ipv4() {
    let app = guessing_app(None).await;
    for i in 1..=3 {
        let res = app
            .get_from(&format!("/room/{L}/Guess{i}"), "::ffff:198.51.100.77")
            .await;
        assert_eq!(res.status(), 404, "guess {i}");
    }
    assert_eq!(
        app.get_from(&format!("/room/{L}/{H}"), "198.51.100.77")
            .await
            .status(),
        429,
        "::ffff:198.51.100.77 and 198.51.100.77 are one client"
    );
    assert_eq!(
        app.get_from(&format!("/room/{L}/{H}"), "198.51.100.78")
            .await
            .status(),
        200,
        "a mapped address is not a /64: its IPv4 neighbours are other clients"
    );
}

#[test]
fn h14_a_bad_ipv6_prefix_length_stops_the_start() {
    for bad in ["0", "16", "129", "abc"] {
        let mut env = test_env();
        env.insert("ROOMGATE__SECURITY__IPV6_PREFIX_LEN".into(), bad.into());
        let err = load_settings(&env).expect_err(bad);
        assert!(
            err.to_string().contains("security.ipv6_prefix_len"),
            "{bad}: {err}"
        );
    }
    let mut env = test_env();
    env.insert("ROOMGATE__SECURITY__IPV6_PREFIX_LEN".into(), "128".into());
    assert!(load_settings(&env).is_ok());
}

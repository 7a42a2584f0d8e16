//! `rooms.source = "api"`: the pages served from the vendor through the room cache.

use std::time::Duration;

use serde_json::json;
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path, query_param},
};

use crate::fake_vendor::{Vendor, spawn_api_app, summary, widget};
use crate::helpers::embed_block;

const ROOM: &str = "555-555-555";

#[tokio::test]
async fn api_rooms_are_served_like_catalog_rooms() {
    let vendor = Vendor::start().await;
    vendor.login("JWT-1", 3600, 1).await;
    vendor.list(&[(7, ROOM), (8, "666-666-666")], 1).await;
    vendor.detail(7, widget(7, ROOM, "From the API"), 1).await;
    let app = spawn_api_app(&vendor, |_| {}).await;

    let (status, html) = app.get_html(&format!("/room/{ROOM}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("From the API"));
    assert_eq!(embed_block(&html).unwrap().options.license_key, ROOM);

    let (status, html) = app.get_html(&format!("/room/{ROOM}/Host7")).await;
    assert_eq!(status, 200, "role tokens come from the widget's roles");
    assert!(html.contains("Joining as host"));
    assert_eq!(app.get(&format!("/room/{ROOM}/Wrong")).await.status(), 404);
    assert_eq!(app.get("/readyz").await.status(), 200);
}

#[tokio::test]
async fn a_crowd_on_a_cold_room_makes_one_detail_call_and_one_index_call() {
    let vendor = Vendor::start().await;
    vendor.login("JWT-1", 3600, 1).await;
    vendor.list(&[(7, ROOM)], 1).await;
    Mock::given(method("GET"))
        .and(path("/api/widgets/7"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": widget(7, ROOM, "Crowded")}))
                .set_delay(Duration::from_millis(200)),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    let app = spawn_api_app(&vendor, |_| {}).await;

    let requests = (0..200).map(|_| {
        let client = crate::helpers::new_client();
        let url = app.url(&format!("/room/{ROOM}"));
        tokio::spawn(async move { client.get(url).send().await.unwrap().status().as_u16() })
    });
    let statuses = futures_util::future::join_all(requests).await;
    assert!(
        statuses.iter().all(|s| *s.as_ref().unwrap() == 200),
        "{statuses:?}"
    );
    // `.expect(1)` on the mocks is checked when the vendor is dropped.
}

#[tokio::test]
async fn after_the_ttl_the_old_room_is_served_while_one_refresh_runs() {
    let vendor = Vendor::start().await;
    vendor.login("JWT-1", 3600, 1).await;
    vendor.list(&[(7, ROOM)], 1).await;
    let first = Mock::given(method("GET"))
        .and(path("/api/widgets/7"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": widget(7, ROOM, "Old name")})),
        )
        .expect(1)
        .mount_as_scoped(&vendor.server)
        .await;
    let app = spawn_api_app(&vendor, |e| {
        e.insert("ROOMGATE__CACHE__TTL_SECS".into(), "1".into());
    })
    .await;
    assert!(
        app.get_html(&format!("/room/{ROOM}"))
            .await
            .1
            .contains("Old name")
    );
    assert!(
        app.get_html(&format!("/room/{ROOM}"))
            .await
            .1
            .contains("Old name"),
        "fresh: from the cache"
    );
    drop(first);

    vendor.detail(7, widget(7, ROOM, "New name"), 1).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, html) = app.get_html(&format!("/room/{ROOM}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Old name"), "stale entry served at once");
    let mut refreshed = false;
    for _ in 0..50 {
        if app
            .get_html(&format!("/room/{ROOM}"))
            .await
            .1
            .contains("New name")
        {
            refreshed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refreshed, "the background refresh replaced the entry");
}

#[tokio::test]
async fn a_failing_vendor_does_not_take_down_rooms_seen_before() {
    let failures = [
        ResponseTemplate::new(500).set_body_json(json!({"error": {"message": "Internal"}})),
        ResponseTemplate::new(502).set_body_string("<html><body>Bad gateway</body></html>"),
        ResponseTemplate::new(200).set_body_string("{\"data\": {\"id\": 7, \"tok"),
        ResponseTemplate::new(200).set_body_string("garbage"),
        ResponseTemplate::new(200)
            .set_body_json(json!({"data": widget(7, ROOM, "Late")}))
            .set_delay(Duration::from_secs(3)),
    ];
    for (i, failure) in failures.into_iter().enumerate() {
        let vendor = Vendor::start().await;
        vendor.login("JWT-1", 3600, 1).await;
        vendor.list(&[(7, ROOM)], 1).await;
        let good = Mock::given(method("GET"))
            .and(path("/api/widgets/7"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"data": widget(7, ROOM, "Seen before")})),
            )
            .mount_as_scoped(&vendor.server)
            .await;
        let app = spawn_api_app(&vendor, |e| {
            e.insert("ROOMGATE__CACHE__TTL_SECS".into(), "1".into());
            e.insert("ROOMGATE__API__TIMEOUT_MS".into(), "300".into());
        })
        .await;
        assert_eq!(app.get(&format!("/room/{ROOM}")).await.status(), 200);
        drop(good);
        Mock::given(method("GET"))
            .and(path("/api/widgets/7"))
            .respond_with(failure)
            .mount(&vendor.server)
            .await;
        let seen = vendor.calls_to("/api/widgets/7").await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        // Past the TTL every view starts a refresh, which fails. Views go on until a
        // second refresh has reached the vendor: the first one failed, and the room was
        // still there (served, and stale again) afterwards.
        let mut views = 0;
        while vendor.calls_to("/api/widgets/7").await < seen + 2 {
            assert!(
                views < 50,
                "failure case {i}: {} refreshes reached the vendor in {views} views",
                vendor.calls_to("/api/widgets/7").await - seen
            );
            let (status, html) = app.get_html(&format!("/room/{ROOM}")).await;
            assert_eq!(status, 200, "failure case {i}");
            assert!(html.contains("Seen before"), "failure case {i}");
            views += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (status, html) = app.get_html(&format!("/room/{ROOM}")).await;
        assert_eq!(status, 200, "failure case {i}: after two failed refreshes");
        assert!(html.contains("Seen before"), "failure case {i}");
    }
}

#[tokio::test]
async fn a_vendor_outage_with_nothing_cached_answers_503_with_retry_after() {
    let vendor = Vendor::start().await;
    vendor.login("JWT-1", 3600, 1).await;
    Mock::given(method("GET"))
        .and(path("/api/widgets"))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>maintenance</html>"))
        .mount(&vendor.server)
        .await;
    let app = spawn_api_app(&vendor, |_| {}).await;
    let res = app.get(&format!("/room/{ROOM}")).await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "30");
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Temporarily unavailable")
    );
}

#[tokio::test]
async fn a_flood_of_random_keys_lists_the_rooms_once_and_real_rooms_stay_served() {
    let vendor = Vendor::start().await;
    vendor.login("JWT-1", 3600, 1).await;
    vendor.list(&[(7, ROOM)], 1).await;
    vendor.detail(7, widget(7, ROOM, "Real"), 1).await;
    let app = spawn_api_app(&vendor, |e| {
        e.insert(
            "ROOMGATE__CACHE__INDEX_MIN_INTERVAL_SECS".into(),
            "60".into(),
        );
    })
    .await;
    assert_eq!(app.get(&format!("/room/{ROOM}")).await.status(), 200);
    for i in 0..300u32 {
        let key = format!(
            "{:03}-{:03}-{:03}",
            i % 1000,
            (i * 7) % 1000,
            (i * 13) % 1000
        );
        assert_eq!(
            app.get(&format!("/room/{key}")).await.status(),
            404,
            "{key}"
        );
        if i % 50 == 0 {
            assert_eq!(app.get(&format!("/room/{ROOM}")).await.status(), 200);
        }
    }
    // Repeating a key within the negative TTL makes no call either. One listing is two
    // calls: page 1, and page 2 to learn that the short first page was the last (it
    // could have been a page of a capped `limit`; the mock answers it 404).
    assert_eq!(app.get("/room/000-000-000").await.status(), 404);
    assert_eq!(vendor.calls_to("/api/widgets").await, 2);
}

#[tokio::test]
async fn an_unknown_key_relists_the_rooms_once_the_interval_has_passed() {
    let vendor = Vendor::start().await;
    vendor.login("JWT-1", 3600, 1).await;
    let before = Mock::given(method("GET"))
        .and(path("/api/widgets"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [summary(7, ROOM)]})))
        .expect(1)
        .mount_as_scoped(&vendor.server)
        .await;
    let app = spawn_api_app(&vendor, |e| {
        e.insert(
            "ROOMGATE__CACHE__INDEX_MIN_INTERVAL_SECS".into(),
            "1".into(),
        );
        e.insert("ROOMGATE__CACHE__NEGATIVE_TTL_SECS".into(), "1".into());
    })
    .await;
    assert_eq!(app.get("/room/777-777-777").await.status(), 404);
    drop(before);
    vendor.list(&[(7, ROOM), (9, "777-777-777")], 1).await;
    vendor
        .detail(9, widget(9, "777-777-777", "Created later"), 1)
        .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, html) = app.get_html("/room/777-777-777").await;
    assert_eq!(status, 200);
    assert!(html.contains("Created later"));
}

#[tokio::test]
async fn the_index_pages_while_pages_are_full() {
    let vendor = Vendor::start().await;
    vendor.login("JWT-1", 3600, 1).await;
    let page1: Vec<_> = (0..500u64)
        .map(|i| summary(10_000 + i, &format!("100-{:03}-{:03}", i / 1000, i % 1000)))
        .collect();
    Mock::given(method("GET"))
        .and(path("/api/widgets"))
        .and(query_param("page", "1"))
        .and(query_param("limit", "500"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": page1})))
        .expect(1)
        .mount(&vendor.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/widgets"))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [summary(7, ROOM), {"id": "bad"}]})),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    vendor.detail(7, widget(7, ROOM, "On page two"), 1).await;
    let app = spawn_api_app(&vendor, |_| {}).await;
    let (status, html) = app.get_html(&format!("/room/{ROOM}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("On page two"));
}

#[tokio::test]
async fn inactive_and_deleted_rooms_answer_410() {
    let vendor = Vendor::start().await;
    vendor.login("JWT-1", 3600, 1).await;
    vendor
        .list(&[(7, ROOM), (8, "888-888-888"), (9, "999-999-999")], 1)
        .await;
    let mut inactive = widget(7, ROOM, "Closed");
    inactive["status"] = json!("inactive");
    vendor.detail(7, inactive, 1).await;
    Mock::given(method("GET"))
        .and(path("/api/widgets/8"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": {"message": "Widget not found"}})),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/widgets/9"))
        .respond_with(ResponseTemplate::new(410).set_body_string(""))
        .expect(1)
        .mount(&vendor.server)
        .await;
    let app = spawn_api_app(&vendor, |_| {}).await;
    for key in [ROOM, "888-888-888", "999-999-999"] {
        let (status, html) = app.get_html(&format!("/room/{key}")).await;
        assert_eq!(status, 410, "{key}");
        assert!(html.contains("no longer available"));
        assert_eq!(
            app.get(&format!("/room/{key}")).await.status(),
            410,
            "{key}: cached"
        );
    }
}

#[tokio::test]
async fn a_failed_listing_answers_503_until_the_next_listing_never_404() {
    let vendor = Vendor::start().await;
    vendor.login("JWT-1", 3600, 1).await;
    let down = Mock::given(method("GET"))
        .and(path("/api/widgets"))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>maintenance</html>"))
        .expect(1)
        .mount_as_scoped(&vendor.server)
        .await;
    let app = spawn_api_app(&vendor, |e| {
        e.insert(
            "ROOMGATE__CACHE__INDEX_MIN_INTERVAL_SECS".into(),
            "1".into(),
        );
    })
    .await;
    for _ in 0..3 {
        let res = app.get(&format!("/room/{ROOM}")).await;
        assert_eq!(
            res.status(),
            503,
            "an unreachable vendor is not 'no such room'"
        );
        assert_eq!(res.headers()["retry-after"], "30");
    }
    drop(down);
    vendor.list(&[(7, ROOM)], 1).await;
    vendor.detail(7, widget(7, ROOM, "Back"), 1).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(app.get(&format!("/room/{ROOM}")).await.status(), 200);
}

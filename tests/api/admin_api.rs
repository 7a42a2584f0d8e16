//! The admin API: authentication, the catalog's limits, and every operation against the
//! vendor (wiremock), with cache invalidation visible on the next page view.

use serde_json::{Value, json};
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{body_string, method, path},
};

use crate::fake_vendor::{Vendor, spawn_api_app, widget};
use crate::helpers::{L, PUBLIC_URL, SCHEDULED, TestApp, embed_block, spawn_app, spawn_app_with};

const ADMIN: &str = "admin-token-0123456789-abcdefghijkl";
const ROOM: &str = "555-555-555";

async fn catalog_admin() -> TestApp {
    spawn_app_with(|e| {
        e.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
    })
    .await
}

async fn api_admin(vendor: &Vendor) -> TestApp {
    spawn_api_app(vendor, |e| {
        e.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
    })
    .await
}

async fn call(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = app
        .client
        .request(method.parse().unwrap(), app.url(path))
        .bearer_auth(ADMIN);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    assert!(
        status == 204
            || res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
        "{method} {path}: JSON answers"
    );
    let text = res.text().await.unwrap();
    (
        status,
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        },
    )
}

#[tokio::test]
async fn without_an_admin_token_the_surface_does_not_exist() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/admin/api/rooms"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

/// With the surface off, no method on any admin path may tell that a route exists there:
/// an HTML 405 with `Allow` would (and undocumented methods used to answer it).
#[tokio::test]
async fn without_an_admin_token_every_method_on_every_admin_path_is_the_same_404() {
    let app = spawn_app().await;
    let paths = [
        "/admin/api/openapi.json".to_owned(),
        "/admin/api/rooms".to_owned(),
        format!("/admin/api/rooms/{L}"),
        format!("/admin/api/rooms/{L}/activate"),
        format!("/admin/api/rooms/{L}/deactivate"),
        format!("/admin/api/rooms/{L}/links"),
        format!("/admin/api/rooms/{L}/invitations"),
        format!("/admin/api/rooms/{L}/calendar.ics"),
        "/admin/api/nothing/here".to_owned(),
    ];
    for path in &paths {
        for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
            let res = app
                .client
                .request(method.parse().unwrap(), app.url(path))
                .bearer_auth(ADMIN)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 404, "{method} {path}");
            assert!(res.headers().get("allow").is_none(), "{method} {path}");
            if method != "HEAD" {
                let body: Value = res.json().await.unwrap();
                assert_eq!(body["error"]["message"], "not found", "{method} {path}");
            }
        }
    }
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_401_and_repeated_guesses_429() {
    let app = spawn_app_with(|e| {
        e.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
        e.insert("ROOMGATE__SECURITY__ROLE_GUESS_LIMIT".into(), "3".into());
    })
    .await;
    let res = app.get("/admin/api/rooms").await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"roomgate admin\""
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["message"], "a valid admin token is required");

    // A session cookie is no credential here.
    app.get(&format!("/room/{L}?_nickname=Ada")).await;
    assert_eq!(app.get("/admin/api/rooms").await.status(), 401);

    for _ in 0..3 {
        let res = app
            .client
            .get(app.url("/admin/api/rooms"))
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let res = app
        .client
        .get(app.url("/admin/api/rooms"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn catalog_rooms_are_listed_with_links_on_our_domain() {
    let app = catalog_admin().await;
    let (status, body) = call(&app, "GET", "/admin/api/rooms", None).await;
    assert_eq!(status, 200);
    let rooms = body["rooms"].as_array().unwrap();
    assert_eq!(rooms.len(), 7);
    assert_eq!(rooms[0]["license"], L);
    assert_eq!(rooms[0]["attendee_link"], format!("{PUBLIC_URL}/room/{L}"));

    let (status, links) = call(&app, "GET", &format!("/admin/api/rooms/{L}/links"), None).await;
    assert_eq!(status, 200);
    assert_eq!(links["attendee"], format!("{PUBLIC_URL}/room/{L}"));
    assert_eq!(
        links["roles"]["host"],
        format!("{PUBLIC_URL}/room/{L}/HostToken123")
    );
    assert_eq!(
        links["roles"]["presenter"],
        format!("{PUBLIC_URL}/room/{L}/PresenterToken456")
    );
    assert_eq!(
        links["vendor"]["roles"]["host"],
        "https://app.example/123-123-123/x/HostToken123"
    );
    assert_eq!(
        links["calendar"]["attendee"],
        Value::Null,
        "no start, no calendar"
    );

    let (status, room) = call(&app, "GET", &format!("/admin/api/rooms/{SCHEDULED}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(room["start"], "2026-12-01T15:00:00Z");
    assert_eq!(
        room["links"]["calendar"]["attendee"],
        format!("{PUBLIC_URL}/room/{SCHEDULED}/calendar.ics")
    );
    assert_eq!(
        call(&app, "GET", "/admin/api/rooms/999-999-999", None)
            .await
            .0,
        404
    );
    assert_eq!(
        call(&app, "GET", "/admin/api/rooms/not-a-key", None)
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn catalog_rooms_cannot_be_changed_through_roomgate() {
    let app = catalog_admin().await;
    for (m, p, b) in [
        (
            "POST",
            "/admin/api/rooms".to_owned(),
            Some(json!({"name": "New"})),
        ),
        (
            "PUT",
            format!("/admin/api/rooms/{L}"),
            Some(json!({"name": "Renamed"})),
        ),
        ("POST", format!("/admin/api/rooms/{L}/deactivate"), None),
        ("DELETE", format!("/admin/api/rooms/{L}"), None),
    ] {
        let (status, body) = call(&app, m, &p, b).await;
        assert_eq!(status, 409, "{m} {p}");
        assert_eq!(
            body["error"]["message"],
            "rooms of the catalog are managed in its file"
        );
    }
    let (status, body) = call(
        &app,
        "POST",
        &format!("/admin/api/rooms/{L}/invitations"),
        Some(json!({"email": "a@example.com"})),
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("rooms.source")
    );
}

#[tokio::test]
async fn bad_input_is_400_or_422_with_messages_per_field() {
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 0..=1).await;
    let app = api_admin(&vendor).await;
    let res = app
        .client
        .post(app.url("/admin/api/rooms"))
        .bearer_auth(ADMIN)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let (status, _) = call(
        &app,
        "POST",
        "/admin/api/rooms",
        Some(json!({"name": "A", "nmae": "typo"})),
    )
    .await;
    assert_eq!(status, 400, "unknown fields are refused");
    let (status, body) = call(
        &app,
        "POST",
        "/admin/api/rooms",
        Some(json!({"type": "scheduled", "timezone": "Nowhere/City"})),
    )
    .await;
    assert_eq!(status, 422);
    for field in ["name", "start", "timezone"] {
        assert!(body["error"]["fields"][field].is_array(), "{field}: {body}");
    }
}

#[tokio::test]
async fn creating_a_room_sends_the_vendors_form_and_answers_with_our_links() {
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 1).await;
    Mock::given(method("POST"))
        .and(path("/api/widgets"))
        .and(body_string(
            "name=Q%26A+%3D+fun+%2B+more&type=scheduled&start_date=2026-12-01+16%3A00%3A00&timezone=Europe%2FWarsaw\
             &duration=90&agenda=Za%C5%BC%C3%B3%C5%82%C4%87&password=&autostart%5Block_state%5D=locked&strict_event=1",
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": {"id": 9, "token": "999-000-999", "roles": {"host": "Host9"}}})))
        .expect(1)
        .mount(&vendor.server)
        .await;
    let mut created = widget(9, "999-000-999", "Q&A = fun + more");
    created["type"] = json!("scheduled");
    created["start_date"] = json!(1_796_137_200);
    vendor.detail(9, created, 1..).await;
    vendor.list(&[(9, "999-000-999")], 0..).await;
    let app = api_admin(&vendor).await;
    let (status, room) = call(
        &app,
        "POST",
        "/admin/api/rooms",
        Some(json!({
            "name": "Q&A = fun + more", "start": "2026-12-01 16:00", "timezone": "Europe/Warsaw",
            "duration_minutes": 90, "agenda": "Zażółć", "waiting_room": true, "strict_event": true
        })),
    )
    .await;
    assert_eq!(status, 201, "{room}");
    assert_eq!(room["license"], "999-000-999");
    assert_eq!(
        room["links"]["attendee"],
        format!("{PUBLIC_URL}/room/999-000-999")
    );
    assert_eq!(
        room["links"]["roles"]["host"],
        format!("{PUBLIC_URL}/room/999-000-999/Host9")
    );
    assert_eq!(
        app.get("/room/999-000-999/Host9").await.status(),
        200,
        "the new room is served at once"
    );
}

/// A visitor asked for the key before the room existed, so the index was listed a moment
/// ago; the new room must still be served at once, not after `cache.index_min_interval_secs`.
#[tokio::test]
async fn a_room_created_after_a_visitor_asked_for_its_key_is_served_at_once() {
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 1).await;
    Mock::given(method("GET"))
        .and(path("/api/widgets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .up_to_n_times(1)
        .expect(1)
        .mount(&vendor.server)
        .await;
    vendor.list(&[(9, "999-000-999")], 1..).await;
    Mock::given(method("POST"))
        .and(path("/api/widgets"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"data": {"id": 9, "token": "999-000-999"}})),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    vendor
        .detail(9, widget(9, "999-000-999", "Brand new"), 1..)
        .await;
    let app = api_admin(&vendor).await;
    assert_eq!(
        app.get("/room/999-000-999").await.status(),
        404,
        "not there yet"
    );
    let (status, room) = call(
        &app,
        "POST",
        "/admin/api/rooms",
        Some(json!({"name": "Brand new"})),
    )
    .await;
    assert_eq!(status, 201, "{room}");
    let (status, html) = app.get_html("/room/999-000-999").await;
    assert_eq!(status, 200, "served at once after its creation");
    assert!(html.contains("Brand new"));
}

#[tokio::test]
async fn the_vendors_validation_messages_are_passed_on_per_field() {
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 1).await;
    Mock::given(method("POST"))
        .and(path("/api/widgets"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({"error": {
            "message": "The given data was invalid.",
            "errors": {"name": ["The name has already been taken."], "start_date": ["The start date must be in the future."]}
        }})))
        .expect(1)
        .mount(&vendor.server)
        .await;
    let app = api_admin(&vendor).await;
    let (status, body) = call(
        &app,
        "POST",
        "/admin/api/rooms",
        Some(json!({"name": "Taken", "start": "2020-01-01T10:00:00Z"})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["error"]["fields"]["name"][0],
        "The name has already been taken."
    );
    assert_eq!(
        body["error"]["fields"]["start_date"][0],
        "The start date must be in the future."
    );
}

#[tokio::test]
async fn a_failing_vendor_is_a_502() {
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 1).await;
    Mock::given(method("POST"))
        .and(path("/api/widgets"))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>down</html>"))
        .mount(&vendor.server)
        .await;
    let app = api_admin(&vendor).await;
    let (status, body) = call(&app, "POST", "/admin/api/rooms", Some(json!({"name": "A"}))).await;
    assert_eq!(status, 502);
    assert!(body["error"]["message"].as_str().unwrap().contains("503"));
}

/// The whole record of `widget(7, ROOM, "Room")` as a `PUT` sends it back.
const WHOLE_ROOM: &str = "name=Room&type=permanent&timezone=Europe%2FWarsaw&duration=60\
    &agenda=%3Cp%3EAgenda%3C%2Fp%3E&password=&strict_event=0";

/// `GET widgets/7` answers `before` for the first `n` calls, then `after`.
async fn widget_changes(vendor: &Vendor, n: u64, before: Value, after: Value) {
    Mock::given(method("GET"))
        .and(path("/api/widgets/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": before })))
        .up_to_n_times(n)
        .mount(&vendor.server)
        .await;
    vendor.detail(7, after, 1..).await;
}

#[tokio::test]
async fn deactivating_a_room_closes_its_page_at_once() {
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 1).await;
    vendor.list(&[(7, ROOM)], 1).await;
    let mut closed = widget(7, ROOM, "Room");
    closed["status"] = json!("inactive");
    // Calls: the first page view, then the operation's read of the current room.
    widget_changes(&vendor, 2, widget(7, ROOM, "Room"), closed).await;
    Mock::given(method("PUT"))
        .and(path("/api/widgets/7"))
        .and(body_string(format!("{WHOLE_ROOM}&status=inactive")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"id": 7}})))
        .expect(1)
        .mount(&vendor.server)
        .await;
    let app = api_admin(&vendor).await;
    assert_eq!(
        app.get(&format!("/room/{ROOM}")).await.status(),
        200,
        "cached as active"
    );
    let (status, room) = call(
        &app,
        "POST",
        &format!("/admin/api/rooms/{ROOM}/deactivate"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(room["status"], "inactive");
    assert_eq!(
        app.get(&format!("/room/{ROOM}")).await.status(),
        410,
        "no waiting for the TTL"
    );
}

#[tokio::test]
async fn activating_sends_the_active_status() {
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 1).await;
    vendor.list(&[(7, ROOM)], 1).await;
    let mut closed = widget(7, ROOM, "Room");
    closed["status"] = json!("inactive");
    widget_changes(&vendor, 2, closed, widget(7, ROOM, "Room")).await;
    Mock::given(method("PUT"))
        .and(path("/api/widgets/7"))
        .and(body_string(format!("{WHOLE_ROOM}&status=active")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"id": 7}})))
        .expect(1)
        .mount(&vendor.server)
        .await;
    let app = api_admin(&vendor).await;
    assert_eq!(app.get(&format!("/room/{ROOM}")).await.status(), 410);
    let (status, _) = call(
        &app,
        "POST",
        &format!("/admin/api/rooms/{ROOM}/activate"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(app.get(&format!("/room/{ROOM}")).await.status(), 200);
}

#[tokio::test]
async fn updating_and_deleting_go_to_the_vendor_and_show_on_the_next_view() {
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 1).await;
    vendor.list(&[(7, ROOM)], 1..).await;
    let mut changed = widget(7, ROOM, "New & improved");
    changed["agenda"] = json!("Now with more");
    widget_changes(&vendor, 2, widget(7, ROOM, "Old"), changed).await;
    Mock::given(method("PUT"))
        .and(path("/api/widgets/7"))
        .and(body_string(
            "name=New+%26+improved&type=permanent&timezone=Europe%2FWarsaw&duration=60\
             &agenda=Now+with+more&password=&strict_event=0",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"id": 7}})))
        .expect(1)
        .mount(&vendor.server)
        .await;
    let app = api_admin(&vendor).await;
    assert!(
        app.get_html(&format!("/room/{ROOM}"))
            .await
            .1
            .contains("Old")
    );
    let (status, room) = call(
        &app,
        "PUT",
        &format!("/admin/api/rooms/{ROOM}"),
        Some(json!({"name": "New & improved", "agenda": "Now with more"})),
    )
    .await;
    assert_eq!(status, 200, "{room}");
    assert_eq!(room["name"], "New & improved");
    assert_eq!(room["warnings"], json!([]), "everything took");
    assert!(
        app.get_html(&format!("/room/{ROOM}"))
            .await
            .1
            .contains("New &amp; improved")
    );

    Mock::given(method("DELETE"))
        .and(path("/api/widgets/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": null})))
        .expect(1)
        .mount(&vendor.server)
        .await;
    let (status, _) = call(&app, "DELETE", &format!("/admin/api/rooms/{ROOM}"), None).await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn an_invitation_is_a_personal_link_on_our_domain() {
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 1).await;
    vendor.list(&[(7, ROOM)], 1).await;
    vendor.detail(7, widget(7, ROOM, "Room"), 1..).await;
    Mock::given(method("POST"))
        .and(path("/api/widgets/7/personal"))
        .and(body_string("email=ada%40example.com&emails=ada%40example.com&role=presenter&firstname=Ada&lastname=Lovelace"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "personal_token": "Pers0nal_T0ken", "personal_url": "https://app.example/555-555-555/p/Pers0nal_T0ken"
        }})))
        .expect(1)
        .mount(&vendor.server)
        .await;
    let app = api_admin(&vendor).await;
    let (status, body) = call(
        &app,
        "POST",
        &format!("/admin/api/rooms/{ROOM}/invitations"),
        Some(json!({"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "role": "presenter"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["link"],
        format!("{PUBLIC_URL}/room/{ROOM}?_personal_token=Pers0nal_T0ken")
    );
    assert_eq!(
        body["vendor_personal_url"],
        "https://app.example/555-555-555/p/Pers0nal_T0ken"
    );

    let (_, html) = app
        .get_html(&format!("/room/{ROOM}?_personal_token=Pers0nal_T0ken"))
        .await;
    assert_eq!(
        embed_block(&html)
            .unwrap()
            .options
            .personal_token
            .as_deref(),
        Some("Pers0nal_T0ken")
    );
}

//! Changing rooms against a vendor that may replace the whole record on `PUT`, ignore a
//! field or a status, or answer personal links with a URL only: roomgate reads, merges,
//! writes the whole record, reads back and says what did not take.

use std::collections::HashMap;

use serde_json::{Value, json};
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path},
};

use crate::fake_account::{FakeAccount, Quirk, key_of};
use crate::fake_vendor::{Vendor, api_env, widget};
use crate::helpers::{PUBLIC_URL, TestApp, embed_block, roomgate, spawn_app_with, test_env, text};

pub(crate) const ADMIN: &str = "admin-token-0123456789-abcdefghijkl";
/// 2026-12-01T15:00:00Z, 16:00 in Warsaw.
const START: i64 = 1_796_137_200;
const PASSWORD: &str = "s3cret pw";

pub(crate) async fn admin_app(env: HashMap<String, String>) -> TestApp {
    spawn_app_with(move |e| {
        e.extend(env);
        e.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
    })
    .await
}

pub(crate) async fn call(
    app: &TestApp,
    verb: &str,
    target: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app
        .client
        .request(verb.parse().unwrap(), app.url(target))
        .bearer_auth(ADMIN);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub(crate) fn cli_env(account: &FakeAccount) -> HashMap<String, String> {
    let mut env = test_env();
    env.extend(account.env());
    env
}

/// Gives room `id` a value in every editable field, as an operator would in the vendor's panel.
pub(crate) fn furnish(account: &FakeAccount, id: u64) {
    for (field, value) in [
        ("type", json!("scheduled")),
        ("start_date", json!(START)),
        ("duration", json!(90)),
        ("timezone", json!("Europe/Warsaw")),
        ("password", json!(PASSWORD)),
        ("strict_event", json!(1)),
        ("autostart", json!({"lock_state": "locked"})),
        ("agenda", json!("<p>Bring <b>questions</b></p>")),
    ] {
        account.set(id, field, value);
    }
}

/// The vendor still holds everything [`furnish`] set, under `name`, `status`.
pub(crate) fn assert_kept(account: &FakeAccount, id: u64, name: &str, status: &str) {
    let room = Value::Object(account.room(id).unwrap());
    let expected = json!({
        "name": name, "status": status, "type": "scheduled", "start_date": START,
        "duration": 90, "timezone": "Europe/Warsaw", "password": PASSWORD, "strict_event": 1,
        "autostart": {"lock_state": "locked"}, "agenda": "<p>Bring <b>questions</b></p>",
    });
    for (field, value) in expected.as_object().unwrap() {
        assert_eq!(&room[field], value, "{field} in {room}");
    }
}

/// A `PUT widgets/{id}` that answers 200 and changes nothing, ahead of the account's own.
async fn ignore_puts(account: &FakeAccount, id: u64) {
    Mock::given(method("PUT"))
        .and(path(format!("/api/widgets/{id}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"id": id}})))
        .with_priority(1)
        .mount(&account.server)
        .await;
}

#[tokio::test]
async fn renaming_a_room_through_the_admin_api_keeps_its_password_start_and_waiting_room() {
    let account = FakeAccount::start(1, 0, &[Quirk::PutReplacesRecord]).await;
    furnish(&account, 1);
    let app = admin_app(account.env()).await;
    let (status, room) = call(
        &app,
        "PUT",
        &format!("/admin/api/rooms/{}", key_of(1)),
        Some(json!({"name": "Renamed"})),
    )
    .await;
    assert_eq!(status, 200, "{room}");
    assert_eq!(room["name"], "Renamed");
    assert_eq!(room["warnings"], json!([]), "{room}");
    assert_eq!(room["start"], "2026-12-01T15:00:00Z");
    assert_eq!(room["password_protected"], true);
    assert_kept(&account, 1, "Renamed", "active");
    assert!(
        !room.to_string().contains("s3cret"),
        "no password in {room}"
    );
    assert!(!app.logs().contains("s3cret"), "no password in the logs");
}

#[tokio::test]
async fn renaming_a_room_through_the_cli_keeps_its_password_start_and_waiting_room() {
    let account = FakeAccount::start(1, 0, &[Quirk::PutReplacesRecord]).await;
    furnish(&account, 1);
    let out = roomgate(
        &["rooms", "update", &key_of(1), "--name", "Renamed"],
        cli_env(&account),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("name       Renamed\n"), "{stdout}");
    assert!(!stdout.contains("s3cret") && !text(&out.stderr).contains("s3cret"));
    assert_kept(&account, 1, "Renamed", "active");
}

#[tokio::test]
async fn changing_the_time_zone_alone_keeps_the_start_instant_and_the_rest() {
    let account = FakeAccount::start(1, 0, &[Quirk::PutReplacesRecord]).await;
    furnish(&account, 1);
    let app = admin_app(account.env()).await;
    let (status, room) = call(
        &app,
        "PUT",
        &format!("/admin/api/rooms/{}", key_of(1)),
        Some(json!({"timezone": "America/New_York"})),
    )
    .await;
    assert_eq!(status, 200, "{room}");
    assert_eq!(room["warnings"], json!([]), "{room}");
    assert_eq!(room["start"], "2026-12-01T15:00:00Z", "the same instant");
    let stored = account.room(1).unwrap();
    assert_eq!(stored["timezone"], "America/New_York");
    assert_eq!(stored["start_date"], START);
    assert_eq!(stored["password"], PASSWORD);
}

#[tokio::test]
async fn closing_and_reopening_through_the_admin_api_keeps_the_record() {
    let account = FakeAccount::start(1, 0, &[Quirk::PutReplacesRecord]).await;
    furnish(&account, 1);
    let app = admin_app(account.env()).await;
    let room = key_of(1);
    let (status, body) = call(
        &app,
        "POST",
        &format!("/admin/api/rooms/{room}/deactivate"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "inactive");
    assert_kept(&account, 1, "Room 1", "inactive");
    assert_eq!(app.get(&format!("/room/{room}")).await.status(), 410);

    let (status, body) = call(
        &app,
        "POST",
        &format!("/admin/api/rooms/{room}/activate"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "active");
    assert_eq!(body["warnings"], json!([]), "{body}");
    assert_kept(&account, 1, "Room 1", "active");
}

#[tokio::test]
async fn a_vendor_that_ignores_reopening_answers_that_the_room_is_still_closed() {
    let account = FakeAccount::start(0, 1, &[]).await;
    ignore_puts(&account, 1).await;
    let app = admin_app(account.env()).await;
    let (status, body) = call(
        &app,
        "POST",
        &format!("/admin/api/rooms/{}/activate", key_of(1)),
        None,
    )
    .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(
        body["error"]["message"],
        "the vendor did not reopen the room: it is still closed"
    );
    assert_eq!(account.room(1).unwrap()["status"], "inactive");

    let out = roomgate(&["rooms", "activate", &key_of(1)], cli_env(&account)).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("the vendor did not reopen the room: it is still closed"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn a_vendor_that_ignores_closing_answers_that_the_room_is_still_open() {
    let account = FakeAccount::start(1, 0, &[]).await;
    ignore_puts(&account, 1).await;
    let app = admin_app(account.env()).await;
    let (status, body) = call(
        &app,
        "POST",
        &format!("/admin/api/rooms/{}/deactivate", key_of(1)),
        None,
    )
    .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(
        body["error"]["message"],
        "the vendor did not close the room: it is still open"
    );
    let out = roomgate(&["rooms", "deactivate", &key_of(1)], cli_env(&account)).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("did not close the room"));
}

#[tokio::test]
async fn closing_a_room_whose_answers_have_no_status_says_it_is_not_confirmed() {
    let account = FakeAccount::start(1, 0, &[Quirk::NoStatusField]).await;
    let app = admin_app(account.env()).await;
    let (status, body) = call(
        &app,
        "POST",
        &format!("/admin/api/rooms/{}/deactivate", key_of(1)),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["warnings"],
        json!([{"field": "status", "message": "the vendor's answer does not say whether the room is open, so the change is not confirmed"}])
    );
    assert_eq!(account.room(1).unwrap()["status"], "inactive");
}

#[tokio::test]
async fn an_update_the_vendor_ignores_entirely_is_an_error_naming_each_field() {
    let account = FakeAccount::start(1, 0, &[]).await;
    ignore_puts(&account, 1).await;
    let app = admin_app(account.env()).await;
    let (status, body) = call(
        &app,
        "PUT",
        &format!("/admin/api/rooms/{}", key_of(1)),
        Some(json!({"name": "Renamed", "duration_minutes": 45})),
    )
    .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(
        body["error"]["message"],
        "the vendor accepted the change but stored none of it"
    );
    for field in ["name", "duration_minutes"] {
        assert!(body["error"]["fields"][field].is_array(), "{field}: {body}");
    }
    let out = roomgate(
        &["rooms", "update", &key_of(1), "--name", "Renamed"],
        cli_env(&account),
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("stored none of it")
            && text(&out.stderr).contains("\nroomgate: name: "),
        "{}",
        text(&out.stderr)
    );
}

const ROOM: &str = "555-555-555";

/// A vendor that takes a new name but silently keeps the old agenda: room 7 reads as
/// `Old` until it has been read once, then as `New` with the agenda unchanged.
async fn agenda_dropping_vendor() -> Vendor {
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 1..).await;
    vendor.list(&[(7, ROOM)], 1..).await;
    Mock::given(method("GET"))
        .and(path("/api/widgets/7"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": widget(7, ROOM, "Old")})),
        )
        .up_to_n_times(1)
        .mount(&vendor.server)
        .await;
    vendor.detail(7, widget(7, ROOM, "New"), 1..).await;
    Mock::given(method("PUT"))
        .and(path("/api/widgets/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"id": 7}})))
        .expect(1)
        .mount(&vendor.server)
        .await;
    vendor
}

#[tokio::test]
async fn a_field_the_vendor_silently_drops_is_reported_as_not_taken() {
    let vendor = agenda_dropping_vendor().await;
    let app = admin_app(api_env(&vendor)).await;
    let (status, room) = call(
        &app,
        "PUT",
        &format!("/admin/api/rooms/{ROOM}"),
        Some(json!({"name": "New", "agenda": "Now with more"})),
    )
    .await;
    assert_eq!(status, 200, "{room}");
    assert_eq!(room["name"], "New");
    assert_eq!(
        room["warnings"],
        json!([{"field": "agenda", "message": "the vendor accepted the change but did not store it"}])
    );

    let vendor = agenda_dropping_vendor().await;
    let mut env = test_env();
    env.extend(api_env(&vendor));
    let out = roomgate(
        &[
            "rooms",
            "update",
            ROOM,
            "--name",
            "New",
            "--agenda",
            "Now with more",
        ],
        env,
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "not everything took");
    assert!(
        text(&out.stdout).contains("name       New\n"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        text(&out.stderr),
        "roomgate: warning: agenda: the vendor accepted the change but did not store it\n"
    );
}

#[tokio::test]
async fn an_invitation_answered_with_a_personal_url_only_still_gives_our_link() {
    let account = FakeAccount::start(1, 0, &[Quirk::PersonalUrlOnly]).await;
    let app = admin_app(account.env()).await;
    let room = key_of(1);
    let (status, body) = call(
        &app,
        "POST",
        &format!("/admin/api/rooms/{room}/invitations"),
        Some(json!({"email": "ada@example.com"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["personal_token"], "Personal1x1");
    assert_eq!(
        body["link"],
        format!("{PUBLIC_URL}/room/{room}?_personal_token=Personal1x1")
    );

    let out = roomgate(
        &["invite", &room, "--email", "grace@example.com"],
        cli_env(&account),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "personal link for grace@example.com (attendee): http://rooms.test/room/{room}?_personal_token=Personal1x2\n"
        )
    );
}

#[tokio::test]
async fn a_personal_url_without_a_usable_token_is_a_vendor_error() {
    let account = FakeAccount::start(1, 0, &[]).await;
    Mock::given(method("POST"))
        .and(path("/api/widgets/1/personal"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": {"personal_url": format!("https://app.example/{}", key_of(1))}}),
        ))
        .with_priority(1)
        .mount(&account.server)
        .await;
    let app = admin_app(account.env()).await;
    let (status, body) = call(
        &app,
        "POST",
        &format!("/admin/api/rooms/{}/invitations", key_of(1)),
        Some(json!({"email": "ada@example.com"})),
    )
    .await;
    assert_eq!(status, 502, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("personal_url"), "{message}");

    let out = roomgate(
        &["invite", &key_of(1), "--email", "ada@example.com"],
        cli_env(&account),
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("personal_url"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn a_personal_token_with_dots_and_tildes_is_handed_out_and_accepted_by_the_page() {
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 1..).await;
    vendor.list(&[(7, ROOM)], 1..).await;
    vendor.detail(7, widget(7, ROOM, "Room"), 1..).await;
    let long = "t".repeat(129);
    for token in ["v1.Ab~cd-9_Z", long.as_str()] {
        Mock::given(method("POST"))
            .and(path("/api/widgets/7/personal"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"data": {"personal_token": token}})),
            )
            .up_to_n_times(1)
            .mount(&vendor.server)
            .await;
    }
    let app = admin_app(api_env(&vendor)).await;
    let target = format!("/admin/api/rooms/{ROOM}/invitations");
    let invite = || {
        call(
            &app,
            "POST",
            &target,
            Some(json!({"email": "ada@example.com"})),
        )
    };
    let (status, body) = invite().await;
    assert_eq!(status, 201, "{body}");
    let link = body["link"].as_str().unwrap();
    let target = link.strip_prefix(PUBLIC_URL).unwrap();
    let (_, html) = app.get_html(target).await;
    assert_eq!(
        embed_block(&html)
            .unwrap()
            .options
            .personal_token
            .as_deref(),
        Some("v1.Ab~cd-9_Z"),
        "the page takes back the token of {link}"
    );

    let (status, body) = invite().await;
    assert_eq!(
        status, 502,
        "a token the page would drop is refused: {body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("personal_token")
    );
}

#[tokio::test]
async fn creating_a_room_without_a_password_sends_an_empty_password() {
    let account = FakeAccount::start(0, 0, &[]).await;
    let app = admin_app(account.env()).await;
    let (status, body) = call(
        &app,
        "POST",
        "/admin/api/rooms",
        Some(json!({"name": "New"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let calls = account.calls("POST", "/api/widgets").await;
    assert_eq!(calls.len(), 1);
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&calls[0].body)
        .into_owned()
        .collect();
    assert!(
        form.contains(&("password".to_owned(), String::new())),
        "{form:?}"
    );
    assert_eq!(body["password_protected"], false);
}

#[tokio::test]
async fn an_operator_call_for_a_listed_room_lists_nothing_again_and_one_for_a_new_key_does() {
    // The rule of `Directory::vendor_id(…, fresh)`: a key neither listed nor remembered is
    // looked for in a new listing at once (a room just created elsewhere), a listed one
    // never (operators' calls must not turn into listings of the whole account).
    let account = FakeAccount::start(2, 0, &[]).await;
    let app = admin_app(account.env()).await;
    let listings = || async { account.calls("GET", "/api/widgets").await.len() };

    let (status, _) = call(&app, "GET", &format!("/room/{}", key_of(1)), None).await;
    assert_eq!(status, 200);
    let after_first_page = listings().await;
    assert!(after_first_page >= 1, "the page listed the rooms");
    for _ in 0..3 {
        let (status, room) = call(
            &app,
            "PUT",
            &format!("/admin/api/rooms/{}", key_of(2)),
            Some(json!({"name": "Listed already"})),
        )
        .await;
        assert_eq!(status, 200, "{room}");
    }
    assert_eq!(
        listings().await,
        after_first_page,
        "a listed key needs no new listing"
    );

    let (status, _) = call(
        &app,
        "PUT",
        "/admin/api/rooms/100-999-999",
        Some(json!({"name": "Nobody"})),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        listings().await > after_first_page,
        "an unknown key is looked for in a new listing at once"
    );
}

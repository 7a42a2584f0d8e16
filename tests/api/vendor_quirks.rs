//! Every surface against every quirk: for each way the real vendor API may differ from
//! what roomgate first assumed (see `fake_account::Quirk`), the same operator's day runs
//! against an account of 150 rooms: room pages, the listing's call count, a rename that
//! must keep the room's other fields, closing and reopening, invitations through the admin
//! API and the command line, and the command line's room list.

use serde_json::{Value, json};

use crate::fake_account::{FakeAccount, Quirk, key_of};
use crate::helpers::{PUBLIC_URL, roomgate, spawn_app_with, text};
use crate::vendor_updates::{ADMIN, assert_kept, call, cli_env, furnish};

const ROOMS: u64 = 150;

async fn an_operators_day(quirk: Option<Quirk>) {
    let quirks: Vec<Quirk> = quirk.into_iter().collect();
    let account = FakeAccount::start(ROOMS, 0, &quirks).await;
    furnish(&account, 1);
    let env = cli_env(&account);
    let app_env = env.clone();
    let app = spawn_app_with(move |e| {
        e.extend(app_env);
        e.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
    })
    .await;
    let page = |id: u64| {
        let app = &app;
        async move {
            app.get(&format!("/room/{}", key_of(id)))
                .await
                .status()
                .as_u16()
        }
    };

    // The newest and the oldest room are found, whichever page the vendor puts them on.
    assert_eq!(page(ROOMS).await, 200, "{quirk:?}: the newest room");
    assert_eq!(page(1).await, 200, "{quirk:?}: the oldest room");
    let listings = account.calls("GET", "/api/widgets").await.len();
    assert!(listings <= 3, "{quirk:?}: {listings} listing calls");

    // A rename keeps every other field, whatever PUT does with fields it is not sent.
    let (status, room) = call(
        &app,
        "PUT",
        &format!("/admin/api/rooms/{}", key_of(1)),
        Some(json!({"name": "Renamed"})),
    )
    .await;
    assert_eq!(status, 200, "{quirk:?}: {room}");
    assert_eq!(room["warnings"], json!([]), "{quirk:?}: {room}");
    let shown_status = if quirk == Some(Quirk::NoStatusField) {
        None
    } else {
        Some("active")
    };
    assert_kept(&account, 1, "Renamed", "active");

    // Closing answers 410 on the room's page; reopening brings it back.
    let target = format!("/admin/api/rooms/{}/deactivate", key_of(1));
    let (status, room) = call(&app, "POST", &target, None).await;
    assert_eq!(status, 200, "{quirk:?}: {room}");
    assert_eq!(account.room(1).unwrap()["status"], "inactive");
    assert_kept(&account, 1, "Renamed", "inactive");
    let closed_page = page(1).await;
    match shown_status {
        // The vendor stored the close; roomgate reads a room that has no status as open,
        // and the probe says so (`status` differs).
        None => assert_eq!(closed_page, 200, "{quirk:?}"),
        Some(_) => assert_eq!(closed_page, 410, "{quirk:?}: a closed room"),
    }
    let target = format!("/admin/api/rooms/{}/activate", key_of(1));
    let (status, room) = call(&app, "POST", &target, None).await;
    assert_eq!(status, 200, "{quirk:?}: {room}");
    assert_kept(&account, 1, "Renamed", "active");
    assert_eq!(page(1).await, 200, "{quirk:?}: reopened");

    // Invitations give a link on our own domain, through the admin API and the CLI.
    let target = format!("/admin/api/rooms/{}/invitations", key_of(2));
    let (status, invitation) = call(
        &app,
        "POST",
        &target,
        Some(json!({"email": "ada@example.com"})),
    )
    .await;
    assert_eq!(status, 201, "{quirk:?}: {invitation}");
    let link = invitation["link"].as_str().unwrap_or_default();
    let expected = format!("{PUBLIC_URL}/room/{}?_personal_token=Personal2x", key_of(2));
    assert!(link.starts_with(&expected), "{quirk:?}: {link}");
    let out = roomgate(
        &["invite", &key_of(3), "--email", "grace@example.com"],
        env.clone(),
    )
    .await;
    assert!(out.status.success(), "{quirk:?}: {}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&format!("{PUBLIC_URL}/room/{}?_personal_token=", key_of(3))),
        "{quirk:?}: {}",
        text(&out.stdout)
    );

    // The command line lists every room.
    let out = roomgate(&["rooms", "list", "--json"], env).await;
    assert!(out.status.success(), "{quirk:?}: {}", text(&out.stderr));
    let rooms: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        rooms.as_array().map(Vec::len),
        Some(ROOMS as usize),
        "{quirk:?}"
    );
}

#[tokio::test]
async fn an_operators_day_against_a_vendor_that_behaves_as_first_assumed() {
    an_operators_day(None).await;
}

#[tokio::test]
async fn an_operators_day_against_a_vendor_that_ignores_page() {
    an_operators_day(Some(Quirk::PageIgnored)).await;
}

#[tokio::test]
async fn an_operators_day_against_a_vendor_that_caps_limit_at_100() {
    an_operators_day(Some(Quirk::LimitCappedAt100)).await;
}

#[tokio::test]
async fn an_operators_day_against_a_vendor_whose_unscoped_listing_hides_closed_rooms() {
    an_operators_day(Some(Quirk::UnscopedListsActiveOnly)).await;
}

#[tokio::test]
async fn an_operators_day_against_a_vendor_whose_put_replaces_the_record() {
    an_operators_day(Some(Quirk::PutReplacesRecord)).await;
}

#[tokio::test]
async fn an_operators_day_against_a_vendor_that_answers_personal_links_as_urls() {
    an_operators_day(Some(Quirk::PersonalUrlOnly)).await;
}

#[tokio::test]
async fn an_operators_day_against_a_vendor_whose_rooms_have_no_status() {
    an_operators_day(Some(Quirk::NoStatusField)).await;
}

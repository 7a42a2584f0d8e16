//! Listing the vendor's rooms when nothing shows how it pages or what an unscoped listing
//! holds, and honouring its `Retry-After`: against the stateful fake account, each quirk
//! switched on in turn.

use std::{collections::HashMap, time::Duration};

use serde_json::json;
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path},
};

use crate::fake_account::{FakeAccount, Quirk, key_of};
use crate::helpers::{TestApp, plain_client, spawn_app_with};

const ADMIN: &str = "admin-token-0123456789-abcdefghijkl";

/// The warning roomgate logs when the vendor's paging is not what was asked.
const PAGING_WARNING: &str = "does not page as asked";

/// The app against `account`, with settings changed by `tweak`.
async fn spawn(account: &FakeAccount, tweak: impl FnOnce(&mut HashMap<String, String>)) -> TestApp {
    let env = account.env();
    spawn_app_with(move |e| {
        e.extend(env);
        tweak(e);
    })
    .await
}

/// Every unknown key lists the rooms again at once (no interval to wait for).
fn relist_at_once(e: &mut HashMap<String, String>) {
    e.insert(
        "ROOMGATE__CACHE__INDEX_MIN_INTERVAL_SECS".into(),
        "0".into(),
    );
}

async fn listing_calls(account: &FakeAccount) -> usize {
    account.calls("GET", "/api/widgets").await.len()
}

fn status(res: &reqwest::Response) -> u16 {
    res.status().as_u16()
}

/// Log lines that say the vendor's paging is odd.
fn paging_warnings(app: &TestApp) -> Vec<String> {
    app.logs()
        .lines()
        .filter(|l| l.contains(PAGING_WARNING))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn with_an_ignored_page_a_listing_of_600_rooms_makes_at_most_3_calls_and_says_so_once() {
    let account = FakeAccount::start(600, 0, &[Quirk::PageIgnored]).await;
    let app = spawn(&account, relist_at_once).await;

    // Newest first: room 600 is on the first (and only) page the vendor hands out.
    assert_eq!(
        status(&app.get(&format!("/room/{}", key_of(600))).await),
        200
    );
    let first = listing_calls(&account).await;
    assert!(first <= 3, "{first} calls for one listing");

    // Room 1 is past the first page: no listing shows it, and roomgate never saw it, so it
    // cannot be found. (A key seen in an earlier listing would still be served: see the
    // next test.) This was a second listing.
    assert_eq!(status(&app.get(&format!("/room/{}", key_of(1))).await), 404);
    let second = listing_calls(&account).await - first;
    assert!(second <= 3, "{second} calls for the second listing");

    let warnings = paging_warnings(&app);
    assert_eq!(
        warnings.len(),
        1,
        "said once, not per listing: {warnings:#?}"
    );
    assert!(
        warnings[0].contains("page seems ignored"),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[0].contains("[500, 500]"),
        "page sizes: {}",
        warnings[0]
    );
}

#[tokio::test]
async fn with_an_ignored_page_and_a_total_a_listing_makes_at_most_ceil_total_over_limit_plus_one_calls()
 {
    let account = FakeAccount::start(600, 0, &[Quirk::PageIgnored]).await;
    account.report_totals();
    let app = spawn(&account, relist_at_once).await;

    for id in [600, 101] {
        assert_eq!(
            status(&app.get(&format!("/room/{}", key_of(id))).await),
            200,
            "room {id} is on the first page"
        );
    }
    let calls = listing_calls(&account).await;
    assert!(calls <= 600usize.div_ceil(500) + 1, "{calls} calls");
    let warnings = paging_warnings(&app);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].contains("differ from the total"),
        "{}",
        warnings[0]
    );
}

#[tokio::test]
async fn rooms_pushed_past_an_ignored_page_are_still_served_by_the_id_remembered_for_their_key() {
    let account = FakeAccount::start(400, 0, &[Quirk::PageIgnored]).await;
    let app = spawn(&account, relist_at_once).await;
    // One listing holds all 400 rooms: roomgate remembers every key with its id.
    assert_eq!(status(&app.get(&format!("/room/{}", key_of(1))).await), 200);

    // 200 rooms are created in the vendor's panel: rooms 1 to 100 drop off the only page.
    let client = plain_client();
    for n in 0..200 {
        let res = client
            .post(format!("{}widgets", account.uri()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("name=New+{n}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    assert_eq!(
        status(&app.get(&format!("/room/{}", key_of(600))).await),
        200
    );
    let listings = listing_calls(&account).await;

    // Room 2 was never viewed and is in no listing now: its remembered id is checked
    // with one `GET widgets/2`, and the room is served.
    let (code, html) = app.get_html(&format!("/room/{}", key_of(2))).await;
    assert_eq!(code, 200);
    assert!(html.contains("Room 2"));
    assert_eq!(account.calls("GET", "/api/widgets/2").await.len(), 1);
    assert_eq!(
        listing_calls(&account).await,
        listings,
        "a remembered key needs no listing"
    );
}

#[tokio::test]
async fn with_a_limit_capped_at_100_all_250_rooms_are_found_in_three_calls() {
    let account = FakeAccount::start(250, 0, &[Quirk::LimitCappedAt100]).await;
    let app = spawn(&account, |_| {}).await;

    for id in 1..=250 {
        assert_eq!(
            status(&app.get(&format!("/room/{}", key_of(id))).await),
            200,
            "room {id}"
        );
    }
    let pages: Vec<String> = account
        .calls("GET", "/api/widgets")
        .await
        .iter()
        .map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "page")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(pages, ["1", "2", "3"], "pages 1 to 3, once");
    let warnings = paging_warnings(&app);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].contains("limit seems capped"),
        "{}",
        warnings[0]
    );
}

#[tokio::test]
async fn a_room_closed_upstream_answers_410_not_404_once_the_listing_drops_it_and_after_a_restart()
{
    let account = FakeAccount::start(3, 0, &[Quirk::UnscopedListsActiveOnly]).await;
    let folder = tempfile::tempdir().unwrap();
    let token_file = folder.path().join("tokens.json").display().to_string();
    let settings = |e: &mut HashMap<String, String>| {
        relist_at_once(e);
        e.insert("ROOMGATE__CACHE__TTL_SECS".into(), "1".into());
        e.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
        e.insert("ROOMGATE__API__TOKEN_FILE".into(), token_file.clone());
    };
    let closed = key_of(1);
    let app = spawn(&account, settings).await;
    assert_eq!(status(&app.get(&format!("/room/{closed}")).await), 200);

    // Closed in the vendor's panel; an unknown key lists the rooms again, and the
    // unscoped listing no longer holds it.
    account.set(1, "status", json!("inactive"));
    assert_eq!(status(&app.get("/room/999-999-999").await), 404);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Past the TTL: the old entry is served while a refresh runs; then the refresh's
    // answer.
    let mut answer = 200;
    for _ in 0..50 {
        answer = status(&app.get(&format!("/room/{closed}")).await);
        if answer != 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(answer, 410, "closed, not unknown");
    assert!(
        std::fs::read_to_string(folder.path().join("room-keys.json"))
            .unwrap()
            .contains(&closed),
        "remembered in room-keys.json beside the token file"
    );

    // A restart on the same folder: the new app's first listing would not show the room,
    // the memory does.
    let before = listing_calls(&account).await;
    let again = spawn(&account, settings).await;
    assert_eq!(status(&again.get(&format!("/room/{closed}")).await), 410);
    assert_eq!(
        listing_calls(&account).await,
        before,
        "answered from the memory and one GET widgets/1, no listing"
    );

    // And the operator can reopen it by its key.
    let res = again
        .client
        .post(again.url(&format!("/admin/api/rooms/{closed}/activate")))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(account.room(1).unwrap()["status"], "active");
    assert_eq!(status(&again.get(&format!("/room/{closed}")).await), 200);
}

#[tokio::test]
async fn a_remembered_key_whose_room_now_has_another_key_is_forgotten_and_answers_404() {
    let account = FakeAccount::start(3, 0, &[Quirk::UnscopedListsActiveOnly]).await;
    let app = spawn(&account, |e| {
        relist_at_once(e);
        e.insert("ROOMGATE__CACHE__TTL_SECS".into(), "1".into());
    })
    .await;
    let key = key_of(1);
    assert_eq!(status(&app.get(&format!("/room/{key}")).await), 200);
    // Room 1 is closed and given another key: the listing drops it, and its id no longer
    // answers to the remembered key.
    account.set(1, "status", json!("inactive"));
    account.set(1, "token", json!("701-001-001"));
    assert_eq!(status(&app.get("/room/999-999-999").await), 404);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut answer = 200;
    for _ in 0..50 {
        answer = status(&app.get(&format!("/room/{key}")).await);
        if answer != 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(answer, 404);
}

#[tokio::test]
async fn a_vendor_503_with_retry_after_is_passed_on_and_nothing_calls_the_vendor_meanwhile() {
    let account = FakeAccount::start(3, 0, &[]).await;
    // Ahead of the account's own answers, for the first listing call only (a scoped mock
    // cannot be used: with a priority, wiremock unmounts the wrong one on drop).
    Mock::given(method("GET"))
        .and(path("/api/widgets"))
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("retry-after", "120")
                .set_body_string("<html>maintenance</html>"),
        )
        .with_priority(1)
        .up_to_n_times(1)
        .mount(&account.server)
        .await;
    let app = spawn(&account, relist_at_once).await;

    for key in [key_of(1), key_of(2), "999-999-999".to_owned()] {
        let res = app.get(&format!("/room/{key}")).await;
        assert_eq!(status(&res), 503, "{key}");
        assert_eq!(res.headers()["retry-after"], "120", "{key}");
    }
    assert_eq!(
        listing_calls(&account).await,
        1,
        "one call, then none while the vendor's wait runs"
    );

    // The app's clock past the wait: the vendor is asked again (and is back).
    app.advance(chrono::Duration::seconds(121));
    assert_eq!(status(&app.get(&format!("/room/{}", key_of(1))).await), 200);
    assert!(listing_calls(&account).await > 1);
}

/// A fresh app that remembers `key_of(1)` (from an earlier app on the same folder) while
/// the listing no longer shows it (closed, and the unscoped listing hides closed rooms),
/// after `detail` was mounted ahead of the account's answer for `GET widgets/1`.
async fn remembered_unlisted(account: &FakeAccount, detail: ResponseTemplate) -> (TestApp, u16) {
    let folder = tempfile::tempdir().unwrap();
    let token_file = folder.path().join("tokens.json").display().to_string();
    let settings = |e: &mut HashMap<String, String>| {
        relist_at_once(e);
        e.insert("ROOMGATE__API__TOKEN_FILE".into(), token_file.clone());
    };
    let key = key_of(1);
    let first = spawn(account, settings).await;
    assert_eq!(status(&first.get(&format!("/room/{key}")).await), 200);
    let memory = folder.path().join("room-keys.json");
    for _ in 0..100 {
        if std::fs::read_to_string(&memory).is_ok_and(|m| m.contains(&key)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    account.set(1, "status", json!("inactive"));
    Mock::given(method("GET"))
        .and(path("/api/widgets/1"))
        .respond_with(detail)
        .with_priority(1)
        .mount(&account.server)
        .await;
    let fresh = spawn(account, settings).await;
    let answer = status(&fresh.get(&format!("/room/{key}")).await);
    drop(folder);
    (fresh, answer)
}

#[tokio::test]
async fn a_remembered_room_whose_check_fails_at_the_vendor_answers_503_not_404() {
    let account = FakeAccount::start(3, 0, &[Quirk::UnscopedListsActiveOnly]).await;
    let (_app, answer) = remembered_unlisted(
        &account,
        ResponseTemplate::new(500).set_body_string("<html>oops</html>"),
    )
    .await;
    assert_eq!(answer, 503, "the vendor failed: the room may well exist");
}

#[tokio::test]
async fn a_remembered_room_the_vendor_no_longer_has_answers_410_like_a_closed_one() {
    let account = FakeAccount::start(3, 0, &[Quirk::UnscopedListsActiveOnly]).await;
    let (_app, answer) = remembered_unlisted(
        &account,
        ResponseTemplate::new(404).set_body_json(json!({"error": {"message": "Not found"}})),
    )
    .await;
    assert_eq!(
        answer, 410,
        "the vendor says it is gone: not a failure to retry"
    );
}

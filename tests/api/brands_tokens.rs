//! Brands with vendor accounts of their own (issue 15): each account's tokens are kept
//! apart, in its own token file, or in fleet mode in its own record in Redis (acme's under
//! the `brand:acme:` prefix), and renewed with its own credentials.

use std::{collections::HashMap, path::Path};

use serde_json::{Value, json};
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{body_string_contains, method, path},
};

use crate::brands_sources::{
    ACME, ACME_ID, ACME_SECRET, Accounts, BOTH, ONLY_ACME, ONLY_DEFAULT, SECRET_IN_FORM, acme_room,
    each_brand_shows_its_own_copy_of_both, page, room, room_path,
};
use crate::fake_vendor::{CLIENT_ID, Vendor};
use crate::helpers::spawn_app_with;
use crate::redis_server::{RedisServer, spawn_fleet};

/// A token file as roomgate writes it: tokens valid for an hour after the test's start.
fn token_file(at: &Path, access: &str, refresh: &str) {
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    let expires_at = crate::helpers::test_now().timestamp() + 3600;
    let tokens =
        json!({"access_token": access, "refresh_token": refresh, "expires_at": expires_at});
    std::fs::write(at, tokens.to_string()).unwrap();
}

fn stored(at: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(at).unwrap()).unwrap()
}

/// `POST oauth/access_token/refresh` with `refresh` and `client_id`/`secret` answers
/// `access` and `next`.
async fn refreshes(
    vendor: &Vendor,
    refresh: &str,
    client_id: &str,
    secret: &str,
    access: &str,
    next: &str,
) {
    Mock::given(method("POST"))
        .and(path("/api/oauth/access_token/refresh"))
        .and(body_string_contains(format!(
            "refresh_token={refresh}&client_id={client_id}&client_secret={secret}"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": access, "refresh_token": next, "expires_in": 3600}),
        ))
        .expect(1)
        .mount(&vendor.server)
        .await;
}

#[tokio::test]
async fn each_account_keeps_its_own_token_file_and_renews_it_with_its_own_credentials() {
    let accounts = Accounts::start().await;
    let default_tokens = accounts.dir.path().join("default/tokens.json");
    token_file(&default_tokens, "AT-ONE", "RT-ONE");
    token_file(&accounts.acme_tokens(), "AT-TWO", "RT-TWO");
    accounts
        .one
        .list(&[(7, ONLY_DEFAULT), (8, BOTH)], 1..)
        .await;
    accounts.two.list(&[(7, ONLY_ACME), (9, BOTH)], 1..).await;
    let first_one = room(&accounts.one, 8, BOTH, "Vendor one at 555", "AT-ONE", 1).await;
    let first_two = room(&accounts.two, 9, BOTH, "Vendor two at 555", "AT-TWO", 1).await;
    let env = accounts.env("auth = \"oauth\"");
    let app = spawn_app_with(|e| {
        e.extend(env);
        e.insert("ROOMGATE__API__AUTH".into(), "oauth".into());
        e.insert(
            "ROOMGATE__API__TOKEN_FILE".into(),
            default_tokens.display().to_string(),
        );
    })
    .await;
    each_brand_shows_its_own_copy_of_both(&app).await;
    drop((first_one, first_two));

    // Both tokens run out: each account renews its own, with its own refresh token and
    // credentials, and writes the new pair to its own file only.
    app.advance(chrono::Duration::seconds(3601));
    refreshes(
        &accounts.one,
        "RT-ONE",
        CLIENT_ID,
        SECRET_IN_FORM,
        "AT-ONE-2",
        "RT-ONE-2",
    )
    .await;
    refreshes(
        &accounts.two,
        "RT-TWO",
        ACME_ID,
        ACME_SECRET,
        "AT-TWO-2",
        "RT-TWO-2",
    )
    .await;
    let _one = room(
        &accounts.one,
        7,
        ONLY_DEFAULT,
        "Vendor one only",
        "AT-ONE-2",
        1,
    )
    .await;
    let _two = room(
        &accounts.two,
        7,
        ONLY_ACME,
        "Vendor two only",
        "AT-TWO-2",
        1,
    )
    .await;
    assert!(
        page(&app, None, &room_path(ONLY_DEFAULT))
            .await
            .1
            .contains("Vendor one only")
    );
    assert!(
        page(&app, Some(ACME), &room_path(ONLY_ACME))
            .await
            .1
            .contains("Vendor two only")
    );
    assert_eq!(stored(&default_tokens)["access_token"], "AT-ONE-2");
    assert_eq!(stored(&default_tokens)["refresh_token"], "RT-ONE-2");
    assert_eq!(stored(&accounts.acme_tokens())["access_token"], "AT-TWO-2");
    assert_eq!(stored(&accounts.acme_tokens())["refresh_token"], "RT-TWO-2");

    // The room keys each account listed are remembered beside its own token file.
    let keys =
        |tokens: &Path| std::fs::read_to_string(tokens.with_file_name("room-keys.json")).unwrap();
    let (default_keys, acme_keys) = (keys(&default_tokens), keys(&accounts.acme_tokens()));
    assert!(
        default_keys.contains(ONLY_DEFAULT) && !default_keys.contains(ONLY_ACME),
        "{default_keys}"
    );
    assert!(
        acme_keys.contains(ONLY_ACME) && !acme_keys.contains(ONLY_DEFAULT),
        "{acme_keys}"
    );
}

/// The `body` of the token record at `key`.
async fn record(redis: &RedisServer, key: &str) -> Vec<u8> {
    let mut c = redis.connection().await;
    let record: HashMap<String, Vec<u8>> = redis::cmd("HGETALL")
        .arg(key)
        .query_async(&mut c)
        .await
        .unwrap();
    record.get("body").cloned().unwrap_or_default()
}

#[tokio::test]
async fn in_a_fleet_each_account_has_its_own_token_record_and_room_copies() {
    let redis = RedisServer::start().await;
    let accounts = Accounts::start().await;
    // One login per account for the whole fleet (`.expect(1)`), one detail call per room.
    accounts.answering().await;
    let _one = room(&accounts.one, 8, BOTH, "Vendor one at 555", "TOKEN-ONE", 1).await;
    let _two = room(&accounts.two, 9, BOTH, "Vendor two at 555", "TOKEN-TWO", 1).await;
    let env = accounts.env("");
    let apps = spawn_fleet(&redis, 2, move |e| e.extend(env.clone())).await;

    assert!(
        page(&apps[0], None, &room_path(BOTH))
            .await
            .1
            .contains("Vendor one at 555")
    );
    assert!(
        page(&apps[0], Some(ACME), &room_path(BOTH))
            .await
            .1
            .contains("Vendor two at 555")
    );
    let default_copy = redis.value_of(&format!("roomgate:room:{BOTH}")).await;
    let acme_copy = redis
        .value_of(&format!("roomgate:brand:acme:room:{BOTH}"))
        .await;
    assert_ne!(default_copy, acme_copy);

    let (default_record, acme_record) = (
        record(&redis, "roomgate:vendor:token").await,
        record(&redis, "roomgate:brand:acme:vendor:token").await,
    );
    assert!(!default_record.is_empty() && !acme_record.is_empty());
    assert_ne!(default_record, acme_record);

    // The other instance takes each account's token and copy from its own keys: no new
    // login, no new detail call, and each brand still shows its own account's room.
    let (status, html) = page(&apps[1], Some(ACME), &room_path(BOTH)).await;
    assert_eq!(status, 200);
    assert!(html.contains("Vendor two at 555"), "{html}");
    let (status, html) = page(&apps[1], None, &room_path(BOTH)).await;
    assert_eq!(status, 200);
    assert!(html.contains("Vendor one at 555"), "{html}");
    let _two7 = acme_room(&accounts).await;
    assert_eq!(
        page(&apps[1], Some(ACME), &room_path(ONLY_ACME)).await.0,
        200
    );
    assert_eq!(accounts.one.calls_to("/api/auth/login").await, 1);
    assert_eq!(accounts.two.calls_to("/api/auth/login").await, 1);
}

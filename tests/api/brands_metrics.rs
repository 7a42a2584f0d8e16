//! Each brand's vendor account seen apart in the metrics (issue 15): the vendor calls,
//! sign-ins, listings, token gauges and room cache figures carry `brand`, the brand id
//! (`default` for the top-level account), and no other value.

use std::collections::BTreeSet;

use serde_json::json;
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path},
};

use crate::brands_sources::{
    ACME, Accounts, BOTH, CATALOG_ROOM, GLOBEX, ONLY_ACME, ONLY_DEFAULT, acme_room,
    default_account_with_its_room, page, room, room_path,
};
use crate::metrics::{CACHE, CALLS, labels_as_listed, metrics_on, scrape};

const DEFAULT: (&str, &str) = ("brand", "default");
const ACME_BRAND: (&str, &str) = ("brand", "acme");

#[tokio::test]
async fn two_accounts_calls_and_caches_are_counted_under_their_own_brand() {
    let accounts = Accounts::start().await;
    accounts.answering().await;
    let _one = room(&accounts.one, 8, BOTH, "Vendor one at 555", "TOKEN-ONE", 1).await;
    let _two = room(&accounts.two, 9, BOTH, "Vendor two at 555", "TOKEN-TWO", 1).await;
    let _two7 = acme_room(&accounts).await;
    let app = accounts.app(metrics_on).await;

    assert_eq!(page(&app, None, &room_path(BOTH)).await.0, 200); // default: miss
    assert_eq!(page(&app, Some(ACME), &room_path(BOTH)).await.0, 200); // acme: miss
    assert_eq!(page(&app, Some(ACME), &room_path(BOTH)).await.0, 200); // acme: hit
    assert_eq!(page(&app, Some(ACME), &room_path(ONLY_ACME)).await.0, 200); // acme: miss
    assert_eq!(
        page(&app, Some(GLOBEX), &room_path(CATALOG_ROOM)).await.0,
        200
    );

    let m = scrape(&app).await;
    for (brand, misses, details) in [(DEFAULT, 1.0, 1.0), (ACME_BRAND, 2.0, 2.0)] {
        m.assert(CACHE, &[("event", "miss"), brand], misses);
        m.assert("roomgate_room_cache_entries", &[brand], misses);
        m.assert(
            CALLS,
            &[("endpoint", "login"), ("outcome", "ok"), brand],
            1.0,
        );
        m.assert(
            CALLS,
            &[("endpoint", "widget"), ("outcome", "ok"), brand],
            details,
        );
        m.assert(
            "roomgate_vendor_call_duration_seconds_count",
            &[("endpoint", "widget"), brand],
            details,
        );
        m.assert(
            "roomgate_vendor_sign_ins_total",
            &[("kind", "login"), ("outcome", "ok"), brand],
            1.0,
        );
        m.assert("roomgate_vendor_listings_total", &[brand], 1.0);
        m.assert("roomgate_vendor_token_expires_in_seconds", &[brand], 3600.0);
        m.assert("roomgate_vendor_sign_in_failures", &[brand], 0.0);
    }
    m.assert(CACHE, &[("event", "hit"), ACME_BRAND], 1.0);
    assert_eq!(m.value(CACHE, &[("event", "hit"), DEFAULT]), None);

    // The label names accounts, nothing else: the catalog brand has no account, and no
    // host, key or token is ever a value.
    let brands: BTreeSet<&str> = m
        .samples
        .iter()
        .flat_map(|s| &s.labels)
        .filter(|(k, _)| k == "brand")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(brands, BTreeSet::from(["acme", "default"]));
    for sample in &m.samples {
        labels_as_listed(sample);
    }
}

#[tokio::test]
async fn a_brand_whose_account_cannot_sign_in_is_seen_apart_from_the_default_one() {
    let accounts = Accounts::start().await;
    let _one = default_account_with_its_room(&accounts).await;
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"error": {"message": "No."}})),
        )
        .expect(1)
        .mount(&accounts.two.server)
        .await;
    let app = accounts.app(metrics_on).await;

    assert_eq!(page(&app, None, &room_path(ONLY_DEFAULT)).await.0, 200);
    assert_eq!(page(&app, Some(ACME), &room_path(ONLY_ACME)).await.0, 503);
    let m = scrape(&app).await;
    let login = |outcome, brand| [("kind", "login"), ("outcome", outcome), brand];
    m.assert(
        "roomgate_vendor_sign_ins_total",
        &login("failed", ACME_BRAND),
        1.0,
    );
    m.assert("roomgate_vendor_sign_ins_total", &login("ok", DEFAULT), 1.0);
    assert_eq!(
        m.value("roomgate_vendor_sign_ins_total", &login("failed", DEFAULT)),
        None
    );
    m.assert(
        CALLS,
        &[
            ("endpoint", "login"),
            ("outcome", "client_error"),
            ACME_BRAND,
        ],
        1.0,
    );
    m.assert("roomgate_vendor_sign_in_failures", &[ACME_BRAND], 1.0);
    m.assert("roomgate_vendor_sign_in_failures", &[DEFAULT], 0.0);
    m.assert("roomgate_room_cache_entries", &[ACME_BRAND], 0.0);
    m.assert("roomgate_room_cache_entries", &[DEFAULT], 1.0);
}

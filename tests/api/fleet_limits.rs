//! The role-guess and admin-token limits fleet-wide (issue 13, item 3): written once, run
//! on one app with the local backend and on three apps sharing a real Redis, the guess
//! `i` going to app `i % n`; then per instance while that Redis is dead, and fleet-wide
//! again once it is back. Last, the right links an instance gave a client, which it
//! gives again within the minute without asking Redis.

use std::{collections::HashMap, time::Duration};

use crate::fleet_once::{Setup, on_both_backends};
use crate::helpers::{H, L, P, TestApp};
use crate::oauth::ADMIN;

/// The limit the tests configure: 10 guesses spread over 3 instances pass it fleet-wide,
/// while no instance alone sees more than 4 of them.
const LIMIT: usize = 5;

/// Behind a trusted proxy (the tests send `X-Forwarded-For`), with [`LIMIT`].
fn behind_proxy(e: &mut HashMap<String, String>) {
    e.insert(
        "ROOMGATE__SERVER__TRUSTED_PROXIES".into(),
        "127.0.0.1".into(),
    );
    e.insert(
        "ROOMGATE__SECURITY__ROLE_GUESS_LIMIT".into(),
        LIMIT.to_string(),
    );
    e.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
}

/// Sends 10 wrong role hashes from `client`, guess `i` to app `i % n` (after `offset`);
/// the statuses.
async fn ten_wrong_hashes(setup: &Setup, client: &str, offset: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in 0..10 {
        let res = setup
            .at(offset + i)
            .get_from(&format!("/room/{L}/Guess{i}"), client)
            .await;
        statuses.push(res.status().as_u16());
    }
    statuses
}

fn expected_statuses() -> Vec<u16> {
    let mut statuses = vec![404; LIMIT];
    statuses.resize(10, 429);
    statuses
}

async fn wrong_role_hashes_spread_over_the_instances_reach_429(setup: &Setup) {
    let guesser = "198.51.100.1";
    assert_eq!(
        ten_wrong_hashes(setup, guesser, 0).await,
        expected_statuses()
    );
    for i in 0..setup.apps.len() {
        let app = setup.at(i);
        assert_eq!(
            app.get_from(&format!("/room/{L}/{H}"), guesser)
                .await
                .status(),
            429,
            "the right hash tells a blocked client nothing, on app {i}"
        );
        assert_eq!(
            app.get_from(&format!("/room/{L}/{H}"), "198.51.100.2")
                .await
                .status(),
            200,
            "another client is unaffected on app {i}"
        );
    }
}
on_both_backends!(
    wrong_role_hashes_reach_429_everywhere,
    super::wrong_role_hashes_spread_over_the_instances_reach_429,
    super::behind_proxy
);

async fn right_hashes_give_their_attempts_back(setup: &Setup) {
    let host = "198.51.100.3";
    for i in 0..(LIMIT * 3) {
        let res = setup.at(i).get_from(&format!("/room/{L}/{H}"), host).await;
        assert_eq!(res.status(), 200, "right hash {i}");
    }
    let statuses = ten_wrong_hashes(setup, host, 0).await;
    assert_eq!(statuses, expected_statuses(), "right hashes used no budget");
}
on_both_backends!(
    right_hashes_use_no_budget_everywhere,
    super::right_hashes_give_their_attempts_back,
    super::behind_proxy
);

async fn concurrent_wrong_hashes_cannot_all_slip_past_the_limit(setup: &Setup) {
    let guesser = "198.51.100.9";
    let guesses = (0..12).map(|i| async move {
        setup
            .at(i)
            .get_from(&format!("/room/{L}/Burst{i}"), guesser)
            .await
            .status()
            .as_u16()
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let passed = statuses.iter().filter(|s| **s == 404).count();
    assert_eq!(
        passed, LIMIT,
        "exactly the limit is compared, however the burst lands: {statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 12 - LIMIT);
}
on_both_backends!(
    a_burst_of_wrong_hashes_is_cut_at_the_limit_everywhere,
    super::concurrent_wrong_hashes_cannot_all_slip_past_the_limit,
    super::behind_proxy
);

/// `GET /admin/api/rooms` from `client` with `token`.
async fn admin_rooms(app: &TestApp, client: &str, token: &str) -> u16 {
    app.client
        .get(app.url("/admin/api/rooms"))
        .header("x-forwarded-for", client)
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn wrong_admin_tokens_spread_over_the_instances_reach_429(setup: &Setup) {
    let guesser = "198.51.100.4";
    let mut statuses = Vec::new();
    for i in 0..10 {
        statuses.push(admin_rooms(setup.at(i), guesser, &format!("wrong-{i}")).await);
    }
    let mut expected = vec![401; LIMIT];
    expected.resize(10, 429);
    assert_eq!(statuses, expected);
    for i in 0..setup.apps.len() {
        assert_eq!(admin_rooms(setup.at(i), guesser, ADMIN).await, 429);
        assert_eq!(admin_rooms(setup.at(i), "198.51.100.5", ADMIN).await, 200);
    }
}
on_both_backends!(
    wrong_admin_tokens_reach_429_everywhere,
    super::wrong_admin_tokens_spread_over_the_instances_reach_429,
    super::behind_proxy
);

#[tokio::test]
async fn without_redis_the_limits_hold_per_instance_and_fleet_wide_once_it_is_back() {
    let mut setup = Setup::fleet(behind_proxy).await;
    setup.redis.as_mut().unwrap().kill();

    // Per instance: app 0 alone reaches the limit; app 1 has seen nothing of it.
    let guesser = "198.51.100.6";
    let started = std::time::Instant::now();
    for i in 0..LIMIT {
        let res = setup
            .at(0)
            .get_from(&format!("/room/{L}/Guess{i}"), guesser)
            .await;
        assert_eq!(res.status(), 404, "guess {i}");
    }
    let res = setup
        .at(0)
        .get_from(&format!("/room/{L}/Guess"), guesser)
        .await;
    assert_eq!(res.status(), 429, "the per-instance limit");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no guess waited long for the dead Redis: {:?}",
        started.elapsed()
    );
    let res = setup
        .at(1)
        .get_from(&format!("/room/{L}/Guess"), guesser)
        .await;
    assert_eq!(res.status(), 404, "another instance counts on its own");
    assert_eq!(
        setup
            .at(1)
            .get_from(&format!("/room/{L}/{H}"), "198.51.100.7")
            .await
            .status(),
        200,
        "right hashes still work"
    );

    setup.redis.as_mut().unwrap().restart().await;
    // Wait until every instance's link answers again (its breaker, its reconnection).
    for app in &setup.apps {
        let mut shared = String::new();
        for _ in 0..50 {
            let body: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
            shared = body["shared"].as_str().unwrap_or_default().to_owned();
            if shared == "up" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(shared, "up");
    }
    let statuses = ten_wrong_hashes(&setup, "198.51.100.8", 0).await;
    assert_eq!(statuses, expected_statuses(), "fleet-wide again");
}

/// The status of `client`'s GET of `/room/{L}/{hash}` on `app`.
async fn role_link(app: &TestApp, hash: &str, client: &str) -> u16 {
    app.get_from(&format!("/room/{L}/{hash}"), client)
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_host_reloading_its_link_asks_the_fleet_once_per_instance() {
    let setup = Setup::fleet(behind_proxy).await;
    let redis = setup.redis.as_ref().unwrap();
    // Another client first, so the limit's script is loaded in Redis (a first run costs
    // an extra call).
    assert_eq!(role_link(setup.at(1), H, "198.51.100.20").await, 200);
    redis.reset_stats().await;

    let host = "198.51.100.21";
    for i in 0..10 {
        assert_eq!(role_link(setup.at(0), H, host).await, 200, "reload {i}");
    }
    assert_eq!(
        redis.script_runs().await,
        1,
        "one fleet question for ten pages"
    );
    for _ in 0..3 {
        assert_eq!(role_link(setup.at(1), H, host).await, 200);
    }
    assert_eq!(redis.script_runs().await, 2, "once per instance");
    assert_eq!(role_link(setup.at(0), P, host).await, 200);
    assert_eq!(redis.script_runs().await, 3, "another link is asked about");
    for i in 0..3 {
        assert_eq!(
            role_link(setup.at(0), "Guess", host).await,
            404,
            "wrong {i}"
        );
    }
    assert_eq!(
        redis.script_runs().await,
        6,
        "every wrong hash is asked about"
    );

    redis.reset_stats().await;
    for _ in 0..3 {
        assert_eq!(admin_rooms(setup.at(0), host, ADMIN).await, 200);
    }
    assert_eq!(redis.script_runs().await, 1, "the admin token likewise");
}

#[tokio::test]
async fn a_client_spent_elsewhere_gets_again_only_a_link_this_instance_gave_it() {
    let setup = Setup::fleet(behind_proxy).await;
    let client = "198.51.100.22";
    assert_eq!(role_link(setup.at(0), H, client).await, 200);
    // Its budget spent on the two other instances, neither of which sees the limit alone.
    for i in 0..LIMIT {
        let app = setup.at(1 + i % 2);
        assert_eq!(role_link(app, &format!("Guess{i}"), client).await, 404);
    }
    assert_eq!(role_link(setup.at(1), "Guess", client).await, 429, "spent");

    assert_eq!(
        role_link(setup.at(0), H, client).await,
        200,
        "given here within the minute: giving it again tells nothing"
    );
    assert_eq!(
        role_link(setup.at(1), H, client).await,
        429,
        "not given there"
    );
    assert_eq!(
        role_link(setup.at(2), H, client).await,
        429,
        "not given there"
    );
    assert_eq!(
        role_link(setup.at(0), P, client).await,
        429,
        "a link this instance never gave it"
    );
    assert_eq!(role_link(setup.at(0), "Guess", client).await, 429);
}

#[tokio::test]
async fn a_client_spent_on_this_instance_is_refused_even_the_link_it_was_given() {
    let setup = Setup::fleet(behind_proxy).await;
    let client = "198.51.100.23";
    assert_eq!(role_link(setup.at(0), H, client).await, 200);
    for i in 0..LIMIT {
        assert_eq!(
            role_link(setup.at(0), &format!("Guess{i}"), client).await,
            404
        );
    }
    assert_eq!(role_link(setup.at(0), H, client).await, 429);
}

//! Fleet mode with its Redis frozen (SIGSTOP) for 5 s: connections stay open and nothing
//! answers, the hardest failure for a client (a dead Redis at least refuses at once).
//! Pages keep answering within the link's bound, `/readyz` says so, a change made
//! meanwhile reaches the fleet once Redis is back, and the nudges flow again.

use std::time::{Duration, Instant};

use crate::fleet_changes::{
    NUDGE_BOUND, OTHER, ROOM, reaches_at_nudge_speed, serving_fleet, set_open, status, time_until,
};

#[tokio::test]
async fn a_redis_frozen_for_five_seconds_slows_no_page_and_loses_no_change() {
    let (redis, _vendor, _live, apps) = serving_fleet(3).await;

    redis.pause();
    let frozen = Instant::now();
    // The change is made and applied here while nothing can be published.
    set_open(&apps[0], OTHER, false).await;
    assert_eq!(status(&apps[0], OTHER).await, 410);
    let mut slowest = Duration::ZERO;
    while frozen.elapsed() < Duration::from_secs(5) {
        for app in &apps {
            let asked = Instant::now();
            assert_eq!(status(app, ROOM).await, 200, "a cached room needs no Redis");
            slowest = slowest.max(asked.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // A page that waited for Redis would take its 250 ms timeout each time, or the whole
    // freeze; fleet_copies.rs proves a cached page sends Redis no command at all. This
    // bound leaves room for a debug build on 2 busy cores.
    assert!(
        slowest < NUDGE_BOUND,
        "a cached page waited {slowest:?} for a frozen Redis"
    );
    let readyz = apps[1].get("/readyz").await;
    assert_eq!(readyz.status(), 200, "still serving: ready");
    let body: serde_json::Value = readyz.json().await.unwrap();
    assert_eq!(body["shared"], "degraded");

    redis.resume();
    for app in &apps[1..] {
        assert!(
            time_until(app, OTHER, 410, Duration::from_secs(5))
                .await
                .is_some(),
            "the change made during the freeze reached every instance"
        );
    }
    // Settled: a new change travels at the nudge's speed again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    set_open(&apps[2], ROOM, false).await;
    reaches_at_nudge_speed(&apps[..2], ROOM, 410).await;
    let body: serde_json::Value = apps[0].get("/readyz").await.json().await.unwrap();
    assert_eq!(body["shared"], "up");
}

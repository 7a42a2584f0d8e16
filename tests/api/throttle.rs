use crate::helpers::{H, L, spawn_app_with};

async fn app_behind_proxy() -> crate::helpers::TestApp {
    spawn_app_with(|env| {
        env.insert(
            "ROOMGATE__SERVER__TRUSTED_PROXIES".into(),
            "127.0.0.1".into(),
        );
        env.insert("ROOMGATE__SECURITY__ROLE_GUESS_LIMIT".into(), "10".into());
    })
    .await
}

#[tokio::test]
async fn the_eleventh_wrong_hash_in_a_minute_is_answered_429_even_if_right() {
    let app = app_behind_proxy().await;
    let guesser = "198.51.100.1";
    for i in 0..10 {
        let res = app.get_from(&format!("/room/{L}/Guess{i}"), guesser).await;
        assert_eq!(res.status(), 404, "guess {i}");
    }
    let res = app.get_from(&format!("/room/{L}/Guess10"), guesser).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
    assert_eq!(
        app.get_from(&format!("/room/{L}/{H}"), guesser)
            .await
            .status(),
        429,
        "a blocked client learns nothing"
    );
    assert_eq!(
        app.get_from(&format!("/room/{L}"), guesser).await.status(),
        200,
        "attendee links still work"
    );

    let other = "198.51.100.2";
    assert_eq!(
        app.get_from(&format!("/room/{L}/{H}"), other)
            .await
            .status(),
        200,
        "other clients are unaffected"
    );
}

#[tokio::test]
async fn a_spoofed_forwarded_for_from_an_untrusted_peer_does_not_reset_the_limit() {
    let app = spawn_app_with(|env| {
        env.insert("ROOMGATE__SECURITY__ROLE_GUESS_LIMIT".into(), "3".into());
    })
    .await;
    for i in 0..3 {
        app.get_from(&format!("/room/{L}/Guess{i}"), &format!("203.0.113.{i}"))
            .await;
    }
    let res = app
        .get_from(&format!("/room/{L}/{H}"), "203.0.113.99")
        .await;
    assert_eq!(res.status(), 429, "the peer address counts, not the header");
}

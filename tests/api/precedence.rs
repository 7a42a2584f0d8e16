//! Every row of the precedence table that HTTP can reach (the signed-in identity rows are
//! covered by `room::request` unit tests until the sign-in handoff exists).

use crate::helpers::{H, L, L2, embed_block, new_client, spawn_app};

#[tokio::test]
async fn the_license_key_comes_from_the_path() {
    let app = spawn_app().await;
    let (_, html) = app
        .get_html(&format!("/room/{L}?_license_key=999-999-999"))
        .await;
    assert_eq!(embed_block(&html).unwrap().options.license_key, L);
}

#[tokio::test]
async fn the_role_token_comes_only_from_the_checked_path() {
    let app = spawn_app().await;
    let (_, html) = app.get_html(&format!("/room/{L}?_role_token={H}")).await;
    assert_eq!(embed_block(&html).unwrap().options.role_token, None);
}

#[tokio::test]
async fn a_query_nickname_is_used_and_remembered() {
    let app = spawn_app().await;
    let (_, html) = app
        .get_html(&format!("/room/{L}?_nickname=Ada%20Lovelace"))
        .await;
    assert_eq!(
        embed_block(&html).unwrap().options.nickname.as_deref(),
        Some("Ada Lovelace")
    );

    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    assert_eq!(
        embed_block(&html).unwrap().options.nickname.as_deref(),
        Some("Ada Lovelace"),
        "the clean link keeps the name"
    );
    let (_, html) = app.get_html(&format!("/room/{L2}")).await;
    assert_eq!(
        embed_block(&html).unwrap().options.nickname.as_deref(),
        Some("Ada Lovelace"),
        "a name is the visitor's, in every room"
    );
}

#[tokio::test]
async fn a_new_query_nickname_wins_over_the_remembered_one() {
    let app = spawn_app().await;
    app.get(&format!("/room/{L}?_nickname=First")).await;
    let (_, html) = app.get_html(&format!("/room/{L}?_nickname=Second")).await;
    assert_eq!(
        embed_block(&html).unwrap().options.nickname.as_deref(),
        Some("Second")
    );
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    assert_eq!(
        embed_block(&html).unwrap().options.nickname.as_deref(),
        Some("Second")
    );
}

#[tokio::test]
async fn personal_tokens_are_remembered_per_room() {
    let app = spawn_app().await;
    app.get(&format!("/room/{L}?_personal_token=PersonalA"))
        .await;
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    assert_eq!(
        embed_block(&html)
            .unwrap()
            .options
            .personal_token
            .as_deref(),
        Some("PersonalA")
    );

    let (_, html) = app.get_html(&format!("/room/{L2}")).await;
    assert_eq!(
        embed_block(&html).unwrap().options.personal_token,
        None,
        "not in another room"
    );

    let (_, html) = app
        .get_html(&format!("/room/{L}?_personal_token=PersonalB"))
        .await;
    assert_eq!(
        embed_block(&html)
            .unwrap()
            .options
            .personal_token
            .as_deref(),
        Some("PersonalB")
    );
}

#[tokio::test]
async fn password_and_registrant_tokens_are_remembered_per_room() {
    let app = spawn_app().await;
    app.get(&format!(
        "/room/{L}?_password_token=Pw1&_registrant_token=Reg1"
    ))
    .await;
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    let options = embed_block(&html).unwrap().options;
    assert_eq!(options.password_token.as_deref(), Some("Pw1"));
    assert_eq!(options.registrant_token.as_deref(), Some("Reg1"));
}

#[tokio::test]
async fn email_and_avatar_come_from_the_query_then_the_session() {
    let app = spawn_app().await;
    app.get(&format!(
        "/room/{L}?_email=ada%40example.com&_avatar_url=https%3A%2F%2Fcdn.example.com%2Fa.png"
    ))
    .await;
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    let options = embed_block(&html).unwrap().options;
    assert_eq!(options.email.as_deref(), Some("ada@example.com"));
    assert_eq!(
        options.avatar_url.as_deref(),
        Some("https://cdn.example.com/a.png")
    );
}

#[tokio::test]
async fn invalid_values_are_dropped_and_never_echoed() {
    let app = spawn_app().await;
    let (status, html) = app
        .get_html(&format!(
            "/room/{L}?_email=not-an-email&_avatar_url=javascript%3Aalert(1)&_personal_token=bad%20token&_nickname=%20%20"
        ))
        .await;
    assert_eq!(status, 200);
    let options = embed_block(&html).unwrap().options;
    assert_eq!(options.email, None);
    assert_eq!(options.avatar_url, None);
    assert_eq!(options.personal_token, None);
    assert_eq!(options.nickname, None);
    for echoed in ["not-an-email", "javascript", "bad token"] {
        assert!(
            !html.contains(echoed),
            "{echoed} must not appear on the page"
        );
    }
}

#[tokio::test]
async fn another_visitor_does_not_see_my_values() {
    let app = spawn_app().await;
    app.get(&format!("/room/{L}?_nickname=Ada&_personal_token=Mine"))
        .await;
    let stranger = new_client();
    let html = stranger
        .get(app.url(&format!("/room/{L}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let options = embed_block(&html).unwrap().options;
    assert_eq!(options.nickname, None);
    assert_eq!(options.personal_token, None);
}

#[tokio::test]
async fn the_shared_page_of_plain_links_never_carries_a_visitors_values() {
    let app = spawn_app().await;
    let anonymous = || async {
        new_client()
            .get(app.url(&format!("/room/{L}/{H}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let first = anonymous().await;
    let (_, mine) = app
        .get_html(&format!("/room/{L}/{H}?_nickname=Ada&_personal_token=Mine"))
        .await;
    let options = embed_block(&mine).unwrap().options;
    assert_eq!(options.nickname.as_deref(), Some("Ada"));
    assert_eq!(options.personal_token.as_deref(), Some("Mine"));
    let (_, mine_again) = app.get_html(&format!("/room/{L}/{H}")).await;
    assert_eq!(
        embed_block(&mine_again)
            .unwrap()
            .options
            .nickname
            .as_deref(),
        Some("Ada"),
        "my session still counts"
    );
    let later = anonymous().await;
    assert_eq!(later, first, "strangers get the same shared page");
    assert!(!later.contains("Ada") && !later.contains("Mine"));
}

use crate::helpers::{H, L, embed_block, input_value, spawn_app_with};

async fn prompt_app() -> crate::helpers::TestApp {
    spawn_app_with(|env| {
        env.insert("ROOMGATE__ROOMS__REQUIRE_NICKNAME".into(), "true".into());
    })
    .await
}

#[tokio::test]
async fn without_a_name_the_page_asks_for_one_instead_of_loading_the_room() {
    let app = prompt_app().await;
    let (status, html) = app.get_html(&format!("/room/{L}/{H}")).await;
    assert_eq!(status, 200);
    assert!(
        embed_block(&html).is_none(),
        "no embed before a name is known"
    );
    assert!(
        html.contains(r#"<label"#) && html.contains(r#"for="nickname""#),
        "labelled input"
    );
    assert_eq!(
        input_value(&html, "return_to").as_deref(),
        Some(format!("/room/{L}/{H}").as_str())
    );
    assert!(input_value(&html, "csrf").is_some_and(|t| t.len() >= 32));
}

#[tokio::test]
async fn a_name_from_the_query_or_a_personal_token_skips_the_prompt() {
    let app = prompt_app().await;
    let (_, html) = app.get_html(&format!("/room/{L}?_nickname=Ada")).await;
    assert!(embed_block(&html).is_some());
    let app = prompt_app().await;
    let (_, html) = app
        .get_html(&format!("/room/{L}?_personal_token=Tok"))
        .await;
    assert!(
        embed_block(&html).is_some(),
        "the vendor knows the name of a personal token"
    );
}

#[tokio::test]
async fn the_prompt_round_trip_stores_the_name_and_returns_to_the_role_link() {
    let app = prompt_app().await;
    let (_, html) = app.get_html(&format!("/room/{L}/{H}")).await;
    let csrf = input_value(&html, "csrf").unwrap();
    let return_to = input_value(&html, "return_to").unwrap();

    let res = app
        .post_join(
            L,
            &[
                ("nickname", "  Grace Hopper "),
                ("csrf", &csrf),
                ("return_to", &return_to),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], format!("/room/{L}/{H}").as_str());

    let (_, html) = app.get_html(&format!("/room/{L}/{H}")).await;
    let options = embed_block(&html).expect("the room loads now").options;
    assert_eq!(options.nickname.as_deref(), Some("Grace Hopper"));
    assert_eq!(options.role_token.as_deref(), Some(H), "role kept");
}

#[tokio::test]
async fn a_missing_or_foreign_csrf_token_is_refused() {
    let app = prompt_app().await;
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    let csrf = input_value(&html, "csrf").unwrap();

    let other = prompt_app().await;
    let (_, other_html) = other.get_html(&format!("/room/{L}")).await;
    let foreign = input_value(&other_html, "csrf").unwrap();

    for (what, token) in [
        ("missing", ""),
        ("foreign", foreign.as_str()),
        ("tampered", &csrf[1..]),
    ] {
        let res = app
            .post_join(L, &[("nickname", "Mallory"), ("csrf", token)])
            .await;
        assert_eq!(res.status(), 403, "{what}");
        assert!(res.text().await.unwrap().contains("This form has expired"));
    }
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    assert!(embed_block(&html).is_none(), "nothing was stored");
}

#[tokio::test]
async fn a_post_from_another_origin_is_refused_even_with_the_token() {
    let app = prompt_app().await;
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    let csrf = input_value(&html, "csrf").unwrap();
    let res = app
        .post_join_from(
            L,
            &[("nickname", "Mallory"), ("csrf", &csrf)],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn a_browser_posting_from_the_page_itself_is_accepted() {
    // Under Referrer-Policy: no-referrer browsers send `Origin: null`, and say where the
    // form comes from in Sec-Fetch-Site.
    let app = prompt_app().await;
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    let csrf = input_value(&html, "csrf").unwrap();
    let post = |site: &'static str, origin: &'static str| {
        app.client
            .post(app.url(&format!("/room/{L}/join")))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", origin)
            .header("sec-fetch-site", site)
            .body(crate::helpers::form_body(&[
                ("nickname", "Ada"),
                ("csrf", &csrf),
            ]))
            .send()
    };
    assert_eq!(post("cross-site", "null").await.unwrap().status(), 403);
    assert_eq!(
        post("same-site", "https://sub.rooms.test")
            .await
            .unwrap()
            .status(),
        403,
        "a sibling site is not us"
    );
    assert_eq!(post("same-origin", "null").await.unwrap().status(), 303);
}

#[tokio::test]
async fn an_empty_name_shows_the_prompt_again_with_an_error() {
    let app = prompt_app().await;
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    let csrf = input_value(&html, "csrf").unwrap();
    let res = app
        .post_join(L, &[("nickname", "   "), ("csrf", &csrf)])
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Please enter a name"));
    assert!(html.contains(r#"aria-invalid="true""#));
}

#[tokio::test]
async fn return_to_cannot_leave_the_room() {
    let app = prompt_app().await;
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    let csrf = input_value(&html, "csrf").unwrap();
    for target in [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "/room/222-222-222",
    ] {
        let res = app
            .post_join(
                L,
                &[("nickname", "Ada"), ("csrf", &csrf), ("return_to", target)],
            )
            .await;
        assert_eq!(res.status(), 303, "{target}");
        assert_eq!(
            res.headers()["location"],
            format!("/room/{L}").as_str(),
            "{target}"
        );
    }
}

#[tokio::test]
async fn malformed_form_posts_get_a_clear_4xx() {
    let app = prompt_app().await;
    let res = app.post_join(L, &[("nickname", "Ada")]).await;
    assert_eq!(res.status(), 400, "missing field");
    let huge = "x".repeat(100_000);
    let res = app
        .post_join(L, &[("nickname", &huge), ("csrf", "x")])
        .await;
    assert_eq!(res.status(), 413, "oversized body");
    let res = app
        .post_join("bad-key", &[("nickname", "Ada"), ("csrf", "x")])
        .await;
    assert_eq!(res.status(), 404);
}

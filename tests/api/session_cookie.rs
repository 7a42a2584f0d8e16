use crate::helpers::{L, embed_block, spawn_app, spawn_app_with};

async fn set_cookie(app: &crate::helpers::TestApp, path: &str) -> String {
    let res = reqwest::Client::new()
        .get(app.url(path))
        .send()
        .await
        .unwrap();
    res.headers()
        .get("set-cookie")
        .expect("the visit sets the session cookie")
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_development_cookie_is_http_only_and_lax() {
    let app = spawn_app().await;
    let cookie = set_cookie(&app, &format!("/room/{L}?_nickname=Ada")).await;
    assert!(cookie.starts_with("roomgate="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} missing: {cookie}");
    }
    assert!(!cookie.contains("Ada"), "the content is encrypted");
}

#[tokio::test]
async fn the_secure_cookie_uses_the_host_prefix() {
    let app = spawn_app_with(|env| {
        env.insert("ROOMGATE__SESSION__SECURE".into(), "true".into());
    })
    .await;
    let cookie = set_cookie(&app, &format!("/room/{L}?_nickname=Ada")).await;
    assert!(cookie.starts_with("__Host-roomgate="), "{cookie}");
    for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} missing: {cookie}");
    }
    assert!(
        !cookie.contains("Domain="),
        "__Host- cookies have no Domain"
    );
}

#[tokio::test]
async fn a_page_without_anything_to_remember_sets_no_cookie() {
    let app = spawn_app().await;
    let res = reqwest::Client::new()
        .get(app.url(&format!("/room/{L}")))
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn a_tampered_or_foreign_cookie_is_a_fresh_session() {
    let app = spawn_app().await;
    let other = spawn_app().await;
    let foreign = set_cookie(&other, &format!("/room/{L}?_nickname=Mallory")).await;
    let foreign_value = foreign.split(';').next().unwrap().to_owned();
    let genuine = set_cookie(&app, &format!("/room/{L}?_nickname=Ada")).await;
    let genuine_value = genuine.split(';').next().unwrap();
    let mut tampered = genuine_value.to_owned();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });

    for (what, cookie) in [
        ("cookie from another key", foreign_value.as_str()),
        ("tampered cookie", tampered.as_str()),
        ("garbage", "roomgate=%%%not-base64"),
    ] {
        let res = reqwest::Client::new()
            .get(app.url(&format!("/room/{L}")))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{what}");
        let html = res.text().await.unwrap();
        assert_eq!(embed_block(&html).unwrap().options.nickname, None, "{what}");
    }
}

#[tokio::test]
async fn the_cookie_stays_under_4_kb_with_the_longest_values_in_every_room() {
    let app = spawn_app().await;
    let token = "t".repeat(128);
    let nickname: String =
        url::form_urlencoded::byte_serialize("ż".repeat(100).as_bytes()).collect();
    let avatar = format!("https%3A%2F%2Fcdn.example.com%2F{}", "a".repeat(2000));
    let email = format!("{}%40example.com", "e".repeat(60));
    for room in [L, "222-222-222", "234-234-234", L, "222-222-222"] {
        let path = format!(
            "/room/{room}?_nickname={nickname}&_email={email}&_avatar_url={avatar}\
             &_personal_token={token}&_password_token={token}&_registrant_token={token}"
        );
        let res = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        if let Some(cookie) = res.headers().get("set-cookie") {
            assert!(
                cookie.len() < 4096,
                "{room}: cookie is {} bytes",
                cookie.len()
            );
        }
        let html = res.text().await.unwrap();
        assert_eq!(
            embed_block(&html)
                .unwrap()
                .options
                .personal_token
                .as_deref(),
            Some(token.as_str()),
            "{room}: the newest room's token is used"
        );
    }
    let (_, html) = app.get_html("/room/222-222-222").await;
    assert_eq!(
        embed_block(&html)
            .unwrap()
            .options
            .personal_token
            .as_deref(),
        Some(token.as_str()),
        "the clean link of the latest room still finds its token"
    );
}

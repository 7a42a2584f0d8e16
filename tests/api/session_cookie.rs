use crate::helpers::{L, TestApp, embed_block, load_settings, spawn_app, spawn_app_with, test_env};

async fn set_cookie(app: &crate::helpers::TestApp, path: &str) -> String {
    let res = crate::helpers::plain_client()
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
    let res = crate::helpers::plain_client()
        .get(app.url(&format!("/room/{L}")))
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("set-cookie").is_none());
}

/// The session is read from the one cookie of its name, among whatever else the browser
/// sends (analytics, the company's own), and an unchanged session is not written again.
#[tokio::test]
async fn a_returning_visitor_is_recognised_among_other_cookies_without_a_new_cookie() {
    let app = spawn_app().await;
    let set = set_cookie(
        &app,
        &format!("/room/{L}?_nickname=Ada&_personal_token=Ada.personal-Token_1"),
    )
    .await;
    let ours = set.split(';').next().unwrap();
    for cookies in [
        ours.to_owned(),
        format!("_ga=GA1.2.3; {ours}; theme=dark"),
        format!("xroomgate=1;{ours}"),
    ] {
        let res = crate::helpers::plain_client()
            .get(app.url(&format!("/room/{L}")))
            .header("cookie", &cookies)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{cookies}");
        assert!(
            res.headers().get("set-cookie").is_none(),
            "an unchanged session is not sealed again: {cookies}"
        );
        let options = embed_block(&res.text().await.unwrap()).unwrap().options;
        assert_eq!(options.nickname.as_deref(), Some("Ada"), "{cookies}");
        assert_eq!(
            options.personal_token.as_deref(),
            Some("Ada.personal-Token_1"),
            "{cookies}"
        );
    }
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
        let res = crate::helpers::plain_client()
            .get(app.url(&format!("/room/{L}")))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{what}");
        let html = res.text().await.unwrap();
        assert_eq!(embed_block(&html).unwrap().options.nickname, None, "{what}");
    }
    // The operator can tell (a fleet whose instances disagree on `session.key` shows here),
    // and the log holds no cookie value.
    let logs = app.logs();
    assert_eq!(
        logs.matches("session_cookie_refused").count(),
        3,
        "one security event per cookie that did not open"
    );
    let foreign_sealed = foreign_value.split_once('=').unwrap().1;
    assert!(!logs.contains(foreign_sealed), "no cookie value in the log");
}

/// A token of the longest length (128), telling which room it was given for.
fn longest_token(room: usize, kind: &str) -> String {
    let mark = format!("{kind}{room}-");
    format!("{mark}{}", "t".repeat(128 - mark.len()))
}

/// The query of a visit with the longest tokens for room number `room`, and `extra`.
fn longest_tokens_query(room: usize, extra: &str) -> String {
    format!(
        "_personal_token={}&_password_token={}&_registrant_token={}{extra}",
        longest_token(room, "p"),
        longest_token(room, "w"),
        longest_token(room, "g"),
    )
}

/// For each of `rooms`, whether its clean link still finds the token given for it.
async fn rooms_remembered(app: &TestApp, rooms: &[String]) -> Vec<bool> {
    let mut remembered = Vec::new();
    for (i, room) in rooms.iter().enumerate() {
        let (status, html) = app.get_html(&format!("/room/{room}")).await;
        assert_eq!(status, 200, "{room}");
        let token = embed_block(&html).unwrap().options.personal_token;
        match token {
            None => remembered.push(false),
            Some(t) if t == longest_token(i, "p") => remembered.push(true),
            Some(t) => panic!("{room}: the clean link shows another room's token {t}"),
        }
    }
    remembered
}

/// Visits `/room/{room}?{query}`; checks the answer and the size of any cookie it sets.
async fn visit(app: &TestApp, room: &str, query: &str) -> String {
    let res = app
        .client
        .get(app.url(&format!("/room/{room}?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{room}");
    if let Some(cookie) = res.headers().get("set-cookie") {
        assert!(
            cookie.len() < 4096,
            "{room}: the cookie is {} bytes",
            cookie.len()
        );
    }
    res.text().await.unwrap()
}

#[tokio::test]
async fn the_cookie_stays_under_4_kb_with_the_longest_values_in_every_room() {
    let max_rooms = load_settings(&test_env()).unwrap().session.max_rooms;
    let rooms: Vec<String> = (0..max_rooms + 3)
        .map(|i| format!("{n}-{n}-{n}", n = 700 + i))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("rooms.toml");
    let entries: String = rooms
        .iter()
        .map(|r| format!("[[rooms]]\nlicense = \"{r}\"\nname = \"Room {r}\"\n\n"))
        .collect();
    std::fs::write(&catalog, entries).unwrap();
    let app = spawn_app_with(|env| {
        env.insert(
            "ROOMGATE__CATALOG__PATH".into(),
            catalog.display().to_string(),
        );
    })
    .await;

    // The longest tokens in more rooms than a session keeps: the newest `max_rooms`
    // rooms keep theirs, and the oldest room is the first to lose them.
    for (i, room) in rooms.iter().enumerate() {
        let html = visit(&app, room, &longest_tokens_query(i, "")).await;
        assert_eq!(
            embed_block(&html).unwrap().options.personal_token,
            Some(longest_token(i, "p")),
            "{room}: the room's own token is used"
        );
        let expected: Vec<bool> = (0..=i).map(|j| i - j < max_rooms).collect();
        assert_eq!(
            rooms_remembered(&app, &rooms[..=i]).await,
            expected,
            "after {} rooms, the newest {max_rooms} keep their tokens",
            i + 1
        );
    }

    // The longest name, email and picture as well, in every room again: the cookie
    // still fits, so fewer rooms keep their tokens, and still the oldest go first.
    let nickname = "ż".repeat(100);
    let email = format!(
        "{}@{}.{}.{}.com",
        "e".repeat(64),
        "d".repeat(63),
        "d".repeat(63),
        "d".repeat(57)
    );
    assert_eq!(email.len(), 254);
    let avatar = format!("https://cdn.example.com/{}", "a".repeat(2048 - 24));
    assert_eq!(avatar.len(), 2048);
    let mut longest = String::new();
    for (name, value) in [
        ("_nickname", &nickname),
        ("_email", &email),
        ("_avatar_url", &avatar),
    ] {
        let value: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        longest.push_str(&format!("&{name}={value}"));
    }
    for (i, room) in rooms.iter().enumerate() {
        let html = visit(&app, room, &longest_tokens_query(i, &longest)).await;
        let options = embed_block(&html).unwrap().options;
        assert_eq!(
            options.personal_token,
            Some(longest_token(i, "p")),
            "{room}"
        );
        assert_eq!(
            options.nickname.as_deref(),
            Some(nickname.as_str()),
            "{room}"
        );
        assert_eq!(options.email.as_deref(), Some(email.as_str()), "{room}");
    }
    let remembered = rooms_remembered(&app, &rooms).await;
    let kept = remembered.iter().filter(|k| **k).count();
    assert!(
        (1..max_rooms).contains(&kept),
        "the longest values leave room for fewer rooms: {remembered:?}"
    );
    assert!(
        remembered.ends_with(&vec![true; kept]),
        "the newest rooms keep their tokens, the oldest lose them: {remembered:?}"
    );
}

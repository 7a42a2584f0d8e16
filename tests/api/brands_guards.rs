//! What one brand's host never shows of another brand: its rooms (answered exactly as
//! unknown ones, by pages, role links, calendars and the admin API) and what a visitor's
//! session remembered there.

use crate::brands_setup::{
    ADMIN, ALPHA, ALPHA_ROLE, ALPHA_ROOM, ALPHA_SCHEDULED, ALPHA_URL, BETA, BETA_ADMIN, BETA_URL,
    ELSEWHERE, NOBODYS, admin_on, brands_app, brands_app_with, get_on, page_with_cookie,
    request_on, session_cookie,
};
use crate::helpers::{
    H, L, L2, PUBLIC_URL, SCHEDULED, TestApp, embed_block, form_body, input_value,
};

/// Status, content type and body: everything a visitor could compare.
async fn answer(app: &TestApp, host: &str, path: &str) -> (u16, String, Vec<u8>) {
    let res = get_on(app, host, path).await;
    let status = res.status().as_u16();
    let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
    (status, kind, res.bytes().await.unwrap().to_vec())
}

/// Asserts that on `host` each of `paths` answers exactly what the same path with
/// `NOBODYS` in place of `room` answers: a 404.
async fn same_as_unknown(app: &TestApp, host: &str, room: &str, paths: &[String]) {
    for path in paths {
        let unknown = answer(app, host, &path.replace(room, NOBODYS)).await;
        assert_eq!(unknown.0, 404, "{host}{path}");
        let other = answer(app, host, path).await;
        assert!(
            other == unknown,
            "{host}{path} tells the room from an unknown one: {} {} / {} {}",
            other.0,
            String::from_utf8_lossy(&other.2),
            unknown.0,
            String::from_utf8_lossy(&unknown.2),
        );
    }
}

#[tokio::test]
async fn a_room_only_another_brand_serves_is_answered_exactly_as_an_unknown_room() {
    let app = brands_app().await;
    let alpha_paths = [
        format!("/room/{ALPHA_ROOM}"),
        format!("/room/{ALPHA_ROOM}/{ALPHA_ROLE}"),
        format!("/room/{ALPHA_SCHEDULED}"),
        format!("/room/{ALPHA_SCHEDULED}/calendar.ics"),
    ];
    // Served on alpha's host.
    for path in &alpha_paths {
        assert_eq!(get_on(&app, ALPHA, path).await.status(), 200, "{path}");
    }
    for host in [BETA, ELSEWHERE] {
        same_as_unknown(&app, host, ALPHA_ROOM, &alpha_paths[..2]).await;
        same_as_unknown(&app, host, ALPHA_SCHEDULED, &alpha_paths[2..]).await;
    }

    // Beta's rooms (the default's, by its list) are not alpha's.
    let beta_paths = [
        format!("/room/{L}"),
        format!("/room/{L}/{H}"),
        format!("/room/{SCHEDULED}/calendar.ics"),
    ];
    for path in &beta_paths {
        assert_eq!(get_on(&app, BETA, path).await.status(), 200, "{path}");
    }
    same_as_unknown(&app, ALPHA, L, &beta_paths[..2]).await;
    same_as_unknown(&app, ALPHA, SCHEDULED, &beta_paths[2..]).await;

    // A default room beta's list leaves out is not beta's.
    let default_only = [format!("/room/{L2}"), format!("/room/{L2}/OtherHost789")];
    for path in &default_only {
        assert_eq!(get_on(&app, ELSEWHERE, path).await.status(), 200, "{path}");
    }
    same_as_unknown(&app, BETA, L2, &default_only).await;
}

#[tokio::test]
async fn a_brands_operator_sees_another_brands_room_exactly_as_an_unknown_one() {
    let app = brands_app_with("", &format!("admin_token = \"{BETA_ADMIN}\""), |env| {
        env.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
    })
    .await;
    for (host, token) in [(BETA, BETA_ADMIN), (BETA, ADMIN)] {
        let (status, room) =
            admin_on(&app, host, "GET", &format!("/admin/api/rooms/{L}"), token).await;
        assert_eq!(status, 200, "{room}");
        assert_eq!(room["license"], L);
        let unknown = admin_on(
            &app,
            host,
            "GET",
            &format!("/admin/api/rooms/{NOBODYS}"),
            token,
        )
        .await;
        assert_eq!(unknown.0, 404);
        for other in [ALPHA_ROOM, L2] {
            for what in ["", "/links", "/calendar.ics"] {
                let path = format!("/admin/api/rooms/{other}{what}");
                let answer = admin_on(&app, host, "GET", &path, token).await;
                let unknown =
                    admin_on(&app, host, "GET", &path.replace(other, NOBODYS), token).await;
                assert_eq!(answer, unknown, "{path}");
                assert_eq!(answer.0, 404, "{path}");
            }
        }
    }
    // The same with `?brand=beta` from any host.
    let path = format!("/admin/api/rooms/{ALPHA_ROOM}?brand=beta");
    let answer = admin_on(&app, ALPHA, "GET", &path, BETA_ADMIN).await;
    assert_eq!(answer.0, 404, "{}", answer.1);
    assert_eq!(answer.1["error"]["message"], "no such room");
}

/// The nickname and personal token a room page hands to the embed.
fn remembered(html: &str) -> (Option<String>, Option<String>) {
    let options = embed_block(html).expect("a room page").options;
    (options.nickname, options.personal_token)
}

#[tokio::test]
async fn a_session_cookie_of_one_brand_remembers_nothing_on_another_and_still_works_on_its_own() {
    let app = brands_app().await;
    let ann = (Some("Ann".to_owned()), Some("annsToken1".to_owned()));
    // Room L is served on beta's host and on the default's.
    for (home, away, away_room) in [
        (BETA, ELSEWHERE, L),
        (ELSEWHERE, BETA, L),
        (BETA, ALPHA, ALPHA_ROOM),
        (ALPHA, BETA, L),
    ] {
        let home_room = if home == ALPHA { ALPHA_ROOM } else { L };
        let res = get_on(
            &app,
            home,
            &format!("/room/{home_room}?_nickname=Ann&_personal_token=annsToken1"),
        )
        .await;
        assert_eq!(res.status(), 200);
        let cookie = session_cookie(&res);

        let (status, html) =
            page_with_cookie(&app, away, &format!("/room/{away_room}"), &cookie).await;
        assert_eq!(status, 200, "{home} → {away}");
        assert_eq!(remembered(&html), (None, None), "{home} → {away}");
        assert!(!html.contains("Ann"), "{home} → {away}");
        assert!(!html.contains("annsToken1"), "{home} → {away}");
        // Not even after a value of the other brand is stored beside it.
        let (_, html) = page_with_cookie(
            &app,
            away,
            &format!("/room/{away_room}?_email=b%40example.com"),
            &cookie,
        )
        .await;
        assert_eq!(remembered(&html), (None, None), "{home} → {away}");

        let (status, html) =
            page_with_cookie(&app, home, &format!("/room/{home_room}"), &cookie).await;
        assert_eq!(status, 200);
        assert_eq!(remembered(&html), ann, "{home}: its own cookie still works");
    }
}

#[tokio::test]
async fn a_language_chosen_on_one_brand_is_not_carried_to_another() {
    let app = brands_app().await;
    let res = get_on(&app, BETA, &format!("/room/{L}?lang=pl")).await;
    let cookie = session_cookie(&res);
    let (_, html) = page_with_cookie(&app, BETA, &format!("/room/{L}"), &cookie).await;
    assert!(html.contains(r#"<html lang="pl">"#), "remembered on beta");
    let (_, html) = page_with_cookie(&app, ELSEWHERE, &format!("/room/{L}"), &cookie).await;
    assert!(
        html.contains(r#"<html lang="en">"#),
        "not on the default brand"
    );
}

#[tokio::test]
async fn a_form_on_a_brand_host_is_taken_only_from_that_brands_origin_and_session() {
    let app = brands_app_with("", "", |env| {
        env.insert("ROOMGATE__ROOMS__REQUIRE_NICKNAME".into(), "true".into());
    })
    .await;
    let res = get_on(&app, BETA, &format!("/room/{L}")).await;
    let cookie = session_cookie(&res);
    let csrf = input_value(&res.text().await.unwrap(), "csrf").expect("the name prompt");
    let join = |host: &'static str, origin: &'static str| {
        request_on(&app, "POST", host, &format!("/room/{L}/join"))
            .header("cookie", &cookie)
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&[("nickname", "Ann"), ("csrf", &csrf)]))
            .send()
    };
    for (host, origin) in [
        (BETA, PUBLIC_URL),
        (BETA, ALPHA_URL),
        // Beta's session and token are nothing on the default brand.
        (ELSEWHERE, PUBLIC_URL),
    ] {
        let res = join(host, origin).await.unwrap();
        assert_eq!(res.status(), 403, "{host} from {origin}");
    }
    let res = join(BETA, BETA_URL).await.unwrap();
    assert_eq!(res.status(), 303);
    let cookie = session_cookie(&res);
    let (_, html) = page_with_cookie(&app, BETA, &format!("/room/{L}"), &cookie).await;
    assert_eq!(remembered(&html).0.as_deref(), Some("Ann"));
}

#[tokio::test]
async fn a_room_pattern_that_names_nothing_in_the_brands_catalog_is_warned_of_at_start_up() {
    // Alpha's own catalog has rooms 700 and 701: `799-799-799` is a typo's worth of 404s.
    let app = brands_app_with(r#"rooms = ["70?-700-700", "799-799-799"]"#, "", |_| {}).await;
    let warned: Vec<String> = app
        .logs()
        .lines()
        .filter(|l| l.contains("matches no room of its catalog"))
        .map(str::to_owned)
        .collect();
    assert_eq!(warned.len(), 1, "{warned:#?}");
    assert!(
        warned[0].contains("\"pattern\":\"799-799-799\"")
            && warned[0].contains("\"brand\":\"alpha\""),
        "{}",
        warned[0]
    );
    assert!(warned[0].contains("\"level\":\"WARN\""), "{}", warned[0]);
    // The pattern that does name a room serves it.
    let page = request_on(&app, "GET", ALPHA, &format!("/room/{ALPHA_ROOM}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
}

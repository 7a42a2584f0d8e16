//! Which language a page speaks: `?lang=` (remembered), then `Accept-Language`, then
//! `branding.default_language`.

use crate::helpers::{L, spawn_app, spawn_app_with};

async fn get_lang(
    app: &crate::helpers::TestApp,
    path: &str,
    accept: Option<&str>,
) -> (u16, String) {
    let mut req = app.client.get(app.url(path));
    if let Some(a) = accept {
        req = req.header("accept-language", a);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn speaks(html: &str) -> &'static str {
    if html.contains(r#"<html lang="pl""#) && html.contains("Przejdź do treści") {
        "pl"
    } else if html.contains(r#"<html lang="en""#) && html.contains("Skip to content") {
        "en"
    } else {
        "?"
    }
}

#[tokio::test]
async fn the_language_comes_from_the_query_then_the_browser_then_the_default() {
    let app = spawn_app().await;
    let room = format!("/room/{L}");
    assert_eq!(
        speaks(&get_lang(&app, &room, None).await.1),
        "en",
        "default"
    );
    assert_eq!(
        speaks(
            &get_lang(&app, &room, Some("pl-PL,pl;q=0.9,en;q=0.5"))
                .await
                .1
        ),
        "pl",
        "Accept-Language"
    );
    assert_eq!(
        speaks(&get_lang(&app, &room, Some("de, fr")).await.1),
        "en",
        "unknown languages: default"
    );

    assert_eq!(
        speaks(
            &get_lang(&app, &format!("{room}?lang=pl"), Some("en"))
                .await
                .1
        ),
        "pl",
        "the query wins"
    );
    assert_eq!(
        speaks(&get_lang(&app, &room, Some("en")).await.1),
        "pl",
        "and is remembered"
    );
    assert_eq!(
        speaks(
            &get_lang(&app, &format!("{room}?lang=en"), Some("pl"))
                .await
                .1
        ),
        "en",
        "until changed"
    );
    assert_eq!(
        speaks(&get_lang(&app, &format!("{room}?lang=xx"), None).await.1),
        "en",
        "unknown codes are ignored"
    );
}

#[tokio::test]
async fn the_default_language_is_a_setting() {
    let app = spawn_app_with(|e| {
        e.insert("ROOMGATE__BRANDING__DEFAULT_LANGUAGE".into(), "pl".into());
    })
    .await;
    assert_eq!(
        speaks(&get_lang(&app, &format!("/room/{L}"), None).await.1),
        "pl"
    );
}

#[tokio::test]
async fn error_pages_and_dates_speak_the_language_too() {
    let app = spawn_app().await;
    let (status, html) = get_lang(&app, "/room/999-999-999", Some("pl")).await;
    assert_eq!(status, 404);
    assert_eq!(speaks(&html), "pl");
    assert!(html.contains("Nie ma takiego pokoju") && html.contains("Błąd 404"));
    let (_, html) = get_lang(&app, "/room/234-234-234", Some("pl")).await;
    assert!(
        html.contains("wtorek, 1 grudnia 2026, 16:00 CET"),
        "dates in Polish"
    );
}

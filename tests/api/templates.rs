use roomgate::{
    domain::{LANGUAGES, Language},
    settings::Settings,
    web::views::{
        CountdownView, ErrorPage, NoticePage, Pages, PromptView, RoomPage, RoomView, ScheduleView,
        SignedInView, TEMPLATES,
    },
};

use crate::helpers::{L, html_decode, load_settings, spawn_app_with, test_env};

fn pages(settings: &Settings) -> Pages {
    Pages::load(&settings.branding, "v1".into()).expect("templates load")
}

fn room_page(prompt: Option<PromptView>, schedule: bool, phase: &'static str) -> RoomPage {
    RoomPage {
        room: RoomView {
            name: "Room <name>".into(),
            agenda: "Line one\nLine <two>".into(),
            schedule: schedule.then(|| ScheduleView {
                start_iso: "2026-12-01T15:00:00Z".into(),
                start_text: "Tuesday, 1 December 2026, 16:00 CET".into(),
                end_text: "17:30 CET".into(),
                timezone: "Europe/Warsaw".into(),
                duration_minutes: 90,
            }),
            calendar_url: schedule.then(|| "/room/123-123-123/calendar.ics".to_owned()),
        },
        role: Some("host".into()),
        role_label: Some("Joining as host".into()),
        phase,
        countdown: (phase == "waiting" || phase == "upcoming").then(|| CountdownView {
            to_iso: "2026-12-01T14:00:00Z".into(),
            seconds_left: 90_061,
            reload: phase == "waiting",
            label: "Opens in".into(),
        }),
        embed_json: r#"{"loader":"x","options":{}}"#.into(),
        container_id: "roomgate-room",
        direct_link: "https://app.example/123-123-123".into(),
        prompt,
        signed_in: Some(SignedInView {
            name: "Signed <in>".into(),
            csrf: "tok".into(),
            return_to: "/room/123-123-123".into(),
        }),
    }
}

#[test]
fn every_template_renders_in_every_language_with_every_shape_of_its_context() {
    let settings = load_settings(&test_env()).unwrap();
    let pages = pages(&settings);
    for lang in LANGUAGES {
        let prompt = PromptView {
            action: "/room/123-123-123/join".into(),
            csrf: "tok".into(),
            return_to: "/room/123-123-123".into(),
            error: Some(lang.word("prompt_error").into()),
            nickname: "<x>".into(),
        };
        let render = |page: &RoomPage| pages.render("room.html", page, lang).unwrap();
        let live = render(&room_page(None, true, "live"));
        let permanent = render(&room_page(None, false, "live"));
        let upcoming = render(&room_page(None, true, "upcoming"));
        let waiting = render(&room_page(None, true, "waiting"));
        let ended = render(&room_page(None, true, "ended"));
        let prompted = render(&room_page(Some(prompt), false, "live"));
        for html in [&live, &permanent, &upcoming, &waiting, &ended, &prompted] {
            assert!(
                html.contains("Room &lt;name&gt;"),
                "{lang:?}: names are escaped"
            );
            assert!(html.contains(&settings.branding.site_name));
            assert!(html.contains(&format!(r#"<html lang="{}""#, lang.code())));
            assert!(
                html.contains(lang.word("skip_link")),
                "{lang:?}: words of the language"
            );
        }
        assert!(
            prompted.contains(lang.word("prompt_error")) && !prompted.contains("roomgate-embed")
        );
        assert!(live.contains("roomgate-embed") && upcoming.contains("roomgate-embed"));
        assert!(
            !waiting.contains("roomgate-embed") && waiting.contains(lang.word("waiting_title"))
        );
        assert!(
            waiting.contains(r#"data-reload="1""#)
                && waiting.contains(r#"data-seconds-left="90061""#)
        );
        assert!(!ended.contains("roomgate-embed") && ended.contains(lang.word("ended_title")));
        assert!(live.contains("Signed &lt;in&gt;") && live.contains(lang.word("sign_out")));

        let notice = NoticePage {
            title: "Connected <now>".into(),
            message: "m".into(),
            details: vec!["Account: a@example.com".into()],
        };
        let html = pages.render("notice.html", &notice, lang).unwrap();
        assert!(html.contains("Connected &lt;now&gt;") && html.contains("a@example.com"));
        for status in [400u16, 401, 403, 404, 405, 410, 413, 429, 500, 502, 503] {
            let page =
                ErrorPage::for_status(actix_web::http::StatusCode::from_u16(status).unwrap(), lang);
            let html = pages.render("error.html", &page, lang).unwrap();
            assert!(
                !page.title.is_empty() && html.contains(&html_escape(page.title)),
                "{lang:?} {status}"
            );
            assert!(html.contains(&page.code_label), "{lang:?} {status}");
        }
    }
    assert!(TEMPLATES.contains(&"base.html"));
    assert_eq!(Language::from_code("pl-PL"), Some(Language::Pl));
}

/// Tera's escaping of text.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2F;")
}

#[tokio::test]
async fn operators_can_replace_the_templates_and_static_folders() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    let static_dir = dir.path().join("static");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::create_dir_all(static_dir.join("css")).unwrap();
    std::fs::write(
        templates.join("base.html"),
        "<html lang=\"{{ lang }}\">ACME {% block main %}{% endblock %}</html>",
    )
    .unwrap();
    std::fs::write(
        templates.join("room.html"),
        "{% extends \"base.html\" %}{% block main %}Custom room {{ room.name }}{% endblock %}",
    )
    .unwrap();
    std::fs::write(
        templates.join("error.html"),
        "{% extends \"base.html\" %}{% block main %}Custom error {{ status }}{% endblock %}",
    )
    .unwrap();
    std::fs::write(
        templates.join("notice.html"),
        "{% extends \"base.html\" %}{% block main %}{{ title }}{% endblock %}",
    )
    .unwrap();
    std::fs::write(static_dir.join("css/site.css"), "body{color:red}").unwrap();
    let app = spawn_app_with(|env| {
        env.insert(
            "ROOMGATE__BRANDING__TEMPLATES_DIR".into(),
            templates.display().to_string(),
        );
        env.insert(
            "ROOMGATE__BRANDING__STATIC_DIR".into(),
            static_dir.display().to_string(),
        );
    })
    .await;
    assert_eq!(
        app.get_html(&format!("/room/{L}")).await.1,
        "<html lang=\"en\">ACME Custom room Product demo</html>"
    );
    assert_eq!(
        app.get_html("/room/999-999-999").await.1,
        "<html lang=\"en\">ACME Custom error 404</html>"
    );
    assert_eq!(
        app.get("/static/css/site.css").await.text().await.unwrap(),
        "body{color:red}"
    );
}

#[tokio::test]
async fn the_branding_settings_reach_every_page() {
    let app = spawn_app_with(|env| {
        env.insert("ROOMGATE__BRANDING__SITE_NAME".into(), "Acme Events".into());
        env.insert(
            "ROOMGATE__BRANDING__SUPPORT_URL".into(),
            "https://help.acme.example".into(),
        );
        env.insert(
            "ROOMGATE__BRANDING__LOGO_URL".into(),
            "https://cdn.acme.example/logo.svg".into(),
        );
    })
    .await;
    for path in [format!("/room/{L}"), "/room/999-999-999".into()] {
        let html = html_decode(&app.get_html(&path).await.1);
        assert!(html.contains("Acme Events"), "{path}");
        assert!(html.contains("https://help.acme.example"), "{path}");
        assert!(html.contains("https://cdn.acme.example/logo.svg"), "{path}");
    }
}

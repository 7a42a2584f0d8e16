//! What visitors see on a deployment with several brands: each brand host has its own
//! look, language, links, static files, templates and headers; other hosts get the
//! default brand, or 421 with `server.strict_hosts`.

use serde_json::Value;

use crate::brands_setup::{
    ADMIN, ALPHA, ALPHA_ROLE, ALPHA_ROOM, ALPHA_URL, BETA, BETA_URL, ELSEWHERE, NOBODYS, admin_on,
    brands_app, brands_app_with, get_on, page_on, request_on,
};
use crate::helpers::{H, L, P, PUBLIC_URL, SCHEDULED, html_decode};

/// What a page shows of its brand.
#[derive(Debug, PartialEq)]
struct Look {
    lang: String,
    /// The end of `<title>`: ` · {site name}`.
    title_site: String,
    header_name: String,
    logo: String,
    icon: String,
    asset_version: String,
}

/// The text between `start` and the next `end` after it.
fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = html.find(start)? + start.len();
    Some(&html[from..from + html[from..].find(end)?])
}

fn look_of(html: &str) -> Look {
    let html = html_decode(html);
    let part = |start: &str, end: &str| {
        between(&html, start, end)
            .unwrap_or_else(|| panic!("no {start}…{end} in the page"))
            .to_owned()
    };
    let title = part("<title>", "</title>");
    Look {
        lang: part("<html lang=\"", "\""),
        title_site: title.rsplit(" · ").next().unwrap().to_owned(),
        header_name: part(
            "<span class=\"brand__name\" aria-hidden=\"true\">",
            "</span>",
        ),
        logo: part("<img class=\"brand__logo\" src=\"", "\""),
        icon: part("<link rel=\"icon\" href=\"", "\""),
        asset_version: part("/theme.css?v=", "\""),
    }
}

#[tokio::test]
async fn each_brand_host_shows_its_own_name_logo_icon_language_and_colours() {
    let app = brands_app().await;
    let cases = [
        (
            ALPHA,
            ALPHA_ROOM,
            "pl",
            "Alpha Events",
            "/static/img/alpha-logo.svg",
            "/static/img/alpha-icon.svg",
            "#b4361c",
        ),
        (
            BETA,
            L,
            "en",
            "Beta Webinars",
            "/static/img/logo.svg",
            "https://cdn.beta.example/icon.png",
            "#0f766e",
        ),
        (
            ELSEWHERE,
            L,
            "en",
            "roomgate",
            "/static/img/logo.svg",
            "/static/img/logo.svg",
            "#1f5fd6",
        ),
    ];
    let mut versions = Vec::new();
    for (host, room, lang, name, logo, icon, colour) in cases {
        let (status, html) = page_on(&app, host, &format!("/room/{room}")).await;
        assert_eq!(status, 200, "{host}");
        let look = look_of(&html);
        assert_eq!(look.lang, lang, "{host}");
        assert_eq!(look.title_site, name, "{host}");
        assert_eq!(look.header_name, name, "{host}");
        assert_eq!(look.logo, logo, "{host}");
        assert_eq!(look.icon, icon, "{host}");
        for (_, _, _, other, _, _, _) in cases.iter().filter(|c| c.0 != host) {
            if *other != "roomgate" {
                assert!(!html.contains(other), "{host} names {other}");
            }
        }
        versions.push(look.asset_version);

        let res = get_on(&app, host, "/theme.css").await;
        assert_eq!(res.status(), 200);
        let sheet = res.text().await.unwrap();
        assert!(
            sheet.contains(&format!("--brand:{colour}")),
            "{host}: {sheet}"
        );

        let res = get_on(&app, host, "/favicon.ico").await;
        assert_eq!(res.status(), 301, "{host}");
        assert_eq!(res.headers()["location"], icon, "{host}");
    }
    versions.sort();
    versions.dedup();
    assert_eq!(
        versions.len(),
        3,
        "each brand's asset links change with its own colour and files: {versions:?}"
    );
}

#[tokio::test]
async fn a_host_with_a_port_or_in_mixed_case_gets_its_brand_and_x_forwarded_host_changes_nothing() {
    let app = brands_app().await;
    for host in ["Alpha.TEST:8443", "alpha.test.", "EVENTS.alpha.example:80"] {
        let (status, html) = page_on(&app, host, &format!("/room/{ALPHA_ROOM}")).await;
        assert_eq!(status, 200, "{host}");
        assert_eq!(look_of(&html).title_site, "Alpha Events", "{host}");
    }
    let res = request_on(&app, "GET", ALPHA, &format!("/room/{ALPHA_ROOM}"))
        .header("x-forwarded-host", BETA)
        .header("forwarded", format!("host={BETA}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        look_of(&res.text().await.unwrap()).title_site,
        "Alpha Events"
    );
    let res = request_on(&app, "GET", ELSEWHERE, &format!("/room/{L}"))
        .header("x-forwarded-host", ALPHA)
        .send()
        .await
        .unwrap();
    assert_eq!(look_of(&res.text().await.unwrap()).title_site, "roomgate");
}

/// The attendee and host links of a `links` answer.
fn attendee_and_host(links: &Value) -> (String, String) {
    (
        links["attendee"].as_str().unwrap().to_owned(),
        links["roles"]["host"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn each_brands_links_start_with_its_public_url_never_with_the_host_asked() {
    let app = brands_app().await;
    let alpha_links = (
        format!("{ALPHA_URL}/room/{ALPHA_ROOM}"),
        format!("{ALPHA_URL}/room/{ALPHA_ROOM}/{ALPHA_ROLE}"),
    );
    let path = format!("/admin/api/rooms/{ALPHA_ROOM}/links");
    for (host, query) in [
        (ELSEWHERE, "?brand=alpha"),
        (ALPHA, ""),
        ("events.alpha.example", ""),
        ("ALPHA.test:8080", ""),
        // `?brand=` wins over the host.
        (BETA, "?brand=alpha"),
    ] {
        let (status, links) = admin_on(&app, host, "GET", &format!("{path}{query}"), ADMIN).await;
        assert_eq!(status, 200, "{host}{query}: {links}");
        assert_eq!(attendee_and_host(&links), alpha_links, "{host}{query}");
    }
    let res = request_on(&app, "GET", ALPHA, &path)
        .bearer_auth(ADMIN)
        .header("x-forwarded-host", BETA)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let links: Value = res.json().await.unwrap();
    assert_eq!(attendee_and_host(&links), alpha_links, "X-Forwarded-Host");

    let path = format!("/admin/api/rooms/{L}/links");
    for (host, query, base) in [
        (BETA, "", BETA_URL),
        (ELSEWHERE, "?brand=beta", BETA_URL),
        (ELSEWHERE, "", PUBLIC_URL),
        (ALPHA, "?brand=default", PUBLIC_URL),
    ] {
        let (status, links) = admin_on(&app, host, "GET", &format!("{path}{query}"), ADMIN).await;
        assert_eq!(status, 200, "{host}{query}: {links}");
        assert_eq!(
            attendee_and_host(&links),
            (format!("{base}/room/{L}"), format!("{base}/room/{L}/{H}")),
            "{host}{query}"
        );
        assert_eq!(
            links["roles"]["presenter"],
            format!("{base}/room/{L}/{P}"),
            "{host}{query}"
        );
    }
}

#[tokio::test]
async fn a_host_no_brand_names_gets_the_default_brand() {
    let app = brands_app().await;
    for host in [ELSEWHERE, "127.0.0.1", "beta.test.example", "test"] {
        let (status, html) = page_on(&app, host, &format!("/room/{L}")).await;
        assert_eq!(status, 200, "{host}");
        assert_eq!(look_of(&html).title_site, "roomgate", "{host}");
    }
    // A room of alpha's own catalog is not the default's.
    assert_eq!(
        page_on(&app, ELSEWHERE, &format!("/room/{ALPHA_ROOM}"))
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn with_strict_hosts_an_unknown_host_gets_a_bare_421_but_the_probes_still_answer() {
    let app = brands_app_with("", "", |env| {
        env.insert("ROOMGATE__SERVER__STRICT_HOSTS".into(), "true".into());
    })
    .await;
    for host in [ELSEWHERE, "127.0.0.1", "alpha.test.example"] {
        for path in [
            format!("/room/{L}"),
            format!("/room/{NOBODYS}"),
            "/static/css/site.css".to_owned(),
            "/theme.css".to_owned(),
            "/sso".to_owned(),
        ] {
            let res = get_on(&app, host, &path).await;
            assert_eq!(res.status(), 421, "{host}{path}");
            assert!(res.headers().get("set-cookie").is_none());
            let body = res.text().await.unwrap();
            assert!(body.len() < 40, "{host}{path}: {body}");
            for name in ["alpha", "beta", "roomgate", "default"] {
                assert!(
                    !body.to_lowercase().contains(name),
                    "{host}{path} names {name}: {body}"
                );
            }
        }
        for probe in ["/healthz", "/readyz"] {
            assert_eq!(
                get_on(&app, host, probe).await.status(),
                200,
                "{host}{probe}"
            );
        }
    }
    let (status, html) = page_on(&app, ALPHA, &format!("/room/{ALPHA_ROOM}")).await;
    assert_eq!(status, 200, "the brands' own hosts are served");
    assert_eq!(look_of(&html).title_site, "Alpha Events");
    assert_eq!(page_on(&app, BETA, &format!("/room/{L}")).await.0, 200);
}

#[tokio::test]
async fn a_brands_own_static_file_is_served_on_its_hosts_only_and_the_base_files_on_every_host() {
    let app = brands_app().await;
    let (status, logo) = page_on(&app, ALPHA, "/static/img/alpha-logo.svg").await;
    assert_eq!(status, 200);
    assert!(logo.contains("alpha logo"), "{logo}");
    for host in [BETA, ELSEWHERE] {
        let (status, _) = page_on(&app, host, "/static/img/alpha-logo.svg").await;
        assert_eq!(status, 404, "{host}");
    }
    // A file of the base folder is served on every host, the same.
    let (_, base_css) = page_on(&app, ELSEWHERE, "/static/css/site.css").await;
    assert!(base_css.len() > 100);
    for host in [ALPHA, BETA] {
        assert_eq!(
            page_on(&app, host, "/static/css/site.css").await,
            (200, base_css.clone()),
            "{host}"
        );
    }
    // A brand's file of the same path as a base file wins on its host only.
    let (_, alpha_logo) = page_on(&app, ALPHA, "/static/img/logo.svg").await;
    assert!(alpha_logo.contains("alpha replaces the base logo"));
    for host in [BETA, ELSEWHERE] {
        let (status, base_logo) = page_on(&app, host, "/static/img/logo.svg").await;
        assert_eq!(status, 200);
        assert!(!base_logo.contains("alpha"), "{host}: {base_logo}");
    }
}

#[tokio::test]
async fn a_brands_own_error_page_is_shown_on_its_host_only() {
    let app = brands_app().await;
    let (status, html) = page_on(&app, BETA, &format!("/room/{NOBODYS}")).await;
    assert_eq!(status, 404);
    assert!(html.contains("Beta help desk"), "{html}");
    assert_eq!(look_of(&html).title_site, "Beta Webinars");
    for host in [ALPHA, ELSEWHERE] {
        let (status, html) = page_on(&app, host, &format!("/room/{NOBODYS}")).await;
        assert_eq!(status, 404, "{host}");
        assert!(!html.contains("Beta help desk"), "{host}");
        assert!(
            html.contains("error-card__icon"),
            "{host}: the base error page"
        );
    }
    // The other templates are the base ones, with beta's look.
    let (status, html) = page_on(&app, BETA, &format!("/room/{L}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"id="roomgate-embed""#));
}

#[tokio::test]
async fn each_brand_may_be_framed_only_by_its_own_ancestors() {
    let app = brands_app().await;
    for (host, room, ancestors, frame_options) in [
        (
            ALPHA,
            ALPHA_ROOM,
            "frame-ancestors 'self' https://intranet.alpha.example",
            None,
        ),
        (BETA, L, "frame-ancestors https://portal.beta.example", None),
        (ELSEWHERE, L, "frame-ancestors 'self'", Some("SAMEORIGIN")),
    ] {
        for path in [format!("/room/{room}"), format!("/room/{NOBODYS}")] {
            let res = get_on(&app, host, &path).await;
            let csp = res.headers()["content-security-policy"].to_str().unwrap();
            let last = csp.split("; ").find(|d| d.starts_with("frame-ancestors"));
            assert_eq!(last, Some(ancestors), "{host}{path}: {csp}");
            assert_eq!(
                res.headers()
                    .get("x-frame-options")
                    .map(|v| v.to_str().unwrap()),
                frame_options,
                "{host}{path}"
            );
        }
    }
}

#[tokio::test]
async fn powered_by_roomgate_shows_only_on_the_brand_that_asks_for_it() {
    let app = brands_app().await;
    for (host, room, shown) in [
        (BETA, L, true),
        (ALPHA, ALPHA_ROOM, false),
        (ELSEWHERE, L, false),
    ] {
        for path in [format!("/room/{room}"), format!("/room/{NOBODYS}")] {
            let (_, html) = page_on(&app, host, &path).await;
            assert_eq!(html.contains("site-footer__powered"), shown, "{host}{path}");
        }
    }
    let (_, html) = page_on(&app, BETA, &format!("/room/{L}")).await;
    assert!(html.contains("Powered by roomgate"));
    let (_, html) = page_on(&app, ALPHA, &format!("/room/{ALPHA_ROOM}?lang=en")).await;
    assert!(!html.contains("Powered by"));
}

#[tokio::test]
async fn a_brands_calendar_file_links_to_its_own_public_url() {
    let app = brands_app().await;
    for (host, base) in [(BETA, BETA_URL), (ELSEWHERE, PUBLIC_URL)] {
        let res = get_on(&app, host, &format!("/room/{SCHEDULED}/calendar.ics")).await;
        assert_eq!(res.status(), 200, "{host}");
        // Long lines are folded (RFC 5545 §3.1).
        let ics = res.text().await.unwrap().replace("\r\n ", "");
        assert!(
            ics.contains(&format!("{base}/room/{SCHEDULED}")),
            "{host}: {ics}"
        );
        for other in [BETA_URL, PUBLIC_URL, ALPHA_URL]
            .iter()
            .filter(|o| **o != base)
        {
            assert!(!ics.contains(other), "{host} names {other}: {ics}");
        }
    }
}

#[tokio::test]
async fn any_missing_page_on_a_brand_host_is_that_brands_error_page() {
    let app = brands_app().await;
    for path in [
        "/nothing/here",
        "/room/not-a-key",
        "/static/no-such-file.css",
    ] {
        let (status, html) = page_on(&app, BETA, path).await;
        assert_eq!(status, 404, "{path}");
        assert!(html.contains("Beta help desk"), "{path}: {html}");
        let (status, html) = page_on(&app, ALPHA, path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(look_of(&html).title_site, "Alpha Events", "{path}");
        assert_eq!(look_of(&html).lang, "pl", "{path}");
    }
}

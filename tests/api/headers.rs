use crate::helpers::{L, spawn_app, spawn_app_with};

const EXPECTED: [(&str, &str); 5] = [
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("x-robots-tag", "noindex"),
    ("cache-control", "private, no-store"),
    ("x-frame-options", "SAMEORIGIN"),
];

#[tokio::test]
async fn every_html_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in [
        format!("/room/{L}"),
        "/room/999-999-999".into(),
        "/room/345-345-345".into(),
        "/nope".into(),
    ] {
        let res = app.get(&path).await;
        for (name, value) in EXPECTED {
            assert_eq!(res.headers()[name], value, "{path}: {name}");
        }
        let csp = res.headers()["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'none'",
            "script-src 'self' https://embed.example",
            "frame-src https://app.example https://embed.example",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'self'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: CSP lacks {directive}: {csp}"
            );
        }
        assert!(!csp.contains("unsafe"), "{path}: no unsafe-* in {csp}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
    }
}

#[tokio::test]
async fn pages_have_no_inline_script_or_style() {
    let app = spawn_app().await;
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    for tag in html.split("<script").skip(1) {
        let open = &tag[..tag.find('>').unwrap()];
        let body_empty = tag[tag.find('>').unwrap() + 1..].starts_with("</script>");
        assert!(
            open.contains("type=\"application/json\"") || (open.contains("src=") && body_empty),
            "inline script found: <script{open}>"
        );
    }
    assert!(!html.contains("<style"), "no style blocks");
    assert!(!html.contains(" style="), "no style attributes");
    assert!(
        !html.contains(" onload=") && !html.contains(" onclick="),
        "no event handlers"
    );
}

#[tokio::test]
async fn static_files_and_the_theme_are_cached_for_long() {
    let app = spawn_app().await;
    for path in ["/static/js/room.js", "/static/css/site.css", "/theme.css"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable",
            "{path}"
        );
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    }
    let theme = app.get("/theme.css").await.text().await.unwrap();
    assert!(theme.contains("--brand:#1f5fd6"));
    assert_eq!(
        app.get("/static/").await.status(),
        404,
        "no directory listing"
    );
    assert_eq!(app.get("/static/../Cargo.toml").await.status(), 404);
}

#[tokio::test]
async fn frame_ancestors_and_the_brand_colour_come_from_the_settings() {
    let app = spawn_app_with(|env| {
        env.insert(
            "ROOMGATE__SECURITY__FRAME_ANCESTORS".into(),
            "'none'".into(),
        );
        env.insert("ROOMGATE__BRANDING__PRIMARY_COLOR".into(), "#aa0000".into());
    })
    .await;
    let res = app.get(&format!("/room/{L}")).await;
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert!(
        app.get("/theme.css")
            .await
            .text()
            .await
            .unwrap()
            .contains("--brand:#aa0000")
    );
}

use crate::helpers::{L, TestApp, embed_block, embed_json, new_client, spawn_app};

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The page `client` gets for the room link with `?_nickname={sent}`.
async fn page_with_nickname(app: &TestApp, client: &reqwest::Client, sent: &str) -> String {
    let res = client
        .get(app.url(&format!("/room/{L}?_nickname={}", encode(sent))))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{sent:?}");
    res.text().await.unwrap()
}

#[tokio::test]
async fn hostile_nicknames_stay_data_and_blank_ones_are_dropped() {
    let app = spawn_app().await;
    let long = "ż".repeat(10_000);
    // (nickname sent, what the embed must receive: the cleaned value, or none)
    let cases: Vec<(&str, Option<&str>)> = vec![
        (
            "</script><script>alert(1)</script>",
            Some("</script><script>alert(1)</script>"),
        ),
        (
            "</script><script>alert(1)</script><!--",
            Some("</script><script>alert(1)</script><!--"),
        ),
        ("<!--", Some("<!--")),
        ("\"quoted\" and 'single'", Some("\"quoted\" and 'single'")),
        ("a&_role_token=X", Some("a&_role_token=X")),
        (
            "line\u{2028}sep\u{2029}para",
            Some("line\u{2028}sep\u{2029}para"),
        ),
        (
            "<img src=x onerror=alert(1)>",
            Some("<img src=x onerror=alert(1)>"),
        ),
        ("&lt;script&gt;", Some("&lt;script&gt;")),
        ("🎉 Zoë", Some("🎉 Zoë")),
        ("tab\tnew\nline", Some("tabnewline")),
        ("\u{0}\u{1b}[31m", Some("[31m")),
        ("   ", None),
        ("\u{0}\u{7}\u{1b}\u{7f}", None),
        ("\t\r\n \u{b}", None),
        (long.as_str(), None),
    ];
    const EARLIER: &str = "Earlier Name";
    for (sent, expected) in cases {
        // A first visit with nothing remembered.
        let html = page_with_nickname(&app, &new_client(), sent).await;
        let raw = embed_json(&html).unwrap();
        for c in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
            assert!(!raw.contains(c), "{sent:?}: raw {c:?} in the data block");
        }
        assert_eq!(
            embed_block(&html).unwrap().options.nickname.as_deref(),
            expected,
            "{sent:?}: a first visit"
        );
        assert!(
            !html.contains("<script>alert(1)"),
            "{sent:?}: no markup reaches the page"
        );
        assert!(!html.contains("<img src=x"), "{sent:?}");

        // A visitor who gave a name before: a dropped value does not replace it.
        let returning = new_client();
        page_with_nickname(&app, &returning, EARLIER).await;
        let html = page_with_nickname(&app, &returning, sent).await;
        assert_eq!(
            embed_block(&html).unwrap().options.nickname.as_deref(),
            Some(expected.unwrap_or(EARLIER)),
            "{sent:?}: a visitor with a remembered name"
        );
        let res = returning.get(app.url(&format!("/room/{L}"))).send().await;
        let html = res.unwrap().text().await.unwrap();
        assert_eq!(
            embed_block(&html).unwrap().options.nickname.as_deref(),
            Some(expected.unwrap_or(EARLIER)),
            "{sent:?}: the name remembered for the clean link"
        );
    }
}

#[tokio::test]
async fn hostile_avatar_urls_and_tokens_are_dropped() {
    let app = spawn_app().await;
    for avatar in [
        "javascript:alert(1)",
        "data:text/html,<script>",
        "http://cdn.example/a.png",
        "//x",
    ] {
        let (_, html) = app
            .get_html(&format!("/room/{L}?_avatar_url={}", encode(avatar)))
            .await;
        assert_eq!(
            embed_block(&html).unwrap().options.avatar_url,
            None,
            "{avatar}"
        );
    }
    for token in ["a\"b", "<script>", "x y", "../../etc", &"t".repeat(129)] {
        let (_, html) = app
            .get_html(&format!("/room/{L}?_personal_token={}", encode(token)))
            .await;
        assert_eq!(
            embed_block(&html).unwrap().options.personal_token,
            None,
            "{token}"
        );
    }
}

use crate::helpers::{
    H, H2, INACTIVE, L, L2, P, SCHEDULED, embed_block, embed_json, html_decode, raw_request,
    spawn_app,
};

#[tokio::test]
async fn the_attendee_link_shows_the_room_with_its_embed() {
    let app = spawn_app().await;
    let (status, html) = app.get_html(&format!("/room/{L}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Product demo"));
    let block = embed_block(&html).expect("the page carries the embed block");
    assert_eq!(block.loader, "https://embed.example/em");
    assert_eq!(block.options.license_key, L);
    assert_eq!(block.options.role_token, None);
    assert_eq!(block.options.container_id, "roomgate-room");
    assert_eq!(block.options.width, "100%");
    assert_eq!(block.options.disable_target_top.as_deref(), Some("1"));
    assert!(
        html.contains(r#"<script src="/static/js/room.js"#),
        "the page script is loaded"
    );
    assert!(
        html_decode(&html).contains(r#"href="https://app.example/123-123-123""#),
        "noscript direct link"
    );
}

#[tokio::test]
async fn a_host_link_joins_as_host() {
    let app = spawn_app().await;
    let (status, html) = app.get_html(&format!("/room/{L}/{H}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Joining as host"), "the page names the role");
    assert_eq!(
        embed_block(&html).unwrap().options.role_token.as_deref(),
        Some(H)
    );
}

#[tokio::test]
async fn the_presenter_page_never_contains_the_host_token() {
    let app = spawn_app().await;
    let (status, html) = app.get_html(&format!("/room/{L}/{P}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Joining as presenter"));
    assert!(!html.contains(H), "no other role token on the page");
}

#[tokio::test]
async fn a_wrong_role_hash_looks_exactly_like_an_unknown_room() {
    let app = spawn_app().await;
    let unknown = app.get_html("/room/999-999-999").await;
    let wrong_hash = app.get_html(&format!("/room/{L}/WrongHash")).await;
    let other_rooms_hash = app.get_html(&format!("/room/{L}/{H2}")).await;
    let host_of_l_on_l2 = app.get_html(&format!("/room/{L2}/{H}")).await;
    assert_eq!(unknown.0, 404);
    for (what, answer) in [
        ("wrong hash", &wrong_hash),
        ("another room's hash", &other_rooms_hash),
        ("L's host hash on L2", &host_of_l_on_l2),
    ] {
        assert_eq!(
            answer, &unknown,
            "{what}: same status and same body as an unknown room"
        );
    }
    assert!(unknown.1.contains("No such room"));
}

#[tokio::test]
async fn an_inactive_room_answers_410() {
    let app = spawn_app().await;
    for path in [
        format!("/room/{INACTIVE}"),
        format!("/room/{INACTIVE}/ClosedHost000"),
    ] {
        let (status, html) = app.get_html(&path).await;
        assert_eq!(status, 410, "{path}");
        assert!(html.contains("no longer available"));
    }
}

#[tokio::test]
async fn malformed_keys_and_hashes_get_the_404_page() {
    let app = spawn_app().await;
    let long = "1".repeat(64 * 1024);
    let cases = [
        ("short key", "/room/123-123".to_owned()),
        ("letters", "/room/abc-def-ghi".to_owned()),
        ("encoded slash", "/room/123%2F123-123".to_owned()),
        ("traversal", "/room/..%2F..%2Fetc%2Fpasswd".to_owned()),
        ("invalid utf-8", "/room/%FF%FE%FD".to_owned()),
        ("invalid utf-8 in the hash", format!("/room/{L}/%C3%28")),
        ("bad percent-encoding", "/room/123-123-12%zz".to_owned()),
        ("hash with a dot", format!("/room/{L}/abc.def")),
        ("hash too long", format!("/room/{L}/{}", "a".repeat(129))),
        ("hash with encoded NUL", format!("/room/{L}/abc%00")),
        ("extra segment", format!("/room/{L}/{H}/more")),
        ("trailing slash", format!("/room/{L}/")),
        ("no key", "/room/".to_owned()),
        ("8 KiB path", format!("/room/{}", "1".repeat(8 * 1024))),
    ];
    for (what, path) in cases {
        let (status, html) = app.get_html(&path).await;
        assert_eq!(status, 404, "{what}");
        assert!(html.contains("No such room"), "{what}: branded 404 page");
    }
    // 64 KiB is more than the HTTP layer accepts in a request head: a clear 4xx.
    for target in [
        format!("/room/{long}"),
        format!("/room/{L}?_nickname={long}"),
    ] {
        let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        let status_line = raw_request(&app.address, request.as_bytes()).await;
        assert!(
            status_line.starts_with("HTTP/1.1 4"),
            "64 KiB target: {status_line}"
        );
    }
}

#[tokio::test]
async fn a_huge_or_broken_query_is_ignored_not_refused() {
    let app = spawn_app().await;
    for query in [
        "_nickname=%FF%FE",
        "_nickname=%zz&_email=a%",
        "&&==&",
        "_nickname",
    ] {
        let (status, html) = app.get_html(&format!("/room/{L}?{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(
            embed_block(&html).unwrap().options.nickname,
            None,
            "{query}"
        );
    }
    let big = format!("/room/{L}?_nickname={}", "x".repeat(16 * 1024));
    let (status, html) = app.get_html(&big).await;
    assert_eq!(status, 200);
    assert_eq!(
        embed_block(&html).unwrap().options.nickname,
        None,
        "too long: dropped"
    );
}

/// Sends `request` on a new connection and returns everything the server sends until it
/// closes the connection (or 5 s pass).
async fn raw_answer(address: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut received),
    )
    .await;
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn head_answers_like_get_without_a_body() {
    let app = spawn_app().await;
    for (path, status) in [
        (format!("/room/{L}"), 200),
        ("/room/999-999-999".into(), 404),
    ] {
        let get = app.get(&path).await;
        assert_eq!(get.status(), status, "GET {path}");
        let get_headers = get.headers().clone();
        assert!(
            !get.text().await.unwrap().is_empty(),
            "GET {path} has a body"
        );
        let head = app.head(&path).await;
        assert_eq!(head.status(), status, "HEAD {path}");
        for name in ["content-type", "content-security-policy", "cache-control"] {
            assert_eq!(
                head.headers().get(name),
                get_headers.get(name),
                "HEAD {path}: {name} as for GET"
            );
        }

        // Raw, because an HTTP client never reads the body of an answer to HEAD.
        let answer = raw_answer(
            &app.address,
            &format!("HEAD {path} HTTP/1.1\r\nHost: rooms.test\r\nConnection: close\r\n\r\n"),
        )
        .await;
        let (head, rest) = answer
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("HEAD {path}: no complete header block in {answer:?}"));
        assert!(
            head.starts_with(&format!("HTTP/1.1 {status} ")),
            "HEAD {path}: {head}"
        );
        assert!(
            rest.is_empty(),
            "HEAD {path}: {} bytes follow the header block: {rest:.200}",
            rest.len()
        );
    }
}

#[tokio::test]
async fn a_scheduled_room_shows_its_start_in_its_own_timezone() {
    let app = spawn_app().await;
    let (status, html) = app.get_html(&format!("/room/{SCHEDULED}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Tuesday, 1 December 2026, 16:00 CET"),
        "start in Europe/Warsaw"
    );
    assert!(
        html.contains(r#"datetime="2026-12-01T15:00:00Z""#),
        "UTC instant for the script"
    );
}

#[tokio::test]
async fn the_agenda_is_shown_as_escaped_text() {
    let app = spawn_app().await;
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    assert!(
        html.contains("&lt;b&gt;Bold?&lt;&#x2F;b&gt; &amp; more"),
        "escaped agenda"
    );
    assert!(!html.contains("<b>Bold?</b>"));
}

#[tokio::test]
async fn unknown_paths_and_methods_get_branded_pages() {
    let app = spawn_app().await;
    let (status, html) = app.get_html("/nothing-here").await;
    assert_eq!(status, 404);
    assert!(html.contains("No such room"));
    let res = app
        .client
        .delete(app.url(&format!("/room/{L}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert!(res.text().await.unwrap().contains("Not allowed"));
    assert!(embed_json("").is_none());
}

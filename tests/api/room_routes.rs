//! The four room routes are matched by hand (issue 16): every method and path shape gets
//! the answer the framework's router gave, 405 with its `Allow` list or the branded 404.

use reqwest::Method;

use crate::helpers::{H, L, spawn_app};

#[tokio::test]
async fn a_method_a_room_route_does_not_take_is_405_with_the_methods_it_does() {
    let app = spawn_app().await;
    let cases = [
        (Method::DELETE, format!("/room/{L}"), "GET, HEAD"),
        (Method::POST, format!("/room/{L}"), "GET, HEAD"),
        (Method::PUT, format!("/room/{L}/{H}"), "GET, HEAD"),
        (Method::GET, format!("/room/{L}/join"), "POST"),
        (Method::HEAD, format!("/room/{L}/join"), "POST"),
        (Method::POST, format!("/room/{L}/calendar.ics"), "GET, HEAD"),
        (Method::OPTIONS, format!("/room/{L}"), "GET, HEAD"),
    ];
    for (method, path, allow) in cases {
        let res = app
            .client
            .request(method.clone(), app.url(&path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 405, "{method} {path}");
        assert_eq!(
            res.headers()["allow"].to_str().unwrap(),
            allow,
            "{method} {path}"
        );
        assert_eq!(
            res.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .split(';')
                .next(),
            Some("default-src 'none'"),
            "the security headers, {method} {path}"
        );
        if method != Method::HEAD {
            let html = res.text().await.unwrap();
            assert!(html.contains("Not allowed"), "{method} {path}: {html}");
        }
    }
}

#[tokio::test]
async fn paths_that_are_no_room_route_get_the_branded_404() {
    let app = spawn_app().await;
    for path in [
        "/room".to_owned(),
        "/room/".to_owned(),
        "/rooms".to_owned(),
        format!("/room/{L}/"),
        format!("/room/{L}//"),
        format!("/room//{H}"),
        format!("/room/{L}/{H}/more"),
        format!("/room/{L}/join/"),
        format!("/roomx/{L}"),
    ] {
        let (status, html) = app.get_html(&path).await;
        assert_eq!(status, 404, "{path}");
        assert!(html.contains("No such room"), "{path}");
    }
}

#[tokio::test]
async fn escaped_paths_reach_the_route_they_name() {
    let app = spawn_app().await;
    // `%2D` is `-`: the router decodes it before matching, and so does the hand parser.
    let (status, html) = app.get_html("/room/123%2D123-123").await;
    assert_eq!(status, 200);
    assert!(html.contains("Product demo"));
    // An escaped slash stays one segment: no room has that key.
    let (status, _) = app.get_html(&format!("/room/{L}%2F{H}")).await;
    assert_eq!(status, 404);
    let res = app
        .client
        .get(app.url(&format!("/room/{L}/%6Aoin")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405, "`%6Aoin` is `join`");
}

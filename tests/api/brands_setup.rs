//! One server with two brands beside the default one (`tests/fixtures/brands/brands.toml`),
//! and requests sent to it under a host name of our choosing.
//!
//! - alpha (`alpha.test`, `events.alpha.example`): its own catalog (rooms 700 and 701), its
//!   own static files, Polish, links on `https://rooms.alpha.example`.
//! - beta (`beta.test`): the default rooms but only `123-123-123` and `234-*`, its own
//!   `error.html`, "Powered by roomgate", links on `https://beta.example`.
//! - the default (any other host): the tests' top-level settings.
//!
//! Every request goes to 127.0.0.1 with the `Host` header set by hand, from a client
//! that keeps no cookies: a client's cookie jar is kept per address, so it would carry a
//! cookie of one brand to every other.

use std::collections::HashMap;

use serde_json::Value;

use crate::helpers::{TestApp, new_client, repo_path, spawn_app_with};

pub(crate) const ALPHA: &str = "alpha.test";
pub(crate) const BETA: &str = "beta.test";
/// A host no brand names: the default brand's.
pub(crate) const ELSEWHERE: &str = "elsewhere.example";

pub(crate) const ALPHA_URL: &str = "https://rooms.alpha.example";
pub(crate) const BETA_URL: &str = "https://beta.example";

/// Alpha's rooms (its own catalog); no other brand serves them.
pub(crate) const ALPHA_ROOM: &str = "700-700-700";
pub(crate) const ALPHA_ROLE: &str = "alphahost700";
pub(crate) const ALPHA_SCHEDULED: &str = "701-701-701";

/// A key no brand has.
pub(crate) const NOBODYS: &str = "999-999-999";

/// Operator tokens: the top-level one and beta's own.
pub(crate) const ADMIN: &str = "top-level-admin-token-0123456789-abcdef";
pub(crate) const BETA_ADMIN: &str = "beta-admin-token-0123456789-abcdefghijk";

/// The fixture file with `alpha` and `beta` added to the tables of those brands (key =
/// value lines; inline tables for `sso`). Secrets go only into copies of it written to
/// temporary folders.
pub(crate) fn brands_text(alpha: &str, beta: &str) -> String {
    let text = std::fs::read_to_string(repo_path("tests/fixtures/brands/brands.toml")).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        match line {
            r#"id = "alpha""# => out.push_str(&format!("{alpha}\n")),
            r#"id = "beta""# => out.push_str(&format!("{beta}\n")),
            _ => {}
        }
    }
    out
}

/// The server of the fixture, with `alpha` and `beta` added to those brands' tables
/// and the environment changed by `tweak`.
pub(crate) async fn brands_app_with(
    alpha: &str,
    beta: &str,
    tweak: impl FnOnce(&mut HashMap<String, String>),
) -> TestApp {
    brands_app_from(&brands_text(alpha, beta), tweak).await
}

/// The server of the brands file `text`, with the environment changed by `tweak`.
pub(crate) async fn brands_app_from(
    text: &str,
    tweak: impl FnOnce(&mut HashMap<String, String>),
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("brands.toml");
    std::fs::write(&file, text).unwrap();
    let file = file.display().to_string();
    // Read once at start-up: the folder may go when the app is up.
    spawn_app_with(move |env| {
        env.insert("ROOMGATE_CONFIG_FILE".into(), file);
        tweak(env);
    })
    .await
}

/// The server of the fixture with the top-level admin token.
pub(crate) async fn brands_app() -> TestApp {
    brands_app_with("", "", |env| {
        env.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
    })
    .await
}

/// `method path` sent to `host`, without cookies; redirects are not followed.
pub(crate) fn request_on(
    app: &TestApp,
    method: &str,
    host: &str,
    path: &str,
) -> reqwest::RequestBuilder {
    new_client()
        .request(method.parse().unwrap(), app.url(path))
        .header("host", host)
}

/// `GET path` on `host`.
pub(crate) async fn get_on(app: &TestApp, host: &str, path: &str) -> reqwest::Response {
    request_on(app, "GET", host, path).send().await.unwrap()
}

/// `GET path` on `host`: status and body.
pub(crate) async fn page_on(app: &TestApp, host: &str, path: &str) -> (u16, String) {
    let res = get_on(app, host, path).await;
    (res.status().as_u16(), res.text().await.unwrap())
}

/// `GET path` on `host` sending exactly `cookie`: status and body.
pub(crate) async fn page_with_cookie(
    app: &TestApp,
    host: &str,
    path: &str,
    cookie: &str,
) -> (u16, String) {
    let res = request_on(app, "GET", host, path)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The session cookie an answer sets, as a `Cookie` header value (`name=value`).
pub(crate) fn session_cookie(res: &reqwest::Response) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("roomgate="))
        .and_then(|v| v.split(';').next())
        .expect("the answer sets the session cookie")
        .to_owned()
}

/// `method path` of the admin API on `host` with `token`: status and JSON body.
pub(crate) async fn admin_on(
    app: &TestApp,
    host: &str,
    method: &str,
    path: &str,
    token: &str,
) -> (u16, Value) {
    let res = request_on(app, method, host, path)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{method} {path} on {host}: not JSON ({e}): {text}"));
    (status, body)
}

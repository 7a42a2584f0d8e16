//! Prometheus metrics: `/metrics` on its own listener (`metrics.address`), the exact counts
//! after known traffic, and the dashboard and alert rules in `deploy/` against what the
//! application really shows.
//!
//! Every app has a recorder of its own (see `roomgate::observe`), so the counts below are
//! exact although the tests run side by side in one process.

use std::{
    collections::{BTreeSet, HashMap},
    path::Path,
    time::Duration,
};

use serde_json::{Value, json};
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path},
};

use crate::fake_vendor::{Vendor, spawn_api_app, widget};
use crate::helpers::{
    H, L, PUBLIC_URL, TestApp, input_value, load_settings, new_client, repo_path, spawn_app,
    spawn_app_with, test_env,
};

const ROOM: &str = "555-555-555";
const OTHER_ROOM: &str = "666-666-666";
const SCHEDULED: &str = "234-234-234";
const STRICT: &str = "456-456-456";

pub(crate) fn metrics_on(env: &mut HashMap<String, String>) {
    env.insert("ROOMGATE__METRICS__ADDRESS".into(), "127.0.0.1:0".into());
}

/// One sample of a scrape: its name, its labels in order, its value.
#[derive(Debug)]
pub(crate) struct Sample {
    pub(crate) name: String,
    pub(crate) labels: Vec<(String, String)>,
    value: f64,
}

/// What `/metrics` answered.
pub(crate) struct Scrape {
    text: String,
    pub(crate) samples: Vec<Sample>,
}

impl Scrape {
    /// The value of the sample `name` with exactly `labels` (in any order).
    pub(crate) fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut wanted: Vec<(&str, &str)> = labels.to_vec();
        wanted.sort();
        self.samples
            .iter()
            .find(|s| {
                let mut have: Vec<(&str, &str)> = s
                    .labels
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                have.sort();
                s.name == name && have == wanted
            })
            .map(|s| s.value)
    }

    /// Asserts the sample `name` with `labels` is exactly `expected`.
    #[track_caller]
    pub(crate) fn assert(&self, name: &str, labels: &[(&str, &str)], expected: f64) {
        assert_eq!(
            self.value(name, labels),
            Some(expected),
            "{name} {labels:?}; the scrape:\n{}",
            self.relevant(name)
        );
    }

    /// The lines of the scrape about `name`, for failure messages.
    fn relevant(&self, name: &str) -> String {
        self.text
            .lines()
            .filter(|l| l.contains(name))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Every sample name.
    fn names(&self) -> BTreeSet<&str> {
        self.samples.iter().map(|s| s.name.as_str()).collect()
    }
}

/// Parses the Prometheus text format (label values here never hold escapes, but may hold
/// braces: `route="/room/{key}"`).
fn parse(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name_end = line.find(['{', ' ']).expect("a sample line has a value");
        let name = line[..name_end].to_owned();
        let mut labels = Vec::new();
        let mut rest = &line[name_end..];
        if let Some(inner) = rest.strip_prefix('{') {
            let mut chars = inner.char_indices();
            let mut key = String::new();
            let end = loop {
                let (i, c) = chars.next().expect("labels end with }");
                match c {
                    '}' => break i,
                    ',' => {}
                    '=' => {
                        assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                        let mut value = String::new();
                        for (_, c) in chars.by_ref() {
                            if c == '"' {
                                break;
                            }
                            value.push(c);
                        }
                        labels.push((std::mem::take(&mut key), value));
                    }
                    c => key.push(c),
                }
            };
            rest = &inner[end + 1..];
        }
        let value = rest
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{line}: {e}"));
        samples.push(Sample {
            name,
            labels,
            value,
        });
    }
    samples
}

pub(crate) async fn scrape(app: &TestApp) -> Scrape {
    let address = app
        .metrics_address
        .as_ref()
        .expect("the test turned metrics on");
    let res = reqwest::get(format!("{address}/metrics"))
        .await
        .expect("the metrics listener answers");
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    Scrape {
        samples: parse(&text),
        text,
    }
}

/// Scrapes until `check` holds (background work finishes on its own time), at most 5 s.
async fn scrape_until(app: &TestApp, check: impl Fn(&Scrape) -> bool) -> Scrape {
    for _ in 0..100 {
        let now = scrape(app).await;
        if check(&now) {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    scrape(app).await
}

const REQUESTS: &str = "roomgate_http_requests_total";
const DURATIONS: &str = "roomgate_http_request_duration_seconds_count";
const VIEWS: &str = "roomgate_page_views_total";
pub(crate) const CACHE: &str = "roomgate_room_cache_events_total";
pub(crate) const CALLS: &str = "roomgate_vendor_calls_total";
/// The `brand` label of the top-level vendor account's figures.
const DEFAULT: (&str, &str) = ("brand", "default");

#[tokio::test]
async fn with_metrics_off_nothing_listens_and_pages_are_the_same() {
    let off = spawn_app().await;
    assert!(off.metrics_address.is_none(), "off by default: no listener");
    let on = spawn_app_with(metrics_on).await;
    for path in [
        format!("/room/{L}"),
        format!("/room/{L}/{H}"),
        "/nope".into(),
    ] {
        let (a, b) = (off.get(&path).await, on.get(&path).await);
        assert_eq!(a.status(), b.status(), "{path}");
        let names = |r: &reqwest::Response| {
            let mut n: Vec<String> = r.headers().keys().map(|k| k.to_string()).collect();
            n.sort();
            n
        };
        assert_eq!(names(&a), names(&b), "{path}");
        assert_eq!(a.text().await.unwrap(), b.text().await.unwrap(), "{path}");
    }
}

#[tokio::test]
async fn metrics_are_served_in_the_prometheus_text_format_on_their_own_port_only() {
    let app = spawn_app_with(metrics_on).await;
    assert_eq!(
        app.get("/metrics").await.status(),
        404,
        "not on the public port"
    );
    let address = app.metrics_address.clone().unwrap();
    assert_ne!(address, app.address);
    let res = reqwest::get(format!("{address}/metrics")).await.unwrap();
    assert_eq!(
        res.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let scrape = Scrape {
        samples: vec![],
        text: res.text().await.unwrap(),
    };
    let scrape = Scrape {
        samples: parse(&scrape.text),
        text: scrape.text,
    };
    scrape.assert(
        "roomgate_build_info",
        &[
            ("version", env!("CARGO_PKG_VERSION")),
            ("commit", roomgate::observe::BUILD_COMMIT),
        ],
        1.0,
    );
    assert!(
        scrape
            .value("process_resident_memory_bytes", &[])
            .is_some_and(|v| v > 0.0),
        "process figures are shown"
    );
    assert!(
        scrape.text.contains("# HELP roomgate_build_info Always 1"),
        "metrics are described"
    );
}

#[tokio::test]
async fn page_views_answers_and_throttled_role_hashes_are_counted_exactly() {
    let app = spawn_app_with(|e| {
        metrics_on(e);
        e.insert("ROOMGATE__SECURITY__ROLE_GUESS_LIMIT".into(), "2".into());
    })
    .await;
    for _ in 0..3 {
        assert_eq!(app.get(&format!("/room/{L}")).await.status(), 200);
    }
    assert_eq!(app.get(&format!("/room/{L}/{H}")).await.status(), 200);
    let personal = new_client()
        .get(app.url(&format!("/room/{L}?_personal_token=Personal1")))
        .send()
        .await
        .unwrap();
    assert_eq!(personal.status(), 200);
    assert_eq!(app.head(&format!("/room/{L}")).await.status(), 200);
    assert_eq!(app.get(&format!("/room/{SCHEDULED}")).await.status(), 200);
    assert_eq!(app.get(&format!("/room/{STRICT}")).await.status(), 200);
    for guess in ["Wrong1", "Wrong2"] {
        assert_eq!(app.get(&format!("/room/{L}/{guess}")).await.status(), 404);
    }
    for guess in ["Wrong3", H] {
        assert_eq!(app.get(&format!("/room/{L}/{guess}")).await.status(), 429);
    }
    assert_eq!(app.get("/nope").await.status(), 404);
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/static/css/site.css").await.status(), 200);
    app.advance(chrono::Duration::hours(5));
    assert_eq!(app.get(&format!("/room/{SCHEDULED}")).await.status(), 200);

    let m = scrape(&app).await;
    m.assert(VIEWS, &[("kind", "attendee"), ("phase", "live")], 3.0);
    m.assert(VIEWS, &[("kind", "role"), ("phase", "live")], 1.0);
    m.assert(VIEWS, &[("kind", "personal"), ("phase", "live")], 1.0);
    m.assert(VIEWS, &[("kind", "attendee"), ("phase", "upcoming")], 1.0);
    m.assert(VIEWS, &[("kind", "attendee"), ("phase", "waiting")], 1.0);
    m.assert(VIEWS, &[("kind", "attendee"), ("phase", "ended")], 1.0);
    assert_eq!(
        m.samples.iter().filter(|s| s.name == VIEWS).count(),
        6,
        "HEAD is no view:\n{}",
        m.relevant(VIEWS)
    );
    // 3 attendee + 1 personal + HEAD + upcoming + waiting + ended.
    let page = [("route", "/room/{key}"), ("status_class", "2xx")];
    m.assert(REQUESTS, &page, 8.0);
    m.assert(DURATIONS, &[("route", "/room/{key}")], 8.0);
    m.assert(
        REQUESTS,
        &[("route", "/room/{key}/{role}"), ("status_class", "2xx")],
        1.0,
    );
    m.assert(
        REQUESTS,
        &[("route", "/room/{key}/{role}"), ("status_class", "4xx")],
        4.0,
    );
    m.assert("roomgate_throttled_total", &[("limit", "role_hash")], 2.0);
    m.assert(
        REQUESTS,
        &[("route", "other"), ("status_class", "4xx")],
        1.0,
    );
    m.assert(
        REQUESTS,
        &[("route", "/healthz"), ("status_class", "2xx")],
        1.0,
    );
    m.assert(
        REQUESTS,
        &[("route", "/static"), ("status_class", "2xx")],
        1.0,
    );
    assert!(
        !m.text.contains(L) && !m.text.contains(H) && !m.text.contains("Personal1"),
        "no room key or token is ever a label"
    );
}

#[tokio::test]
async fn name_prompts_and_refused_forms_are_counted_exactly() {
    let app = spawn_app_with(|e| {
        metrics_on(e);
        e.insert("ROOMGATE__ROOMS__REQUIRE_NICKNAME".into(), "true".into());
    })
    .await;
    let (status, html) = app.get_html(&format!("/room/{L}")).await;
    assert_eq!(status, 200);
    let csrf = input_value(&html, "csrf").expect("the prompt has a CSRF token");
    let form = |nickname: &'static str, csrf: &str| {
        vec![
            ("nickname", nickname.to_owned()),
            ("csrf", csrf.to_owned()),
            ("return_to", format!("/room/{L}")),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>, origin: &'static str| {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = crate::helpers::form_body(&pairs);
        app.client
            .post(app.url(&format!("/room/{L}/join")))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", origin)
            .body(body)
            .send()
    };
    let statuses = [
        post(form("Ada", &csrf), "https://evil.example")
            .await
            .unwrap(),
        post(form("Ada", "wrong"), PUBLIC_URL).await.unwrap(),
        post(form("   ", &csrf), PUBLIC_URL).await.unwrap(),
        post(form("Ada", &csrf), PUBLIC_URL).await.unwrap(),
    ]
    .map(|r| r.status().as_u16());
    assert_eq!(statuses, [403, 403, 422, 303]);

    let m = scrape(&app).await;
    m.assert("roomgate_name_prompts_total", &[("event", "shown")], 2.0);
    m.assert(
        "roomgate_name_prompts_total",
        &[("event", "submitted")],
        1.0,
    );
    m.assert("roomgate_forms_refused_total", &[("reason", "origin")], 1.0);
    m.assert("roomgate_forms_refused_total", &[("reason", "csrf")], 1.0);
    m.assert(VIEWS, &[("kind", "attendee"), ("phase", "live")], 1.0);
    let join = |class| [("route", "/room/{key}/join"), ("status_class", class)];
    m.assert(REQUESTS, &join("4xx"), 3.0);
    m.assert(REQUESTS, &join("3xx"), 1.0);
}

#[tokio::test]
async fn refused_sign_in_tokens_and_admin_tokens_are_counted_by_reason() {
    use crate::sso::{claims, now, sign};
    let app = spawn_app_with(|e| {
        metrics_on(e);
        e.insert("ROOMGATE__SSO__SECRET".into(), crate::sso::SECRET.into());
        e.insert("ROOMGATE__ADMIN__TOKEN".into(), crate::oauth::ADMIN.into());
        e.insert("ROOMGATE__SECURITY__ROLE_GUESS_LIMIT".into(), "2".into());
    })
    .await;
    assert_eq!(app.get("/sso").await.status(), 400);
    assert_eq!(app.get("/sso?token=garbage").await.status(), 400);
    let mut expired = claims("Grace", "jti-old");
    expired["iat"] = json!(now() - 200);
    expired["exp"] = json!(now() - 100);
    let token = sign(&expired);
    assert_eq!(app.get(&format!("/sso?token={token}")).await.status(), 400);
    let token = sign(&claims("Grace", "jti-1"));
    assert_eq!(app.get(&format!("/sso?token={token}")).await.status(), 303);
    assert_eq!(app.get(&format!("/sso?token={token}")).await.status(), 400);

    let admin = |token: &'static str| {
        app.client
            .get(app.url("/admin/api/rooms"))
            .header("authorization", format!("Bearer {token}"))
            .send()
    };
    let statuses = [
        admin("wrong-1").await.unwrap(),
        admin("wrong-2").await.unwrap(),
        admin(crate::oauth::ADMIN).await.unwrap(),
    ]
    .map(|r| r.status().as_u16());
    assert_eq!(statuses, [401, 401, 429]);

    let m = scrape(&app).await;
    let refused = "roomgate_sso_refused_total";
    for reason in ["missing", "malformed", "expired", "reused"] {
        m.assert(refused, &[("reason", reason)], 1.0);
    }
    assert_eq!(m.samples.iter().filter(|s| s.name == refused).count(), 4);
    m.assert("roomgate_throttled_total", &[("limit", "admin_token")], 1.0);
    m.assert(REQUESTS, &[("route", "/sso"), ("status_class", "4xx")], 4.0);
    m.assert(
        REQUESTS,
        &[("route", "/admin/api/rooms"), ("status_class", "4xx")],
        3.0,
    );
}

/// The API source against `vendor`: one sign-in and one listing of `ROOM` and
/// `OTHER_ROOM`, and `OTHER_ROOM`'s details after 300 ms.
async fn api_app_with_metrics(vendor: &Vendor) -> TestApp {
    vendor.login("JWT-1", 3600, 1).await;
    vendor.list(&[(7, ROOM), (8, OTHER_ROOM)], 1).await;
    Mock::given(method("GET"))
        .and(path("/api/widgets/8"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": widget(8, OTHER_ROOM, "Crowded")}))
                .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    spawn_api_app(vendor, |e| {
        metrics_on(e);
        e.insert("ROOMGATE__CACHE__TTL_SECS".into(), "1".into());
    })
    .await
}

#[tokio::test]
async fn the_room_cache_and_the_vendor_calls_are_counted_exactly() {
    let vendor = Vendor::start().await;
    let good = Mock::given(method("GET"))
        .and(path("/api/widgets/7"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": widget(7, ROOM, "Seen")})),
        )
        .expect(1)
        .mount_as_scoped(&vendor.server)
        .await;
    let app = api_app_with_metrics(&vendor).await;

    assert_eq!(app.get(&format!("/room/{ROOM}")).await.status(), 200); // miss
    assert_eq!(app.get(&format!("/room/{ROOM}")).await.status(), 200); // hit
    assert_eq!(app.get("/room/999-999-999").await.status(), 404); // miss
    assert_eq!(app.get("/room/999-999-999").await.status(), 404); // negative hit
    let crowd = (0..3).map(|_| {
        let (client, url) = (new_client(), app.url(&format!("/room/{OTHER_ROOM}")));
        tokio::spawn(async move { client.get(url).send().await.unwrap().status() })
    });
    for status in futures_util::future::join_all(crowd).await {
        assert_eq!(status.unwrap(), 200); // 1 miss, 2 coalesced
    }
    let m = scrape(&app).await;
    m.assert(CACHE, &[("event", "miss"), DEFAULT], 3.0);
    m.assert(CACHE, &[("event", "hit"), DEFAULT], 1.0);
    m.assert(CACHE, &[("event", "negative_hit"), DEFAULT], 1.0);
    m.assert(CACHE, &[("event", "coalesced"), DEFAULT], 2.0);
    m.assert("roomgate_room_cache_entries", &[DEFAULT], 2.0);
    m.assert("roomgate_vendor_listings_total", &[DEFAULT], 1.0);
    m.assert(
        "roomgate_vendor_sign_ins_total",
        &[("kind", "login"), ("outcome", "ok"), DEFAULT],
        1.0,
    );
    for endpoint in ["login", "widgets_list"] {
        m.assert(
            CALLS,
            &[("endpoint", endpoint), ("outcome", "ok"), DEFAULT],
            1.0,
        );
    }
    m.assert(
        CALLS,
        &[("endpoint", "widget"), ("outcome", "ok"), DEFAULT],
        2.0,
    );
    m.assert(
        "roomgate_vendor_call_duration_seconds_count",
        &[("endpoint", "widget"), DEFAULT],
        2.0,
    );
    m.assert(
        "roomgate_vendor_token_expires_in_seconds",
        &[DEFAULT],
        3600.0,
    );
    m.assert("roomgate_vendor_sign_in_failures", &[DEFAULT], 0.0);
    app.advance(chrono::Duration::seconds(600));
    scrape(&app).await.assert(
        "roomgate_vendor_token_expires_in_seconds",
        &[DEFAULT],
        3000.0,
    );

    // Past the TTL, with the vendor failing: served stale while the refresh fails, then
    // stale-if-error (while a second refresh fails too).
    drop(good);
    Mock::given(method("GET"))
        .and(path("/api/widgets/7"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": "Oops"})))
        .expect(2)
        .mount(&vendor.server)
        .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let failed = [("endpoint", "widget"), ("outcome", "server_error"), DEFAULT];
    assert_eq!(app.get(&format!("/room/{ROOM}")).await.status(), 200);
    scrape_until(&app, |m| m.value(CALLS, &failed) == Some(1.0)).await;
    // The refresh marks the entry and ends just after its call is counted.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(app.get(&format!("/room/{ROOM}")).await.status(), 200);
    let m = scrape_until(&app, |m| m.value(CALLS, &failed) == Some(2.0)).await;
    m.assert(CALLS, &failed, 2.0);
    m.assert(CACHE, &[("event", "stale"), DEFAULT], 1.0);
    m.assert(CACHE, &[("event", "stale_if_error"), DEFAULT], 1.0);
    m.assert(CACHE, &[("event", "hit"), DEFAULT], 1.0);
}

#[tokio::test]
async fn oauth_refreshes_are_counted_and_the_token_countdown_is_shown() {
    use crate::oauth::{oauth_app, refresh_answers, write_tokens};
    let vendor = Vendor::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens.json");
    write_tokens(&file, "AT-OLD", "RT-OLD", 5);
    refresh_answers(
        &vendor,
        "RT-OLD",
        ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "AT-NEW", "refresh_token": "RT-NEW", "expires_in": 3600}),
        ),
        1,
    )
    .await;
    refresh_answers(
        &vendor,
        "RT-NEW",
        ResponseTemplate::new(400)
            .set_body_json(json!({"error": {"message": "The refresh token is invalid."}})),
        1,
    )
    .await;
    let app = oauth_app(
        &vendor,
        &file,
        &[("ROOMGATE__METRICS__ADDRESS", "127.0.0.1:0")],
    )
    .await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let m = scrape(&app).await;
    let refresh = |outcome| [("kind", "refresh"), ("outcome", outcome), DEFAULT];
    m.assert("roomgate_vendor_sign_ins_total", &refresh("ok"), 1.0);
    m.assert(
        CALLS,
        &[("endpoint", "oauth_refresh"), ("outcome", "ok"), DEFAULT],
        1.0,
    );
    m.assert(
        "roomgate_vendor_token_expires_in_seconds",
        &[DEFAULT],
        3600.0,
    );

    // An hour later the new refresh token is refused: a reconnect is needed.
    app.advance(chrono::Duration::seconds(3600));
    assert_eq!(app.get("/readyz").await.status(), 503);
    let m = scrape(&app).await;
    m.assert("roomgate_vendor_sign_ins_total", &refresh("failed"), 1.0);
    m.assert(
        CALLS,
        &[
            ("endpoint", "oauth_refresh"),
            ("outcome", "client_error"),
            DEFAULT,
        ],
        1.0,
    );
    m.assert("roomgate_vendor_token_expires_in_seconds", &[DEFAULT], 0.0);
    m.assert("roomgate_vendor_sign_in_failures", &[DEFAULT], 1.0);
}

/// Every `roomgate_…` name in `text`.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("roomgate_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

/// Every `roomgate_…` name that `text` records: the literal name of a `counter!`,
/// `gauge!` or `histogram!`, or of a `&str` constant.
fn recorded_metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("\"roomgate_") {
        let before = rest[..at].trim_end();
        let tail = &rest[at + 1..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        let named = ["counter!(", "gauge!(", "histogram!(", "&str ="]
            .iter()
            .any(|m| before.ends_with(m));
        if named && tail[end..].starts_with('"') {
            names.insert(tail[..end].to_owned());
        }
        rest = &tail[end..];
    }
    names
}

fn dashboard() -> Value {
    let text = std::fs::read_to_string(repo_path("deploy/grafana/roomgate.json")).unwrap();
    serde_json::from_str(&text).expect("the dashboard is valid JSON")
}

/// Every metric name the dashboard's queries use.
fn dashboard_names() -> BTreeSet<String> {
    let dashboard = dashboard();
    let mut names = BTreeSet::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            names.extend(metric_names(target["expr"].as_str().unwrap()));
        }
    }
    names
}

/// Every metric name the alert rules use.
fn alert_names() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo_path("deploy/prometheus/alerts.yml")).unwrap();
    metric_names(&text)
}

#[tokio::test]
async fn every_metric_of_the_dashboard_the_alerts_and_the_list_is_shown_after_traffic() {
    let vendor = Vendor::start().await;
    vendor.detail(7, widget(7, ROOM, "Seen"), 1).await;
    let app = api_app_with_metrics(&vendor).await;
    let settings_app = spawn_app_with(|e| {
        metrics_on(e);
        e.insert("ROOMGATE__SSO__SECRET".into(), crate::sso::SECRET.into());
        e.insert("ROOMGATE__ROOMS__REQUIRE_NICKNAME".into(), "true".into());
        e.insert("ROOMGATE__SECURITY__ROLE_GUESS_LIMIT".into(), "1".into());
    })
    .await;
    assert_eq!(app.get(&format!("/room/{ROOM}")).await.status(), 200);
    assert_eq!(app.get(&format!("/room/{OTHER_ROOM}")).await.status(), 200);
    let (_, html) = settings_app.get_html(&format!("/room/{L}")).await;
    let csrf = input_value(&html, "csrf").unwrap();
    settings_app
        .post_join(L, &[("nickname", "Ada"), ("csrf", &csrf)])
        .await;
    settings_app
        .post_join(L, &[("nickname", "Ada"), ("csrf", "wrong")])
        .await;
    settings_app.get("/sso").await;
    settings_app.get(&format!("/room/{L}/Wrong")).await;
    settings_app.get(&format!("/room/{L}/Wrong")).await;

    let api = scrape(&app).await;
    let pages = scrape(&settings_app).await;
    let shown: BTreeSet<&str> = api.names().union(&pages.names()).copied().collect();
    let mut wanted = dashboard_names();
    wanted.extend(alert_names());
    for m in roomgate::observe::METRICS {
        wanted.insert(match m.kind {
            roomgate::observe::MetricKind::Histogram => format!("{}_bucket", m.name),
            _ => m.name.to_owned(),
        });
    }
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|n| !shown.contains(n.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "not shown after the traffic: {missing:?}; shown: {shown:?}"
    );
    for sample in api.samples.iter().chain(&pages.samples) {
        labels_as_listed(sample);
    }
}

/// Asserts a sample of a listed metric carries exactly the labels `observe::METRICS`
/// lists for it (a histogram's series add `le` to its buckets).
#[track_caller]
pub(crate) fn labels_as_listed(sample: &Sample) {
    let listed = roomgate::observe::METRICS.iter().find(|m| {
        sample.name == m.name
            || (m.kind == roomgate::observe::MetricKind::Histogram
                && ["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|end| sample.name.strip_suffix(end) == Some(m.name)))
    });
    let Some(listed) = listed else {
        return;
    };
    let shown: BTreeSet<&str> = sample
        .labels
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| *k != "le")
        .collect();
    let wanted: BTreeSet<&str> = listed.labels.iter().copied().collect();
    assert_eq!(shown, wanted, "{sample:?}");
}

#[test]
fn the_dashboard_is_valid_json_with_panels_that_query_prometheus() {
    let dashboard = dashboard();
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(!panels.is_empty());
    let mut ids = BTreeSet::new();
    for panel in panels {
        assert!(
            ids.insert(panel["id"].as_u64().expect("a panel id")),
            "ids are unique"
        );
        assert!(panel["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert_eq!(panel["datasource"]["type"], "prometheus");
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{}", panel["title"]);
        for target in targets {
            assert!(
                target["expr"]
                    .as_str()
                    .is_some_and(|e| e.contains("roomgate_"))
            );
        }
    }
    assert!(dashboard_names().len() >= 10);
}

#[test]
fn the_alert_rules_pass_promtool() {
    let rules = repo_path("deploy/prometheus/alerts.yml");
    let output = match std::process::Command::new("promtool")
        .args(["check", "rules"])
        .arg(&rules)
        .output()
    {
        Ok(output) => output,
        Err(e) => panic!(
            "promtool cannot be run ({e}): install Debian's `prometheus` package \
             (`apt-get install prometheus`; scripts/test does it when promtool is missing)"
        ),
    };
    assert!(
        output.status.success(),
        "promtool check rules {} failed:\n{}{}",
        rules.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_metric_recorded_is_listed_and_explained_in_the_readme() {
    let found = recorded_metric_names(
        r#"metrics::counter!("roomgate_a_total", "k" => "v"); const N: &str = "roomgate_b_total";
        json!({"roomgate_does": 1}); metrics::histogram!(
            "roomgate_c_seconds")"#,
    );
    assert_eq!(
        found,
        ["roomgate_a_total", "roomgate_b_total", "roomgate_c_seconds"]
            .map(String::from)
            .into()
    );
    let listed: BTreeSet<&str> = roomgate::observe::METRICS.iter().map(|m| m.name).collect();
    let mut files = Vec::new();
    rust_files(&repo_path("src"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for name in recorded_metric_names(&text) {
            assert!(
                listed.contains(name.as_str()),
                "{}: {name} is not in observe::METRICS",
                file.display()
            );
        }
    }
    let readme = std::fs::read_to_string(repo_path("README.md")).unwrap();
    for name in &listed {
        assert!(readme.contains(name), "README.md does not explain {name}");
    }
    let mut dashboards_and_alerts = dashboard_names();
    dashboards_and_alerts.extend(alert_names());
    for name in dashboards_and_alerts {
        let base = name.trim_end_matches("_bucket");
        assert!(
            listed.contains(base),
            "deploy/ uses {name}, which roomgate does not record"
        );
    }
}

#[test]
fn a_metrics_address_must_be_an_ip_and_a_port_of_its_own() {
    for (address, problem) in [
        ("localhost:9464", "is not an IP address and port"),
        ("127.0.0.1", "is not an IP address and port"),
        ("127.0.0.1:8080", "is server.port"),
    ] {
        let mut env = test_env();
        env.insert("ROOMGATE__SERVER__PORT".into(), "8080".into());
        env.insert("ROOMGATE__METRICS__ADDRESS".into(), address.into());
        let error = load_settings(&env).expect_err(address).to_string();
        assert!(
            error.contains("metrics.address") && error.contains(problem),
            "{address}: {error}"
        );
    }
    let mut env = test_env();
    env.insert("ROOMGATE__METRICS__ADDRESS".into(), "[::1]:9464".into());
    let settings = load_settings(&env).unwrap();
    assert_eq!(
        settings.parsed.metrics_address,
        Some("[::1]:9464".parse().unwrap())
    );
    assert_eq!(
        load_settings(&test_env()).unwrap().parsed.metrics_address,
        None
    );
}

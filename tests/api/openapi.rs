//! The admin API's OpenAPI document: served by a live app, printed by `roomgate openapi`,
//! and true to the route table (every admin route in it, no other). Then the defects
//! schemathesis found (`tests/schema/run`), each where the server contradicted the
//! document.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::fake_vendor::{Vendor, spawn_api_app};
use crate::helpers::{L, TestApp, repo_path, spawn_app, spawn_app_with};

const ADMIN: &str = "admin-token-0123456789-abcdefghijkl";
const DOCUMENT: &str = "/admin/api/openapi.json";
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

async fn admin_app() -> TestApp {
    spawn_app_with(|e| {
        e.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
    })
    .await
}

/// The document as the app serves it: the body as sent, and parsed.
async fn served(app: &TestApp) -> (String, Value) {
    let res = app.get(DOCUMENT).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let text = res.text().await.unwrap();
    let doc = serde_json::from_str(&text).unwrap();
    (text, doc)
}

/// Each documented path → its methods, upper case.
fn documented(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let methods = item
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| METHODS.contains(&k.to_uppercase().as_str()))
                .map(|k| k.to_uppercase())
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

/// The admin routes of the route table, read from `src/web/routes.rs`: each
/// `resource("…")` inside the `/admin/api` scope → the methods of its `.route(…)`s.
fn route_table() -> BTreeMap<String, BTreeSet<String>> {
    let source = std::fs::read_to_string(repo_path("src/web/routes.rs")).unwrap();
    let start = source
        .find("web::scope(\"/admin/api\")")
        .expect("the admin scope is in the route table");
    // The scope ends where its `.service(` closes.
    let mut depth = 1;
    let end = source[start..]
        .char_indices()
        .find_map(|(i, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(start + i)
        })
        .unwrap();
    let scope = &source[start + "web::scope(\"/admin/api\")".len()..end];
    let mut routes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current = None;
    let mut rest = scope;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("resource(\"") {
            let path = &after[..after.find('"').unwrap()];
            current = Some(format!("/admin/api{path}"));
            routes.entry(current.clone().unwrap()).or_default();
            rest = after;
            continue;
        }
        for method in ["get", "post", "put", "patch", "delete", "head"] {
            if rest.starts_with(&format!("web::{method}()")) {
                let path = current.clone().expect("a route belongs to a resource");
                routes.get_mut(&path).unwrap().insert(method.to_uppercase());
            }
        }
        assert!(
            !rest.starts_with("get_or_head()") && !rest.starts_with("web::route()"),
            "an admin route with a guard this test does not read: teach route_table() it"
        );
        rest = &rest[rest.chars().next().unwrap().len_utf8()..];
    }
    routes
}

/// `path` with each `{parameter}` filled in.
fn concrete(path: &str) -> String {
    path.replace("{license}", L)
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_the_bearer_scheme_and_every_error_shape() {
    let app = admin_app().await;
    let (_, doc) = served(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    let scheme = &doc["components"]["securitySchemes"]["admin_token"];
    assert_eq!(
        (&scheme["type"], &scheme["scheme"]),
        (&json!("http"), &json!("bearer"))
    );
    assert_eq!(doc["security"], json!([{"admin_token": []}]));

    let answers = &doc["components"]["responses"];
    assert!(answers["Unauthorized"]["headers"]["WWW-Authenticate"].is_object());
    assert!(answers["Throttled"]["headers"]["Retry-After"].is_object());
    let detail = &doc["components"]["schemas"]["ErrorDetail"];
    assert_eq!(detail["required"], json!(["message"]));
    assert!(detail["properties"]["fields"]["additionalProperties"]["items"].is_object());

    // Every operation but the document's own needs the token, so answers 401 and 429;
    // each that reads a body answers what a body can go wrong with.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let statuses: BTreeSet<&str> = operation["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert!(statuses.contains("404"), "{method} {path}: {statuses:?}");
            if path == DOCUMENT {
                assert_eq!(operation["security"], json!([{}]), "public");
                continue;
            }
            for status in ["401", "429", "502"] {
                assert!(statuses.contains(status), "{method} {path}: {statuses:?}");
            }
            if operation.get("requestBody").is_some() {
                for status in ["400", "408", "413", "422"] {
                    assert!(statuses.contains(status), "{method} {path}: {statuses:?}");
                }
            }
        }
    }
    // The catalog refuses changes: 409 on each route that changes a room.
    for (path, method) in [
        ("/admin/api/rooms", "post"),
        ("/admin/api/rooms/{license}", "put"),
        ("/admin/api/rooms/{license}", "delete"),
        ("/admin/api/rooms/{license}/activate", "post"),
        ("/admin/api/rooms/{license}/deactivate", "post"),
        ("/admin/api/rooms/{license}/invitations", "post"),
    ] {
        assert!(
            doc["paths"][path][method]["responses"]["409"].is_object(),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn the_document_lists_exactly_the_admin_routes_of_the_route_table() {
    let app = admin_app().await;
    let (_, doc) = served(&app).await;
    let documented = documented(&doc);
    let table = route_table();
    assert!(table.len() >= 8, "the route table was read: {table:?}");
    assert_eq!(
        documented, table,
        "the document's paths and methods (left) against src/web/routes.rs (right)"
    );
}

/// What the live server does, not what the source says: every documented path and method
/// reaches its handler (JSON, a calendar file or 204, never the 405 of a method the path
/// lacks nor the branded 404 page of an unknown path), and every other method of those
/// paths answers 405.
#[tokio::test]
async fn the_server_answers_exactly_the_documented_methods() {
    let app = admin_app().await;
    let (_, doc) = served(&app).await;
    for (path, methods) in documented(&doc) {
        for method in METHODS {
            let res = app
                .client
                .request(method.parse().unwrap(), app.url(&concrete(&path)))
                .bearer_auth(ADMIN)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let kind = res
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            if methods.contains(method) {
                assert!(
                    status == 204
                        || kind.starts_with("application/json")
                        || kind.starts_with("text/calendar"),
                    "{method} {path}: {status} {kind}: the route is documented but not served"
                );
            } else {
                assert_eq!(
                    status, 405,
                    "{method} {path} answers {status}: a route the document lacks?"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_document_is_public_but_only_with_the_admin_surface() {
    let app = admin_app().await;
    let res = app
        .client
        .get(app.url(DOCUMENT))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "no token needed, a wrong one is ignored");

    let off = spawn_app().await;
    let res = off.get(DOCUMENT).await;
    assert_eq!(res.status(), 404, "no admin.token, no admin API");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["message"], "not found");
}

#[tokio::test]
async fn roomgate_openapi_prints_the_served_document_without_any_settings() {
    let app = admin_app().await;
    let (text, _) = served(&app).await;
    let empty = tempfile::tempdir().unwrap();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_roomgate"))
            .arg("openapi")
            .env_clear()
            // Settings that would stop any other command: the document reads none.
            .env("ROOMGATE_ENV", "production")
            .current_dir(empty.path())
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(printed.trim_end(), text, "the same document, byte for byte");
}

// What schemathesis found: each test fails without its fix.

async fn api_admin() -> (Vendor, TestApp) {
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 0..).await;
    let app = spawn_api_app(&vendor, |e| {
        e.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
    })
    .await;
    (vendor, app)
}

async fn create(app: &TestApp, body: String) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/admin/api/rooms"))
        .bearer_auth(ADMIN)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// JSON has one kind of number, and to JSON Schema `90.0` is the integer 90: a client
/// (Python's `json`, JavaScript after arithmetic) may well write it so.
#[tokio::test]
async fn whole_numbers_written_with_a_fraction_are_integers() {
    let (_vendor, app) = api_admin().await;
    let (status, body) = create(
        &app,
        r#"{"name": "A", "duration_minutes": 0.0, "registration_form_id": 12.0}"#.into(),
    )
    .await;
    assert_eq!(status, 422, "read as integers, then checked: {body}");
    assert_eq!(
        body["error"]["fields"],
        json!({"duration_minutes": ["must be between 1 and 10080"]})
    );

    let (status, body) = create(&app, r#"{"name": "A", "duration_minutes": 90.5}"#.into()).await;
    assert_eq!(status, 400, "a fraction is no integer: {body}");
}

/// The vendor's ids are signed 64-bit integers (the document says `int64`): a larger form
/// id was passed on as if it were one.
#[tokio::test]
async fn a_registration_form_id_beyond_64_bit_signed_is_refused_per_field() {
    let (vendor, app) = api_admin().await;
    let (status, body) = create(
        &app,
        r#"{"name": "A", "registration_form_id": 9223372036854775808}"#.into(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["registration_form_id"].is_array(),
        "{body}"
    );
    assert_eq!(vendor.calls_to("/api/widgets").await, 0, "nothing sent");
}

/// An agenda of 10 000 characters is valid; written with JSON escapes (as Python's `json`
/// and others write anything outside ASCII), each character outside the BMP takes 12
/// bytes. The body limit must hold the largest valid body, not refuse it 413.
#[tokio::test]
async fn the_largest_valid_body_is_read_not_refused_as_too_large() {
    let (_vendor, app) = api_admin().await;
    let agenda = "\\ud83d\\ude00".repeat(10_000);
    let name = "\\ud83d\\ude00".repeat(200);
    let (status, body) = create(
        &app,
        format!(
            r#"{{"name": "{name}", "agenda": "{agenda}", "timezone": "Nowhere/{}", "start": "{}"}}"#,
            "x".repeat(55),
            "9".repeat(64)
        ),
    )
    .await;
    assert_eq!(status, 422, "read and checked: {body}");
    let fields: Vec<&String> = body["error"]["fields"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(fields, ["timezone"], "the name and agenda pass: {body}");
}

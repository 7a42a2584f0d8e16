//! The command line with brands (issue 15), run as a user runs it: `roomgate brands`, the
//! `--config` file, and `--brand` for the operators' commands.

use std::{collections::HashMap, path::PathBuf};

use serde_json::{Value, json};
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path},
};

use crate::fake_account::{FakeAccount, host_token, key_of};
use crate::fake_vendor::Vendor;
use crate::helpers::{PUBLIC_URL, roomgate, test_env, text};

/// The example of `deploy/brands` (acme: its own catalog with `700-700-700`; globex: the
/// default rooms `123-123-123` and `234-*`), relative to the repository's root, where
/// the binary runs.
const EXAMPLE: &str = "deploy/brands/brands.toml";

fn with_example() -> HashMap<String, String> {
    let mut env = test_env();
    env.insert("ROOMGATE_CONFIG_FILE".into(), EXAMPLE.into());
    env
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)))
}

/// The brands of the example with the test catalog (7 rooms) as the default's rooms.
fn example_brands() -> Value {
    json!([
        {"id": "default", "hosts": [], "public_url": PUBLIC_URL, "source": "catalog", "rooms": 7},
        {"id": "acme", "hosts": ["acme.localhost:8080", "events.acme.example"],
         "public_url": "http://acme.localhost:8080", "source": "catalog", "rooms": 1},
        {"id": "globex", "hosts": ["globex.localhost:8080", "webinars.globex.example"],
         "public_url": "http://globex.localhost:8080", "source": "shared", "rooms": 2},
    ])
}

/// The table line of brand `id`, split into its columns.
fn row<'a>(stdout: &'a str, id: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(id))
        .unwrap_or_else(|| panic!("no line for {id}:\n{stdout}"))
        .split_whitespace()
        .collect()
}

#[tokio::test]
async fn brands_prints_each_brand_with_its_hosts_public_url_source_and_room_count() {
    let out = roomgate(&["brands"], with_example()).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("BRAND"), "a header first:\n{stdout}");
    assert_eq!(
        row(&stdout, "default"),
        [
            "default", "catalog", "7", PUBLIC_URL, "(every", "host", "no", "brand", "names)"
        ]
    );
    assert_eq!(
        row(&stdout, "acme"),
        [
            "acme",
            "catalog",
            "1",
            "http://acme.localhost:8080",
            "acme.localhost:8080,",
            "events.acme.example"
        ]
    );
    assert_eq!(
        row(&stdout, "globex"),
        [
            "globex",
            "shared",
            "2",
            "http://globex.localhost:8080",
            "globex.localhost:8080,",
            "webinars.globex.example"
        ]
    );

    let out = roomgate(&["brands", "--json"], with_example()).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(json_of(&out), example_brands());
}

#[tokio::test]
async fn the_config_option_reads_the_same_file_as_the_environment_variable() {
    let out = roomgate(&["--config", EXAMPLE, "brands", "--json"], test_env()).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(json_of(&out), example_brands());
    // Without either, there is only the default brand.
    let out = roomgate(&["brands", "--json"], test_env()).await;
    assert_eq!(json_of(&out).as_array().map(Vec::len), Some(1));
    // The option wins over the variable.
    let mut env = with_example();
    env.insert("ROOMGATE_CONFIG_FILE".into(), "no/such/brands.toml".into());
    let out = roomgate(&["--config", EXAMPLE, "brands", "--json"], env).await;
    assert_eq!(json_of(&out), example_brands());
}

#[tokio::test]
async fn brand_links_are_the_brands_rooms_on_its_public_url() {
    let out = roomgate(&["--brand", "acme", "links", "700-700-700"], with_example()).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("http://acme.localhost:8080/room/700-700-700\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("http://acme.localhost:8080/room/700-700-700/acmehost700"),
        "{stdout}"
    );
    assert!(!stdout.contains(PUBLIC_URL), "{stdout}");

    let out = roomgate(
        &["--brand", "globex", "links", "234-234-234"],
        with_example(),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("http://globex.localhost:8080/room/234-234-234/SchedHost1"),
        "{}",
        text(&out.stdout)
    );

    // Another brand's room, or a room of the shared catalog outside globex's list, is
    // no room of this brand, exactly as an unknown key.
    let unknown = roomgate(
        &["--brand", "globex", "links", "999-999-999"],
        with_example(),
    )
    .await;
    assert_eq!(unknown.status.code(), Some(2));
    assert_eq!(text(&unknown.stderr), "roomgate: no such room\n");
    for (brand, key) in [
        ("globex", "700-700-700"),
        ("globex", "222-222-222"),
        ("acme", "123-123-123"),
    ] {
        let out = roomgate(&["--brand", brand, "links", key], with_example()).await;
        assert_eq!(out.status.code(), Some(2), "{brand} {key}");
        assert_eq!(text(&out.stderr), text(&unknown.stderr), "{brand} {key}");
        assert!(out.stdout.is_empty(), "{brand} {key}");
    }
    let out = roomgate(&["links", "700-700-700"], with_example()).await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "not a room of the default brand"
    );
}

#[tokio::test]
async fn an_unknown_brand_and_brand_with_serve_or_brands_are_refused() {
    let out = roomgate(&["--brand", "nope", "links", "700-700-700"], with_example()).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "roomgate: --brand: no brand `nope` (`roomgate brands` lists them)\n"
    );
    assert!(out.stdout.is_empty());
    for args in [
        &["--brand", "acme", "serve"][..],
        &["--brand", "acme"][..],
        &["--brand", "acme", "brands"][..],
    ] {
        let out = roomgate(args, with_example()).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains("--brand is for the operators' commands"),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{args:?}: nothing served or listed");
    }
}

/// A brands file in `dir`: acme on its own account at `base_url`, globex sharing the
/// default rooms.
fn api_brands_file(dir: &tempfile::TempDir, base_url: &str) -> PathBuf {
    let file = dir.path().join("brands.toml");
    std::fs::write(
        &file,
        format!(
            r#"
[[brands]]
id = "acme"
hosts = ["acme.test"]
public_url = "https://events.acme.test"
site_name = "Acme Events"
[brands.source]
kind = "api"
base_url = "{base_url}"
client_id = "client-acme"
client_secret = "acme-secret-42"
token_file = "{tokens}"

[[brands]]
id = "globex"
hosts = ["globex.test"]
public_url = "https://globex.test"
site_name = "Globex"
rooms = ["123-123-123", "234-*"]
"#,
            tokens = dir.path().join("acme/tokens.json").display()
        ),
    )
    .unwrap();
    file
}

#[tokio::test]
async fn a_brand_with_its_own_account_counts_and_links_its_rooms_with_its_own_credentials() {
    let account = FakeAccount::start(3, 0, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = test_env();
    env.insert(
        "ROOMGATE_CONFIG_FILE".into(),
        api_brands_file(&dir, &account.uri()).display().to_string(),
    );

    let out = roomgate(&["brands", "--json"], env.clone()).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let acme = &json_of(&out)[1];
    assert_eq!(acme["id"], "acme");
    assert_eq!(acme["source"], "api");
    assert_eq!(acme["rooms"], 3, "{acme}");
    assert_eq!(acme["public_url"], "https://events.acme.test");

    let out = roomgate(&["--brand", "acme", "links", &key_of(2)], env.clone()).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "https://events.acme.test/room/{}/{}",
            key_of(2),
            host_token(2)
        )),
        "{stdout}"
    );
    let out = roomgate(&["links", &key_of(2)], env).await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "the default brand's catalog has no such room"
    );

    let logins = account.calls("POST", "/api/auth/login").await;
    assert!(!logins.is_empty());
    for login in logins {
        let body = String::from_utf8_lossy(&login.body).into_owned();
        assert!(
            body.starts_with("client_id=client-acme&client_secret=acme-secret-42"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn brands_exits_1_when_a_brands_vendor_fails_and_still_prints_the_others() {
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 1..).await;
    Mock::given(method("GET"))
        .and(path("/api/widgets"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": "Oops"})))
        .mount(&vendor.server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = test_env();
    env.insert(
        "ROOMGATE_CONFIG_FILE".into(),
        api_brands_file(&dir, &vendor.uri()).display().to_string(),
    );

    let out = roomgate(&["brands"], env.clone()).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(row(&stdout, "default")[..3], ["default", "catalog", "7"]);
    assert_eq!(row(&stdout, "acme")[..3], ["acme", "api", "?"]);
    assert_eq!(row(&stdout, "globex")[..3], ["globex", "shared", "2"]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("brand acme: cannot count its rooms"),
        "{stderr}"
    );
    assert!(!stderr.contains("acme-secret-42"), "{stderr}");

    let out = roomgate(&["brands", "--json"], env).await;
    assert_eq!(out.status.code(), Some(1));
    let brands = json_of(&out);
    assert_eq!(brands[0]["rooms"], 7);
    assert_eq!(brands[1]["rooms"], Value::Null);
    assert_eq!(brands[2]["rooms"], 2);
}

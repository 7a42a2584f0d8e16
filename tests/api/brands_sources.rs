//! Brands with room sources of their own (issue 15): the default brand reads the rooms of
//! one vendor account, `acme` those of another (its own `[brands.source] kind = "api"`),
//! `globex` its own catalog. Each brand sees only its own rooms, signs in with its own
//! credentials, keeps its own tokens and its own cache, and stays up when the other's
//! vendor is down.

use std::{path::PathBuf, time::Duration};

use serde_json::{Value, json};
use wiremock::{
    Mock, MockGuard, ResponseTemplate,
    matchers::{body_string_contains, header, method, path, path_regex},
};

use crate::fake_vendor::{CLIENT_ID, Vendor, api_env, widget};
use crate::helpers::{TestApp, embed_block, new_client, spawn_app_with};

/// The hosts of the two other brands; every other host is the default brand's.
pub const ACME: &str = "acme.test";
pub const GLOBEX: &str = "globex.test";
/// A room only the default brand's account has (vendor id 7 at vendor 1).
pub const ONLY_DEFAULT: &str = "555-000-001";
/// A room only acme's account has (vendor id 7 at vendor 2 too).
pub const ONLY_ACME: &str = "555-000-002";
/// A key both accounts have, each for a room of its own (id 8 at vendor 1, 9 at vendor 2).
pub const BOTH: &str = "555-555-555";
/// The only room of globex's catalog.
pub const CATALOG_ROOM: &str = "700-700-700";
/// A well-formed key no source has.
const UNKNOWN: &str = "999-000-999";
/// acme's credentials at vendor 2 (the default brand's are `fake_vendor::CLIENT_ID`).
pub const ACME_ID: &str = "client-acme";
pub const ACME_SECRET: &str = "acme-secret-42";
/// The start of the default brand's `client_secret` as a form encodes it.
pub const SECRET_IN_FORM: &str = "s3cret%26%3D%2B";

/// The two vendor accounts and the folder of the brands file, acme's token file and
/// globex's catalog.
pub struct Accounts {
    pub one: Vendor,
    pub two: Vendor,
    pub dir: tempfile::TempDir,
}

impl Accounts {
    pub async fn start() -> Self {
        Accounts {
            one: Vendor::start().await,
            two: Vendor::start().await,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Where acme keeps its tokens (its room keys beside them).
    pub fn acme_tokens(&self) -> PathBuf {
        self.dir.path().join("acme/tokens.json")
    }

    /// The brands file: acme on vendor 2 (its source table plus `acme_extra` lines),
    /// globex on its own catalog.
    pub fn brands_file(&self, acme_extra: &str) -> PathBuf {
        let catalog = self.dir.path().join("globex-rooms.toml");
        std::fs::write(
            &catalog,
            format!(
                "[[rooms]]\nlicense = \"{CATALOG_ROOM}\"\nname = \"Globex catalog room\"\n\
                 type = \"permanent\"\ntimezone = \"UTC\"\nroles = {{ host = \"globexhost\" }}\n"
            ),
        )
        .unwrap();
        let file = self.dir.path().join("brands.toml");
        std::fs::write(
            &file,
            format!(
                r#"
[[brands]]
id = "acme"
hosts = ["{ACME}"]
public_url = "http://{ACME}"
site_name = "Acme Events"
[brands.source]
kind = "api"
base_url = "{base}"
client_id = "{ACME_ID}"
client_secret = "{ACME_SECRET}"
token_file = "{tokens}"
{acme_extra}

[[brands]]
id = "globex"
hosts = ["{GLOBEX}"]
public_url = "http://{GLOBEX}"
site_name = "Globex Webinars"
[brands.source]
kind = "catalog"
path = "{catalog}"
"#,
                base = self.two.uri(),
                tokens = self.acme_tokens().display(),
                catalog = catalog.display(),
            ),
        )
        .unwrap();
        file
    }

    /// The environment of an app: the default brand on vendor 1, the brands file.
    pub fn env(&self, acme_extra: &str) -> std::collections::HashMap<String, String> {
        let mut env = api_env(&self.one);
        env.insert(
            "ROOMGATE_CONFIG_FILE".into(),
            self.brands_file(acme_extra).display().to_string(),
        );
        env
    }

    /// The app serving the three brands, with settings changed by `tweak`.
    pub async fn app(
        &self,
        tweak: impl FnOnce(&mut std::collections::HashMap<String, String>),
    ) -> TestApp {
        let env = self.env("");
        spawn_app_with(|e| {
            e.extend(env);
            tweak(e);
        })
        .await
    }

    /// Both accounts answering: each signs in once with its own credentials and lists
    /// its own rooms, each room readable only with its own account's token.
    pub async fn answering(&self) {
        signs_in(&self.one, CLIENT_ID, SECRET_IN_FORM, "TOKEN-ONE", 1).await;
        signs_in(&self.two, ACME_ID, ACME_SECRET, "TOKEN-TWO", 1).await;
        self.one.list(&[(7, ONLY_DEFAULT), (8, BOTH)], 1..).await;
        self.two.list(&[(7, ONLY_ACME), (9, BOTH)], 1..).await;
    }
}

/// `POST auth/login` with `client_id` and `secret` (as encoded in the form) answers
/// `token`; other credentials get the wiremock's 404 (a failed sign-in).
pub async fn signs_in(vendor: &Vendor, client_id: &str, secret: &str, token: &str, times: u64) {
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .and(body_string_contains(format!(
            "client_id={client_id}&client_secret={secret}"
        )))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"token": token, "expires_in": 3600})),
        )
        .expect(times)
        .mount(&vendor.server)
        .await;
}

/// `GET widgets/{id}` answers room `key` named `name`, to `token` only.
pub async fn room(
    vendor: &Vendor,
    id: u64,
    key: &str,
    name: &str,
    token: &str,
    times: impl Into<wiremock::Times>,
) -> MockGuard {
    Mock::given(method("GET"))
        .and(path(format!("/api/widgets/{id}")))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": widget(id, key, name)})),
        )
        .expect(times)
        .mount_as_scoped(&vendor.server)
        .await
}

/// `GET path` as a browser on `host` sends it (`None`: the app's own address, the default
/// brand).
pub async fn page(app: &TestApp, host: Option<&str>, p: &str) -> (u16, String) {
    let mut request = new_client().get(app.url(p));
    if let Some(host) = host {
        request = request.header("host", host);
    }
    let res = request.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Every `/api/` call of `vendor` answers 503 from now on (a gateway's maintenance page).
async fn goes_down(vendor: &Vendor) {
    Mock::given(path_regex("^/api/"))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>maintenance</html>"))
        .with_priority(1)
        .mount(&vendor.server)
        .await;
}

pub fn room_path(key: &str) -> String {
    format!("/room/{key}")
}

/// The default account signed in once, listing only its own room 7 (`ONLY_DEFAULT`).
pub async fn default_account_with_its_room(accounts: &Accounts) -> MockGuard {
    signs_in(&accounts.one, CLIENT_ID, SECRET_IN_FORM, "TOKEN-ONE", 1).await;
    accounts.one.list(&[(7, ONLY_DEFAULT)], 1..).await;
    room(
        &accounts.one,
        7,
        ONLY_DEFAULT,
        "Vendor one only",
        "TOKEN-ONE",
        1,
    )
    .await
}

/// Acme's account describing its own room 7 (`ONLY_ACME`), once.
pub async fn acme_room(accounts: &Accounts) -> MockGuard {
    room(
        &accounts.two,
        7,
        ONLY_ACME,
        "Vendor two only",
        "TOKEN-TWO",
        1,
    )
    .await
}

/// Room `BOTH` exists at both vendors: each brand shows its own account's.
pub async fn each_brand_shows_its_own_copy_of_both(app: &TestApp) {
    assert!(
        page(app, None, &room_path(BOTH))
            .await
            .1
            .contains("Vendor one at 555")
    );
    assert!(
        page(app, Some(ACME), &room_path(BOTH))
            .await
            .1
            .contains("Vendor two at 555")
    );
}

#[tokio::test]
async fn each_brand_shows_its_own_accounts_rooms_and_the_others_are_unknown() {
    let accounts = Accounts::start().await;
    accounts.answering().await;
    let _one = room(
        &accounts.one,
        7,
        ONLY_DEFAULT,
        "Vendor one only",
        "TOKEN-ONE",
        1,
    )
    .await;
    let _one8 = room(&accounts.one, 8, BOTH, "Vendor one at 555", "TOKEN-ONE", 1).await;
    let _two = room(
        &accounts.two,
        7,
        ONLY_ACME,
        "Vendor two only",
        "TOKEN-TWO",
        1,
    )
    .await;
    let _two9 = room(&accounts.two, 9, BOTH, "Vendor two at 555", "TOKEN-TWO", 1).await;
    let app = accounts.app(|_| {}).await;

    let (status, html) = page(&app, None, &room_path(ONLY_DEFAULT)).await;
    assert_eq!(status, 200);
    assert!(html.contains("Vendor one only"), "{html}");
    let (status, html) = page(&app, Some(ACME), &room_path(ONLY_ACME)).await;
    assert_eq!(status, 200);
    assert!(html.contains("Vendor two only") && html.contains("Acme Events"));
    assert_eq!(embed_block(&html).unwrap().options.license_key, ONLY_ACME);

    // The same key names a room of each account: each brand shows its own, and each
    // room's role token works on its own brand only.
    let (_, html) = page(&app, None, &room_path(BOTH)).await;
    assert!(html.contains("Vendor one at 555") && !html.contains("Vendor two"));
    let (_, html) = page(&app, Some(ACME), &room_path(BOTH)).await;
    assert!(html.contains("Vendor two at 555") && !html.contains("Vendor one"));
    assert_eq!(
        page(&app, Some(ACME), &format!("/room/{BOTH}/Host9"))
            .await
            .0,
        200
    );
    assert_eq!(
        page(&app, None, &format!("/room/{BOTH}/Host8")).await.0,
        200
    );
    let wrong_role = page(&app, Some(ACME), &format!("/room/{BOTH}/Host8")).await;
    assert_eq!(
        wrong_role,
        page(&app, Some(ACME), &room_path(UNKNOWN)).await
    );

    // Another account's room, or the catalog brand's, is exactly an unknown room.
    for (host, others) in [
        (None, [ONLY_ACME, CATALOG_ROOM]),
        (Some(ACME), [ONLY_DEFAULT, CATALOG_ROOM]),
        (Some(GLOBEX), [ONLY_DEFAULT, ONLY_ACME]),
    ] {
        let unknown = page(&app, host, &room_path(UNKNOWN)).await;
        assert_eq!(unknown.0, 404);
        for other in others {
            assert_eq!(
                page(&app, host, &room_path(other)).await,
                unknown,
                "{other} on {host:?}"
            );
        }
    }
    let (status, html) = page(&app, Some(GLOBEX), &room_path(CATALOG_ROOM)).await;
    assert_eq!(status, 200);
    assert!(html.contains("Globex catalog room") && html.contains("Globex Webinars"));
    assert_eq!(
        page(&app, Some(GLOBEX), &room_path(BOTH)).await.0,
        404,
        "the catalog brand asks no vendor"
    );

    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"ready": true}));
    // Each login was made once with the account's own credentials (`.expect(1)` on the
    // mocks, checked when the vendors are dropped), each room read with its own token.
    for (vendor, other_id) in [(&accounts.one, ACME_ID), (&accounts.two, CLIENT_ID)] {
        for request in vendor.server.received_requests().await.unwrap() {
            let body = String::from_utf8_lossy(&request.body);
            assert!(!body.contains(other_id), "{}: {body}", request.url);
        }
    }
}

#[tokio::test]
async fn a_change_at_one_account_reaches_its_brand_only_and_an_outage_there_spares_the_other() {
    let accounts = Accounts::start().await;
    accounts.answering().await;
    let _one = room(
        &accounts.one,
        8,
        BOTH,
        "Vendor one at 555",
        "TOKEN-ONE",
        1..,
    )
    .await;
    let before = room(&accounts.two, 9, BOTH, "Vendor two at 555", "TOKEN-TWO", 1).await;
    let app = accounts
        .app(|e| {
            e.insert("ROOMGATE__CACHE__TTL_SECS".into(), "1".into());
        })
        .await;
    each_brand_shows_its_own_copy_of_both(&app).await;

    drop(before);
    let _renamed = room(
        &accounts.two,
        9,
        BOTH,
        "Renamed at vendor two",
        "TOKEN-TWO",
        1..,
    )
    .await;
    assert!(
        page(&app, Some(ACME), &room_path(BOTH))
            .await
            .1
            .contains("Vendor two at 555"),
        "fresh for the TTL"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut seen = false;
    for _ in 0..50 {
        if page(&app, Some(ACME), &room_path(BOTH))
            .await
            .1
            .contains("Renamed at vendor two")
        {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen, "acme sees its account's change after the TTL");
    for _ in 0..5 {
        let (status, html) = page(&app, None, &room_path(BOTH)).await;
        assert_eq!(status, 200);
        assert!(html.contains("Vendor one at 555") && !html.contains("Renamed"));
    }

    // Vendor 1 goes down: the default brand serves what it has seen (stale) and 503 for
    // the rest; acme goes on as before, rooms it had not seen included.
    goes_down(&accounts.one).await;
    let _two7 = acme_room(&accounts).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..3 {
        let (status, html) = page(&app, None, &room_path(BOTH)).await;
        assert_eq!(status, 200);
        assert!(html.contains("Vendor one at 555"));
        let res = new_client()
            .get(app.url(&room_path(ONLY_DEFAULT)))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 503);
        assert_eq!(res.headers()["retry-after"], "30");
        let (status, html) = page(&app, Some(ACME), &room_path(ONLY_ACME)).await;
        assert_eq!(status, 200);
        assert!(html.contains("Vendor two only"));
        let (status, html) = page(&app, Some(ACME), &room_path(BOTH)).await;
        assert_eq!(status, 200);
        assert!(html.contains("Renamed at vendor two"));
    }
    assert!(
        accounts.one.calls_to("/api/widgets/7").await >= 1,
        "the default brand did ask its own vendor"
    );
    assert_eq!(
        accounts.two.calls_to("/api/widgets/8").await,
        0,
        "and never acme's"
    );
}

#[tokio::test]
async fn readyz_names_a_brand_whose_own_vendor_is_down_and_stays_ready() {
    let accounts = Accounts::start().await;
    let _one = default_account_with_its_room(&accounts).await;
    let vendor_words = "Invalid client secret for client internal-id 77";
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"error": {"message": vendor_words}})),
        )
        .mount(&accounts.two.server)
        .await;
    let app = accounts.app(|_| {}).await;

    let res = app.get("/readyz").await;
    assert_eq!(
        res.status(),
        200,
        "every instance serves every brand: still ready"
    );
    let body = res.text().await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"ready": true, "brands_not_ready": {"acme": "vendor_sign_in_failed"}})
    );
    assert!(!body.contains("internal-id"), "{body}");
    assert!(
        app.logs().contains(vendor_words),
        "the vendor's words go to the log"
    );
    assert_eq!(page(&app, Some(ACME), &room_path(ONLY_ACME)).await.0, 503);
    let (status, html) = page(&app, None, &room_path(ONLY_DEFAULT)).await;
    assert_eq!(status, 200);
    assert!(html.contains("Vendor one only"));
    assert_eq!(
        page(&app, Some(GLOBEX), &room_path(CATALOG_ROOM)).await.0,
        200
    );
}

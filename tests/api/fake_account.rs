//! A whole vendor account faked with wiremock: rooms that can be listed, read, created,
//! changed, closed, deleted and invited to, shaped as `livewebinar-api.md` describes.
//!
//! By default it behaves as roomgate first assumed: `page` and `limit` are honoured, an
//! unscoped listing holds closed rooms too, `PUT` changes only the fields it is sent,
//! personal links come with their token, every room has a `status`. Each [`Quirk`] is the
//! opposite of one of those assumptions, so the suite can show roomgate copes with the
//! real API whichever way it behaves.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{Arc, Mutex},
};

use chrono::{NaiveDateTime, TimeZone};
use serde_json::{Map, Value, json};
use wiremock::{
    Mock, MockServer, Request, Respond, ResponseTemplate,
    matchers::{method, path, path_regex},
};

use crate::fake_vendor::{CLIENT_ID, CLIENT_SECRET};

/// One way the real API may differ from what roomgate first assumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quirk {
    /// `page` is ignored: every page is the first one.
    PageIgnored,
    /// `limit` is capped at 100 whatever is asked.
    LimitCappedAt100,
    /// A listing without `scope` holds active rooms only.
    UnscopedListsActiveOnly,
    /// `PUT` replaces the whole editable record: fields not sent fall back to defaults.
    PutReplacesRecord,
    /// Personal links come back with `personal_url` only.
    PersonalUrlOnly,
    /// Rooms come without a `status` field.
    NoStatusField,
}

/// The account's rooms and switches.
#[derive(Default)]
struct Account {
    rooms: BTreeMap<u64, Map<String, Value>>,
    next_id: u64,
    quirks: HashSet<Quirk>,
    /// Whether listings say `meta.total`.
    with_total: bool,
    invitations: u64,
}

/// The fake account and the wiremock server that serves it.
pub struct FakeAccount {
    pub server: MockServer,
    account: Arc<Mutex<Account>>,
}

/// The room key of vendor id `id`: `700-000-001` for 1.
pub fn key_of(id: u64) -> String {
    format!(
        "{:03}-{:03}-{:03}",
        700 + id / 1_000_000,
        id / 1000 % 1000,
        id % 1000
    )
}

/// The host role token of vendor id `id`.
pub fn host_token(id: u64) -> String {
    format!("Host{id}")
}

impl FakeAccount {
    /// An account with `active` open rooms (ids 1…) and then `closed` closed ones.
    pub async fn start(active: u64, closed: u64, quirks: &[Quirk]) -> Self {
        let server = MockServer::start().await;
        let mut account = Account {
            next_id: 1,
            quirks: quirks.iter().copied().collect(),
            ..Account::default()
        };
        for i in 0..active + closed {
            let id = account.next_id;
            account.next_id += 1;
            let mut room = new_room(id, &format!("Room {id}"));
            if i >= active {
                room.insert("status".into(), json!("inactive"));
            }
            account.rooms.insert(id, room);
        }
        let fake = FakeAccount {
            server,
            account: Arc::new(Mutex::new(account)),
        };
        fake.mount().await;
        fake
    }

    /// Listings say `meta.total` from now on.
    pub fn report_totals(&self) {
        self.account.lock().unwrap().with_total = true;
    }

    /// The API base to put in `api.base_url`.
    pub fn uri(&self) -> String {
        format!("{}/api/", self.server.uri())
    }

    /// The settings for `rooms.source = "api"` against this account.
    pub fn env(&self) -> HashMap<String, String> {
        [
            ("ROOMGATE__ROOMS__SOURCE", "api".to_owned()),
            ("ROOMGATE__API__BASE_URL", self.uri()),
            ("ROOMGATE__API__CLIENT_ID", CLIENT_ID.to_owned()),
            ("ROOMGATE__API__CLIENT_SECRET", CLIENT_SECRET.to_owned()),
            ("ROOMGATE__API__TIMEOUT_MS", "1000".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// The stored record of room `id`, as the vendor would answer it.
    pub fn room(&self, id: u64) -> Option<Map<String, Value>> {
        self.account.lock().unwrap().rooms.get(&id).cloned()
    }

    /// Changes room `id` behind roomgate's back (an operator in the vendor's panel).
    pub fn set(&self, id: u64, field: &str, value: Value) {
        if let Some(room) = self.account.lock().unwrap().rooms.get_mut(&id) {
            room.insert(field.to_owned(), value);
        }
    }

    /// Requests that reached `method path` so far.
    pub async fn calls(&self, verb: &str, p: &str) -> Vec<Request> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.method.as_str() == verb && r.url.path() == p)
            .collect()
    }

    async fn mount(&self) {
        let handler = Handler(self.account.clone());
        Mock::given(method("POST"))
            .and(path("/api/auth/login"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"token": "T", "expires_in": 3600})),
            )
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/me"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"data": {"id": 9, "email": "ops@example.com"}})),
            )
            .mount(&self.server)
            .await;
        Mock::given(path_regex(r"^/api/widgets(/.*)?$"))
            .respond_with(handler)
            .mount(&self.server)
            .await;
    }
}

/// A fresh room as the vendor creates it.
fn new_room(id: u64, name: &str) -> Map<String, Value> {
    let key = key_of(id);
    let host = host_token(id);
    let record = json!({
        "id": id,
        "token": key,
        "name": name,
        "agenda": "",
        "type": "permanent",
        "status": "active",
        "start_date": null,
        "duration": 60,
        "timezone": "UTC",
        "password": "",
        "strict_event": 0,
        "autostart": {"lock_state": "unlocked"},
        "roles": {"host": host, "presenter": format!("Pres{id}")},
        "hosted_at": {"host": format!("https://app.example/{key}/x/{host}")},
    });
    record.as_object().cloned().unwrap_or_default()
}

/// What `PUT` resets when it replaces the record ([`Quirk::PutReplacesRecord`]).
fn editable_defaults() -> Map<String, Value> {
    json!({
        "agenda": "", "type": "permanent", "start_date": null, "duration": 60,
        "timezone": "UTC", "password": "", "strict_event": 0,
        "autostart": {"lock_state": "unlocked"},
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

struct Handler(Arc<Mutex<Account>>);

impl Respond for Handler {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut account = self.0.lock().unwrap();
        let segments: Vec<&str> = request
            .url
            .path()
            .trim_start_matches("/api/widgets")
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
            .into_owned()
            .collect();
        let id = segments.first().and_then(|s| s.parse::<u64>().ok());
        match (request.method.as_str(), id, segments.get(1).copied()) {
            ("GET", None, None) => account.list(request),
            ("POST", None, None) => account.create(&form),
            ("GET", Some(id), None) => match account.rooms.get(&id) {
                Some(room) => data(account.shown(room)),
                None => not_found(),
            },
            ("PUT", Some(id), None) => account.update(id, &form),
            ("DELETE", Some(id), None) => match account.rooms.remove(&id) {
                Some(_) => ResponseTemplate::new(200).set_body_json(json!({"data": []})),
                None => not_found(),
            },
            ("POST", Some(id), Some("personal")) => account.personal(id, &form),
            _ => not_found(),
        }
    }
}

impl Account {
    fn has(&self, quirk: Quirk) -> bool {
        self.quirks.contains(&quirk)
    }

    /// A room as answered: without `status` under [`Quirk::NoStatusField`].
    fn shown(&self, room: &Map<String, Value>) -> Value {
        let mut room = room.clone();
        if self.has(Quirk::NoStatusField) {
            room.remove("status");
        }
        Value::Object(room)
    }

    fn list(&self, request: &Request) -> ResponseTemplate {
        let query: BTreeMap<String, String> = request.url.query_pairs().into_owned().collect();
        let mut limit: usize = query
            .get("limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(20);
        if self.has(Quirk::LimitCappedAt100) {
            limit = limit.min(100);
        }
        let mut page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        if self.has(Quirk::PageIgnored) {
            page = 1;
        }
        let scope = match query.get("scope").map(String::as_str) {
            Some(scope) => Some(scope.to_owned()),
            None if self.has(Quirk::UnscopedListsActiveOnly) => Some("active".to_owned()),
            None => None,
        };
        // Newest first, as roomgate asks (`sort=id&order=desc`).
        let rooms: Vec<&Map<String, Value>> = self
            .rooms
            .values()
            .rev()
            .filter(|r| {
                scope
                    .as_deref()
                    .is_none_or(|s| r.get("status") == Some(&json!(s)))
            })
            .collect();
        let total = rooms.len();
        let items: Vec<Value> = rooms
            .into_iter()
            .skip(page.saturating_sub(1) * limit)
            .take(limit)
            .map(|r| {
                let mut summary = Map::new();
                for field in ["id", "name", "token", "type", "start_date", "status"] {
                    if let Some(v) = r.get(field) {
                        summary.insert(field.into(), v.clone());
                    }
                }
                self.shown(&summary)
            })
            .collect();
        let mut body = json!({ "data": items });
        if self.with_total {
            body["meta"] = json!({ "total": total });
        }
        ResponseTemplate::new(200).set_body_json(body)
    }

    fn create(&mut self, form: &[(String, String)]) -> ResponseTemplate {
        let Some((_, name)) = form.iter().find(|(k, _)| k == "name") else {
            return invalid("name", "The name field is required.");
        };
        let id = self.next_id;
        self.next_id += 1;
        let mut room = new_room(id, name);
        if let Err((field, message)) = apply(&mut room, form) {
            return invalid(field, message);
        }
        let answer = json!({"id": id, "token": room["token"], "roles": room["roles"], "hosted_at": room["hosted_at"]});
        self.rooms.insert(id, room);
        ResponseTemplate::new(201).set_body_json(json!({ "data": answer }))
    }

    fn update(&mut self, id: u64, form: &[(String, String)]) -> ResponseTemplate {
        let replaces = self.has(Quirk::PutReplacesRecord);
        let Some(room) = self.rooms.get_mut(&id) else {
            return not_found();
        };
        if replaces {
            room.extend(editable_defaults());
        }
        match apply(room, form) {
            Ok(()) => data(json!({ "id": id })),
            Err((field, message)) => invalid(field, message),
        }
    }

    fn personal(&mut self, id: u64, form: &[(String, String)]) -> ResponseTemplate {
        let Some(room) = self.rooms.get(&id) else {
            return not_found();
        };
        if !form
            .iter()
            .any(|(k, v)| (k == "email" || k == "emails") && v.contains('@'))
        {
            return invalid("email", "The email must be a valid email address.");
        }
        self.invitations += 1;
        let token = format!("Personal{id}x{}", self.invitations);
        let url = format!(
            "https://app.example/{}?_personal_token={token}",
            room["token"].as_str().unwrap_or_default()
        );
        if self.has(Quirk::PersonalUrlOnly) {
            data(json!({ "personal_url": url }))
        } else {
            data(json!({ "personal_token": token, "personal_url": url }))
        }
    }
}

/// Writes the form's fields into `room`, as the vendor reads them.
/// A refused field: its name and the vendor's message.
type Refused = (&'static str, &'static str);

fn apply(room: &mut Map<String, Value>, form: &[(String, String)]) -> Result<(), Refused> {
    for (key, value) in form {
        let stored = match key.as_str() {
            "name" | "agenda" | "password" | "type" | "timezone" => json!(value),
            "status" if value == "active" || value == "inactive" => json!(value),
            "status" => return Err(("status", "The selected status is invalid.")),
            "duration" => json!(value.parse::<u64>().unwrap_or(60)),
            "strict_event" => json!(u8::from(value == "1")),
            "autostart[lock_state]" => {
                room.insert("autostart".into(), json!({ "lock_state": value }));
                continue;
            }
            "start_date" => {
                let tz: chrono_tz::Tz = form
                    .iter()
                    .find(|(k, _)| k == "timezone")
                    .and_then(|(_, t)| t.parse().ok())
                    .or_else(|| room.get("timezone")?.as_str()?.parse().ok())
                    .unwrap_or(chrono_tz::UTC);
                let Ok(wall) = NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S") else {
                    return Err((
                        "start_date",
                        "The start date does not match the format Y-m-d H:i:s.",
                    ));
                };
                match tz.from_local_datetime(&wall).earliest() {
                    Some(at) => json!(at.timestamp()),
                    None => return Err(("start_date", "The start date does not exist.")),
                }
            }
            _ => continue,
        };
        room.insert(key.clone(), stored);
    }
    Ok(())
}

fn data(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "data": body }))
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({"error": {"message": "Not found"}}))
}

fn invalid(field: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(422).set_body_json(json!({
        "error": {"message": "The given data was invalid.", "errors": {field: [message]}}
    }))
}

#[tokio::test]
async fn the_fake_account_lists_pages_scopes_and_quirks_as_described() {
    let plain = FakeAccount::start(3, 1, &[]).await;
    let client = crate::helpers::plain_client();
    let list = |fake: &FakeAccount, q: &str| {
        let url = format!("{}widgets?{q}", fake.uri());
        let client = client.clone();
        async move {
            let body: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["id"].as_u64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(&plain, "limit=2&page=1").await, [4, 3]);
    assert_eq!(list(&plain, "limit=2&page=2").await, [2, 1]);
    assert_eq!(list(&plain, "limit=500&scope=inactive").await, [4]);
    let quirky =
        FakeAccount::start(3, 1, &[Quirk::PageIgnored, Quirk::UnscopedListsActiveOnly]).await;
    assert_eq!(list(&quirky, "limit=2&page=2").await, [3, 2]);
    assert_eq!(list(&quirky, "limit=500&scope=inactive").await, [4]);
}

//! A fake LiveWebinar vendor API for demos and benchmarks: N rooms, as much latency and
//! as many failures as you ask for, and counts of every call roomgate makes.
//!
//! ```sh
//! cargo run --release --example fake_vendor -- --port 9100 --rooms 1000 [--closed 0] \
//!   [--latency-ms 200] [--fail-rate 0.0] [--quirk page-ignored …]
//! # then, in another shell:
//! ROOMGATE__ROOMS__SOURCE=api ROOMGATE__API__BASE_URL=http://127.0.0.1:9100/api/ \
//!   ROOMGATE__API__CLIENT_ID=demo ROOMGATE__API__CLIENT_SECRET=demo cargo run --release
//! # and open http://127.0.0.1:8080/room/100-000-000
//! ```
//!
//! It speaks the part of the contract in the project's `livewebinar-api.md` that roomgate
//! uses, under `/api/`:
//!
//! | call | answer |
//! |---|---|
//! | `POST auth/login` (form `client_id`, `client_secret`) | `{"token", "expires_in"}` |
//! | `POST oauth/access_token`, `POST oauth/access_token/refresh` | `{"access_token", "refresh_token", "expires_in", "token_type"}` |
//! | `GET widgets?limit=&page=&order=&scope=` | `{"data": [{"id", "token", "name", "type", "start_date", "status"}]}` |
//! | `GET widgets/{id}` | `{"data": widget}`, or 404 `{"error": {"message": "Widget not found"}}` |
//! | `POST widgets` (form `name`, …) | `{"data": {"id", "token", "roles", "hosted_at"}}` |
//! | `PUT widgets/{id}` (form fields) | `{"data": {"id"}}`; only the fields sent change |
//! | `DELETE widgets/{id}` | `{"data": []}` |
//! | `POST widgets/{id}/personal` | `{"data": {"personal_token", "personal_url"}}` |
//! | `GET me` | `{"data": {"id": 1, "email": "fake@example.com"}}` |
//!
//! Room `i` (0-based) has id `i + 1` and key `{100 + i / 1_000_000:03}-{i / 1000 % 1000:03}-{i % 1000:03}`
//! (`100-000-000`, `100-000-001`, …), so keys starting `999-` never exist. Its role tokens
//! are `Host{id}` and `Pres{id}`. The last `--closed` rooms are closed (`inactive`). Every
//! call but the sign-ins needs a bearer token this fake handed out (401
//! `Unauthenticated.` otherwise).
//!
//! `--quirk NAME` (repeatable) makes the fake behave the opposite way of one assumption
//! roomgate's client once made about the real API (see `roomgate probe`):
//! `page-ignored` (every page is the first), `limit-capped` (`limit` capped at 100),
//! `unscoped-active-only` (a listing without `scope` hides closed rooms),
//! `put-replaces` (`PUT` resets every editable field it is not sent),
//! `personal-url-only` (personal links without `personal_token`), `no-status` (rooms
//! without a `status` field).
//!
//! Control, outside `/api/` (never delayed, never failed):
//! - `POST /__control` with JSON `{"fail": bool, "latency_ms": N, "fail_rate": F,
//!   "revoke_tokens": true}` (any
//!   subset; with or without a JSON content type) or the same as form data
//!   (`fail=true&latency_ms=200`) changes the behaviour and answers the current one.
//!   `fail: true` is an outage: every `/api/` call answers 503 with an HTML body, as a
//!   gateway would; `fail: false` ends it. `revoke_tokens: true` makes every token handed
//!   out so far answer 401 (as the vendor does after a password change): the next calls
//!   must sign in again.
//! - `GET /__stats`: calls per kind, e.g. `{"login": 1, "list": 3, "listings": 1,
//!   "detail": {"total": 1000, "distinct": 1000}, "changes": 0, "me": 0, …}`
//!   (`changes`: creates, updates, deletes); `POST /__stats/reset`.
//!   `list` counts pages, `listings` the listings (page 1 calls). A call counts under its
//!   kind whatever it was answered (delayed, failed, outage); calls without a token count
//!   only as `unauthenticated`.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{
        Mutex,
        atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use actix_web::{
    App, HttpRequest, HttpResponse, HttpServer,
    dev::{Service, ServiceResponse},
    http::{StatusCode, header},
    web,
};
use clap::{Parser, ValueEnum};
use serde_json::{Map, Value, json};

/// Most widgets one list call hands out, as the real vendor.
const MAX_PAGE_SIZE: usize = 500;
/// Lifetime of every token handed out, in seconds.
const TOKEN_SECS: u64 = 3600;
const APP_URL: &str = "https://app.livewebinar.com";

#[derive(Parser, Debug)]
#[command(about = "A fake LiveWebinar vendor API for roomgate demos and benchmarks")]
struct Args {
    /// Port on 127.0.0.1 (0 = any free port; the start-up line names it).
    #[arg(long, default_value_t = 9100)]
    port: u16,
    /// How many rooms the account has.
    #[arg(long, default_value_t = 1000)]
    rooms: u64,
    /// How many of them (the last ones) are closed.
    #[arg(long, default_value_t = 0)]
    closed: u64,
    /// Behave the opposite way of one of roomgate's first assumptions (repeatable).
    #[arg(long = "quirk", value_enum)]
    quirks: Vec<Quirk>,
    /// Delay before every /api/ answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Share of /api/ calls answered 500 (0.0 to 1.0).
    #[arg(long, default_value_t = 0.0)]
    fail_rate: f64,
    /// Worker threads (one keeps the fake out of the way of what it serves).
    #[arg(long, default_value_t = 1)]
    workers: usize,
}

/// One way the real API may differ from what roomgate's client first assumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
enum Quirk {
    /// `page` is ignored: every page is the first one.
    PageIgnored,
    /// `limit` is capped at 100.
    LimitCapped,
    /// A listing without `scope` holds open rooms only.
    UnscopedActiveOnly,
    /// `PUT` replaces the whole editable record.
    PutReplaces,
    /// Personal links come with `personal_url` only.
    PersonalUrlOnly,
    /// Rooms come without `status`.
    NoStatus,
}

/// Rooms changed, created or deleted since start; the others are made from their id.
#[derive(Default)]
struct Changes {
    /// Whole records of changed and created rooms.
    records: BTreeMap<u64, Map<String, Value>>,
    deleted: HashSet<u64>,
    /// The id the next created room gets.
    next_id: u64,
}

/// What the fake does now (changed by `/__control`) and what it has been asked.
struct Vendor {
    rooms: u64,
    closed: u64,
    quirks: HashSet<Quirk>,
    changes: Mutex<Changes>,
    latency_ms: AtomicU64,
    /// `f64` bits.
    fail_rate: AtomicU64,
    outage: AtomicBool,
    next_token: AtomicU64,
    /// Tokens numbered below this were revoked (`/__control` `revoke_tokens`).
    valid_from: AtomicU64,
    counts: Counts,
}

/// Calls per kind. `detail_by_id[i]` counts `GET widgets/{i + 1}`.
#[derive(Default)]
struct Counts {
    login: AtomicU64,
    oauth_token: AtomicU64,
    oauth_refresh: AtomicU64,
    /// Every `GET widgets` page.
    list: AtomicU64,
    /// `GET widgets` for page 1: one full listing each.
    listings: AtomicU64,
    detail_total: AtomicU64,
    detail_by_id: Vec<AtomicU32>,
    personal: AtomicU64,
    /// Creates, updates and deletes.
    changes: AtomicU64,
    me: AtomicU64,
    not_found: AtomicU64,
    unauthenticated: AtomicU64,
    injected_failures: AtomicU64,
    outage_answers: AtomicU64,
    other: AtomicU64,
}

impl Counts {
    fn new(rooms: u64) -> Self {
        Counts {
            detail_by_id: (0..rooms).map(|_| AtomicU32::new(0)).collect(),
            ..Counts::default()
        }
    }

    fn json(&self) -> Value {
        let n = |c: &AtomicU64| c.load(Relaxed);
        let distinct = self
            .detail_by_id
            .iter()
            .filter(|c| c.load(Relaxed) > 0)
            .count();
        json!({
            "login": n(&self.login),
            "oauth_token": n(&self.oauth_token),
            "oauth_refresh": n(&self.oauth_refresh),
            "list": n(&self.list),
            "listings": n(&self.listings),
            "detail": {"total": n(&self.detail_total), "distinct": distinct},
            "personal": n(&self.personal),
            "changes": n(&self.changes),
            "me": n(&self.me),
            "not_found": n(&self.not_found),
            "unauthenticated": n(&self.unauthenticated),
            "injected_failures": n(&self.injected_failures),
            "outage_answers": n(&self.outage_answers),
            "other": n(&self.other),
        })
    }

    fn reset(&self) {
        for c in [
            &self.login,
            &self.oauth_token,
            &self.oauth_refresh,
            &self.list,
            &self.listings,
            &self.detail_total,
            &self.personal,
            &self.changes,
            &self.me,
            &self.not_found,
            &self.unauthenticated,
            &self.injected_failures,
            &self.outage_answers,
            &self.other,
        ] {
            c.store(0, Relaxed);
        }
        for c in &self.detail_by_id {
            c.store(0, Relaxed);
        }
    }
}

/// The room key of room `i` (0-based).
fn key_of(i: u64) -> String {
    format!(
        "{:03}-{:03}-{:03}",
        100 + i / 1_000_000,
        (i / 1000) % 1000,
        i % 1000
    )
}

/// The list entry of a room record.
fn summary(record: &Map<String, Value>) -> Value {
    let fields = ["id", "token", "name", "type", "start_date", "status"];
    Value::Object(
        fields
            .into_iter()
            .filter_map(|f| Some((f.to_owned(), record.get(f)?.clone())))
            .collect(),
    )
}

/// Room `id` as it was made at start.
fn widget(id: u64, name: &str) -> Value {
    let key = key_of(id - 1);
    json!({
        "id": id,
        "token": key,
        "name": name,
        "agenda": format!("<p>Fake room number {id}.</p><p>Made by the fake vendor.</p>"),
        "type": "permanent",
        "status": "active",
        "start_date": null,
        "duration": 60,
        "timezone": "Europe/Warsaw",
        "password": "",
        "strict_event": 0,
        "autostart": {"lock_state": "unlocked"},
        "roles": {"host": format!("Host{id}"), "presenter": format!("Pres{id}")},
        "hosted_at": {
            "host": format!("{APP_URL}/{key}/x/Host{id}"),
            "presenter": format!("{APP_URL}/{key}/x/Pres{id}"),
        },
    })
}

fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"error": {"message": message}}))
}

type State = web::Data<Vendor>;

impl Vendor {
    fn token_answer(&self) -> (String, String) {
        let n = self.next_token.fetch_add(1, Relaxed);
        (format!("fake-token-{n}"), format!("fake-refresh-{n}"))
    }

    /// The room id of a path segment, when such a room exists.
    fn room(&self, id: &str) -> Option<u64> {
        let id = id.parse::<u64>().ok()?;
        self.record(id).map(|_| id)
    }

    /// Room `id` as stored now, if it exists.
    fn record(&self, id: u64) -> Option<Map<String, Value>> {
        let changes = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        if changes.deleted.contains(&id) {
            return None;
        }
        if let Some(record) = changes.records.get(&id) {
            return Some(record.clone());
        }
        if !(1..=self.rooms).contains(&id) {
            return None;
        }
        let mut made = widget(id, &format!("Room {id}"));
        if id > self.rooms - self.closed.min(self.rooms) {
            made["status"] = json!("inactive");
        }
        made.as_object().cloned()
    }

    /// `active` or `inactive`, without building the record (listings of many rooms).
    fn status_of(&self, id: u64) -> String {
        let changes = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        match changes.records.get(&id) {
            Some(record) => record["status"].as_str().unwrap_or("active").to_owned(),
            None if id > self.rooms - self.closed.min(self.rooms) => "inactive".to_owned(),
            None => "active".to_owned(),
        }
    }

    /// Every room id, newest first when `descending`.
    fn ids(&self, descending: bool) -> Vec<u64> {
        let changes = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        let last = changes.next_id.saturating_sub(1).max(self.rooms);
        let exists = |id: &u64| {
            !changes.deleted.contains(id) && (*id <= self.rooms || changes.records.contains_key(id))
        };
        let mut ids: Vec<u64> = (1..=last).filter(exists).collect();
        if descending {
            ids.reverse();
        }
        ids
    }

    /// A record as answered (without `status` under `no-status`).
    fn shown(&self, mut record: Map<String, Value>) -> Value {
        if self.quirks.contains(&Quirk::NoStatus) {
            record.remove("status");
        }
        Value::Object(record)
    }
}

/// Whether the call carries a token this fake handed out and has not revoked.
fn authenticated(req: &HttpRequest, vendor: &Vendor) -> bool {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| t.strip_prefix("fake-token-"))
        .and_then(|n| n.parse::<u64>().ok())
        .is_some_and(|n| n >= vendor.valid_from.load(Relaxed))
}

/// The 401 answer, when the call carries no token (or a revoked one).
fn refusal(req: &HttpRequest, vendor: &Vendor) -> Option<HttpResponse> {
    if authenticated(req, vendor) {
        return None;
    }
    vendor.counts.unauthenticated.fetch_add(1, Relaxed);
    Some(error(StatusCode::UNAUTHORIZED, "Unauthenticated."))
}

async fn login(vendor: State, body: web::Bytes) -> HttpResponse {
    vendor.counts.login.fetch_add(1, Relaxed);
    // Whatever the content type says, as a lenient vendor would.
    let form: HashMap<_, _> = url::form_urlencoded::parse(&body).collect();
    let filled = |k: &str| form.get(k).is_some_and(|v| !v.is_empty());
    if !filled("client_id") || !filled("client_secret") {
        return error(StatusCode::UNAUTHORIZED, "Invalid client credentials.");
    }
    let (token, _) = vendor.token_answer();
    HttpResponse::Ok().json(json!({"token": token, "expires_in": TOKEN_SECS}))
}

async fn oauth_token(vendor: State, req: HttpRequest) -> HttpResponse {
    let counter = if req.path().ends_with("/refresh") {
        &vendor.counts.oauth_refresh
    } else {
        &vendor.counts.oauth_token
    };
    counter.fetch_add(1, Relaxed);
    let (access, refresh) = vendor.token_answer();
    HttpResponse::Ok().json(json!({
        "access_token": access,
        "refresh_token": refresh,
        "expires_in": TOKEN_SECS,
        "token_type": "Bearer",
    }))
}

async fn list(
    vendor: State,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    if let Some(refused) = refusal(&req, &vendor) {
        return refused;
    }
    let number = |k: &str, default: u64| {
        query
            .get(k)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(default)
    };
    let cap = if vendor.quirks.contains(&Quirk::LimitCapped) {
        100
    } else {
        MAX_PAGE_SIZE as u64
    };
    let limit = number("limit", 10).clamp(1, cap);
    let mut page = number("page", 1).max(1);
    vendor.counts.list.fetch_add(1, Relaxed);
    if page == 1 {
        vendor.counts.listings.fetch_add(1, Relaxed);
    }
    if vendor.quirks.contains(&Quirk::PageIgnored) {
        page = 1;
    }
    let scope = match query.get("scope") {
        Some(scope) => Some(scope.as_str()),
        None if vendor.quirks.contains(&Quirk::UnscopedActiveOnly) => Some("active"),
        None => None,
    };
    let descending = query.get("order").is_some_and(|o| o == "desc");
    let skip = usize::try_from((page - 1).saturating_mul(limit)).unwrap_or(usize::MAX);
    let data: Vec<Value> = vendor
        .ids(descending)
        .into_iter()
        .filter(|id| scope.is_none_or(|s| vendor.status_of(*id) == s))
        .skip(skip)
        .take(limit as usize)
        .filter_map(|id| vendor.record(id))
        .map(|r| vendor.shown(summary(&r).as_object().cloned().unwrap_or_default()))
        .collect();
    HttpResponse::Ok().json(json!({ "data": data }))
}

async fn detail(vendor: State, req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    if let Some(refused) = refusal(&req, &vendor) {
        return refused;
    }
    vendor.counts.detail_total.fetch_add(1, Relaxed);
    match id
        .parse()
        .ok()
        .and_then(|id| Some((id, vendor.record(id)?)))
    {
        Some((id, record)) => {
            if let Some(count) = vendor.counts.detail_by_id.get((id - 1) as usize) {
                count.fetch_add(1, Relaxed);
            }
            HttpResponse::Ok().json(json!({ "data": vendor.shown(record) }))
        }
        None => {
            vendor.counts.not_found.fetch_add(1, Relaxed);
            error(StatusCode::NOT_FOUND, "Widget not found")
        }
    }
}

async fn personal(vendor: State, req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    if let Some(refused) = refusal(&req, &vendor) {
        return refused;
    }
    vendor.counts.personal.fetch_add(1, Relaxed);
    let Some(id) = vendor.room(&id) else {
        vendor.counts.not_found.fetch_add(1, Relaxed);
        return error(StatusCode::NOT_FOUND, "Widget not found");
    };
    let token = format!("pt{id}x{:016x}", rand::random::<u64>());
    let url = format!("{APP_URL}/{}?_personal_token={token}", key_of(id - 1));
    if vendor.quirks.contains(&Quirk::PersonalUrlOnly) {
        return HttpResponse::Ok().json(json!({"data": {"personal_url": url}}));
    }
    HttpResponse::Ok().json(json!({"data": {"personal_token": token, "personal_url": url}}))
}

/// `POST widgets`: a new room with the form's fields.
async fn create(vendor: State, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if let Some(refused) = refusal(&req, &vendor) {
        return refused;
    }
    vendor.counts.changes.fetch_add(1, Relaxed);
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let Some((_, name)) = form.iter().find(|(k, _)| k == "name") else {
        return invalid("name", "The name field is required.");
    };
    let mut changes = vendor.changes.lock().unwrap_or_else(|e| e.into_inner());
    let id = changes.next_id;
    changes.next_id += 1;
    let mut record = widget(id, name).as_object().cloned().unwrap_or_default();
    record.insert("agenda".into(), json!(""));
    apply(&mut record, &form);
    let answer = json!({"id": id, "token": record["token"], "roles": record["roles"], "hosted_at": record["hosted_at"]});
    changes.records.insert(id, record);
    HttpResponse::Created().json(json!({ "data": answer }))
}

/// `PUT widgets/{id}`: the form's fields, or (`put-replaces`) the form on defaults.
async fn update(
    vendor: State,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(refused) = refusal(&req, &vendor) {
        return refused;
    }
    vendor.counts.changes.fetch_add(1, Relaxed);
    let Some((id, mut record)) = id
        .parse()
        .ok()
        .and_then(|id| Some((id, vendor.record(id)?)))
    else {
        return error(StatusCode::NOT_FOUND, "Widget not found");
    };
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    if vendor.quirks.contains(&Quirk::PutReplaces) {
        for (field, default) in [
            ("agenda", json!("")),
            ("type", json!("permanent")),
            ("start_date", Value::Null),
            ("duration", json!(60)),
            ("timezone", json!("UTC")),
            ("password", json!("")),
            ("strict_event", json!(0)),
            ("autostart", json!({"lock_state": "unlocked"})),
        ] {
            record.insert(field.to_owned(), default);
        }
    }
    apply(&mut record, &form);
    let mut changes = vendor.changes.lock().unwrap_or_else(|e| e.into_inner());
    changes.records.insert(id, record);
    HttpResponse::Ok().json(json!({"data": {"id": id}}))
}

/// `DELETE widgets/{id}`.
async fn delete(vendor: State, req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    if let Some(refused) = refusal(&req, &vendor) {
        return refused;
    }
    vendor.counts.changes.fetch_add(1, Relaxed);
    let Some(id) = vendor.room(&id) else {
        return error(StatusCode::NOT_FOUND, "Widget not found");
    };
    let mut changes = vendor.changes.lock().unwrap_or_else(|e| e.into_inner());
    changes.records.remove(&id);
    changes.deleted.insert(id);
    HttpResponse::Ok().json(json!({"data": []}))
}

/// Writes form fields into a record, as the vendor reads them: `start_date` is wall-clock
/// time in the room's time zone (as it is after this form), answered back as Unix
/// seconds; one it cannot read is no start.
fn apply(record: &mut Map<String, Value>, form: &[(String, String)]) {
    for (key, value) in form {
        let stored = match key.as_str() {
            "name" | "agenda" | "password" | "type" | "timezone" | "status" => json!(value),
            "duration" => json!(value.parse::<u64>().unwrap_or(60)),
            "strict_event" => json!(u8::from(value == "1")),
            "autostart[lock_state]" => {
                record.insert("autostart".into(), json!({ "lock_state": value }));
                continue;
            }
            _ => continue,
        };
        record.insert(key.clone(), stored);
    }
    // Read once the form's time zone is in: roomgate sends the start before the zone.
    if let Some((_, value)) = form.iter().rev().find(|(k, _)| k == "start_date") {
        let zone: chrono_tz::Tz = record
            .get("timezone")
            .and_then(Value::as_str)
            .and_then(|t| t.parse().ok())
            .unwrap_or(chrono_tz::UTC);
        let start = chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S")
            .ok()
            .and_then(|t| t.and_local_timezone(zone).earliest())
            .map_or(Value::Null, |t| json!(t.timestamp()));
        record.insert("start_date".into(), start);
    }
}

fn invalid(field: &str, message: &str) -> HttpResponse {
    HttpResponse::UnprocessableEntity().json(json!({
        "error": {"message": "The given data was invalid.", "errors": {field: [message]}}
    }))
}

async fn me(vendor: State, req: HttpRequest) -> HttpResponse {
    if let Some(refused) = refusal(&req, &vendor) {
        return refused;
    }
    vendor.counts.me.fetch_add(1, Relaxed);
    HttpResponse::Ok().json(json!({"data": {"id": 1, "email": "fake@example.com"}}))
}

async fn unknown_call(vendor: State) -> HttpResponse {
    vendor.counts.other.fetch_add(1, Relaxed);
    error(StatusCode::NOT_FOUND, "Not found")
}

/// What `/__control` accepts; every member is optional.
#[derive(serde::Deserialize, Default, Debug)]
struct Control {
    fail: Option<bool>,
    latency_ms: Option<u64>,
    fail_rate: Option<f64>,
    /// Every token handed out so far answers 401 from now on (as after a password change).
    revoke_tokens: Option<bool>,
}

fn behaviour(vendor: &Vendor) -> Value {
    json!({
        "fail": vendor.outage.load(Relaxed),
        "latency_ms": vendor.latency_ms.load(Relaxed),
        "fail_rate": f64::from_bits(vendor.fail_rate.load(Relaxed)),
        "rooms": vendor.rooms,
        "quirks": vendor.quirks.iter().map(|q| format!("{q:?}")).collect::<Vec<_>>(),
    })
}

/// The first `n` rooms with their links, for the start-up banner. Room i has id i + 1:
/// the first key is id 1, so its host token is `Host1`.
fn room_links(n: u64) -> Vec<String> {
    (0..n)
        .map(|i| {
            let key = key_of(i);
            let id = i + 1;
            format!("  room {key} (id {id}): attendee /room/{key}, host /room/{key}/Host{id}")
        })
        .collect()
}

/// A change as JSON (whatever the content type says, since `curl -d` sends JSON as a
/// form) or as form fields.
fn parse_control(body: &[u8]) -> Result<Control, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    let text = text.trim();
    if text.starts_with('{') {
        return serde_json::from_str(text).map_err(|e| format!("bad JSON: {e}"));
    }
    let mut change = Control::default();
    for (name, value) in url::form_urlencoded::parse(text.as_bytes()) {
        let bad = |what: &str| format!("{name}={value:?} is not {what}");
        match name.as_ref() {
            "fail" => change.fail = Some(value.parse().map_err(|_| bad("true or false"))?),
            "latency_ms" => change.latency_ms = Some(value.parse().map_err(|_| bad("a number"))?),
            "fail_rate" => change.fail_rate = Some(value.parse().map_err(|_| bad("a number"))?),
            "revoke_tokens" => {
                change.revoke_tokens = Some(value.parse().map_err(|_| bad("true or false"))?)
            }
            _ => return Err(format!("unknown setting {name:?}")),
        }
    }
    Ok(change)
}

async fn control(vendor: State, body: web::Bytes) -> HttpResponse {
    let change = match parse_control(&body) {
        Ok(change) => change,
        Err(message) => {
            return HttpResponse::BadRequest().json(json!({"error": {"message": message}}));
        }
    };
    if let Some(fail) = change.fail {
        vendor.outage.store(fail, Relaxed);
    }
    if let Some(ms) = change.latency_ms {
        vendor.latency_ms.store(ms, Relaxed);
    }
    if let Some(rate) = change.fail_rate {
        vendor
            .fail_rate
            .store(rate.clamp(0.0, 1.0).to_bits(), Relaxed);
    }
    if change.revoke_tokens == Some(true) {
        vendor
            .valid_from
            .store(vendor.next_token.load(Relaxed), Relaxed);
    }
    HttpResponse::Ok().json(behaviour(&vendor))
}

async fn stats(vendor: State) -> HttpResponse {
    HttpResponse::Ok().json(vendor.counts.json())
}

async fn reset_stats(vendor: State) -> HttpResponse {
    vendor.counts.reset();
    HttpResponse::Ok().json(vendor.counts.json())
}

/// The delay, the outage and the injected failures, in front of every `/api/` call.
async fn misbehave(vendor: &Vendor) -> Option<HttpResponse> {
    let latency = vendor.latency_ms.load(Relaxed);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if vendor.outage.load(Relaxed) {
        vendor.counts.outage_answers.fetch_add(1, Relaxed);
        return Some(
            HttpResponse::ServiceUnavailable()
                .content_type("text/html; charset=utf-8")
                .body("<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>\n"),
        );
    }
    let rate = f64::from_bits(vendor.fail_rate.load(Relaxed));
    if rate > 0.0 && rand::random::<f64>() < rate {
        vendor.counts.injected_failures.fetch_add(1, Relaxed);
        return Some(error(StatusCode::INTERNAL_SERVER_ERROR, "Server Error"));
    }
    None
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let vendor = web::Data::new(Vendor {
        rooms: args.rooms,
        closed: args.closed,
        quirks: args.quirks.iter().copied().collect(),
        changes: Mutex::new(Changes {
            next_id: args.rooms + 1,
            ..Changes::default()
        }),
        latency_ms: AtomicU64::new(args.latency_ms),
        fail_rate: AtomicU64::new(args.fail_rate.clamp(0.0, 1.0).to_bits()),
        outage: AtomicBool::new(false),
        next_token: AtomicU64::new(1),
        valid_from: AtomicU64::new(0),
        counts: Counts::new(args.rooms),
    });
    let server = HttpServer::new(move || {
        let shared = vendor.clone();
        App::new()
            .app_data(vendor.clone())
            .service(
                web::scope("/api")
                    .wrap_fn(move |req, srv| {
                        let shared = shared.clone();
                        let call = srv.call(req);
                        async move {
                            // The call itself runs first; its answer is then delayed or
                            // replaced, so a failed call is still counted where it belongs.
                            let res = call.await?;
                            Ok(match misbehave(&shared).await {
                                Some(replaced) => {
                                    ServiceResponse::new(res.request().clone(), replaced)
                                }
                                None => res.map_into_boxed_body(),
                            })
                        }
                    })
                    .route("/auth/login", web::post().to(login))
                    .route("/oauth/access_token", web::post().to(oauth_token))
                    .route("/oauth/access_token/refresh", web::post().to(oauth_token))
                    .route("/widgets", web::get().to(list))
                    .route("/widgets", web::post().to(create))
                    .route("/widgets/{id}", web::get().to(detail))
                    .route("/widgets/{id}", web::put().to(update))
                    .route("/widgets/{id}", web::delete().to(delete))
                    .route("/widgets/{id}/personal", web::post().to(personal))
                    .route("/me", web::get().to(me))
                    .default_service(web::to(unknown_call)),
            )
            .route("/__control", web::post().to(control))
            .route("/__stats", web::get().to(stats))
            .route("/__stats/reset", web::post().to(reset_stats))
    })
    .workers(args.workers.max(1))
    .bind(("127.0.0.1", args.port))?;
    let port = server.addrs()[0].port();
    println!(
        "fake vendor listening on http://127.0.0.1:{port}/api/ with {} rooms",
        args.rooms
    );
    for line in room_links(args.rooms.min(3)) {
        println!("{line}");
    }
    server.run().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_says_which_key_has_which_host_link() {
        assert_eq!(
            room_links(2),
            [
                "  room 100-000-000 (id 1): attendee /room/100-000-000, host /room/100-000-000/Host1",
                "  room 100-000-001 (id 2): attendee /room/100-000-001, host /room/100-000-001/Host2",
            ]
        );
    }

    fn vendor(rooms: u64, closed: u64, quirks: &[Quirk]) -> Vendor {
        Vendor {
            rooms,
            closed,
            quirks: quirks.iter().copied().collect(),
            changes: Mutex::new(Changes {
                next_id: rooms + 1,
                ..Changes::default()
            }),
            latency_ms: AtomicU64::new(0),
            fail_rate: AtomicU64::new(0),
            outage: AtomicBool::new(false),
            next_token: AtomicU64::new(1),
            valid_from: AtomicU64::new(0),
            counts: Counts::new(rooms),
        }
    }

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn revoked_tokens_are_refused_and_later_ones_accepted() {
        let v = vendor(1, 0, &[]);
        let call = |token: &str| {
            actix_web::test::TestRequest::default()
                .insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
                .to_http_request()
        };
        let (old, _) = v.token_answer();
        assert!(authenticated(&call(&old), &v));
        v.valid_from.store(v.next_token.load(Relaxed), Relaxed);
        assert!(!authenticated(&call(&old), &v), "revoked");
        let (new, _) = v.token_answer();
        assert!(
            authenticated(&call(&new), &v),
            "handed out after the revocation"
        );
        assert!(!authenticated(&call("someone-else"), &v));
    }

    #[test]
    fn closed_rooms_are_the_last_ones_and_no_status_hides_the_field() {
        let v = vendor(5, 2, &[]);
        assert_eq!(v.status_of(3), "active");
        assert_eq!(v.status_of(4), "inactive");
        assert_eq!(v.record(5).unwrap()["status"], "inactive");
        assert!(v.record(6).is_none());
        let v = vendor(5, 0, &[Quirk::NoStatus]);
        assert!(v.shown(v.record(1).unwrap()).get("status").is_none());
    }

    #[test]
    fn quirks_are_named_on_the_command_line() {
        let args = Args::try_parse_from([
            "fake_vendor",
            "--quirk",
            "page-ignored",
            "--quirk",
            "put-replaces",
            "--closed",
            "3",
        ])
        .unwrap();
        assert_eq!(args.quirks, [Quirk::PageIgnored, Quirk::PutReplaces]);
        assert_eq!(args.closed, 3);
        assert!(Args::try_parse_from(["fake_vendor", "--quirk", "nonsense"]).is_err());
    }

    #[test]
    fn a_put_changes_only_what_it_is_sent_unless_it_replaces() {
        let mut record = widget(1, "Room 1").as_object().cloned().unwrap();
        record.insert("password".into(), json!("pw"));
        apply(&mut record, &form(&[("name", "New"), ("duration", "90")]));
        assert_eq!(
            (&record["name"], &record["duration"], &record["password"]),
            (&json!("New"), &json!(90), &json!("pw"))
        );
        apply(
            &mut record,
            &form(&[("autostart[lock_state]", "locked"), ("strict_event", "1")]),
        );
        assert_eq!(record["autostart"]["lock_state"], "locked");
        assert_eq!(record["strict_event"], 1);
    }

    #[test]
    fn a_start_is_read_in_the_rooms_time_zone() {
        let mut record = widget(1, "Room 1").as_object().cloned().unwrap();
        let start = [("start_date", "2026-12-01 16:00:00")];
        apply(
            &mut record,
            &form(&[start[0], ("timezone", "Europe/Warsaw")]),
        );
        assert_eq!(record["start_date"], 1_796_137_200, "15:00 UTC");
        apply(&mut record, &form(&start));
        assert_eq!(record["start_date"], 1_796_137_200, "the zone it has");
        apply(&mut record, &form(&[start[0], ("timezone", "UTC")]));
        assert_eq!(record["start_date"], 1_796_140_800, "16:00 UTC");
        apply(&mut record, &form(&[("start_date", "next week")]));
        assert_eq!(record["start_date"], Value::Null);
    }

    #[test]
    fn control_takes_json_whatever_the_content_type_and_form_data() {
        // What `curl -d '{"fail": true}'` sends, labelled as a form by curl.
        let c = parse_control(br#" {"fail": true, "latency_ms": 5} "#).unwrap();
        assert_eq!(
            (c.fail, c.latency_ms, c.fail_rate),
            (Some(true), Some(5), None)
        );
        let c = parse_control(b"fail=false&fail_rate=0.5").unwrap();
        assert_eq!(
            (c.fail, c.latency_ms, c.fail_rate),
            (Some(false), None, Some(0.5))
        );
        let c = parse_control(b"").unwrap();
        assert_eq!((c.fail, c.latency_ms, c.fail_rate), (None, None, None));
        assert!(parse_control(b"fail=maybe").unwrap_err().contains("fail"));
        assert_eq!(
            parse_control(b"revoke_tokens=true").unwrap().revoke_tokens,
            Some(true)
        );
        assert!(parse_control(b"outage=1").unwrap_err().contains("outage"));
        assert!(
            parse_control(b"{\"fail\": 3}")
                .unwrap_err()
                .contains("JSON")
        );
    }
}

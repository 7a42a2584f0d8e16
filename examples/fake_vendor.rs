//! A fake LiveWebinar vendor API for demos and benchmarks: N rooms, as much latency and
//! as many failures as you ask for, and counts of every call roomgate makes.
//!
//! ```sh
//! cargo run --release --example fake_vendor -- --port 9100 --rooms 1000 [--latency-ms 200] [--fail-rate 0.0]
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
//! | `GET widgets?limit=&page=&order=` | `{"data": [{"id", "token", "name", "type", "start_date"}]}` |
//! | `GET widgets/{id}` | `{"data": widget}`, or 404 `{"error": {"message": "Widget not found"}}` |
//! | `POST widgets/{id}/personal` | `{"data": {"personal_token", "personal_url"}}` |
//! | `GET me` | `{"data": {"id": 1, "email": "fake@example.com"}}` |
//!
//! Room `i` (0-based) has id `i + 1` and key `{100 + i / 1_000_000:03}-{i / 1000 % 1000:03}-{i % 1000:03}`
//! (`100-000-000`, `100-000-001`, …), so keys starting `999-` never exist. Its role tokens
//! are `Host{id}` and `Pres{id}`. Every call but the sign-ins needs a bearer token this
//! fake handed out (401 `Unauthenticated.` otherwise).
//!
//! Control, outside `/api/` (never delayed, never failed):
//! - `POST /__control` with JSON `{"fail": bool, "latency_ms": N, "fail_rate": F}` (any
//!   subset; with or without a JSON content type) or the same as form data
//!   (`fail=true&latency_ms=200`) changes the behaviour and answers the current one.
//!   `fail: true` is an outage: every `/api/` call answers 503 with an HTML body, as a
//!   gateway would; `fail: false` ends it.
//! - `GET /__stats`: calls per kind, e.g. `{"login": 1, "list": 3, "listings": 1,
//!   "detail": {"total": 1000, "distinct": 1000}, "me": 0, …}`; `POST /__stats/reset`.
//!   `list` counts pages, `listings` the listings (page 1 calls). A call counts under its
//!   kind whatever it was answered (delayed, failed, outage); calls without a token count
//!   only as `unauthenticated`.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed},
    time::Duration,
};

use actix_web::{
    App, HttpRequest, HttpResponse, HttpServer,
    dev::{Service, ServiceResponse},
    http::{StatusCode, header},
    web,
};
use clap::Parser;
use serde_json::{Value, json};

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

/// What the fake does now (changed by `/__control`) and what it has been asked.
struct Vendor {
    rooms: u64,
    latency_ms: AtomicU64,
    /// `f64` bits.
    fail_rate: AtomicU64,
    outage: AtomicBool,
    next_token: AtomicU64,
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

fn summary(id: u64) -> Value {
    json!({
        "id": id,
        "token": key_of(id - 1),
        "name": format!("Room {id}"),
        "type": "permanent",
        "start_date": null,
    })
}

fn widget(id: u64) -> Value {
    let key = key_of(id - 1);
    json!({
        "id": id,
        "token": key,
        "name": format!("Room {id}"),
        "agenda": format!("<p>Fake room number {id}.</p><p>Made by the fake vendor.</p>"),
        "type": "permanent",
        "status": "active",
        "start_date": null,
        "duration": 60,
        "timezone": "Europe/Warsaw",
        "password": "",
        "strict_event": 0,
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
        id.parse::<u64>()
            .ok()
            .filter(|id| (1..=self.rooms).contains(id))
    }
}

/// Whether the call carries a token this fake handed out.
fn authenticated(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t.starts_with("fake-token-"))
}

/// The 401 answer, when the call carries no token.
fn refusal(req: &HttpRequest, vendor: &Vendor) -> Option<HttpResponse> {
    if authenticated(req) {
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
    let limit = number("limit", 10).clamp(1, MAX_PAGE_SIZE as u64);
    let page = number("page", 1).max(1);
    vendor.counts.list.fetch_add(1, Relaxed);
    if page == 1 {
        vendor.counts.listings.fetch_add(1, Relaxed);
    }
    let descending = query.get("order").is_some_and(|o| o == "desc");
    let skip = (page - 1).saturating_mul(limit);
    let data: Vec<Value> = (skip..vendor.rooms.min(skip.saturating_add(limit)))
        .map(|n| if descending { vendor.rooms - n } else { n + 1 })
        .map(summary)
        .collect();
    HttpResponse::Ok().json(json!({ "data": data }))
}

async fn detail(vendor: State, req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    if let Some(refused) = refusal(&req, &vendor) {
        return refused;
    }
    vendor.counts.detail_total.fetch_add(1, Relaxed);
    match vendor.room(&id) {
        Some(id) => {
            vendor.counts.detail_by_id[(id - 1) as usize].fetch_add(1, Relaxed);
            HttpResponse::Ok().json(json!({ "data": widget(id) }))
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
    HttpResponse::Ok().json(json!({"data": {
        "personal_token": token,
        "personal_url": format!("{APP_URL}/{}?_personal_token={token}", key_of(id - 1)),
    }}))
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
}

fn behaviour(vendor: &Vendor) -> Value {
    json!({
        "fail": vendor.outage.load(Relaxed),
        "latency_ms": vendor.latency_ms.load(Relaxed),
        "fail_rate": f64::from_bits(vendor.fail_rate.load(Relaxed)),
        "rooms": vendor.rooms,
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
        latency_ms: AtomicU64::new(args.latency_ms),
        fail_rate: AtomicU64::new(args.fail_rate.clamp(0.0, 1.0).to_bits()),
        outage: AtomicBool::new(false),
        next_token: AtomicU64::new(1),
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
                    .route("/widgets/{id}", web::get().to(detail))
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
        assert!(parse_control(b"outage=1").unwrap_err().contains("outage"));
        assert!(
            parse_control(b"{\"fail\": 3}")
                .unwrap_err()
                .contains("JSON")
        );
    }
}

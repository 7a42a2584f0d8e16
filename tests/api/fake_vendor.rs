//! The vendor API faked with wiremock, shaped as livewebinar-api.md describes it.

use std::collections::HashMap;

use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{header, method, path, query_param},
};

use crate::helpers::{TestApp, spawn_app_with};

pub const CLIENT_ID: &str = "client-1";
pub const CLIENT_SECRET: &str = "s3cret&=+ żółw";
pub const ACCEPT: &str = "application/vnd.archiebot.v1+json";

pub struct Vendor {
    pub server: MockServer,
}

/// A widget object as `GET widgets/{id}` answers it (with an unknown field, as the
/// vendor may add any time).
pub fn widget(id: u64, license: &str, name: &str) -> Value {
    json!({
        "id": id,
        "token": license,
        "name": name,
        "agenda": "<p>Agenda</p>",
        "type": "permanent",
        "status": "active",
        "start_date": null,
        "duration": 60,
        "timezone": "Europe/Warsaw",
        "password": "",
        "strict_event": 0,
        "roles": {"host": format!("Host{id}"), "presenter": format!("Pres{id}")},
        "hosted_at": {"host": format!("https://app.example/{license}/x/Host{id}")},
        "brand_new_vendor_field": {"nested": [1, 2, 3]},
    })
}

/// A list entry of `GET widgets`.
pub fn summary(id: u64, license: &str) -> Value {
    json!({"id": id, "name": format!("Room {id}"), "token": license, "type": "permanent", "start_date": null})
}

impl Vendor {
    pub async fn start() -> Self {
        Vendor {
            server: MockServer::start().await,
        }
    }

    pub fn uri(&self) -> String {
        format!("{}/api/", self.server.uri())
    }

    /// `POST auth/login` answering `token`, expected `times` times.
    pub async fn login(&self, token: &str, expires_in: u64, times: impl Into<wiremock::Times>) {
        Mock::given(method("POST"))
            .and(path("/api/auth/login"))
            .and(header("accept", ACCEPT))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"token": token, "expires_in": expires_in})),
            )
            .expect(times)
            .mount(&self.server)
            .await;
    }

    /// `GET widgets` (page 1) listing `rooms`, expected `times` times.
    pub async fn list(&self, rooms: &[(u64, &str)], times: impl Into<wiremock::Times>) {
        let data: Vec<Value> = rooms.iter().map(|(id, l)| summary(*id, l)).collect();
        Mock::given(method("GET"))
            .and(path("/api/widgets"))
            .and(query_param("page", "1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": data})))
            .expect(times)
            .mount(&self.server)
            .await;
    }

    /// `GET widgets/{id}` answering `body` as `data`, expected `times` times.
    pub async fn detail(&self, id: u64, body: Value, times: impl Into<wiremock::Times>) {
        Mock::given(method("GET"))
            .and(path(format!("/api/widgets/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": body})))
            .expect(times)
            .mount(&self.server)
            .await;
    }

    /// How many requests reached `path` so far.
    pub async fn calls_to(&self, p: &str) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == p)
            .count()
    }
}

/// The environment for `rooms.source = "api"` against `vendor`.
pub fn api_env(vendor: &Vendor) -> HashMap<String, String> {
    [
        ("ROOMGATE__ROOMS__SOURCE", "api".to_owned()),
        ("ROOMGATE__API__BASE_URL", vendor.uri()),
        ("ROOMGATE__API__CLIENT_ID", CLIENT_ID.to_owned()),
        ("ROOMGATE__API__CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("ROOMGATE__API__TIMEOUT_MS", "1000".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The app reading rooms from `vendor`, with settings changed by `tweak`.
pub async fn spawn_api_app(
    vendor: &Vendor,
    tweak: impl FnOnce(&mut HashMap<String, String>),
) -> TestApp {
    let env = api_env(vendor);
    spawn_app_with(move |e| {
        e.extend(env);
        tweak(e);
    })
    .await
}

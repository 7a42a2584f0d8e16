//! One-time things once fleet-wide (issue 13, item 3): a used SSO token, a used OAuth
//! state and an ended sign-in are refused on every instance. Each test is written once
//! and runs twice: on one app with the local backend, and on three apps sharing a real
//! Redis (`spawn_fleet(3)`), the request `i` going to app `i % n`. Then what happens when
//! that Redis dies and comes back. The guess limits are in `fleet_limits.rs`.

use std::{collections::HashMap, time::Duration};

use serde_json::json;

use crate::fake_vendor::Vendor;
use crate::helpers::{
    L, PUBLIC_URL, TestApp, embed_block, form_body, get_with_cookie, input_value, new_client,
};
use crate::oauth::{connect_as_operator, exchange_answers, oauth_app, state_of};
use crate::redis_server::{RedisServer, fleet_env, spawn_fleet};
use crate::sso::{SECRET, claims, sign};

/// One session key for the whole fleet, as in a real one: a cookie set by one instance is
/// read by the others.
const SESSION_KEY: &str = "fleet-session-key-0123456789abcdef-0123456789abcdef-0123456789abcdef";

/// The apps a shared-state test runs on.
pub struct Setup {
    pub apps: Vec<TestApp>,
    /// The fleet's Redis; `None` for the local backend.
    pub redis: Option<RedisServer>,
}

impl Setup {
    /// One app, local backend.
    pub async fn local(tweak: impl Fn(&mut HashMap<String, String>)) -> Setup {
        let app = crate::helpers::spawn_app_with(|e| {
            e.insert("ROOMGATE__SESSION__KEY".into(), SESSION_KEY.into());
            tweak(e);
        })
        .await;
        Setup {
            apps: vec![app],
            redis: None,
        }
    }

    /// Three apps sharing a Redis of the test's own.
    pub async fn fleet(tweak: impl Fn(&mut HashMap<String, String>)) -> Setup {
        let redis = RedisServer::start().await;
        let apps = spawn_fleet(&redis, 3, |e| {
            e.insert("ROOMGATE__SESSION__KEY".into(), SESSION_KEY.into());
            tweak(e);
        })
        .await;
        Setup {
            apps,
            redis: Some(redis),
        }
    }

    /// The app that takes request `i`.
    pub fn at(&self, i: usize) -> &TestApp {
        &self.apps[i % self.apps.len()]
    }
}

/// Runs the test body `$body(&Setup)` once on the local backend and once on a fleet.
macro_rules! on_both_backends {
    ($name:ident, $body:path, $tweak:expr) => {
        mod $name {
            #[tokio::test]
            async fn locally() {
                let setup = super::Setup::local($tweak).await;
                $body(&setup).await;
            }

            #[tokio::test]
            async fn across_a_fleet_of_three() {
                let setup = super::Setup::fleet($tweak).await;
                $body(&setup).await;
            }
        }
    };
}
pub(crate) use on_both_backends;

pub fn with_sso(e: &mut HashMap<String, String>) {
    e.insert("ROOMGATE__SSO__SECRET".into(), SECRET.into());
}

/// `/sso?token=…` from a browser of its own; the answer and its session cookie.
async fn sign_in(app: &TestApp, token: &str) -> (u16, Option<String>) {
    let res = new_client()
        .get(app.url(&format!("/sso?token={token}&return_to=%2F")))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), session_cookie(&res))
}

/// The session cookie an answer sets, as a `Cookie` header value.
pub fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("roomgate="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

/// The nickname a room page hands to the embed, for the browser holding `cookie`.
async fn nickname_with(app: &TestApp, cookie: &str) -> Option<String> {
    let (status, html) = get_with_cookie(app, &format!("/room/{L}?_nickname=Ada"), cookie).await;
    assert_eq!(status, 200);
    embed_block(&html).unwrap().options.nickname
}

async fn an_sso_token_works_once(setup: &Setup) {
    let token = sign(&claims("Grace", "fleet-once"));
    let (status, _) = sign_in(setup.at(0), &token).await;
    assert_eq!(status, 303, "the first use signs in");
    for i in 1..3 {
        let (status, cookie) = sign_in(setup.at(i), &token).await;
        assert_eq!(status, 400, "replayed on app {}", i % setup.apps.len());
        assert!(cookie.is_none(), "nothing stored for a replay");
    }
}
on_both_backends!(
    an_sso_token_works_once_everywhere,
    super::an_sso_token_works_once,
    super::with_sso
);

async fn a_sign_out_on_one_instance_ends_the_sign_in_on_the_others(setup: &Setup) {
    let (status, cookie) = sign_in(setup.at(0), &sign(&claims("Grace", "fleet-out"))).await;
    assert_eq!(status, 303);
    let saved = cookie.expect("the sign-in sets the session cookie");
    assert_eq!(
        nickname_with(setup.at(2), &saved).await.as_deref(),
        Some("Grace"),
        "signed in on every instance"
    );

    let (_, html) = get_with_cookie(setup.at(1), &format!("/room/{L}"), &saved).await;
    let csrf = input_value(&html, "csrf").expect("the sign-out form");
    let res = new_client()
        .post(setup.at(1).url("/sso/logout"))
        .header("cookie", &saved)
        .header("origin", PUBLIC_URL)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[("csrf", &csrf), ("return_to", "/")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);

    for i in [2, 0] {
        assert_eq!(
            nickname_with(setup.at(i), &saved).await.as_deref(),
            Some("Ada"),
            "a copy of the cookie saved before the sign-out no longer signs in on app {}",
            i % setup.apps.len()
        );
    }
}
on_both_backends!(
    a_sign_out_ends_the_sign_in_everywhere,
    super::a_sign_out_on_one_instance_ends_the_sign_in_on_the_others,
    super::with_sso
);

/// The operator's `/oauth/connect` on `app`: the state sent to the vendor and the cookie
/// that holds it.
async fn connect(app: &TestApp) -> (String, String) {
    let res = connect_as_operator(&new_client(), app).await;
    let cookie = session_cookie(&res).expect("connect stores the state in the cookie");
    let state = state_of(&res);
    (state, cookie)
}

/// OAuth mode around `vendor`, on one app or on three sharing `redis`.
async fn oauth_apps(vendor: &Vendor, redis: Option<&RedisServer>) -> Vec<TestApp> {
    let mut extra: Vec<(String, String)> =
        vec![("ROOMGATE__SESSION__KEY".into(), SESSION_KEY.into())];
    if let Some(redis) = redis {
        extra.extend(fleet_env(redis));
    }
    let extra: Vec<(&str, &str)> = extra
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let dir = tempfile::tempdir().unwrap().keep();
    let mut apps = Vec::new();
    for i in 0..if redis.is_some() { 3 } else { 1 } {
        apps.push(oauth_app(vendor, &dir.join(format!("t{i}.json")), &extra).await);
    }
    apps
}

async fn an_oauth_state_works_once(apps: &[TestApp], vendor: &Vendor) {
    let at = |i: usize| &apps[i % apps.len()];
    // One exchange only: wiremock checks the count when the vendor is dropped.
    exchange_answers(
        vendor,
        "C",
        json!({"access_token": "AT", "refresh_token": "RT", "expires_in": 3600}),
        1,
    )
    .await;
    let (state, saved) = connect(at(0)).await;
    let callback = format!("/oauth/callback?code=C&state={state}");
    let (status, _) = get_with_cookie(at(1), &callback, &saved).await;
    assert_eq!(status, 200, "the first callback connects");
    let (status, _) = get_with_cookie(at(2), &callback, &saved).await;
    assert_eq!(
        status, 400,
        "a copy of the cookie cannot bring the state back to another instance"
    );
}

mod an_oauth_state_works_once_everywhere {
    use super::*;

    #[tokio::test]
    async fn locally() {
        let vendor = Vendor::start().await;
        let apps = oauth_apps(&vendor, None).await;
        an_oauth_state_works_once(&apps, &vendor).await;
    }

    #[tokio::test]
    async fn across_a_fleet_of_three() {
        let vendor = Vendor::start().await;
        let redis = RedisServer::start().await;
        let apps = oauth_apps(&vendor, Some(&redis)).await;
        an_oauth_state_works_once(&apps, &vendor).await;
    }
}

/// Signs in on `app` with `token`, retrying while the link to a Redis that just came
/// back still answers 503 (its breaker, its reconnection); the last status.
async fn sign_in_when_back(app: &TestApp, token: &str) -> u16 {
    let mut status = 0;
    for _ in 0..50 {
        status = sign_in(app, token).await.0;
        if status != 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    status
}

#[tokio::test]
async fn without_redis_sso_fails_closed_with_a_503_page_and_stores_nothing() {
    let mut setup = Setup::fleet(with_sso).await;
    setup.redis.as_mut().unwrap().kill();
    let token = sign(&claims("Grace", "fleet-down"));
    for i in 0..3 {
        let started = std::time::Instant::now();
        let res = new_client()
            .get(
                setup
                    .at(i)
                    .url(&format!("/sso?token={token}&return_to=%2F")),
            )
            .header("accept-language", "pl")
            .send()
            .await
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(2), "a bounded wait");
        assert_eq!(res.status(), 503, "app {i}");
        assert!(res.headers().get("retry-after").is_some());
        assert!(
            session_cookie(&res).is_none(),
            "nothing stored in the session"
        );
        let html = res.text().await.unwrap();
        assert!(
            html.contains("Logowanie jest chwilowo niedostępne"),
            "in the visitor's language: {html}"
        );
    }
    let (_, html) = setup.at(0).get_html(&format!("/room/{L}")).await;
    assert_eq!(embed_block(&html).unwrap().options.nickname, None);
    assert!(
        !setup.at(0).logs().contains(&token),
        "the token never reaches the log"
    );

    setup.redis.as_mut().unwrap().restart().await;
    assert_eq!(
        sign_in_when_back(setup.at(1), &token).await,
        303,
        "the token refused for want of Redis was not used up"
    );
    assert_eq!(
        sign_in(setup.at(2), &token).await.0,
        400,
        "fleet-wide again"
    );
}

#[tokio::test]
async fn without_redis_a_sign_out_is_recorded_here_and_the_log_says_so() {
    let mut setup = Setup::fleet(with_sso).await;
    let (_, cookie) = sign_in(setup.at(0), &sign(&claims("Grace", "fleet-out-down"))).await;
    let saved = cookie.unwrap();
    let (_, html) = get_with_cookie(setup.at(0), &format!("/room/{L}"), &saved).await;
    let csrf = input_value(&html, "csrf").unwrap();

    setup.redis.as_mut().unwrap().kill();
    let res = new_client()
        .post(setup.at(0).url("/sso/logout"))
        .header("cookie", &saved)
        .header("origin", PUBLIC_URL)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[("csrf", &csrf), ("return_to", "/")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "the visitor is signed out all the same");
    assert!(
        setup.at(0).logs().contains("sso_sign_out_local_only"),
        "the log says the sign-out is not fleet-wide"
    );
    assert_eq!(
        nickname_with(setup.at(0), &saved).await.as_deref(),
        Some("Ada"),
        "this instance refuses the saved cookie"
    );
}

#[tokio::test]
async fn a_frozen_redis_costs_a_sign_in_a_bounded_wait_and_a_503() {
    let setup = Setup::fleet(with_sso).await;
    let redis = setup.redis.as_ref().unwrap();
    redis.pause();
    let started = std::time::Instant::now();
    let (status, cookie) = sign_in(setup.at(0), &sign(&claims("Grace", "frozen"))).await;
    let waited = started.elapsed();
    redis.resume();
    assert_eq!(status, 503);
    assert!(cookie.is_none());
    assert!(waited < Duration::from_secs(2), "waited {waited:?}");
}

#[tokio::test]
async fn without_redis_an_oauth_callback_is_refused_and_nothing_is_exchanged() {
    let vendor = Vendor::start().await;
    let mut redis = RedisServer::start().await;
    let apps = oauth_apps(&vendor, Some(&redis)).await;
    exchange_answers(&vendor, "C", json!({"access_token": "AT"}), 0).await;
    let (state, saved) = connect(&apps[0]).await;
    redis.kill();
    let (status, html) = get_with_cookie(
        &apps[1],
        &format!("/oauth/callback?code=C&state={state}"),
        &saved,
    )
    .await;
    assert_eq!(status, 503);
    assert!(html.contains("Sign-in is briefly unavailable"), "{html}");
}

//! Is this request from the operator? The admin token (`admin.token`) is checked in
//! constant time; wrong tokens from one client are throttled like role-hash guesses.
//! Without `admin.token` the whole operator surface answers 404.

use actix_web::{HttpRequest, http::header::AUTHORIZATION};
use base64::Engine;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use crate::{client_ip::client_ip, error::PageError, startup::AppState};

/// The challenge of the operator's browser pages.
pub const BASIC_CHALLENGE: &str = "Basic realm=\"roomgate operator\", charset=\"UTF-8\"";

/// The user name of HTTP Basic sign-in; the password is `admin.token`.
pub const BASIC_USER: &str = "admin";

/// The password of an `Authorization: Basic` header whose user is `admin`.
pub fn basic_password(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    (user == BASIC_USER).then(|| password.to_owned())
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Why a request is not the operator's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No `admin.token` is configured: the surface does not exist (404).
    SurfaceOff,
    /// Too many wrong tokens from this client (429).
    Throttled,
    /// Missing or wrong credentials (401).
    Unauthorized,
}

/// Checks `presented` against `admin.token`, counting wrong ones per client.
pub fn check(state: &AppState, req: &HttpRequest, presented: Option<&str>) -> Result<(), Refusal> {
    let Some(expected) = &state.admin_token else {
        return Err(Refusal::SurfaceOff);
    };
    let client = client_ip(req, &state.trusted_proxies);
    if state.admin_guesses.is_blocked(client) {
        return Err(Refusal::Throttled);
    }
    let Some(given) = presented else {
        return Err(Refusal::Unauthorized);
    };
    if bool::from(expected.expose_secret().as_bytes().ct_eq(given.as_bytes())) {
        Ok(())
    } else {
        state.admin_guesses.record_failure(client);
        tracing::warn!(
            security_event = "admin_token_mismatch",
            "wrong operator token"
        );
        Err(Refusal::Unauthorized)
    }
}

/// The operator's browser pages: HTTP Basic, refusals as branded pages.
pub fn require_basic(state: &AppState, req: &HttpRequest) -> Result<(), PageError> {
    check(state, req, basic_password(req).as_deref()).map_err(|refusal| match refusal {
        Refusal::SurfaceOff => PageError::NotFound,
        Refusal::Throttled => PageError::TooManyAttempts,
        Refusal::Unauthorized => PageError::Unauthorized {
            challenge: BASIC_CHALLENGE,
        },
    })
}

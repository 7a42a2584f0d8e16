//! Is this request from the operator? The admin token (`admin.token`) is checked in
//! constant time; wrong tokens from one client are throttled like role-hash guesses.
//! Without `admin.token` the whole operator surface answers 404.

use actix_web::{HttpRequest, http::header::AUTHORIZATION};
use base64::Engine;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use super::{
    client_ip::client_ip, error::PageError, sites::Site, state::AppState, throttle::Answer,
};

/// The challenge of the operator's browser pages.
pub const BASIC_CHALLENGE: &str = "Basic realm=\"roomgate operator\", charset=\"UTF-8\"";

/// The user name of HTTP Basic sign-in; the password is `admin.token`.
pub const BASIC_USER: &str = "admin";

/// The password of an `Authorization: Basic` header whose user is `admin`.
pub fn basic_password(req: &HttpRequest) -> Option<String> {
    let encoded = credentials(authorization(req)?, "Basic")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    (user == BASIC_USER).then(|| password.to_owned())
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    credentials(authorization(req)?, "Bearer")
}

fn authorization(req: &HttpRequest) -> Option<&str> {
    req.headers().get(AUTHORIZATION)?.to_str().ok()
}

/// The credentials of an `Authorization` value of `scheme`. The scheme is matched without
/// regard to case (RFC 9110 §11.1: `bearer` and `BASIC` are as good as `Bearer` and
/// `Basic`), and must be followed by at least one space.
fn credentials<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(rest.trim())
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

/// Whether `site` has an operator surface: a top-level `admin.token` (good for every
/// brand) or the brand's own.
pub fn surface_on(state: &AppState, site: &Site) -> bool {
    state.operator.token.is_some() || site.admin_token.is_some()
}

/// Checks `presented` against the top-level `admin.token` and `site`'s own, counting
/// wrong ones per client. A brand's token is good for that brand only.
pub async fn check(
    state: &AppState,
    site: &Site,
    req: &HttpRequest,
    presented: Option<&str>,
) -> Result<(), Refusal> {
    if !surface_on(state, site) {
        return Err(Refusal::SurfaceOff);
    }
    // Compared first, answered only if the guess limit allows it, which it decides and
    // charges in one step, so requests arriving together cannot all slip past the limit
    // (see `throttle`).
    let client = client_ip(req, &state.guards.trusted_proxies);
    let guesses = &state.operator.guesses;
    if guesses.spent(client) {
        return Err(Refusal::Throttled);
    }
    let Some(given) = presented else {
        return Err(Refusal::Unauthorized);
    };
    // Both compared, in constant time, whatever the first says.
    let matches = |token: &Option<secrecy::SecretString>| {
        token.as_ref().map_or(subtle::Choice::from(0), |t| {
            t.expose_secret().as_bytes().ct_eq(given.as_bytes())
        })
    };
    let right = bool::from(matches(&state.operator.token) | matches(&site.admin_token));
    // A right token is named by the brand it opens: a client given that brand's
    // operator surface here within the minute is let in again without a round trip.
    let answer = if right {
        guesses.right((site.index, given))
    } else {
        Answer::Wrong
    };
    if !guesses.judge(client, answer).await {
        return Err(Refusal::Throttled);
    }
    if right {
        Ok(())
    } else {
        tracing::warn!(
            security_event = "admin_token_mismatch",
            "wrong operator token"
        );
        Err(Refusal::Unauthorized)
    }
}

/// The operator's browser pages: HTTP Basic, refusals as branded pages.
pub async fn require_basic(
    state: &AppState,
    site: &Site,
    req: &HttpRequest,
) -> Result<(), PageError> {
    let password = basic_password(req);
    check(state, site, req, password.as_deref())
        .await
        .map_err(|refusal| match refusal {
            Refusal::SurfaceOff => PageError::NotFound,
            Refusal::Throttled => PageError::TooManyAttempts,
            Refusal::Unauthorized => PageError::Unauthorized {
                challenge: BASIC_CHALLENGE,
            },
        })
}

#[cfg(test)]
mod tests {
    use super::credentials;

    #[test]
    fn the_scheme_is_matched_without_regard_to_case() {
        for value in ["Bearer abc", "bearer abc", "BEARER abc", "Bearer   abc "] {
            assert_eq!(credentials(value, "Bearer"), Some("abc"), "{value}");
        }
        assert_eq!(credentials("basic YTpi", "Basic"), Some("YTpi"));
    }

    #[test]
    fn another_scheme_or_no_space_is_no_credential() {
        assert_eq!(credentials("Basic abc", "Bearer"), None);
        assert_eq!(credentials("Bearerabc", "Bearer"), None);
        assert_eq!(credentials("Bearer", "Bearer"), None);
        assert_eq!(credentials("Bear abc", "Bearer"), None);
    }
}

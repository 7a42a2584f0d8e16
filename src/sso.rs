//! The sign-in handoff: the company's site sends a logged-in person to
//! `/sso?token=JWT&return_to=/room/…` with an HS256 token signed with `sso.secret`.
//!
//! The rules, after the OWASP JWT cheat sheet: HS256 only, the key only from the settings
//! (never from the token header: `jwk`, `jku`, `x5u`, `x5c` are refused), `exp`, `iat`,
//! `jti` and `name` required, `nbf` checked when present, `aud` required and checked when
//! `sso.audience` is set, a lifetime (`exp - iat`) of at most `sso.max_age_secs`, and each
//! token used once (`jti` remembered until it has expired).

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use moka::sync::Cache;
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::{
    configuration::SsoSettings,
    room::validate::{clean_avatar_url, clean_email, clean_nickname},
    session::Identity,
};

/// Clock difference tolerated between the company's site and roomgate.
pub const LEEWAY_SECS: u64 = 10;

/// Longest token accepted, in bytes.
const MAX_TOKEN_BYTES: usize = 4096;

/// The claims roomgate reads. Types are strict: `"exp": "123"` (a string) is refused.
#[derive(Debug, Deserialize)]
struct Claims {
    name: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    avatar_url: Option<String>,
    exp: i64,
    iat: i64,
    #[serde(default)]
    nbf: Option<i64>,
    jti: String,
}

/// Why a token was refused (for the log; the visitor sees one 400 page for all).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsoError {
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("the token names its own key (jwk, jku, x5u or x5c)")]
    KeyInHeader,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("issued in the future")]
    IssuedInFuture,
    #[error("lifetime longer than sso.max_age_secs")]
    TooLong,
    #[error("the name is empty or too long")]
    BadName,
    #[error("the token was used before")]
    Reused,
}

/// Checks sign-in tokens and remembers the ones used.
pub struct SsoVerifier {
    key: DecodingKey,
    validation: Validation,
    max_age_secs: i64,
    session_max_age_secs: i64,
    used: Cache<String, ()>,
}

impl SsoVerifier {
    /// A verifier for `settings`, or `None` when `sso.secret` is not set (`/sso` is off).
    pub fn new(settings: &SsoSettings) -> Option<Self> {
        let secret = settings.secret.as_ref()?;
        let mut validation = Validation::new(Algorithm::HS256);
        // `exp` and `nbf` are checked below against the application's clock, not by
        // jsonwebtoken against the system's: one clock decides every time question.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        if settings.audience.is_empty() {
            validation.validate_aud = false;
            validation.set_required_spec_claims(&["exp"]);
        } else {
            validation.set_audience(&[settings.audience.as_str()]);
            validation.set_required_spec_claims(&["exp", "aud"]);
        }
        let max_age_secs = i64::try_from(settings.max_age_secs).unwrap_or(300);
        Some(SsoVerifier {
            key: DecodingKey::from_secret(secret.expose_secret().as_bytes()),
            validation,
            max_age_secs,
            session_max_age_secs: i64::try_from(settings.session_max_age_secs).unwrap_or(43_200),
            // A token lives at most max_age (+ leeway) from now, so this covers its life.
            used: Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(Duration::from_secs(settings.max_age_secs + 2 * LEEWAY_SECS))
                .build(),
        })
    }

    /// The identity in `token` at `now` (Unix seconds), or why it is refused.
    pub fn verify(&self, token: &str, now: i64) -> Result<Identity, SsoError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(SsoError::Malformed("too long".into()));
        }
        let header = decode_header(token).map_err(|e| SsoError::Malformed(e.to_string()))?;
        if header.jwk.is_some()
            || header.jku.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
        {
            return Err(SsoError::KeyInHeader);
        }
        let claims = decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| SsoError::Invalid(e.to_string()))?
            .claims;
        let leeway = LEEWAY_SECS as i64;
        if claims.exp < now.saturating_sub(leeway) {
            return Err(SsoError::Invalid("ExpiredSignature".into()));
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf > now.saturating_add(leeway))
        {
            return Err(SsoError::Invalid("ImmatureSignature".into()));
        }
        if claims.iat > now + leeway {
            return Err(SsoError::IssuedInFuture);
        }
        if claims.exp - claims.iat > self.max_age_secs {
            return Err(SsoError::TooLong);
        }
        if claims.jti.is_empty() || claims.jti.len() > 256 {
            return Err(SsoError::Invalid("jti must be 1 to 256 bytes".into()));
        }
        let name = clean_nickname(&claims.name).ok_or(SsoError::BadName)?;
        // Checked last, so that a refused token does not use up its id.
        let fresh = self.used.entry(claims.jti.clone()).or_insert(()).is_fresh();
        if !fresh {
            return Err(SsoError::Reused);
        }
        Ok(Identity {
            name,
            email: claims.email.as_deref().and_then(clean_email),
            avatar_url: claims.avatar_url.as_deref().and_then(clean_avatar_url),
            expires_at: now + self.session_max_age_secs,
        })
    }
}

//! The sign-in handoff: the company's site sends a logged-in person to
//! `/sso?token=JWT&return_to=/room/…` with an HS256 token signed with `sso.secret`.
//!
//! The rules, after the OWASP JWT cheat sheet: HS256 only, the key only from the settings
//! (never from the token header: `jwk`, `jku`, `x5u`, `x5c` are refused), no `crit` header
//! (roomgate understands no extension, and RFC 7515 §4.1.11 says a token naming one it does
//! not understand is invalid), `exp`, `iat`, `jti` and `name` required, `nbf` checked when
//! present, `aud` required and checked when `sso.audience` is set, a lifetime (`exp - iat`)
//! of at most `sso.max_age_secs`, `iat` no older than that plus the leeway, all in checked
//! arithmetic, and each token used once (`jti` remembered until the token itself could no
//! longer be accepted, by the application's clock; across the fleet in fleet mode, and
//! when the fleet's record cannot be reached the sign-in fails closed).

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::{
    domain::grammar::{clean_avatar_url, clean_email, clean_nickname},
    settings::SsoSettings,
    shared::{Backend, OneTime},
    visit::remembered::Identity,
};

/// Clock difference tolerated between the company's site and roomgate.
pub const LEEWAY_SECS: u64 = 10;

/// Longest token accepted, in bytes.
const MAX_TOKEN_BYTES: usize = 4096;

/// Most token ids remembered at once. A token is remembered for at most
/// `sso.max_age_secs` + twice the leeway (320 s by default), and only tokens signed with
/// `sso.secret` get in: 100 000 is over 300 sign-ins a second, at most a few tens of MB.
/// A full record forgets the ids closest to their end early and then refuses tokens
/// ending before them (see `shared::used_once`), so being full never lets a token in twice.
const USED_IDS_CAPACITY: usize = 100_000;

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
    #[error("the token has critical header parameters (crit), none of which roomgate understands")]
    CriticalHeader,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("invalid token: ExpiredSignature")]
    Expired,
    #[error("invalid token: ImmatureSignature")]
    NotYetValid,
    #[error("issued in the future")]
    IssuedInFuture,
    #[error("lifetime longer than sso.max_age_secs, or expiring before it was issued")]
    TooLong,
    #[error("issued longer ago than sso.max_age_secs allows")]
    IssuedTooLongAgo,
    #[error("the name is empty or too long")]
    BadName,
    #[error("the token was used before")]
    Reused,
    /// The fleet's record of used tokens cannot be reached: whether the token was used
    /// on another instance is unknown, so it is not accepted (503, not 400: it may work
    /// in a moment).
    #[error("the record of used tokens cannot be reached")]
    Unavailable,
}

impl SsoError {
    /// The reason label of `roomgate_sso_refused_total`: one of a fixed few, so that an
    /// attacker's tokens cannot make new series.
    pub fn reason(&self) -> &'static str {
        match self {
            SsoError::Malformed(_) => "malformed",
            SsoError::KeyInHeader => "key_in_header",
            SsoError::CriticalHeader => "critical_header",
            SsoError::Invalid(_) => "invalid",
            SsoError::Expired => "expired",
            SsoError::NotYetValid => "not_yet_valid",
            SsoError::IssuedInFuture => "issued_in_future",
            SsoError::TooLong => "too_long",
            SsoError::IssuedTooLongAgo => "issued_too_long_ago",
            SsoError::BadName => "bad_name",
            SsoError::Reused => "reused",
            SsoError::Unavailable => "unavailable",
        }
    }
}

/// Checks sign-in tokens and remembers the ones used.
pub struct SsoVerifier {
    key: DecodingKey,
    validation: Validation,
    max_age_secs: i64,
    session_max_age_secs: i64,
    used: OneTime,
}

/// A token that passed every check but has not been used up yet: the sign-in uses it up
/// with [`SsoVerifier::use_up`] only once nothing else can fail, so that a sign-in that
/// fails leaves the token usable for a retry.
#[derive(Debug)]
pub struct Verified {
    /// The person the token signs in.
    pub identity: Identity,
    jti: String,
    /// The last instant (Unix seconds) at which the token could be accepted.
    usable_until: i64,
}

impl SsoVerifier {
    /// A verifier for `settings`, or `None` when `sso.secret` is not set (`/sso` is off);
    /// used tokens are recorded where `backend` says.
    pub fn new(settings: &SsoSettings, backend: &Backend) -> Option<Self> {
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
        Some(SsoVerifier {
            key: DecodingKey::from_secret(secret.expose_secret().as_bytes()),
            validation,
            max_age_secs: i64::try_from(settings.max_age_secs).unwrap_or(300),
            session_max_age_secs: i64::try_from(settings.session_max_age_secs).unwrap_or(43_200),
            used: OneTime::new(backend.redis(), "sso", "sso token ids", USED_IDS_CAPACITY),
        })
    }

    /// The identity in `token` at `now` (Unix seconds), or why it is refused. The token is
    /// not used up: see [`SsoVerifier::use_up`].
    pub fn verify(&self, token: &str, now: i64) -> Result<Verified, SsoError> {
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
        // Any `crit`, even an empty list (which RFC 7515 forbids), names extensions we do
        // not implement.
        if header.crit.is_some() {
            return Err(SsoError::CriticalHeader);
        }
        let claims = decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| SsoError::Invalid(e.to_string()))?
            .claims;
        let usable_until = check_times(&claims, now, self.max_age_secs)?;
        if claims.jti.is_empty() || claims.jti.len() > 256 {
            return Err(SsoError::Invalid("jti must be 1 to 256 bytes".into()));
        }
        let name = clean_nickname(&claims.name).ok_or(SsoError::BadName)?;
        // Only what this instance saw: an early refusal without a round trip. The fleet's
        // record decides in `use_up`.
        if self.used.was_used_here(&claims.jti, usable_until) {
            return Err(SsoError::Reused);
        }
        Ok(Verified {
            identity: Identity {
                name,
                email: claims.email.as_deref().and_then(clean_email),
                avatar_url: claims.avatar_url.as_deref().and_then(clean_avatar_url),
                expires_at: now.saturating_add(self.session_max_age_secs),
            },
            jti: claims.jti,
            usable_until,
        })
    }

    /// Uses the token up, at `now`: refused when it was used before (also by a concurrent
    /// request, on any instance: of two, exactly one gets through), and when the record
    /// cannot be reached ([`SsoError::Unavailable`]).
    pub async fn use_up(&self, verified: &Verified, now: i64) -> Result<(), SsoError> {
        match self
            .used
            .first_use(&verified.jti, verified.usable_until, now)
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(SsoError::Reused),
            Err(e) => {
                tracing::warn!(error = %e, "sign-in refused: the fleet's record of used tokens cannot be reached");
                Err(SsoError::Unavailable)
            }
        }
    }
}

/// Checks the token's times at `now`, with [`LEEWAY_SECS`] for clock differences; answers
/// the last instant at which the token can be accepted (its `exp` plus the leeway).
/// The claims are any `i64`, so every step is checked or saturating: an overflow must
/// never turn a refusal into an acceptance.
fn check_times(claims: &Claims, now: i64, max_age_secs: i64) -> Result<i64, SsoError> {
    let leeway = LEEWAY_SECS as i64;
    let usable_until = claims.exp.saturating_add(leeway);
    if usable_until < now {
        return Err(SsoError::Expired);
    }
    if claims
        .nbf
        .is_some_and(|nbf| nbf > now.saturating_add(leeway))
    {
        return Err(SsoError::NotYetValid);
    }
    if claims.iat > now.saturating_add(leeway) {
        return Err(SsoError::IssuedInFuture);
    }
    // `now - iat` saturates at i64::MAX for an `iat` far in the past: refused.
    if now.saturating_sub(claims.iat) > max_age_secs.saturating_add(leeway) {
        return Err(SsoError::IssuedTooLongAgo);
    }
    match claims.exp.checked_sub(claims.iat) {
        Some(lifetime) if (0..=max_age_secs).contains(&lifetime) => Ok(usable_until),
        _ => Err(SsoError::TooLong),
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header, encode};
    use secrecy::SecretString;
    use serde_json::{Value, json};

    use super::*;

    const SECRET: &str = "unit-test-secret-0123456789-0123456789";
    const NOW: i64 = 1_800_000_000;

    fn verifier() -> SsoVerifier {
        SsoVerifier::new(
            &SsoSettings {
                secret: Some(SecretString::from(SECRET)),
                audience: String::new(),
                max_age_secs: 300,
                session_max_age_secs: 3600,
            },
            &Backend::Local,
        )
        .unwrap()
    }

    fn token_with(header: Header, claims: Value) -> String {
        encode(
            &header,
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    }

    fn token(exp: i64, iat: i64, jti: &str) -> String {
        token_with(
            Header::new(Algorithm::HS256),
            json!({"name": "Grace", "exp": exp, "iat": iat, "jti": jti}),
        )
    }

    fn claims(exp: i64, iat: i64, nbf: Option<i64>) -> Claims {
        Claims {
            name: "Grace".into(),
            email: None,
            avatar_url: None,
            exp,
            iat,
            nbf,
            jti: "t".into(),
        }
    }

    // The boundaries below were found untested by cargo-mutants.

    #[test]
    fn the_leeway_is_inclusive_for_iat_and_nbf_and_for_a_token_just_too_old() {
        let leeway = LEEWAY_SECS as i64;
        let edge = NOW + leeway;
        assert!(check_times(&claims(edge + 60, edge, None), NOW, 300).is_ok());
        assert_eq!(
            check_times(&claims(edge + 61, edge + 1, None), NOW, 300),
            Err(SsoError::IssuedInFuture)
        );
        assert!(check_times(&claims(NOW + 60, NOW, Some(edge)), NOW, 300).is_ok());
        assert_eq!(
            check_times(&claims(NOW + 60, NOW, Some(edge + 1)), NOW, 300),
            Err(SsoError::NotYetValid)
        );
        let oldest = NOW - 300 - leeway;
        // Both still usable now (exp + leeway = now); one second apart in age.
        assert!(check_times(&claims(NOW - leeway, oldest, None), NOW, 300).is_ok());
        assert_eq!(
            check_times(&claims(NOW - leeway, oldest - 1, None), NOW, 300),
            Err(SsoError::IssuedTooLongAgo)
        );
    }

    #[test]
    fn each_key_naming_header_alone_is_refused() {
        for (name, value) in [
            ("jwk", json!({"kty": "oct", "k": "AAAA"})),
            ("jku", json!("https://evil.example/keys")),
            ("x5u", json!("https://evil.example/cert")),
            ("x5c", json!(["MIIB"])),
        ] {
            use base64::Engine;
            let b64 =
                |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            let mut header = json!({"alg": "HS256", "typ": "JWT"});
            header[name] = value;
            let token = format!(
                "{}.{}.c2ln",
                b64(&header),
                b64(&json!({"name": "G", "exp": NOW + 60, "iat": NOW, "jti": name}))
            );
            assert_eq!(
                verifier().verify(&token, NOW).err(),
                Some(SsoError::KeyInHeader),
                "{name}"
            );
        }
    }

    #[test]
    fn a_jti_takes_1_to_256_bytes_and_a_token_at_most_4096() {
        let v = verifier();
        let with_jti = |jti: &str| token(NOW + 60, NOW, jti);
        assert!(v.verify(&with_jti(&"j".repeat(256)), NOW).is_ok());
        for jti in [String::new(), "j".repeat(257)] {
            assert_eq!(
                v.verify(&with_jti(&jti), NOW).err(),
                Some(SsoError::Invalid("jti must be 1 to 256 bytes".into())),
                "{} bytes",
                jti.len()
            );
        }
        let at_limit = "x".repeat(MAX_TOKEN_BYTES);
        assert_ne!(
            v.verify(&at_limit, NOW).err(),
            Some(SsoError::Malformed("too long".into())),
            "4096 bytes are not too long"
        );
        assert_eq!(
            v.verify(&"x".repeat(MAX_TOKEN_BYTES + 1), NOW).err(),
            Some(SsoError::Malformed("too long".into()))
        );
    }

    #[tokio::test]
    async fn verifying_does_not_use_the_token_up_and_using_it_up_works_once() {
        let v = verifier();
        let t = token(NOW + 120, NOW, "once");
        let first = v.verify(&t, NOW).unwrap();
        let again = v
            .verify(&t, NOW)
            .expect("a verified token is not used up yet");
        assert_eq!(first.identity.name, "Grace");
        assert_eq!(first.identity.expires_at, NOW + 3600);
        v.use_up(&first, NOW).await.unwrap();
        assert_eq!(v.use_up(&again, NOW).await, Err(SsoError::Reused));
        assert_eq!(v.verify(&t, NOW).unwrap_err(), SsoError::Reused);
    }

    #[tokio::test]
    async fn a_used_token_is_remembered_until_its_last_acceptable_instant() {
        let v = verifier();
        let t = token(NOW + 120, NOW, "kept");
        let verified = v.verify(&t, NOW).unwrap();
        v.use_up(&verified, NOW).await.unwrap();
        // Other sign-ins at later instants make the record forget what has ended.
        let other = v
            .verify(&token(NOW + 250, NOW + 130, "o1"), NOW + 130)
            .unwrap();
        v.use_up(&other, NOW + 130).await.unwrap();
        assert_eq!(v.verify(&t, NOW + 130).unwrap_err(), SsoError::Reused);
        let other = v
            .verify(&token(NOW + 251, NOW + 131, "o2"), NOW + 131)
            .unwrap();
        v.use_up(&other, NOW + 131).await.unwrap();
        assert!(
            matches!(v.verify(&t, NOW + 131), Err(SsoError::Expired)),
            "past exp + leeway the token itself is refused"
        );
    }

    #[test]
    fn lifetimes_are_checked_without_overflow() {
        let v = verifier();
        for (what, exp, iat) in [
            ("exp max, iat min", i64::MAX, i64::MIN),
            ("iat min", NOW + 60, i64::MIN),
            ("exp max", i64::MAX, NOW),
            ("exp min, iat max", i64::MIN, i64::MAX),
            ("exp before iat", NOW + 1, NOW + 5),
        ] {
            assert!(v.verify(&token(exp, iat, what), NOW).is_err(), "{what}");
        }
        assert_eq!(
            v.verify(&token(NOW + 60, i64::MIN, "old"), NOW)
                .unwrap_err(),
            SsoError::IssuedTooLongAgo
        );
        assert!(v.verify(&token(NOW - 5, NOW - 305, "edge"), NOW).is_ok());
    }

    #[test]
    fn the_time_checks_accept_exactly_the_leeway() {
        let claims = |exp, iat| Claims {
            name: "G".into(),
            email: None,
            avatar_url: None,
            exp,
            iat,
            nbf: None,
            jti: "j".into(),
        };
        assert_eq!(check_times(&claims(NOW - 10, NOW - 20), NOW, 300), Ok(NOW));
        assert!(check_times(&claims(NOW - 11, NOW - 20), NOW, 300).is_err());
        assert!(check_times(&claims(NOW + 10, NOW + 10), NOW, 300).is_ok());
        assert_eq!(
            check_times(&claims(NOW + 20, NOW + 11), NOW, 300),
            Err(SsoError::IssuedInFuture)
        );
        assert_eq!(
            check_times(&claims(NOW, NOW - 311), NOW, 300),
            Err(SsoError::IssuedTooLongAgo)
        );
    }

    #[test]
    fn critical_header_parameters_are_refused() {
        let v = verifier();
        let claims = json!({"name": "G", "exp": NOW + 60, "iat": NOW, "jti": "crit"});
        for crit in [vec!["x-must-understand".to_owned()], vec![]] {
            let mut header = Header::new(Algorithm::HS256);
            header.crit = Some(crit);
            header.extras.insert("x-must-understand", true);
            assert_eq!(
                v.verify(&token_with(header, claims.clone()), NOW)
                    .unwrap_err(),
                SsoError::CriticalHeader
            );
        }
        assert!(
            v.verify(&token_with(Header::new(Algorithm::HS256), claims), NOW)
                .is_ok()
        );
    }
}

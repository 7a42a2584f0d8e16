//! What the fleet's token record holds, before the record seals it: the vendor tokens
//! and the sign-in mode they belong to, as JSON.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::token_store::OAuthTokens;

/// Which credentials the record holds: a record of the other kind (the settings changed)
/// is not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `auth/login` tokens: a new one can always be had with the client secret.
    Login,
    /// OAuth tokens: the refresh token may rotate, so only the lock holder may use it.
    OAuth,
}

impl Kind {
    /// The name stored in the record.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Login => "login",
            Kind::OAuth => "oauth",
        }
    }
}

/// The record's bytes before sealing.
#[derive(Serialize, Deserialize)]
struct Body {
    kind: String,
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    expires_at: i64,
}

/// The record's bytes of `tokens`.
pub fn encode(kind: Kind, tokens: &OAuthTokens) -> Vec<u8> {
    serde_json::to_vec(&Body {
        kind: kind.name().to_owned(),
        access_token: tokens.access_token.expose_secret().to_owned(),
        refresh_token: tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
        expires_at: tokens.expires_at,
    })
    .expect("a token body serializes")
}

/// The tokens in `bytes`, if they are tokens of `kind`.
pub fn decode(kind: Kind, bytes: &[u8]) -> Option<OAuthTokens> {
    let body: Body = match serde_json::from_slice(bytes) {
        Ok(body) => body,
        Err(_) => {
            // The error would quote the bytes; they hold tokens.
            tracing::warn!("the shared token record holds no tokens roomgate can read");
            return None;
        }
    };
    if body.kind != kind.name() {
        tracing::warn!(
            found = %body.kind,
            wanted = kind.name(),
            "the shared token record holds tokens of another sign-in mode; not taken"
        );
        return None;
    }
    Some(OAuthTokens {
        access_token: SecretString::from(body.access_token),
        refresh_token: body.refresh_token.map(SecretString::from),
        expires_at: body.expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(access: &str, refresh: &str, expires_at: i64) -> OAuthTokens {
        OAuthTokens {
            access_token: SecretString::from(access.to_owned()),
            refresh_token: Some(SecretString::from(refresh.to_owned())),
            expires_at,
        }
    }

    #[test]
    fn a_record_body_holds_its_kind_and_is_not_taken_by_the_other_kind() {
        let bytes = encode(Kind::OAuth, &tokens("AT", "RT", 42));
        let back = decode(Kind::OAuth, &bytes).unwrap();
        assert_eq!(back.access_token.expose_secret(), "AT");
        assert_eq!(back.refresh_token.unwrap().expose_secret(), "RT");
        assert_eq!(back.expires_at, 42);
        assert!(decode(Kind::Login, &bytes).is_none());
        assert!(decode(Kind::OAuth, b"{not json").is_none());
    }
}

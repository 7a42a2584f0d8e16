//! How a new vendor token is had: a login with the client id and secret, or a refresh
//! of the OAuth token. [`super::auth::Auth`] decides when; this only asks.

use secrecy::SecretString;

use super::{client::Client, error::ApiError, models::TokenAnswer, token_store::OAuthTokens};
use crate::{
    domain::Clock,
    settings::{ApiAuth, ApiSettings},
};

/// Lifetime assumed when the vendor does not say.
const DEFAULT_TOKEN_SECS: u64 = 3600;

/// The vendor credentials of the settings, and the client they are sent with.
#[derive(Clone)]
pub struct Credentials {
    pub client: Client,
    pub mode: ApiAuth,
    client_id: String,
    client_secret: SecretString,
    /// Token lifetimes are counted on the application's clock.
    clock: Clock,
}

impl Credentials {
    /// The credentials of `api`, sent with `client`.
    pub fn new(client: Client, api: &ApiSettings, clock: Clock) -> Self {
        Credentials {
            client,
            mode: api.auth,
            client_id: api.client_id.clone(),
            client_secret: api
                .client_secret
                .clone()
                .unwrap_or_else(|| SecretString::from(String::new())),
            clock,
        }
    }

    /// Now, in Unix seconds on the application's clock.
    pub fn now(&self) -> i64 {
        (self.clock)().timestamp()
    }

    /// The tokens of a vendor answer; a refresh answer without a refresh token keeps
    /// `previous_refresh` (the vendor did not rotate it).
    pub fn tokens_of(
        &self,
        answer: TokenAnswer,
        previous_refresh: Option<SecretString>,
    ) -> OAuthTokens {
        let lifetime = answer.expires_in_secs.unwrap_or(DEFAULT_TOKEN_SECS);
        OAuthTokens {
            expires_at: self
                .now()
                .saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX / 2)),
            access_token: answer.access_token,
            refresh_token: answer.refresh_token.or(previous_refresh),
        }
    }

    /// A new token: a login, or (OAuth) a refresh with `refresh`.
    pub async fn fetch(&self, refresh: Option<SecretString>) -> Result<OAuthTokens, ApiError> {
        let answer = match self.mode {
            ApiAuth::Login => {
                self.client
                    .login(&self.client_id, &self.client_secret)
                    .await?
            }
            ApiAuth::Oauth => {
                let Some(refresh) = &refresh else {
                    return Err(ApiError::NotSignedIn(NOT_CONNECTED.into()));
                };
                self.client
                    .refresh(&self.client_id, &self.client_secret, refresh)
                    .await?
            }
        };
        Ok(self.tokens_of(answer, refresh))
    }
}

/// Whether the vendor refused the refresh token itself (only a new connection helps),
/// rather than failing for a while.
pub fn refused(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::Unauthorized { .. }
            | ApiError::Validation { .. }
            | ApiError::Vendor {
                status: 400..=499,
                ..
            }
    )
}

/// What an operator reads when the refresh token was refused.
pub const RECONNECT_NEEDED: &str =
    "reconnect needed: the vendor refused the refresh token; open /oauth/connect";

/// What an operator reads before the first connection.
pub const NOT_CONNECTED: &str = "not connected: an operator must open /oauth/connect";

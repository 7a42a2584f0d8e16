//! Signing in to the vendor: one bearer token for all of roomgate's calls.
//!
//! - Login mode (`api.auth = "login"`): `POST auth/login` with the client id and secret.
//! - OAuth mode (`api.auth = "oauth"`): tokens from the operator's authorization, kept in
//!   a [`TokenStore`] and refreshed at `oauth/access_token/refresh`.
//!
//! Only one sign-in runs at a time however many calls need a token (the state sits
//! behind an async mutex). A token is renewed `api.refresh_skew_secs` before it runs out,
//! and on a 401 ([`Api`] retries the call once). Repeated failures back off, doubling up
//! to `api.auth_backoff_max_secs`, and calls fail fast meanwhile instead of hammering
//! the vendor.

use std::sync::{
    Arc,
    atomic::{AtomicU8, Ordering},
};

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

use super::{
    client::{Client, Form},
    error::ApiError,
    listing::{Oddity, Paging, WidgetsPage},
    models::{Account, CreatedWidget, PersonalLink, TokenAnswer, Widget, WidgetSummary},
    token_store::{OAuthTokens, TokenStore},
};
use crate::{
    domain::{Clock, Readiness},
    settings::{ApiAuth, ApiSettings},
};

/// Lifetime assumed when the vendor does not say.
const DEFAULT_TOKEN_SECS: u64 = 3600;

/// The vendor credentials.
enum Mode {
    Login,
    OAuth { store: Arc<dyn TokenStore> },
}

/// The current token and the failure record.
#[derive(Default)]
struct State {
    access: Option<SecretString>,
    refresh: Option<SecretString>,
    /// Unix seconds when `access` runs out.
    expires_at: i64,
    /// The token was refused: get a new one before the next call.
    stale: bool,
    failures: u32,
    /// Unix seconds before which no sign-in is tried.
    retry_at: i64,
    last_error: Option<String>,
    /// OAuth: the refresh token was refused; only a new connection helps.
    reconnect_needed: bool,
}

/// Where the token stands, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenStatus {
    /// When the current token runs out (Unix seconds, on the application's clock); `None`
    /// before the first sign-in.
    pub expires_at: Option<i64>,
    /// Sign-ins failed in a row since the last one that worked.
    pub failed_sign_ins: u32,
}

/// Provides bearer tokens for the vendor API.
pub struct Auth {
    client: Client,
    mode: Mode,
    client_id: String,
    client_secret: SecretString,
    skew_secs: i64,
    backoff_max_secs: i64,
    /// Token lifetimes and the backoff are counted on the application's clock.
    clock: Clock,
    state: Mutex<State>,
}

impl Auth {
    /// Sign-in as `api.auth` says. In OAuth mode the stored tokens are read now, so a
    /// corrupt token file stops start-up.
    pub async fn new(
        client: Client,
        api: &ApiSettings,
        store: Option<Arc<dyn TokenStore>>,
        clock: Clock,
    ) -> Result<Self, String> {
        let mut state = State::default();
        let mode = match (api.auth, store) {
            (ApiAuth::Login, _) => Mode::Login,
            (ApiAuth::Oauth, Some(store)) => {
                if let Some(tokens) = store.load().await.map_err(|e| e.to_string())? {
                    state.access = Some(tokens.access_token);
                    state.refresh = tokens.refresh_token;
                    state.expires_at = tokens.expires_at;
                }
                Mode::OAuth { store }
            }
            (ApiAuth::Oauth, None) => return Err("api.auth = \"oauth\" needs a token store".into()),
        };
        Ok(Auth {
            client,
            mode,
            client_id: api.client_id.clone(),
            client_secret: api
                .client_secret
                .clone()
                .unwrap_or_else(|| SecretString::from(String::new())),
            skew_secs: i64::try_from(api.refresh_skew_secs).unwrap_or(600),
            backoff_max_secs: i64::try_from(api.auth_backoff_max_secs)
                .unwrap_or(600)
                .max(1),
            clock,
            state: Mutex::new(state),
        })
    }

    /// The HTTP client this sign-in uses.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A token to call the API with, signing in or refreshing first when needed.
    pub async fn bearer(&self) -> Result<SecretString, ApiError> {
        let mut state = self.state.lock().await;
        let now = (self.clock)().timestamp();
        if let Some(access) = &state.access
            && !state.stale
            && now < state.expires_at - self.skew_secs
        {
            return Ok(access.clone());
        }
        if state.reconnect_needed {
            return Err(ApiError::NotSignedIn(
                "reconnect needed: the vendor refused the refresh token; open /oauth/connect"
                    .into(),
            ));
        }
        if now < state.retry_at {
            return Err(ApiError::NotSignedIn(format!(
                "{}; next attempt in {} s",
                state.last_error.as_deref().unwrap_or("signing in failed"),
                state.retry_at - now
            )));
        }
        match self.renew(&mut state).await {
            Ok(token) => {
                state.failures = 0;
                state.retry_at = 0;
                state.last_error = None;
                Ok(token)
            }
            Err(e) => {
                state.failures += 1;
                let wait = (1_i64 << (state.failures - 1).min(20)).min(self.backoff_max_secs);
                state.retry_at = now + wait;
                state.last_error = Some(format!("signing in to the vendor failed: {e}"));
                tracing::warn!(error = %e, failures = state.failures, retry_in_secs = wait, "vendor sign-in failed");
                Err(e)
            }
        }
    }

    /// Where the token stands now, or `None` while a sign-in is under way: this never
    /// waits for one (a scrape of the metrics must not wait for the vendor).
    pub fn status(&self) -> Option<TokenStatus> {
        let state = self.state.try_lock().ok()?;
        Some(TokenStatus {
            expires_at: state.access.as_ref().map(|_| state.expires_at),
            failed_sign_ins: state.failures,
        })
    }

    /// Marks `used` as refused (the vendor answered 401), so the next call gets a new one.
    pub async fn invalidate(&self, used: &SecretString) {
        let mut state = self.state.lock().await;
        if state
            .access
            .as_ref()
            .is_some_and(|a| a.expose_secret() == used.expose_secret())
        {
            state.stale = true;
        }
    }

    /// Stores tokens from a completed OAuth authorization and clears any failure.
    pub async fn connect(&self, answer: TokenAnswer) -> Result<(), ApiError> {
        let mut state = self.state.lock().await;
        self.adopt(&mut state, answer).await?;
        state.reconnect_needed = false;
        state.failures = 0;
        state.retry_at = 0;
        state.last_error = None;
        Ok(())
    }

    /// Whether calls can be authenticated now; may sign in once to find out.
    pub async fn readiness(&self) -> Readiness {
        let detail = match self.bearer().await {
            Ok(_) => return Readiness::Ready,
            Err(ApiError::NotSignedIn(reason)) => reason,
            Err(other) => format!("signing in to the vendor failed: {other}"),
        };
        let state = self.state.lock().await;
        let code = match &self.mode {
            Mode::OAuth { .. } if state.reconnect_needed => "reconnect_needed",
            Mode::OAuth { .. } if state.refresh.is_none() && state.access.is_none() => {
                "not_connected"
            }
            _ => "vendor_sign_in_failed",
        };
        Readiness::NotReady { code, detail }
    }

    /// Gets a new access token: log in, or refresh the OAuth token.
    async fn renew(&self, state: &mut State) -> Result<SecretString, ApiError> {
        let answer = match &self.mode {
            Mode::Login => {
                self.client
                    .login(&self.client_id, &self.client_secret)
                    .await?
            }
            Mode::OAuth { .. } => {
                let Some(refresh) = state.refresh.clone() else {
                    return Err(ApiError::NotSignedIn(
                        "not connected: an operator must open /oauth/connect".into(),
                    ));
                };
                match self
                    .client
                    .refresh(&self.client_id, &self.client_secret, &refresh)
                    .await
                {
                    Ok(answer) => answer,
                    Err(
                        e @ (ApiError::Unauthorized { .. }
                        | ApiError::Validation { .. }
                        | ApiError::Vendor {
                            status: 400..=499, ..
                        }),
                    ) => {
                        // The stored tokens stay as they are: an operator may want to
                        // look at them, and a reconnect replaces them anyway.
                        state.reconnect_needed = true;
                        tracing::error!(error = %e, "the vendor refused the OAuth refresh token; reconnect at /oauth/connect");
                        return Err(ApiError::NotSignedIn(
                            "reconnect needed: the vendor refused the refresh token; open /oauth/connect".into(),
                        ));
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        self.adopt(state, answer).await
    }

    /// Takes a token answer as the current token (and stores it in OAuth mode).
    async fn adopt(
        &self,
        state: &mut State,
        answer: TokenAnswer,
    ) -> Result<SecretString, ApiError> {
        let lifetime = answer.expires_in_secs.unwrap_or(DEFAULT_TOKEN_SECS);
        let expires_at =
            (self.clock)().timestamp() + i64::try_from(lifetime).unwrap_or(i64::MAX / 2);
        let refresh = answer.refresh_token.or_else(|| state.refresh.clone());
        if let Mode::OAuth { store } = &self.mode {
            store
                .save(&OAuthTokens {
                    access_token: answer.access_token.clone(),
                    refresh_token: refresh.clone(),
                    expires_at,
                })
                .await
                .map_err(|e| ApiError::NotSignedIn(e.to_string()))?;
        }
        state.access = Some(answer.access_token.clone());
        state.refresh = refresh;
        state.expires_at = expires_at;
        state.stale = false;
        Ok(answer.access_token)
    }
}

/// The vendor API with sign-in: every call carries a token, and a call refused with 401
/// is retried once with a new token.
#[derive(Clone)]
pub struct Api {
    auth: Arc<Auth>,
    /// The paging oddities already warned about (bits of [`Oddity`]): each is logged
    /// once per process, not on every listing.
    warned: Arc<AtomicU8>,
}

impl Api {
    /// The API behind `auth`.
    pub fn new(auth: Arc<Auth>) -> Self {
        Api {
            auth,
            warned: Arc::new(AtomicU8::new(0)),
        }
    }

    /// The sign-in (for OAuth connection and readiness).
    pub fn auth(&self) -> &Arc<Auth> {
        &self.auth
    }

    /// The HTTP client.
    pub fn client(&self) -> &Client {
        self.auth.client()
    }

    /// Runs `call` with a token; on 401 once more with a new token.
    pub async fn with_token<T, F, Fut>(&self, call: F) -> Result<T, ApiError>
    where
        F: Fn(Client, SecretString) -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let token = self.auth.bearer().await?;
        match call(self.client().clone(), token.clone()).await {
            Err(ApiError::Unauthorized { .. }) => {
                self.auth.invalidate(&token).await;
                let token = self.auth.bearer().await?;
                call(self.client().clone(), token).await
            }
            other => other,
        }
    }

    /// Every widget the vendor lists, each once, paging as [`Paging`] decides: however
    /// the vendor treats `page` and `limit`, a listing makes a bounded number of calls.
    pub async fn all_widgets(&self) -> Result<Vec<WidgetSummary>, ApiError> {
        super::call_metrics::listed();
        let mut paging = Paging::new(super::client::PAGE_SIZE);
        let mut next = Some(1);
        while let Some(page) = next {
            let answer = self
                .with_token(|c, t| async move { c.widgets_page(&t, page).await })
                .await;
            let batch = match answer {
                Ok(batch) => batch,
                // Some APIs answer a page past the end with 404: that is the end. On the
                // first page it means the listing itself failed.
                Err(ApiError::NotFound { .. }) if page > 1 => WidgetsPage::default(),
                Err(e) => return Err(e),
            };
            next = paging.add(batch);
        }
        tracing::debug!(
            pages = ?paging.sizes(),
            repeats = ?paging.repeats(),
            total = ?paging.total(),
            "widgets listed"
        );
        self.warn_once(&paging);
        Ok(paging.into_widgets())
    }

    /// Logs what the vendor's paging did differently from what was asked, once per kind
    /// of oddity for the life of this API (of the process, in practice).
    fn warn_once(&self, paging: &Paging) {
        let found = paging.oddities();
        let bits = found.iter().fold(0, |bits, o| bits | o.bit());
        let before = self.warned.fetch_or(bits, Ordering::Relaxed);
        if bits & !before == 0 {
            return;
        }
        let problems: Vec<&str> = Oddity::ALL
            .iter()
            .filter(|o| found.contains(o))
            .map(|o| o.describe())
            .collect();
        tracing::warn!(
            problems = ?problems,
            limit = super::client::PAGE_SIZE,
            pages = ?paging.sizes(),
            repeats = ?paging.repeats(),
            total = ?paging.total(),
            "the vendor's room listing does not page as asked; listings stop early instead \
             of looping (said once per process)"
        );
    }

    /// One widget.
    pub async fn widget(&self, id: u64) -> Result<Widget, ApiError> {
        self.with_token(|c, t| async move { c.widget(&t, id).await })
            .await
    }

    /// Creates a room.
    pub async fn create_widget(&self, body: &Form) -> Result<CreatedWidget, ApiError> {
        self.with_token(|c, t| async move { c.create_widget(&t, body).await })
            .await
    }

    /// Changes a room.
    pub async fn update_widget(&self, id: u64, body: &Form) -> Result<(), ApiError> {
        self.with_token(|c, t| async move { c.update_widget(&t, id, body).await })
            .await
    }

    /// Deletes a room.
    pub async fn delete_widget(&self, id: u64) -> Result<(), ApiError> {
        self.with_token(|c, t| async move { c.delete_widget(&t, id).await })
            .await
    }

    /// A personal link for one participant.
    pub async fn personal_link(&self, id: u64, body: &Form) -> Result<PersonalLink, ApiError> {
        self.with_token(|c, t| async move { c.personal_link(&t, id, body).await })
            .await
    }

    /// The account the token belongs to.
    pub async fn me(&self) -> Result<Account, ApiError> {
        self.with_token(|c, t| async move { c.me(&t).await }).await
    }
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Api")
    }
}

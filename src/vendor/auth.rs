//! Signing in to the vendor: one bearer token for all of roomgate's calls.
//!
//! - Login mode (`api.auth = "login"`): `POST auth/login` with the client id and secret.
//! - OAuth mode (`api.auth = "oauth"`): tokens from the operator's authorization, kept in
//!   a [`TokenStore`] and refreshed at `oauth/access_token/refresh`.
//! - Fleet mode (`shared.backend = "redis"`, either sign-in): the token lives in the
//!   fleet's shared record instead ([`FleetTokens`]), renewed by one instance for all.
//!
//! Only one sign-in runs at a time however many calls need a token (the state sits
//! behind an async mutex). A token is renewed `api.refresh_skew_secs` before it runs out
//! (in a fleet, plus a random part of half that window, so instances do not all come at
//! once), and on a 401 ([`super::Api`] retries the call once). Repeated failures back
//! off, doubling up to `api.auth_backoff_max_secs`, and calls fail fast meanwhile instead
//! of hammering the vendor.
//!
//! In a fleet, an instance that needs a token reads the record first, so a connection or
//! a renewal made elsewhere reaches it on its next call; while its own token is good it
//! reads nothing (pages never wait for Redis). While Redis is unreachable an OAuth token
//! is never refreshed (it may rotate, and two refreshes would disconnect the account): it
//! is used up to its real end, then the room cache serves what it holds. A login token
//! can always be had again, so login mode logs in alone then.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

use super::{
    auth_state::{State, clear_failures, gate, renew_at},
    client::Client,
    credentials::{Credentials, NOT_CONNECTED, RECONNECT_NEEDED, refused},
    error::ApiError,
    fleet_tokens::{FleetError, FleetTokens, Held, Renewal, takeable},
    models::TokenAnswer,
    token_store::{OAuthTokens, TokenStore},
};
use crate::{
    domain::{Clock, Readiness},
    settings::{ApiAuth, ApiSettings},
    shared::Unreachable,
};

/// Where tokens are kept besides this process.
pub enum Keep {
    /// Nowhere (login mode of a single instance: a new login is always possible).
    Nowhere,
    /// The OAuth token store (a file).
    Store(Arc<dyn TokenStore>),
    /// The fleet's shared record.
    Fleet(Arc<FleetTokens>),
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
    credentials: Credentials,
    keep: Keep,
    skew_secs: i64,
    backoff_max_secs: i64,
    state: Mutex<State>,
}

impl Auth {
    /// Sign-in as `api.auth` says, keeping tokens in `keep`. With a token store the
    /// stored tokens are read now, so a corrupt token file stops start-up; the fleet's
    /// record is read when a token is first needed (Redis may be down at start-up).
    pub async fn new(
        client: Client,
        api: &ApiSettings,
        keep: Keep,
        clock: Clock,
    ) -> Result<Self, String> {
        let skew_secs = i64::try_from(api.refresh_skew_secs).unwrap_or(600);
        let mut state = State::default();
        match (&keep, api.auth) {
            (Keep::Store(store), ApiAuth::Oauth) => {
                if let Some(tokens) = store.load().await.map_err(|e| e.to_string())? {
                    state.access = Some(tokens.access_token);
                    state.refresh = tokens.refresh_token;
                    state.expires_at = tokens.expires_at;
                    state.renew_at = tokens.expires_at - skew_secs;
                }
            }
            (Keep::Nowhere, ApiAuth::Oauth) => {
                return Err("api.auth = \"oauth\" needs a token store".into());
            }
            _ => {}
        }
        Ok(Auth {
            credentials: Credentials::new(client, api, clock),
            keep,
            skew_secs,
            backoff_max_secs: i64::try_from(api.auth_backoff_max_secs)
                .unwrap_or(600)
                .max(1),
            state: Mutex::new(state),
        })
    }

    /// The HTTP client this sign-in uses.
    pub fn client(&self) -> &Client {
        &self.credentials.client
    }

    /// A token to call the API with, signing in or refreshing first when needed.
    pub async fn bearer(&self) -> Result<SecretString, ApiError> {
        let mut state = self.state.lock().await;
        let now = self.credentials.now();
        if let Keep::Fleet(fleet) = &self.keep {
            return self.fleet_bearer(fleet, &mut state, now).await;
        }
        if let Some(access) = state.current(now) {
            return Ok(access);
        }
        if let Some(e) = gate(&state, now) {
            return Err(e);
        }
        let renewed = self.renew(&mut state).await;
        self.count(&mut state, now, renewed)
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
    /// Only the token this instance holds is marked: a 401 for a token already replaced
    /// renews nothing. In a fleet the next call also reads the record, and takes a token
    /// another instance renewed before renewing anything itself.
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

    /// Stores tokens from a completed OAuth authorization and clears any failure. In a
    /// fleet they replace the record (a new generation), so every instance takes them.
    pub async fn connect(&self, answer: TokenAnswer) -> Result<(), ApiError> {
        let mut state = self.state.lock().await;
        let tokens = self.credentials.tokens_of(answer, None);
        match &self.keep {
            Keep::Fleet(fleet) => {
                let generation = fleet.replace(&tokens).await.map_err(|e| {
                    ApiError::NotSignedIn(format!(
                        "the connection could not be shared with the other instances ({e}); connect again"
                    ))
                })?;
                self.take(&mut state, Held { generation, tokens });
            }
            _ => {
                self.adopt(&mut state, tokens).await?;
                clear_failures(&mut state);
                state.reconnect_needed = false;
            }
        }
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
        let oauth = self.credentials.mode == ApiAuth::Oauth;
        let code = match () {
            () if oauth && state.shared_blocked => TOKEN_REFRESH_NEEDS_SHARED_STATE,
            () if oauth && state.reconnect_needed => "reconnect_needed",
            () if oauth && state.refresh.is_none() && state.access.is_none() => "not_connected",
            () => "vendor_sign_in_failed",
        };
        Readiness::NotReady { code, detail }
    }

    /// Records how a sign-in went (the backoff), and passes its answer on.
    fn count(
        &self,
        state: &mut State,
        now: i64,
        renewed: Result<SecretString, ApiError>,
    ) -> Result<SecretString, ApiError> {
        match renewed {
            Ok(token) => {
                clear_failures(state);
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

    /// Gets a new access token for this instance alone: log in, or refresh the OAuth
    /// token, and keep it.
    async fn renew(&self, state: &mut State) -> Result<SecretString, ApiError> {
        match self.credentials.fetch(state.refresh.clone()).await {
            Ok(tokens) => self.adopt(state, tokens).await,
            Err(e) if self.credentials.mode == ApiAuth::Oauth && refused(&e) => {
                Err(self.refresh_refused(state, &e))
            }
            Err(e) => Err(e),
        }
    }

    /// The refresh token was refused: stop trying until an operator connects again. The
    /// stored tokens stay as they are (an operator may want to look at them, and a
    /// reconnect replaces them anyway).
    fn refresh_refused(&self, state: &mut State, e: &ApiError) -> ApiError {
        state.reconnect_needed = true;
        tracing::error!(error = %e, "the vendor refused the OAuth refresh token; reconnect at /oauth/connect");
        ApiError::NotSignedIn(RECONNECT_NEEDED.into())
    }

    /// Takes `tokens` as the current token (and stores them in OAuth mode).
    async fn adopt(
        &self,
        state: &mut State,
        tokens: OAuthTokens,
    ) -> Result<SecretString, ApiError> {
        if let Keep::Store(store) = &self.keep {
            store
                .save(&tokens)
                .await
                .map_err(|e| ApiError::NotSignedIn(e.to_string()))?;
        }
        state.renew_at = tokens.expires_at - self.skew_secs;
        state.access = Some(tokens.access_token.clone());
        state.refresh = tokens.refresh_token;
        state.expires_at = tokens.expires_at;
        state.stale = false;
        Ok(tokens.access_token)
    }

    /// Fleet mode: the token of this instance while it is good, else the record's when
    /// it is newer and good, else a renewal under the fleet's lock.
    async fn fleet_bearer(
        &self,
        fleet: &Arc<FleetTokens>,
        state: &mut State,
        now: i64,
    ) -> Result<SecretString, ApiError> {
        if let Some(access) = state.current(now) {
            self.save_unsaved(fleet, state).await;
            return Ok(access);
        }
        if !self.save_unsaved(fleet, state).await {
            // This instance holds the newest tokens and Redis cannot take them: renewing
            // from the record would use a refresh token already rotated away.
            return self.without_fleet(fleet, state, now, None).await;
        }
        let own = held_here(state);
        match fleet.read().await {
            Ok(Some(held)) if takeable(own.as_ref(), &held, self.fresh(&held.tokens, now)) => {
                return Ok(self.take(state, held));
            }
            Ok(None) if fleet.rotating() && state.refresh.is_none() => {
                // Nothing to refresh from: no lock, no vendor call, until someone connects.
                state.shared_blocked = false;
                return Err(ApiError::NotSignedIn(NOT_CONNECTED.into()));
            }
            Ok(_) => state.shared_blocked = false,
            Err(e) => return self.without_fleet(fleet, state, now, Some(e)).await,
        }
        if let Some(e) = gate(state, now) {
            return state.usable(now).ok_or(e);
        }
        let outcome = self.fleet_renewal(fleet, state).await;
        match outcome {
            Ok(Renewal::Adopted(held)) => Ok(self.take(state, held)),
            Ok(Renewal::Renewed { held, saved }) => {
                let base = held.generation;
                let token = self.take(state, held);
                if !saved {
                    state.unsaved = Some(base);
                }
                Ok(token)
            }
            Err(FleetError::Unreachable(e)) => self.without_fleet(fleet, state, now, Some(e)).await,
            Err(FleetError::Busy) => state
                .usable(now)
                .ok_or_else(|| ApiError::NotSignedIn(FleetError::Busy.to_string())),
            Err(FleetError::Vendor(e)) => {
                let e = if self.credentials.mode == ApiAuth::Oauth && refused(&e) {
                    self.refresh_refused(state, &e)
                } else {
                    e
                };
                let counted = self.count(state, now, Err(e));
                match state.usable(now) {
                    Some(token) => Ok(token),
                    None => counted,
                }
            }
        }
    }

    /// Runs the fleet's renewal in a task of its own: if the caller goes away (a visitor
    /// closed the page), the vendor call still ends and its answer is written, because a
    /// rotated refresh token exists nowhere else.
    async fn fleet_renewal(
        &self,
        fleet: &Arc<FleetTokens>,
        state: &State,
    ) -> Result<Renewal, FleetError> {
        let fleet = fleet.clone();
        let local = held_here(state);
        let credentials = self.credentials.clone();
        let skew = self.skew_secs;
        let task = tokio::spawn(async move {
            let judge = credentials.clone();
            let fresh = move |t: &OAuthTokens| judge.now() < t.expires_at - skew;
            fleet
                .renew(local, fresh, |current| async move {
                    credentials
                        .fetch(current.and_then(|t| t.refresh_token))
                        .await
                })
                .await
        });
        task.await.unwrap_or_else(|_| {
            Err(FleetError::Unreachable(Unreachable(
                "the token renewal stopped".into(),
            )))
        })
    }

    /// Fleet mode with Redis unreachable: a login token is had alone; an OAuth token is
    /// used up to its end and never refreshed.
    async fn without_fleet(
        &self,
        fleet: &FleetTokens,
        state: &mut State,
        now: i64,
        why: Option<Unreachable>,
    ) -> Result<SecretString, ApiError> {
        if !fleet.rotating() {
            if let Some(access) = state.current(now) {
                return Ok(access);
            }
            if let Some(e) = gate(state, now) {
                return state.usable(now).ok_or(e);
            }
            let renewed = self.renew(state).await;
            // Not from the record: when Redis is back, the record's token is taken.
            state.generation = None;
            return self.count(state, now, renewed);
        }
        if !state.shared_blocked {
            state.shared_blocked = true;
            let why = why.map(|e| e.to_string()).unwrap_or_default();
            tracing::warn!(error = %why, "the OAuth token is due but the shared state is unreachable: not refreshed without the fleet's lock; serving the cache");
        }
        state.usable(now).ok_or_else(|| {
            ApiError::NotSignedIn(
                "the OAuth token ran out and the shared state is unreachable: a rotating refresh token is used only under the fleet's lock"
                    .into(),
            )
        })
    }

    /// Writes tokens renewed while Redis was away; says whether nothing is left unsaved.
    async fn save_unsaved(&self, fleet: &FleetTokens, state: &mut State) -> bool {
        let (Some(base), Some(access)) = (state.unsaved, state.access.clone()) else {
            return true;
        };
        let tokens = OAuthTokens {
            access_token: access,
            refresh_token: state.refresh.clone(),
            expires_at: state.expires_at,
        };
        match fleet.write_if(base, &tokens).await {
            Ok(Some(generation)) => {
                state.generation = Some(generation);
                state.unsaved = None;
                true
            }
            Ok(None) => {
                tracing::warn!(
                    "the shared token record changed while this instance's renewal was unsaved; taking the record's tokens"
                );
                state.generation = None;
                state.unsaved = None;
                true
            }
            Err(_) => false,
        }
    }

    /// Whether the record's `tokens` need no renewal yet.
    fn fresh(&self, tokens: &OAuthTokens, now: i64) -> bool {
        now < tokens.expires_at - self.skew_secs
    }

    /// Takes tokens from the fleet's record (or just written to it) as the current ones.
    fn take(&self, state: &mut State, held: Held) -> SecretString {
        let t = held.tokens;
        state.renew_at = renew_at(t.expires_at, self.skew_secs, rand::random::<f64>());
        state.access = Some(t.access_token.clone());
        state.refresh = t.refresh_token;
        state.expires_at = t.expires_at;
        state.generation = Some(held.generation);
        state.unsaved = None;
        state.stale = false;
        state.reconnect_needed = false;
        state.shared_blocked = false;
        clear_failures(state);
        t.access_token
    }
}

/// The tokens this instance holds, with the record generation they came from (0: not
/// from the record, so any fresh record is newer).
fn held_here(state: &State) -> Option<Held> {
    let access = state.access.clone()?;
    Some(Held {
        generation: state.generation.unwrap_or(0),
        tokens: OAuthTokens {
            access_token: access,
            refresh_token: state.refresh.clone(),
            expires_at: state.expires_at,
        },
    })
}

/// The `/readyz` reason while an OAuth token cannot be refreshed because Redis is down.
pub const TOKEN_REFRESH_NEEDS_SHARED_STATE: &str = "token_refresh_needs_shared_state";

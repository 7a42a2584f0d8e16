//! The token one instance holds and its record of failed sign-ins: what [`super::auth::Auth`]
//! keeps behind its mutex, and the rules read from it alone.

use secrecy::SecretString;

use super::{credentials::RECONNECT_NEEDED, error::ApiError};

/// The current token and the failure record.
#[derive(Default)]
pub struct State {
    pub access: Option<SecretString>,
    pub refresh: Option<SecretString>,
    /// Unix seconds when `access` runs out.
    pub expires_at: i64,
    /// Unix seconds from which `access` is renewed.
    pub renew_at: i64,
    /// The token was refused: get a new one before the next call.
    pub stale: bool,
    pub failures: u32,
    /// Unix seconds before which no sign-in is tried.
    pub retry_at: i64,
    pub last_error: Option<String>,
    /// OAuth: the refresh token was refused; only a new connection helps.
    pub reconnect_needed: bool,
    /// Fleet: the record generation `access` came from.
    pub generation: Option<u64>,
    /// Fleet: tokens renewed here but not yet written (Redis went away); the record
    /// generation they replace.
    pub unsaved: Option<u64>,
    /// Fleet, OAuth: the token is due but Redis is unreachable, so it is not refreshed.
    pub shared_blocked: bool,
}

impl State {
    /// The token, while it needs no renewal.
    pub fn current(&self, now: i64) -> Option<SecretString> {
        self.access
            .clone()
            .filter(|_| !self.stale && now < self.renew_at)
    }

    /// The token, while the vendor should still take it (due for renewal or not).
    pub fn usable(&self, now: i64) -> Option<SecretString> {
        self.access
            .clone()
            .filter(|_| !self.stale && now < self.expires_at)
    }
}

/// Why no sign-in may be tried now, if so.
pub fn gate(state: &State, now: i64) -> Option<ApiError> {
    if state.reconnect_needed {
        return Some(ApiError::NotSignedIn(RECONNECT_NEEDED.into()));
    }
    (now < state.retry_at).then(|| {
        ApiError::NotSignedIn(format!(
            "{}; next attempt in {} s",
            state.last_error.as_deref().unwrap_or("signing in failed"),
            state.retry_at - now
        ))
    })
}

/// Forgets the failures: a sign-in worked (here or on another instance).
pub fn clear_failures(state: &mut State) {
    state.failures = 0;
    state.retry_at = 0;
    state.last_error = None;
}

/// When to renew a token running out at `expires_at`: `skew` seconds before, plus up to
/// half of `skew` at random (`random` in 0..1), so that the instances of a fleet reach
/// the moment at different times and mostly find the token already renewed.
pub fn renew_at(expires_at: i64, skew: i64, random: f64) -> i64 {
    let spread = (skew.max(0) / 2) as f64;
    let jitter = (spread * random.clamp(0.0, 1.0)).floor() as i64;
    expires_at.saturating_sub(skew).saturating_add(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_renewal_moment_falls_in_the_first_half_of_the_skew_window() {
        assert_eq!(renew_at(10_000, 600, 0.0), 9_400);
        assert_eq!(renew_at(10_000, 600, 0.5), 9_550);
        assert_eq!(renew_at(10_000, 600, 0.999_999), 9_699);
        assert_eq!(renew_at(10_000, 600, 7.0), 9_700, "clamped");
        assert_eq!(renew_at(10_000, 0, 0.9), 10_000, "no skew, no jitter");
        assert_eq!(renew_at(i64::MIN, 600, 0.0), i64::MIN, "no overflow");
    }

    #[test]
    fn a_due_token_is_still_usable_until_it_runs_out_unless_refused() {
        let mut state = State {
            access: Some(SecretString::from("AT".to_owned())),
            expires_at: 1_000,
            renew_at: 400,
            ..State::default()
        };
        assert!(state.current(399).is_some());
        assert!(state.current(400).is_none(), "due");
        assert!(state.usable(999).is_some(), "due, not run out");
        assert!(state.usable(1_000).is_none(), "run out");
        state.stale = true;
        assert!(state.usable(500).is_none(), "refused by the vendor");
    }

    #[test]
    fn a_refused_refresh_token_or_a_pause_stops_sign_ins() {
        let mut state = State::default();
        assert!(gate(&state, 0).is_none());
        state.retry_at = 10;
        state.last_error = Some("boom".into());
        let e = gate(&state, 4).unwrap().to_string();
        assert!(e.contains("boom") && e.contains("6 s"), "{e}");
        assert!(gate(&state, 10).is_none());
        state.reconnect_needed = true;
        assert!(gate(&state, 99).unwrap().to_string().contains("reconnect"));
        clear_failures(&mut state);
        assert_eq!((state.retry_at, state.last_error.is_none()), (0, true));
    }
}

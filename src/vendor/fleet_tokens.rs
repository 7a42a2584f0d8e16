//! The vendor token shared by a fleet (`shared.backend = "redis"`): how one instance
//! renews it for all (what the record's bytes are is in `fleet_record`).
//!
//! A renewal takes the record's lock, reads the record again (another instance may have
//! renewed while this one waited: then its token is taken, with no vendor call), calls
//! the vendor with the refresh token *of the record* (a rotating refresh token is only
//! valid in its newest copy), and writes only if the record's generation is unchanged.
//! An instance that finds the lock taken waits, boundedly, watching the record, and takes
//! the token the holder writes.

use std::{future::Future, sync::Arc, time::Duration};

use secrecy::ExposeSecret;

use super::{
    error::ApiError,
    fleet_record::{Kind, decode, encode},
    token_store::OAuthTokens,
};
use crate::shared::{
    Unreachable,
    token_record::{LockOwner, TokenRecord},
};

/// The record's name under `shared.prefix`.
pub const RECORD_NAME: &str = "vendor:token";
/// How often a waiting instance looks at the lock and the record again.
const WAIT_STEP: Duration = Duration::from_millis(50);
/// What the lock's expiry adds to the vendor's timeout: the reads and the write around
/// the vendor call. The lock must outlast the holder's whole renewal, or a second
/// instance could refresh with the same (rotating) refresh token.
const LOCK_MARGIN: Duration = Duration::from_secs(2);

/// Tokens with the record generation they came from.
#[derive(Debug, Clone)]
pub struct Held {
    pub generation: u64,
    pub tokens: OAuthTokens,
}

/// How a renewal ended.
#[derive(Debug)]
pub enum Renewal {
    /// Another instance had renewed (or connected) already: its tokens, no vendor call.
    Adopted(Held),
    /// This instance called the vendor. `saved` is false when the record could not be
    /// written (Redis went away after the lock): the tokens must be written later, from
    /// `held.generation`, the generation they replace.
    Renewed { held: Held, saved: bool },
}

/// Why a renewal did not happen.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
    /// Another instance held the lock for the whole wait and wrote nothing.
    #[error("another instance is renewing the vendor token; try again shortly")]
    Busy,
    #[error(transparent)]
    Vendor(ApiError),
}

/// The fleet's vendor token: the record, and the rules of renewing it.
pub struct FleetTokens {
    record: Arc<dyn TokenRecord>,
    kind: Kind,
    lock_ttl: Duration,
    lock_wait: Duration,
}

impl FleetTokens {
    /// The tokens of `kind` in `record`; `vendor_timeout` bounds one vendor call, so it
    /// sets how long the lock is held at most.
    pub fn new(record: Arc<dyn TokenRecord>, kind: Kind, vendor_timeout: Duration) -> Self {
        let lock_ttl = vendor_timeout + LOCK_MARGIN;
        FleetTokens {
            record,
            kind,
            lock_ttl,
            // Long enough to outlast a holder that died with the lock.
            lock_wait: lock_ttl + Duration::from_secs(1),
        }
    }

    /// Whether the refresh token may rotate (then nothing renews without the lock).
    pub fn rotating(&self) -> bool {
        self.kind == Kind::OAuth
    }

    /// The record's tokens, `None` when there are none of this kind.
    pub async fn read(&self) -> Result<Option<Held>, Unreachable> {
        let Some(stored) = self.record.read().await? else {
            return Ok(None);
        };
        Ok(stored
            .value
            .and_then(|bytes| decode(self.kind, &bytes))
            .map(|tokens| Held {
                generation: stored.generation,
                tokens,
            }))
    }

    /// The generation of the record as it is, even when its body is unusable (a writer
    /// replaces it then).
    async fn generation(&self) -> Result<u64, Unreachable> {
        Ok(self.record.read().await?.map_or(0, |s| s.generation))
    }

    /// Writes `tokens` whatever the record holds (a new OAuth connection).
    pub async fn replace(&self, tokens: &OAuthTokens) -> Result<u64, Unreachable> {
        self.record.replace(&encode(self.kind, tokens)).await
    }

    /// Writes `tokens` if the record is still at `expected`.
    pub async fn write_if(
        &self,
        expected: u64,
        tokens: &OAuthTokens,
    ) -> Result<Option<u64>, Unreachable> {
        self.record
            .write_if(expected, &encode(self.kind, tokens))
            .await
    }

    /// Renews the fleet's token for an instance holding `local` (the tokens it found due
    /// or refused; `None` when it holds nothing). A record [`takeable`] for it is taken as
    /// it is. Otherwise the lock holder calls `vendor` with the record's tokens (with its
    /// own when the record has none: Redis lost it) and writes what it answers.
    ///
    /// Run this in a task of its own: a caller that goes away must not cut a vendor call
    /// short, or the answer (a rotated refresh token) would be lost.
    pub async fn renew<V, Fut>(
        &self,
        local: Option<Held>,
        fresh: impl Fn(&OAuthTokens) -> bool,
        vendor: V,
    ) -> Result<Renewal, FleetError>
    where
        V: FnOnce(Option<OAuthTokens>) -> Fut,
        Fut: Future<Output = Result<OAuthTokens, ApiError>>,
    {
        let takeable = |held: &Held| takeable(local.as_ref(), held, fresh(&held.tokens));
        let owner = match self.wait_for_lock(&takeable).await? {
            Waited::Locked(owner) => owner,
            Waited::Written(held) => return Ok(Renewal::Adopted(held)),
        };
        let outcome = self
            .renew_holding(&takeable, local.clone().map(|l| l.tokens), vendor)
            .await;
        if let Err(e) = self.record.unlock(&owner).await {
            // Its expiry lets it go anyway.
            tracing::debug!(error = %e, "the token lock was not released");
        }
        outcome
    }

    /// Takes the lock, or the tokens another holder writes meanwhile.
    async fn wait_for_lock(&self, takeable: &impl Fn(&Held) -> bool) -> Result<Waited, FleetError> {
        let deadline = tokio::time::Instant::now() + self.lock_wait;
        loop {
            if let Some(owner) = self.record.try_lock(self.lock_ttl).await? {
                return Ok(Waited::Locked(owner));
            }
            if let Some(held) = self.read().await?
                && takeable(&held)
            {
                return Ok(Waited::Written(held));
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(FleetError::Busy);
            }
            tokio::time::sleep(WAIT_STEP).await;
        }
    }

    /// The renewal proper, with the lock held.
    async fn renew_holding<V, Fut>(
        &self,
        takeable: &impl Fn(&Held) -> bool,
        own: Option<OAuthTokens>,
        vendor: V,
    ) -> Result<Renewal, FleetError>
    where
        V: FnOnce(Option<OAuthTokens>) -> Fut,
        Fut: Future<Output = Result<OAuthTokens, ApiError>>,
    {
        let current = self.read().await?;
        if let Some(held) = &current
            && takeable(held)
        {
            return Ok(Renewal::Adopted(held.clone()));
        }
        let base = match &current {
            Some(held) => held.generation,
            None => self.generation().await?,
        };
        let tokens = vendor(current.map(|h| h.tokens).or(own))
            .await
            .map_err(FleetError::Vendor)?;
        match self.write_if(base, &tokens).await {
            Ok(Some(generation)) => Ok(Renewal::Renewed {
                held: Held { generation, tokens },
                saved: true,
            }),
            Ok(None) => {
                // Someone wrote without the lock: a new connection (or a holder whose
                // lock had run out). The record is the fleet's truth.
                tracing::warn!(
                    "the shared token record changed during a renewal; taking the record's tokens"
                );
                match self.read().await? {
                    Some(held) => Ok(Renewal::Adopted(held)),
                    None => Err(FleetError::Busy),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the renewed vendor token could not be shared yet; this instance keeps it and writes it later");
                Ok(Renewal::Renewed {
                    held: Held {
                        generation: base,
                        tokens,
                    },
                    saved: false,
                })
            }
        }
    }
}

enum Waited {
    Locked(LockOwner),
    Written(Held),
}

/// Whether an instance holding `local` (the token it found due or refused) should take
/// `held` from the record instead of renewing: only a `fresh` token other than its own
/// (another generation, or another token under the same number, as after Redis lost
/// the record and counted again from 1). So a 401 for the record's current token
/// renews it, and a 401 for a token another instance already replaced renews nothing.
pub fn takeable(local: Option<&Held>, held: &Held, fresh: bool) -> bool {
    fresh
        && local.is_none_or(|own| {
            own.generation != held.generation
                || own.tokens.access_token.expose_secret()
                    != held.tokens.access_token.expose_secret()
        })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use secrecy::{ExposeSecret, SecretString};

    use crate::shared::token_record::LocalTokenRecord;

    use super::*;

    fn tokens(access: &str, refresh: &str, expires_at: i64) -> OAuthTokens {
        OAuthTokens {
            access_token: SecretString::from(access.to_owned()),
            refresh_token: Some(SecretString::from(refresh.to_owned())),
            expires_at,
        }
    }

    fn fleet(record: &Arc<LocalTokenRecord>) -> FleetTokens {
        FleetTokens::new(record.clone(), Kind::OAuth, Duration::from_millis(100))
    }

    fn access(renewal: &Renewal) -> String {
        let held = match renewal {
            Renewal::Adopted(held) | Renewal::Renewed { held, .. } => held,
        };
        held.tokens.access_token.expose_secret().to_owned()
    }

    fn own(generation: u64, access: &str) -> Held {
        Held {
            generation,
            tokens: tokens(access, "RT-OWN", 100),
        }
    }

    #[test]
    fn only_a_fresh_token_other_than_the_own_is_taken() {
        let record = own(2, "AT-2");
        assert!(
            takeable(Some(&own(1, "AT-1")), &record, true),
            "renewed elsewhere"
        );
        assert!(takeable(None, &record, true), "holding nothing");
        assert!(
            !takeable(Some(&own(2, "AT-2")), &record, true),
            "the refused token itself"
        );
        assert!(
            !takeable(Some(&own(1, "AT-1")), &record, false),
            "due as well: renew it"
        );
        assert!(
            takeable(Some(&own(2, "AT-OLD")), &record, true),
            "the same number for another token: Redis lost the record and counted again"
        );
    }

    #[tokio::test]
    async fn when_redis_lost_the_record_the_holder_renews_from_its_own_copy() {
        let record = Arc::new(LocalTokenRecord::default());
        let fleet = fleet(&record);
        let renewal = fleet
            .renew(
                Some(own(3, "AT-3")),
                |t| t.expires_at > 1_000,
                |current| async move {
                    let refresh = current.unwrap().refresh_token.unwrap();
                    assert_eq!(refresh.expose_secret(), "RT-OWN");
                    Ok(tokens("AT-4", "RT-4", 5_000))
                },
            )
            .await
            .unwrap();
        assert!(matches!(renewal, Renewal::Renewed { saved: true, .. }));
        assert_eq!(
            fleet.read().await.unwrap().unwrap().generation,
            1,
            "written again"
        );
    }

    #[tokio::test]
    async fn the_holder_refreshes_with_the_records_refresh_token_and_bumps_the_generation() {
        let record = Arc::new(LocalTokenRecord::default());
        let fleet = fleet(&record);
        fleet.replace(&tokens("AT-1", "RT-1", 100)).await.unwrap();
        let renewal = fleet
            .renew(
                Some(own(1, "AT-1")),
                |t| t.expires_at > 1_000,
                |current| async move {
                    let refresh = current.unwrap().refresh_token.unwrap();
                    assert_eq!(refresh.expose_secret(), "RT-1");
                    Ok(tokens("AT-2", "RT-2", 5_000))
                },
            )
            .await
            .unwrap();
        assert!(matches!(renewal, Renewal::Renewed { saved: true, .. }));
        let held = fleet.read().await.unwrap().unwrap();
        assert_eq!(held.generation, 2);
        assert_eq!(held.tokens.access_token.expose_secret(), "AT-2");
        assert!(
            record
                .try_lock(Duration::from_secs(1))
                .await
                .unwrap()
                .is_some(),
            "released"
        );
    }

    #[tokio::test]
    async fn a_newer_good_record_is_taken_without_a_vendor_call() {
        let record = Arc::new(LocalTokenRecord::default());
        let fleet = fleet(&record);
        fleet.replace(&tokens("AT-1", "RT-1", 100)).await.unwrap();
        fleet.replace(&tokens("AT-2", "RT-2", 5_000)).await.unwrap();
        let renewal = fleet
            .renew(
                Some(own(1, "AT-1")),
                |t| t.expires_at > 1_000,
                |_| async { panic!("no vendor call") },
            )
            .await
            .unwrap();
        assert!(matches!(renewal, Renewal::Adopted(_)));
        assert_eq!(access(&renewal), "AT-2");
        // The generation this instance holds is the one refused: renewed, not taken again.
        let calls = AtomicUsize::new(0);
        let renewal = fleet
            .renew(
                Some(own(2, "AT-2")),
                |t| t.expires_at > 1_000,
                |_| async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Ok(tokens("AT-3", "RT-3", 9_000))
                },
            )
            .await
            .unwrap();
        assert_eq!(access(&renewal), "AT-3");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_waiter_takes_what_the_lock_holder_writes() {
        let record = Arc::new(LocalTokenRecord::default());
        let fleet = Arc::new(fleet(&record));
        fleet.replace(&tokens("AT-1", "RT-1", 100)).await.unwrap();
        let holder = record
            .try_lock(Duration::from_secs(5))
            .await
            .unwrap()
            .unwrap();
        let waiter = {
            let fleet = fleet.clone();
            tokio::spawn(async move {
                fleet
                    .renew(
                        Some(own(1, "AT-1")),
                        |t| t.expires_at > 1_000,
                        |_| async { panic!("the waiter calls no vendor") },
                    )
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(!waiter.is_finished(), "waits while the lock is held");
        fleet
            .write_if(1, &tokens("AT-2", "RT-2", 5_000))
            .await
            .unwrap();
        let renewal = waiter.await.unwrap().unwrap();
        assert_eq!(access(&renewal), "AT-2");
        assert!(record.unlock(&holder).await.unwrap());
    }

    #[tokio::test]
    async fn a_write_that_lost_the_race_takes_the_records_tokens() {
        let record = Arc::new(LocalTokenRecord::default());
        let fleet = fleet(&record);
        fleet.replace(&tokens("AT-1", "RT-1", 100)).await.unwrap();
        let renewal = fleet
            .renew(
                Some(own(1, "AT-1")),
                |t| t.expires_at > 1_000,
                |_| async {
                    // An operator connects again while the vendor answers.
                    record
                        .replace(&encode(Kind::OAuth, &tokens("NEW", "RTN", 9_000)))
                        .await
                        .unwrap();
                    Ok(tokens("AT-2", "RT-2", 5_000))
                },
            )
            .await
            .unwrap();
        assert!(matches!(renewal, Renewal::Adopted(_)));
        assert_eq!(access(&renewal), "NEW");
        assert_eq!(
            fleet
                .read()
                .await
                .unwrap()
                .unwrap()
                .tokens
                .access_token
                .expose_secret(),
            "NEW"
        );
    }

    #[tokio::test]
    async fn a_refused_vendor_call_writes_nothing_and_lets_the_lock_go() {
        let record = Arc::new(LocalTokenRecord::default());
        let fleet = fleet(&record);
        fleet.replace(&tokens("AT-1", "RT-1", 100)).await.unwrap();
        let err = fleet
            .renew(
                Some(own(1, "AT-1")),
                |_| false,
                |_| async { Err(ApiError::NotSignedIn("refused".into())) },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, FleetError::Vendor(_)));
        assert_eq!(fleet.read().await.unwrap().unwrap().generation, 1);
        assert!(
            record
                .try_lock(Duration::from_secs(1))
                .await
                .unwrap()
                .is_some()
        );
    }
}

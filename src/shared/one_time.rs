//! One-time records (used SSO token ids, used OAuth states, ended sign-ins) kept by this
//! process or by the whole fleet.
//!
//! [`OneTimeRecord`] is the seam: [`UsedOnce`] keeps the record in this process (it never
//! fails), [`RedisOnce`] keeps it in the fleet's Redis with `SET key 1 NX EX <seconds>`, so
//! that a token used on one instance is refused on every other. [`OneTime`] is the one the
//! settings choose.
//!
//! Time: the application's clock decides whether a token is still acceptable (`until`
//! against `now`); Redis only forgets. The expiry is given to Redis as the time left on the
//! application's clock (`EX until - now`, plus a margin), not as an absolute instant
//! (`EXAT until`): an instance whose clock is behind Redis's would otherwise ask Redis to
//! keep a key until an instant Redis already considers past, and Redis would store nothing
//! while answering "first use", so the token would work again on the next instance. The
//! margin covers clocks of instances that disagree by up to a minute.
//!
//! In fleet mode the Redis record also keeps a copy in this process: after a `FLUSHALL`
//! or a restart of a Redis without persistence, this instance still refuses what it saw.

use std::sync::Arc;

use base64::Engine;
use ring::digest;

use super::{
    link::{RedisLink, Unreachable},
    used_once::UsedOnce,
};

/// Seconds a shared record is kept past its `until`, for instances whose clocks disagree.
pub const CLOCK_MARGIN_SECS: i64 = 60;

/// A record of keys that may be used once, each kept until its own instant (Unix seconds).
pub trait OneTimeRecord {
    /// Records `key` as used until `until` and says whether this was its first use, at
    /// `now` (the application's clock). Of two concurrent calls with one key, exactly one
    /// gets `true`, on any instance.
    fn first_use(
        &self,
        key: &str,
        until: i64,
        now: i64,
    ) -> impl Future<Output = Result<bool, Unreachable>> + Send;

    /// Whether `key` (kept until `until`) has been used.
    fn was_used(
        &self,
        key: &str,
        until: i64,
    ) -> impl Future<Output = Result<bool, Unreachable>> + Send;
}

impl OneTimeRecord for UsedOnce {
    async fn first_use(&self, key: &str, until: i64, now: i64) -> Result<bool, Unreachable> {
        Ok(UsedOnce::first_use(self, key, until, now))
    }

    async fn was_used(&self, key: &str, until: i64) -> Result<bool, Unreachable> {
        Ok(UsedOnce::was_used(self, key, until))
    }
}

/// A one-time record in the fleet's Redis, with a copy in this process.
pub struct RedisOnce {
    link: Arc<RedisLink>,
    /// The record's part of the key space (`sso`, `oauth`, `signout`).
    space: &'static str,
    here: UsedOnce,
}

impl RedisOnce {
    /// The record `space` on `link`; the copy here holds at most `capacity` keys.
    pub fn new(
        link: Arc<RedisLink>,
        space: &'static str,
        what: &'static str,
        capacity: usize,
    ) -> Self {
        RedisOnce {
            link,
            space,
            here: UsedOnce::new(what, capacity),
        }
    }

    /// The Redis key of `key`: a digest, so that neither a secret value (an OAuth state)
    /// nor a long or odd one (a `jti` of the company's choosing) lands in Redis as it is.
    fn redis_key(&self, key: &str) -> String {
        self.link
            .key(&format!("once:{}:{}", self.space, digest_of(key)))
    }
}

impl OneTimeRecord for RedisOnce {
    async fn first_use(&self, key: &str, until: i64, now: i64) -> Result<bool, Unreachable> {
        // A key this instance saw is refused without asking Redis (and stays refused
        // when Redis has lost it).
        if self.here.was_used(key, until) {
            return Ok(false);
        }
        let name = self.redis_key(key);
        let seconds = keep_for_secs(until, now);
        let stored: Option<String> = self
            .link
            .run(|mut c| async move {
                redis::cmd("SET")
                    .arg(&name)
                    .arg(1)
                    .arg("NX")
                    .arg("EX")
                    .arg(seconds)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        // Recorded here only once the fleet has it: a key Redis could not take stays
        // usable for a retry.
        let first_here = self.here.first_use(key, until, now);
        Ok(stored.is_some() && first_here)
    }

    async fn was_used(&self, key: &str, until: i64) -> Result<bool, Unreachable> {
        if self.here.was_used(key, until) {
            return Ok(true);
        }
        let name = self.redis_key(key);
        let found: u32 = self
            .link
            .run(|mut c| async move { redis::cmd("EXISTS").arg(&name).query_async(&mut c).await })
            .await?;
        Ok(found > 0)
    }
}

/// The longest expiry asked of Redis (a century; Redis refuses one that overflows its
/// millisecond clock). Nothing roomgate records needs to be kept nearly that long.
const MAX_KEEP_SECS: i64 = 100 * 365 * 24 * 3600;

/// How many seconds Redis keeps a key needed until `until`, at `now`: the time left on
/// the application's clock plus [`CLOCK_MARGIN_SECS`], at least one second (Redis refuses
/// `EX 0`), saturating for any `i64`.
pub fn keep_for_secs(until: i64, now: i64) -> i64 {
    until
        .saturating_sub(now)
        .saturating_add(CLOCK_MARGIN_SECS)
        .clamp(1, MAX_KEEP_SECS)
}

/// SHA-256 of `key`, base64url: fixed length, no secret recoverable from it.
fn digest_of(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(digest::digest(&digest::SHA256, key.as_bytes()))
}

/// The one-time record the settings chose.
pub enum OneTime {
    /// This process only.
    Local(UsedOnce),
    /// The fleet's Redis.
    Redis(RedisOnce),
}

impl OneTime {
    /// The record `space` (its part of Redis's key space), kept in the fleet's Redis when
    /// there is a `link` (`Backend::redis`), else here; `what` names it in the log,
    /// `capacity` bounds what this process holds.
    pub fn new(
        link: Option<&Arc<RedisLink>>,
        space: &'static str,
        what: &'static str,
        capacity: usize,
    ) -> Self {
        match link {
            None => OneTime::Local(UsedOnce::new(what, capacity)),
            Some(link) => OneTime::Redis(RedisOnce::new(link.clone(), space, what, capacity)),
        }
    }

    /// See [`OneTimeRecord::first_use`].
    pub async fn first_use(&self, key: &str, until: i64, now: i64) -> Result<bool, Unreachable> {
        match self {
            OneTime::Local(r) => OneTimeRecord::first_use(r, key, until, now).await,
            OneTime::Redis(r) => r.first_use(key, until, now).await,
        }
    }

    /// See [`OneTimeRecord::was_used`].
    pub async fn was_used(&self, key: &str, until: i64) -> Result<bool, Unreachable> {
        match self {
            OneTime::Local(r) => OneTimeRecord::was_used(r, key, until).await,
            OneTime::Redis(r) => r.was_used(key, until).await,
        }
    }

    /// Whether this process has seen `key` used (asks nobody; for an early refusal).
    pub fn was_used_here(&self, key: &str, until: i64) -> bool {
        self.here().was_used(key, until)
    }

    /// Records `key` in this process only: what a caller does when the fleet's record
    /// cannot be reached and refusing would be worse (a sign-out).
    pub fn record_here(&self, key: &str, until: i64, now: i64) {
        self.here().first_use(key, until, now);
    }

    fn here(&self) -> &UsedOnce {
        match self {
            OneTime::Local(r) => r,
            OneTime::Redis(r) => &r.here,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_keeps_a_key_for_the_time_left_on_the_app_clock_plus_the_margin() {
        assert_eq!(keep_for_secs(1_000, 900), 100 + CLOCK_MARGIN_SECS);
        assert_eq!(
            keep_for_secs(1_000, 1_000),
            CLOCK_MARGIN_SECS,
            "kept through its last instant"
        );
        assert_eq!(keep_for_secs(0, 1_000_000), 1, "never EX 0 or negative");
        assert_eq!(keep_for_secs(i64::MAX, i64::MIN), MAX_KEEP_SECS);
        assert_eq!(keep_for_secs(i64::MIN, i64::MAX), 1);
    }

    #[test]
    fn keys_are_stored_as_fixed_length_digests() {
        let long = "x".repeat(256);
        assert_eq!(digest_of("a").len(), 43);
        assert_eq!(digest_of(&long).len(), 43);
        assert_ne!(digest_of("a"), digest_of("b"));
        assert!(!digest_of("secret-state").contains("secret"));
    }

    #[tokio::test]
    async fn the_local_record_is_a_one_time_record_that_never_fails() {
        let record = OneTime::new(None, "t", "test", 10);
        assert!(!record.was_used("a", 100).await.unwrap());
        assert!(record.first_use("a", 100, 0).await.unwrap());
        assert!(!record.first_use("a", 100, 0).await.unwrap());
        assert!(record.was_used("a", 100).await.unwrap());
        assert!(record.was_used_here("a", 100));
        record.record_here("b", 100, 0);
        assert!(!record.first_use("b", 100, 0).await.unwrap());
    }
}

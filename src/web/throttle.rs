//! Slows down guessing: a client that sends too many wrong secrets (role hashes, admin
//! tokens) in a minute gets 429 for every secret-bearing request until its minute is over.
//!
//! A request reserves its attempt before anything slow happens (a cold room's lookup can
//! wait seconds for the vendor) and keeps it as a failure only if its secret turns out
//! wrong; any other end gives it back. Counting only after the comparison would let every
//! request of a burst pass the check before the first of them had failed.
//!
//! In fleet mode the budget is the fleet's (`shared::limits::RedisBudgets`), so guesses
//! spread over the instances add up; this instance's own budget is kept as well, and is
//! the only one while Redis cannot be reached: the limit then holds per instance instead
//! of failing open or refusing every secret-bearing request.

use std::{net::IpAddr, time::Duration};

use super::{
    client_ip::budget_key,
    counters::{self, Limit},
};
use crate::shared::{
    Backend,
    limits::{LocalBudgets, LocalHold, RedisBudgets, RedisHold, Refusal},
};

/// Attempts per client: failures within the client's window, plus attempts under way.
pub struct GuessThrottle {
    /// Which secret this throttle guards, as its refusals are counted.
    guards: Limit,
    ipv6_prefix_len: u8,
    local: LocalBudgets,
    /// The fleet's budget, in fleet mode.
    fleet: Option<RedisBudgets>,
}

impl GuessThrottle {
    /// Allows `limit` failures of `guards` per client per `window`, counting IPv6 clients
    /// per `ipv6_prefix_len` network, fleet-wide when `backend` is Redis.
    pub fn new(
        guards: Limit,
        limit: u32,
        window: Duration,
        ipv6_prefix_len: u8,
        backend: &Backend,
    ) -> Self {
        let space = match guards {
            Limit::RoleHash => "role",
            Limit::AdminToken => "admin",
        };
        GuessThrottle {
            guards,
            ipv6_prefix_len,
            local: LocalBudgets::new(limit, window),
            fleet: backend
                .redis()
                .map(|link| RedisBudgets::new(link.clone(), space, limit, window)),
        }
    }

    /// Reserves an attempt for `client`, or `None` when its budget is used up. Called
    /// before any secret is compared, so a refused client learns nothing, not even from
    /// a right guess. A request from an unknown peer (only tests build those) is not
    /// counted.
    pub async fn reserve(&self, client: Option<IpAddr>) -> Option<Attempt> {
        let Some(ip) = client else {
            return Some(Attempt::default());
        };
        let key = budget_key(ip, self.ipv6_prefix_len);
        // Refused while attempts under way fill the budget, a request waits a little for
        // them to end: right secrets (several hosts behind one address opening their link
        // at once) give theirs back within a moment, so they are not turned away by each
        // other; wrong ones become failures, and then the refusal is final.
        let mut wait = Duration::from_millis(1);
        loop {
            match self.try_reserve(key).await {
                Ok(attempt) => return Some(attempt),
                Err(Refusal::Busy) if wait <= BUSY_WAIT_MAX => {
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                Err(_) => {
                    counters::throttled(self.guards);
                    return None;
                }
            }
        }
    }

    /// One try at both budgets: this instance's first (it refuses without a round trip to
    /// Redis, and it holds the count should Redis go away), then the fleet's.
    async fn try_reserve(&self, key: IpAddr) -> Result<Attempt, Refusal> {
        let local = self.local.try_reserve(key)?;
        let fleet = match &self.fleet {
            None => None,
            // On a refusal `local` is dropped: given back.
            Some(fleet) => match fleet.reserve(&key.to_string()).await {
                Ok(hold) => Some(hold?),
                Err(e) => {
                    // Debug only: the link itself warns once when Redis goes away, and a
                    // guesser must not be able to flood the log.
                    tracing::debug!(
                        error = %e,
                        limit = ?self.guards,
                        "guess limit: the fleet's budget cannot be reached; counting on this instance only"
                    );
                    None
                }
            },
        };
        Ok(Attempt {
            local: Some(local),
            fleet,
        })
    }
}

/// The longest single pause of a request waiting for attempts under way to end; the
/// pauses double from 1 ms, so a request waits at most about a quarter of a second.
const BUSY_WAIT_MAX: Duration = Duration::from_millis(128);

#[must_use = "an attempt dropped at once is given back at once"]
#[derive(Default)]
pub struct Attempt {
    local: Option<LocalHold>,
    fleet: Option<RedisHold>,
}

impl Attempt {
    /// The secret was wrong: the attempt counts until the client's window ends.
    pub async fn failed(self) {
        if let Some(local) = self.local {
            local.failed();
        }
        if let Some(fleet) = self.fleet
            && let Err(e) = fleet.failed().await
        {
            // Counted here all the same; the fleet's reservation lapses on its own.
            tracing::debug!(error = %e, "guess limit: a failure could not be counted fleet-wide");
        }
    }

    /// The secret was right: the attempt is given back before the answer goes out, so
    /// the client's next request (to any instance) finds it free.
    pub async fn passed(self) {
        drop(self.local);
        if let Some(fleet) = self.fleet
            && let Err(e) = fleet.given_back().await
        {
            tracing::debug!(error = %e, "guess limit: an attempt could not be given back; it lapses on its own");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    fn throttle(limit: u32) -> GuessThrottle {
        GuessThrottle::new(
            Limit::RoleHash,
            limit,
            Duration::from_secs(60),
            64,
            &Backend::Local,
        )
    }

    #[tokio::test]
    async fn a_right_secret_waits_for_attempts_under_way_instead_of_being_refused() {
        // Two hosts behind one address hold the whole budget for a moment (a cold room's
        // lookup); a third host arriving then gets in as soon as one of them is through.
        let t = std::sync::Arc::new(throttle(2));
        let first = t.reserve(ip("192.0.2.1")).await.expect("within the limit");
        let second = t.reserve(ip("192.0.2.1")).await.expect("within the limit");
        let third = tokio::spawn({
            let t = t.clone();
            async move { t.reserve(ip("192.0.2.1")).await.is_some() }
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
        first.passed().await;
        assert!(
            third.await.unwrap(),
            "refused while an attempt was about to be given back"
        );
        second.passed().await;
    }

    #[tokio::test]
    async fn attempts_under_way_that_fail_end_the_wait_in_a_refusal() {
        let t = std::sync::Arc::new(throttle(2));
        t.reserve(ip("192.0.2.1")).await.unwrap().failed().await;
        let held = t.reserve(ip("192.0.2.1")).await.expect("within the limit");
        let waiting = tokio::spawn({
            let t = t.clone();
            async move { t.reserve(ip("192.0.2.1")).await.is_some() }
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
        held.failed().await;
        assert!(
            !waiting.await.unwrap(),
            "two failures use the budget of two up"
        );
        // And once the failures alone use it up, the refusal needs no wait at all.
        assert!(t.reserve(ip("192.0.2.1")).await.is_none());
    }

    #[tokio::test]
    async fn a_client_is_refused_after_its_limit_and_others_are_not() {
        let t = throttle(3);
        for _ in 0..3 {
            t.reserve(ip("192.0.2.1"))
                .await
                .expect("within the limit")
                .failed()
                .await;
        }
        assert!(t.reserve(ip("192.0.2.1")).await.is_none());
        assert!(t.reserve(ip("192.0.2.2")).await.is_some());
    }

    #[tokio::test]
    async fn an_ipv6_network_shares_one_budget() {
        let t = throttle(1);
        t.reserve(ip("2001:db8:0:1::1"))
            .await
            .unwrap()
            .failed()
            .await;
        assert!(t.reserve(ip("2001:db8:0:1:ffff::2")).await.is_none());
        assert!(t.reserve(ip("2001:db8:0:2::1")).await.is_some());
    }

    #[tokio::test]
    async fn unknown_peers_are_not_counted() {
        let t = throttle(1);
        t.reserve(None).await.unwrap().failed().await;
        assert!(t.reserve(None).await.is_some());
    }

    #[tokio::test]
    async fn a_right_secret_gives_its_attempt_back() {
        let t = throttle(1);
        let a = ip("192.0.2.1");
        let attempt = t.reserve(a).await.unwrap();
        assert!(
            t.reserve(a).await.is_none(),
            "one under way uses the budget"
        );
        drop(attempt);
        assert!(t.reserve(a).await.is_some());
    }
}

//! Slows down guessing: a client that sends too many wrong secrets (role hashes, admin
//! tokens) in a minute gets 429 for every secret-bearing request until its minute is over.
//!
//! The secret is compared first; its answer goes out only if the client's budget allows
//! it, the budget being consulted and a wrong secret counted in one atomic step
//! ([`GuessThrottle::judge`]). So however many requests of a burst overlap (a cold room's
//! lookup can keep them waiting for seconds), at most the limit of them are answered
//! "wrong"; the rest get 429, and a right secret is never turned away by other right
//! ones. A client whose budget is spent on this instance is refused before anything slow
//! is done for it ([`GuessThrottle::spent`]).
//!
//! In fleet mode the budget is the fleet's (`shared::limits::RedisBudgets`, one round trip
//! per judged secret), so guesses spread over the instances add up; this instance's own
//! budget is kept as well, and is the only one while Redis cannot be reached: the limit
//! then holds per instance instead of failing open or refusing every secret-bearing
//! request.

use std::{net::IpAddr, time::Duration};

use super::{
    client_ip::budget_key,
    counters::{self, Limit},
};
use crate::shared::{
    Backend,
    limits::{LocalBudgets, RedisBudgets},
};

/// Wrong secrets per client, in this process and (fleet mode) across the fleet.
pub struct GuessThrottle {
    /// Which secret this throttle guards, as its refusals are counted.
    guards: Limit,
    ipv6_prefix_len: u8,
    local: LocalBudgets,
    /// The fleet's budget, in fleet mode.
    fleet: Option<RedisBudgets>,
}

impl GuessThrottle {
    /// `limit` wrong secrets per client per `window`; IPv6 clients are counted per network
    /// of `ipv6_prefix_len`. With a Redis backend the budget is the fleet's.
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

    /// Whether `client` has spent its budget on this instance: refused (and counted as
    /// refused) before its secret is even looked at. `None` (a peer without an address)
    /// is never counted.
    pub fn spent(&self, client: Option<IpAddr>) -> bool {
        let Some(ip) = client else {
            return false;
        };
        let spent = self.local.spent(budget_key(ip, self.ipv6_prefix_len));
        if spent {
            counters::throttled(self.guards);
        }
        spent
    }

    /// Whether the answer to `client`'s secret may go out: `false` when its failures
    /// fill the budget (answer 429), else `true`, counting a failure when the secret was
    /// `wrong`. This instance's budget decides first (no round trip), then the fleet's.
    pub async fn judge(&self, client: Option<IpAddr>, wrong: bool) -> bool {
        let Some(ip) = client else {
            return true;
        };
        let key = budget_key(ip, self.ipv6_prefix_len);
        let allowed = self.local.judge(key, wrong)
            && match &self.fleet {
                None => true,
                Some(fleet) => match fleet.judge(&key.to_string(), wrong).await {
                    Ok(allowed) => allowed,
                    Err(e) => {
                        // Debug only: the link itself warns once when Redis goes away,
                        // and a guesser must not be able to flood the log.
                        tracing::debug!(
                            error = %e,
                            limit = ?self.guards,
                            "guess limit: the fleet's budget cannot be reached; counting on this instance only"
                        );
                        true
                    }
                },
            };
        if !allowed {
            counters::throttled(self.guards);
        }
        allowed
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
    async fn a_client_is_refused_after_its_limit_and_others_are_not() {
        let t = throttle(3);
        for _ in 0..3 {
            assert!(t.judge(ip("192.0.2.1"), true).await, "within the limit");
        }
        assert!(t.spent(ip("192.0.2.1")));
        assert!(!t.judge(ip("192.0.2.1"), false).await, "a right one too");
        assert!(!t.spent(ip("192.0.2.2")));
        assert!(t.judge(ip("192.0.2.2"), true).await);
    }

    #[tokio::test]
    async fn an_ipv6_network_shares_one_budget() {
        let t = throttle(1);
        assert!(t.judge(ip("2001:db8:0:1::1"), true).await);
        assert!(t.spent(ip("2001:db8:0:1:ffff::2")));
        assert!(!t.spent(ip("2001:db8:0:2::1")));
    }

    #[tokio::test]
    async fn unknown_peers_are_not_counted() {
        let t = throttle(1);
        assert!(t.judge(None, true).await);
        assert!(t.judge(None, true).await);
        assert!(!t.spent(None));
    }

    #[tokio::test]
    async fn right_secrets_from_one_address_never_turn_each_other_away() {
        // Hosts behind one address opening their link at once (the old reservations
        // refused the third of three right hashes in flight with a budget of two).
        let t = std::sync::Arc::new(throttle(2));
        let answers = futures_util::future::join_all((0..50).map(|_| {
            let t = t.clone();
            async move { t.judge(ip("192.0.2.1"), false).await }
        }))
        .await;
        assert!(answers.iter().all(|a| *a));
        assert!(t.judge(ip("192.0.2.1"), true).await, "the budget is whole");
    }
}

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
//!
//! One round trip is saved: a right secret whose answer this instance released to the
//! same client (the same budget key) less than a window ago is released again without
//! asking Redis. The limit is there so that a client learns nothing about secrets it
//! does not know; answering again one it was already given tells it nothing, so a host
//! reloading its link costs the fleet one round trip per window, not one per page.
//! Wrong secrets, and right ones not given here yet, are still judged by the fleet, and
//! this instance's own budget still judges everything first. What it changes: a client
//! whose budget was spent on other instances gets again, here, a link this instance gave
//! it within the window (it would have got 429 before); any other link still gets 429.

use std::{hash::Hash, net::IpAddr, time::Duration};

use super::{
    client_ip::budget_key,
    counters::{self, Limit},
};
pub use crate::shared::limits::Answer;
use crate::shared::{
    Backend,
    limits::{LocalBudgets, RedisBudgets, Verdict},
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

    /// The answer of a right secret, named by what identifies it (for a role link: the
    /// brand's index, the room key and the hash), hashed with this instance's own key.
    pub fn right(&self, secret: impl Hash) -> Answer {
        Answer::Right(self.local.secret_id(secret))
    }

    /// Whether the answer to `client`'s secret may go out: `false` when its failures
    /// fill the budget (answer 429), else `true`, counting a failure when the answer is
    /// [`Answer::Wrong`]. This instance's budget decides first (no round trip), then the
    /// fleet's, unless this instance already released this right secret to `client`
    /// within the window.
    pub async fn judge(&self, client: Option<IpAddr>, answer: Answer) -> bool {
        let Some(ip) = client else {
            return true;
        };
        let key = budget_key(ip, self.ipv6_prefix_len);
        let allowed = match self.local.judge(key, answer) {
            Verdict::Refused => false,
            // The client has this answer from us already: the fleet need not be asked.
            Verdict::Repeated => true,
            Verdict::Allowed => self.fleet_allows(key, answer).await,
        };
        if !allowed {
            counters::throttled(self.guards);
        }
        allowed
    }

    /// Whether the fleet's budget lets `key`'s answer go out (always, without a fleet);
    /// a right secret it lets out is remembered for the window.
    async fn fleet_allows(&self, key: IpAddr, answer: Answer) -> bool {
        let Some(fleet) = &self.fleet else {
            return true;
        };
        match fleet.judge(&key.to_string(), answer.is_wrong()).await {
            Ok(allowed) => {
                if allowed && let Answer::Right(secret) = answer {
                    self.local.remember(key, secret);
                }
                allowed
            }
            Err(e) => {
                // Debug only: the link itself warns once when Redis goes away, and a
                // guesser must not be able to flood the log. Nothing is remembered: the
                // fleet did not say yes.
                tracing::debug!(
                    error = %e,
                    limit = ?self.guards,
                    "guess limit: the fleet's budget cannot be reached; counting on this instance only"
                );
                true
            }
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
    async fn a_client_is_refused_after_its_limit_and_others_are_not() {
        let t = throttle(3);
        for _ in 0..3 {
            assert!(
                t.judge(ip("192.0.2.1"), Answer::Wrong).await,
                "within the limit"
            );
        }
        assert!(t.spent(ip("192.0.2.1")));
        assert!(
            !t.judge(ip("192.0.2.1"), t.right("a right secret")).await,
            "a right one too"
        );
        assert!(!t.spent(ip("192.0.2.2")));
        assert!(t.judge(ip("192.0.2.2"), Answer::Wrong).await);
    }

    #[tokio::test]
    async fn an_ipv6_network_shares_one_budget() {
        let t = throttle(1);
        assert!(t.judge(ip("2001:db8:0:1::1"), Answer::Wrong).await);
        assert!(t.spent(ip("2001:db8:0:1:ffff::2")));
        assert!(!t.spent(ip("2001:db8:0:2::1")));
    }

    #[tokio::test]
    async fn unknown_peers_are_not_counted() {
        let t = throttle(1);
        assert!(t.judge(None, Answer::Wrong).await);
        assert!(t.judge(None, Answer::Wrong).await);
        assert!(!t.spent(None));
    }

    #[tokio::test]
    async fn right_secrets_from_one_address_never_turn_each_other_away() {
        // Hosts behind one address opening their link at once (the old reservations
        // refused the third of three right hashes in flight with a budget of two).
        let t = std::sync::Arc::new(throttle(2));
        let answers = futures_util::future::join_all((0..50).map(|_| {
            let t = t.clone();
            async move { t.judge(ip("192.0.2.1"), t.right("a right secret")).await }
        }))
        .await;
        assert!(answers.iter().all(|a| *a));
        assert!(
            t.judge(ip("192.0.2.1"), Answer::Wrong).await,
            "the budget is whole"
        );
    }

    /// A fleet throttle whose Redis never answers (nothing listens on its port).
    fn throttle_of_a_fleet_without_redis(limit: u32) -> GuessThrottle {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let settings = crate::settings::SharedSettings {
            backend: crate::settings::SharedBackend::Redis,
            redis_url: Some(format!("redis://127.0.0.1:{closed}/0").into()),
            key: Some("a-test-key-of-at-least-32-bytes-0123456789".into()),
            prefix: "roomgate:".into(),
        };
        let backend = Backend::from_settings(&settings).unwrap();
        GuessThrottle::new(
            Limit::RoleHash,
            limit,
            Duration::from_secs(60),
            64,
            &backend,
        )
    }

    /// Whether `t` would release `answer` to `client` without asking the fleet.
    fn remembered(t: &GuessThrottle, client: &str, answer: Answer) -> bool {
        t.local.judge(client.parse().unwrap(), answer) == Verdict::Repeated
    }

    #[tokio::test]
    async fn on_one_instance_nothing_is_remembered() {
        let t = throttle(1);
        let link = t.right((0, "100-000-000", "Host"));
        for _ in 0..3 {
            assert!(t.judge(ip("192.0.2.1"), link).await);
        }
        assert!(!remembered(&t, "192.0.2.1", link));
        assert!(t.judge(ip("192.0.2.1"), Answer::Wrong).await);
        assert!(
            !t.judge(ip("192.0.2.1"), link).await,
            "a spent client gets 429 for its own link, as before"
        );
    }

    #[tokio::test]
    async fn a_right_secret_the_fleet_did_not_judge_is_not_remembered() {
        let t = throttle_of_a_fleet_without_redis(3);
        let link = t.right((0, "100-000-000", "Host"));
        for _ in 0..3 {
            assert!(
                t.judge(ip("192.0.2.1"), link).await,
                "per instance, as before"
            );
        }
        assert!(!remembered(&t, "192.0.2.1", link));
    }

    #[test]
    fn a_right_secret_is_named_by_all_that_identifies_it() {
        let t = throttle(1);
        let link = t.right((0, "100-000-000", "Host"));
        assert_eq!(link, t.right((0, "100-000-000", "Host")));
        assert_ne!(link, t.right((1, "100-000-000", "Host")));
        assert_ne!(link, t.right((0, "100-000-001", "Host")));
        assert_ne!(link, t.right((0, "100-000-000", "Hosu")));
        assert_ne!(link, Answer::Wrong);
    }
}

//! Slows down guessing: a client that sends too many wrong secrets (role hashes, admin
//! tokens) in a minute gets 429 for every secret-bearing request until its minute is over.
//!
//! A request reserves its attempt before anything slow happens (a cold room's lookup can
//! wait seconds for the vendor) and keeps it as a failure only if its secret turns out
//! wrong; any other end gives it back. Counting only after the comparison would let every
//! request of a burst pass the check before the first of them had failed.

use std::{
    net::IpAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use moka::sync::Cache;

use super::{
    client_ip::budget_key,
    counters::{self, Limit},
};

/// Attempts per client: failures within the client's window, plus attempts under way.
#[derive(Clone)]
pub struct GuessThrottle {
    /// Which secret this throttle guards, as its refusals are counted.
    guards: Limit,
    limit: u32,
    window: Duration,
    ipv6_prefix_len: u8,
    clients: Cache<IpAddr, Arc<Mutex<Budget>>>,
}

/// One client's count. The window starts at its first failure (not at its first request:
/// a host who opened the right link an hour ago starts no clock).
#[derive(Debug, Default)]
struct Budget {
    under_way: u32,
    failures: u32,
    since: Option<Instant>,
}

impl GuessThrottle {
    /// Allows `limit` failures of `guards` per client per `window`, counting IPv6 clients
    /// per `ipv6_prefix_len` network; remembers at most 100 000 clients.
    pub fn new(guards: Limit, limit: u32, window: Duration, ipv6_prefix_len: u8) -> Self {
        GuessThrottle {
            guards,
            limit,
            window,
            ipv6_prefix_len,
            clients: Cache::builder()
                .max_capacity(100_000)
                // Only to bound memory: the window itself is kept in `Budget`. Twice the
                // window, so that a failure counted after a slow lookup is not forgotten
                // with an entry last touched when that lookup began.
                .time_to_idle(window * 2)
                .build(),
        }
    }

    /// Reserves an attempt for `client`, or `None` when its budget is used up. Called
    /// before any secret is compared, so a refused client learns nothing, not even from
    /// a right guess. A request from an unknown peer (only tests build those) is not
    /// counted.
    pub fn reserve(&self, client: Option<IpAddr>) -> Option<Attempt> {
        let Some(ip) = client else {
            return Some(Attempt { budget: None });
        };
        let budget = self
            .clients
            .get_with(budget_key(ip, self.ipv6_prefix_len), Default::default);
        {
            // Checked and counted under one lock: two requests can never both take the
            // last attempt.
            let mut b = lock(&budget);
            if b.since.is_some_and(|since| since.elapsed() >= self.window) {
                b.failures = 0;
                b.since = None;
            }
            if b.failures + b.under_way >= self.limit {
                counters::throttled(self.guards);
                return None;
            }
            b.under_way += 1;
        }
        Some(Attempt {
            budget: Some(budget),
        })
    }
}

fn lock(budget: &Mutex<Budget>) -> MutexGuard<'_, Budget> {
    budget.lock().unwrap_or_else(|e| e.into_inner())
}

/// One reserved attempt: given back when dropped (right secret, unknown room, vendor
/// down, client gone), kept by [`Attempt::failed`].
#[must_use = "an attempt dropped at once is given back at once"]
pub struct Attempt {
    budget: Option<Arc<Mutex<Budget>>>,
}

impl Attempt {
    /// The secret was wrong: the attempt counts until the client's window ends.
    pub fn failed(mut self) {
        if let Some(budget) = self.budget.take() {
            let mut b = lock(&budget);
            b.under_way = b.under_way.saturating_sub(1);
            b.failures += 1;
            b.since.get_or_insert_with(Instant::now);
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if let Some(budget) = self.budget.take() {
            let mut b = lock(&budget);
            b.under_way = b.under_way.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn a_client_is_refused_after_its_limit_and_others_are_not() {
        let t = GuessThrottle::new(Limit::RoleHash, 3, Duration::from_secs(60), 64);
        let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
        for _ in 0..3 {
            t.reserve(a).expect("within the limit").failed();
        }
        assert!(t.reserve(a).is_none());
        assert!(t.reserve(b).is_some());
    }

    #[test]
    fn attempts_under_way_count_until_they_end() {
        let t = GuessThrottle::new(Limit::RoleHash, 2, Duration::from_secs(60), 64);
        let a = ip("192.0.2.1");
        let first = t.reserve(a).unwrap();
        let second = t.reserve(a).unwrap();
        assert!(t.reserve(a).is_none(), "two under way use the budget");
        drop(first);
        let third = t.reserve(a).expect("a right secret gives its attempt back");
        second.failed();
        third.failed();
        assert!(t.reserve(a).is_none());
    }

    #[test]
    fn an_ipv6_network_shares_one_budget() {
        let t = GuessThrottle::new(Limit::RoleHash, 1, Duration::from_secs(60), 64);
        t.reserve(ip("2001:db8:0:1::1")).unwrap().failed();
        assert!(t.reserve(ip("2001:db8:0:1:ffff::2")).is_none());
        assert!(t.reserve(ip("2001:db8:0:2::1")).is_some());
    }

    #[test]
    fn the_window_starts_at_the_first_failure() {
        let window = Duration::from_millis(300);
        let t = GuessThrottle::new(Limit::RoleHash, 1, window, 64);
        let a = ip("192.0.2.1");
        drop(t.reserve(a).unwrap());
        std::thread::sleep(window);
        let failed_at = std::time::Instant::now();
        t.reserve(a).unwrap().failed();
        let blocked = t.reserve(a).is_none();
        assert!(
            blocked || failed_at.elapsed() >= window,
            "a right secret earlier started no clock"
        );
    }

    #[test]
    fn unknown_peers_are_not_counted() {
        let t = GuessThrottle::new(Limit::RoleHash, 1, Duration::from_secs(60), 64);
        t.reserve(None).unwrap().failed();
        assert!(t.reserve(None).is_some());
    }

    #[test]
    fn the_block_ends_with_the_window() {
        // The window runs on the real clock (`Instant`), so nothing here depends on how
        // fast the machine is: the block is watched until it ends, and it must not end
        // before the window is over (however late the first look comes).
        let window = Duration::from_millis(200);
        let t = GuessThrottle::new(Limit::RoleHash, 1, window, 64);
        let a = ip("192.0.2.1");
        let before = std::time::Instant::now();
        t.reserve(a).unwrap().failed();
        loop {
            let blocked = t.reserve(a).is_none();
            let elapsed = before.elapsed();
            if !blocked {
                assert!(elapsed >= window, "unblocked after {elapsed:?}");
                break;
            }
            assert!(
                elapsed < Duration::from_secs(10),
                "still blocked after {elapsed:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

//! Slows down guessing: a client that sends too many wrong secrets (role hashes) in a
//! minute gets 429 for every secret-bearing request until its minute is over.

use std::{
    net::IpAddr,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use moka::sync::Cache;

/// Failure counts per client, each forgotten a minute after that client's first failure.
#[derive(Clone)]
pub struct GuessThrottle {
    limit: u32,
    failures: Cache<IpAddr, Arc<AtomicU32>>,
}

impl GuessThrottle {
    /// Allows `limit` failures per client per `window`; remembers at most 100 000 clients.
    pub fn new(limit: u32, window: Duration) -> Self {
        GuessThrottle {
            limit,
            failures: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(window)
                .build(),
        }
    }

    /// Whether `client` has used up its failures. Checked before any secret is compared,
    /// so a blocked client learns nothing, not even from a right guess.
    pub fn is_blocked(&self, client: Option<IpAddr>) -> bool {
        client
            .and_then(|ip| self.failures.get(&ip))
            .is_some_and(|n| n.load(Ordering::Relaxed) >= self.limit)
    }

    /// Counts a failure for `client`.
    pub fn record_failure(&self, client: Option<IpAddr>) {
        if let Some(ip) = client {
            self.failures
                .get_with(ip, || Arc::new(AtomicU32::new(0)))
                .fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_blocked_after_its_limit_and_others_are_not() {
        let t = GuessThrottle::new(3, Duration::from_secs(60));
        let a = Some("192.0.2.1".parse().unwrap());
        let b = Some("192.0.2.2".parse().unwrap());
        for _ in 0..3 {
            assert!(!t.is_blocked(a));
            t.record_failure(a);
        }
        assert!(t.is_blocked(a));
        assert!(!t.is_blocked(b));
    }

    #[test]
    fn the_block_ends_with_the_window() {
        // The window runs on moka's real clock, so nothing here depends on how fast the
        // machine is: the block is watched until it ends, and it must not end before
        // the window is over (however late the first look comes).
        let window = Duration::from_millis(200);
        let t = GuessThrottle::new(1, window);
        let a = Some("192.0.2.1".parse().unwrap());
        let before = std::time::Instant::now();
        t.record_failure(a);
        loop {
            let blocked = t.is_blocked(a);
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

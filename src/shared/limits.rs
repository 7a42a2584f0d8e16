//! Budgets of wrong guesses per client (wrong role hashes, wrong admin tokens), in this
//! process ([`LocalBudgets`]) or across the fleet ([`RedisBudgets`]).
//!
//! Both keep the same rule: a guess is checked first, and its answer is released only if
//! the client's failures in the window are below the limit, the budget being consulted
//! and a wrong guess counted in one atomic step (under one lock here, in one Lua script
//! in Redis). However many guesses overlap (a burst while a cold room's lookup waits for
//! the vendor, or one spread over the instances), at most `limit` wrong answers are given
//! per window, and a right guess costs nothing but that one step.
//!
//! The local budget's window starts at the client's first failure and ends a window later.
//! The fleet's budget is a sliding window run on Redis's own clock (`TIME`), so instances
//! with different clocks count alike: failures are a sorted set of instants.

use std::{
    net::IpAddr,
    sync::{Arc, LazyLock, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use moka::sync::Cache;

use super::link::{RedisLink, Unreachable};

/// Wrong guesses per client in this process.
pub struct LocalBudgets {
    limit: u32,
    window: Duration,
    clients: Cache<IpAddr, Arc<Mutex<Budget>>>,
}

/// One client's count. The window starts at its first failure (not at its first request:
/// a host who opened the right link an hour ago starts no clock).
#[derive(Debug, Default)]
struct Budget {
    failures: u32,
    since: Option<Instant>,
}

impl Budget {
    /// The failures still in the window that began at the first of them.
    fn failures(&mut self, window: Duration) -> u32 {
        if self.since.is_some_and(|since| since.elapsed() >= window) {
            self.failures = 0;
            self.since = None;
        }
        self.failures
    }
}

impl LocalBudgets {
    /// Allows `limit` failures per client per `window`; remembers at most 100 000 clients.
    pub fn new(limit: u32, window: Duration) -> Self {
        LocalBudgets {
            limit,
            window,
            clients: Cache::builder()
                .max_capacity(100_000)
                // Only to bound memory: the window itself is kept in `Budget`.
                .time_to_idle(window * 2)
                .build(),
        }
    }

    /// Whether `client`'s failures fill its budget: such a client is refused before
    /// anything slow (a cold room's lookup) is done for it.
    pub fn spent(&self, client: IpAddr) -> bool {
        self.clients
            .get(&client)
            .is_some_and(|budget| lock(&budget).failures(self.window) >= self.limit)
    }

    /// Releases the answer to one guess: `false` when `client`'s failures already fill
    /// its budget (the answer is refused), else `true`, counting a failure when `wrong`.
    /// Checked and counted under one lock: two wrong guesses can never both take the last
    /// place.
    pub fn judge(&self, client: IpAddr, wrong: bool) -> bool {
        let budget = self.clients.get_with(client, Default::default);
        let mut b = lock(&budget);
        if b.failures(self.window) >= self.limit {
            return false;
        }
        if wrong {
            b.failures += 1;
            b.since.get_or_insert_with(Instant::now);
        }
        true
    }
}

fn lock(budget: &Mutex<Budget>) -> MutexGuard<'_, Budget> {
    budget.lock().unwrap_or_else(|e| e.into_inner())
}

/// Refuses (0) when the failures in the window reach the limit; else allows (1), counting
/// a failure when ARGV[3] is 1. KEYS: failures. ARGV: limit, window ms, wrong, id.
static JUDGE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  return 0
end
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
end
return 1
",
    )
});

/// Wrong guesses per client across the fleet, in Redis.
pub struct RedisBudgets {
    link: Arc<RedisLink>,
    /// The budget's part of Redis's key space (`role`, `admin`).
    space: &'static str,
    limit: u32,
    window: Duration,
}

impl RedisBudgets {
    /// Allows `limit` failures per client in any `window`, fleet-wide.
    pub fn new(link: Arc<RedisLink>, space: &'static str, limit: u32, window: Duration) -> Self {
        RedisBudgets {
            link,
            space,
            limit,
            window,
        }
    }

    /// [`LocalBudgets::judge`] for `client` (its budget key, e.g. an address or an IPv6
    /// network) across the fleet, in one round trip; [`Unreachable`] when Redis cannot
    /// say (the caller's own budget then decides alone).
    pub async fn judge(&self, client: &str, wrong: bool) -> Result<bool, Unreachable> {
        let failures = self
            .link
            .key(&format!("limit:{}:{{{client}}}:failed", self.space));
        let (limit, window, id) = (self.limit, millis(self.window), failure_id());
        let allowed: u32 = self
            .link
            .run(|mut c| async move {
                JUDGE
                    .key(failures)
                    .arg(limit)
                    .arg(window)
                    .arg(if wrong { "1" } else { "0" })
                    .arg(id)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(allowed == 1)
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A random name for one failure (two failures in one millisecond stay two).
fn failure_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_client_is_refused_after_its_limit_and_others_are_not() {
        let t = LocalBudgets::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(!t.spent(ip("192.0.2.1")));
            assert!(t.judge(ip("192.0.2.1"), true), "within the limit");
        }
        assert!(t.spent(ip("192.0.2.1")));
        assert!(!t.judge(ip("192.0.2.1"), true));
        assert!(
            !t.judge(ip("192.0.2.1"), false),
            "a right guess too, once spent"
        );
        assert!(t.judge(ip("192.0.2.2"), true));
    }

    #[test]
    fn right_guesses_cost_nothing() {
        let t = LocalBudgets::new(1, Duration::from_secs(60));
        let a = ip("192.0.2.1");
        for _ in 0..100 {
            assert!(t.judge(a, false));
        }
        assert!(t.judge(a, true), "the one wrong guess of the budget");
        assert!(!t.judge(a, true));
    }

    #[test]
    fn overlapping_wrong_guesses_get_at_most_the_limit_of_answers() {
        let t = Arc::new(LocalBudgets::new(10, Duration::from_secs(60)));
        let answered: usize = (0..8)
            .map(|_| {
                let t = t.clone();
                std::thread::spawn(move || {
                    (0..20).filter(|_| t.judge(ip("192.0.2.1"), true)).count()
                })
            })
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(answered, 10);
    }

    #[test]
    fn the_window_starts_at_the_first_failure() {
        let window = Duration::from_millis(300);
        let t = LocalBudgets::new(1, window);
        let a = ip("192.0.2.1");
        assert!(t.judge(a, false));
        std::thread::sleep(window);
        let failed_at = Instant::now();
        assert!(t.judge(a, true));
        let blocked = t.spent(a);
        assert!(
            blocked || failed_at.elapsed() >= window,
            "a right secret earlier started no clock"
        );
    }

    #[test]
    fn the_block_ends_with_the_window() {
        // The window runs on the real clock (`Instant`), so nothing here depends on how
        // fast the machine is: the block is watched until it ends, and it must not end
        // before the window is over (however late the first look comes).
        let window = Duration::from_millis(200);
        let t = LocalBudgets::new(1, window);
        let a = ip("192.0.2.1");
        let before = Instant::now();
        assert!(t.judge(a, true));
        loop {
            let blocked = t.spent(a);
            let elapsed = before.elapsed();
            if !blocked {
                assert!(elapsed >= window, "unblocked after {elapsed:?}");
                assert!(t.judge(a, false));
                break;
            }
            assert!(
                elapsed < Duration::from_secs(10),
                "still blocked after {elapsed:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn failures_have_distinct_names() {
        assert_ne!(failure_id(), failure_id());
        assert_eq!(failure_id().len(), 32);
    }

    #[test]
    fn a_window_in_millis_saturates() {
        assert_eq!(millis(Duration::from_secs(60)), 60_000);
        assert_eq!(millis(Duration::MAX), u64::MAX);
    }
}

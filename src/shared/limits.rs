//! Budgets of attempts per client (wrong role hashes, wrong admin tokens), in this process
//! ([`LocalBudgets`]) or across the fleet ([`RedisBudgets`]).
//!
//! Both keep the same rule: an attempt is reserved before the secret is compared, counted
//! as a failure only when the secret was wrong, and given back otherwise; a client is
//! refused while its failures in the window plus its attempts under way reach the limit.
//!
//! The local budget's window starts at the client's first failure and ends a window later.
//! The fleet's budget is a sliding window run by two Lua scripts on Redis's own clock
//! (`TIME`), so instances with different clocks count alike: failures are a sorted set of
//! instants, attempts under way a sorted set of reservations that lapse after
//! [`HOLD_MS`], so the reservations of an instance that died mid-request do not block a
//! client for longer than that.

use std::{
    net::IpAddr,
    sync::{Arc, LazyLock, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use moka::sync::Cache;

use super::link::{RedisLink, Unreachable};

/// How long a fleet reservation lasts when nobody settles it: longer than any request
/// (a cold room's lookup waits for the vendor for seconds), short enough that a crashed
/// instance's reservations soon vanish.
pub const HOLD_MS: u64 = 30_000;

/// Why an attempt was not reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The client's failures in the window reach the limit: refused until it ends.
    Spent,
    /// Failures plus attempts under way reach the limit, but the failures alone do not:
    /// an attempt under way may be given back (a right secret) at any moment.
    Busy,
}

/// Attempts per client in this process: failures within the client's window, plus
/// attempts under way.
pub struct LocalBudgets {
    limit: u32,
    window: Duration,
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

impl LocalBudgets {
    /// Allows `limit` failures per client per `window`; remembers at most 100 000 clients.
    pub fn new(limit: u32, window: Duration) -> Self {
        LocalBudgets {
            limit,
            window,
            clients: Cache::builder()
                .max_capacity(100_000)
                // Only to bound memory: the window itself is kept in `Budget`. Twice the
                // window, so that a failure counted after a slow lookup is not forgotten
                // with an entry last touched when that lookup began.
                .time_to_idle(window * 2)
                .build(),
        }
    }

    /// Reserves an attempt for `client`, or `None` when its budget is used up.
    pub fn reserve(&self, client: IpAddr) -> Option<LocalHold> {
        self.try_reserve(client).ok()
    }

    /// Reserves an attempt for `client`, or says why not: its failures used the budget
    /// up, or attempts under way (which may yet be given back) fill what is left.
    pub fn try_reserve(&self, client: IpAddr) -> Result<LocalHold, Refusal> {
        let budget = self.clients.get_with(client, Default::default);
        {
            // Checked and counted under one lock: two requests can never both take the
            // last attempt.
            let mut b = lock(&budget);
            if b.since.is_some_and(|since| since.elapsed() >= self.window) {
                b.failures = 0;
                b.since = None;
            }
            if b.failures >= self.limit {
                return Err(Refusal::Spent);
            }
            if b.failures + b.under_way >= self.limit {
                return Err(Refusal::Busy);
            }
            b.under_way += 1;
        }
        Ok(LocalHold {
            budget: Some(budget),
        })
    }
}

fn lock(budget: &Mutex<Budget>) -> MutexGuard<'_, Budget> {
    budget.lock().unwrap_or_else(|e| e.into_inner())
}

/// One attempt reserved in this process: given back when dropped, kept by
/// [`LocalHold::failed`].
#[must_use = "an attempt dropped at once is given back at once"]
pub struct LocalHold {
    budget: Option<Arc<Mutex<Budget>>>,
}

impl LocalHold {
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

impl Drop for LocalHold {
    fn drop(&mut self) {
        if let Some(budget) = self.budget.take() {
            let mut b = lock(&budget);
            b.under_way = b.under_way.saturating_sub(1);
        }
    }
}

/// Refuses when failures in the window reach the limit (0), or with the reservations under
/// way (2), else reserves (1). KEYS: failures, under way. ARGV: limit, window ms, hold ms,
/// id.
static RESERVE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, window, hold = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local failures = redis.call('ZCARD', KEYS[1])
if failures >= limit then
  return 0
end
if failures + redis.call('ZCARD', KEYS[2]) >= limit then
  return 2
end
redis.call('ZADD', KEYS[2], now + hold, ARGV[4])
redis.call('PEXPIRE', KEYS[2], hold)
return 1
",
    )
});

/// Ends reservation ARGV[1]; when ARGV[2] is 1 it becomes a failure, counted for the
/// window (ARGV[3] ms) from now. KEYS: failures, under way.
static SETTLE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] == '1' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
end
return 1
",
    )
});

/// Attempts per client across the fleet, in Redis.
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

    /// Reserves an attempt for `client` (its budget key, e.g. an address or an IPv6
    /// network): `Ok(Err(_))` when its budget is used up or busy (see [`Refusal`]),
    /// [`Unreachable`] when Redis cannot say (the caller falls back to this process's
    /// budget).
    pub async fn reserve(&self, client: &str) -> Result<Result<RedisHold, Refusal>, Unreachable> {
        let keys = self.keys(client);
        let id = hold_id();
        let (failures, under_way) = (keys[0].clone(), keys[1].clone());
        let (limit, window, reservation) = (self.limit, millis(self.window), id.clone());
        let reserved: u32 = self
            .link
            .run(|mut c| async move {
                RESERVE
                    .key(failures)
                    .key(under_way)
                    .arg(limit)
                    .arg(window)
                    .arg(HOLD_MS)
                    .arg(reservation)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(match reserved {
            0 => Err(Refusal::Spent),
            2 => Err(Refusal::Busy),
            _ => Ok(RedisHold {
                link: self.link.clone(),
                keys,
                id,
                window_ms: window,
                settled: false,
            }),
        })
    }

    fn keys(&self, client: &str) -> [String; 2] {
        [
            // The braces make both keys of a client one Redis Cluster slot, as a script
            // that touches both needs.
            self.link
                .key(&format!("limit:{}:{{{client}}}:failed", self.space)),
            self.link
                .key(&format!("limit:{}:{{{client}}}:under_way", self.space)),
        ]
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A random name for one reservation (and, if it fails, for its failure).
fn hold_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// One attempt reserved in the fleet's Redis: given back when dropped (in the background,
/// since a drop cannot wait), kept by [`RedisHold::failed`].
#[must_use = "an attempt dropped at once is given back at once"]
pub struct RedisHold {
    link: Arc<RedisLink>,
    keys: [String; 2],
    id: String,
    window_ms: u64,
    settled: bool,
}

impl RedisHold {
    /// The secret was wrong: the attempt counts fleet-wide for the window. When Redis
    /// cannot take it, the reservation still lapses after [`HOLD_MS`].
    pub async fn failed(mut self) -> Result<(), Unreachable> {
        self.settled = true;
        settle(
            self.link.clone(),
            self.keys.clone(),
            self.id.clone(),
            true,
            self.window_ms,
        )
        .await
    }

    /// The secret was right (or never compared): the attempt is given back now, so the
    /// client's next request finds it free on any instance. Dropping the hold does the
    /// same in the background.
    pub async fn given_back(mut self) -> Result<(), Unreachable> {
        self.settled = true;
        settle(
            self.link.clone(),
            self.keys.clone(),
            self.id.clone(),
            false,
            self.window_ms,
        )
        .await
    }
}

impl Drop for RedisHold {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // Without a runtime (never in the server) the reservation simply lapses.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (link, keys, id) = (self.link.clone(), self.keys.clone(), self.id.clone());
            let window_ms = self.window_ms;
            runtime.spawn(async move {
                if let Err(e) = settle(link, keys, id, false, window_ms).await {
                    tracing::debug!(error = %e, "an attempt could not be given back; it lapses on its own");
                }
            });
        }
    }
}

async fn settle(
    link: Arc<RedisLink>,
    keys: [String; 2],
    id: String,
    failed: bool,
    window_ms: u64,
) -> Result<(), Unreachable> {
    let [failures, under_way] = keys;
    link.run(|mut c| async move {
        SETTLE
            .key(failures)
            .key(under_way)
            .arg(id)
            .arg(if failed { "1" } else { "0" })
            .arg(window_ms)
            .invoke_async::<u32>(&mut c)
            .await
    })
    .await
    .map(|_| ())
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
            t.reserve(ip("192.0.2.1"))
                .expect("within the limit")
                .failed();
        }
        assert!(t.reserve(ip("192.0.2.1")).is_none());
        assert!(t.reserve(ip("192.0.2.2")).is_some());
    }

    #[test]
    fn attempts_under_way_count_until_they_end() {
        let t = LocalBudgets::new(2, Duration::from_secs(60));
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
    fn the_window_starts_at_the_first_failure() {
        let window = Duration::from_millis(300);
        let t = LocalBudgets::new(1, window);
        let a = ip("192.0.2.1");
        drop(t.reserve(a).unwrap());
        std::thread::sleep(window);
        let failed_at = Instant::now();
        t.reserve(a).unwrap().failed();
        let blocked = t.reserve(a).is_none();
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

    #[test]
    fn reservations_have_distinct_names() {
        assert_ne!(hold_id(), hold_id());
        assert_eq!(hold_id().len(), 32);
    }

    #[test]
    fn a_window_in_millis_saturates() {
        assert_eq!(millis(Duration::from_secs(60)), 60_000);
        assert_eq!(millis(Duration::MAX), u64::MAX);
    }
}

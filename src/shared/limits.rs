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
//!
//! The local budget also remembers, per client, the last few right secrets whose answers
//! the fleet let this instance release to it ([`LocalBudgets::remember`]), each for one
//! window after it was first released. Giving a client again an answer it already has
//! tells it nothing, so such a secret needs no round trip to Redis
//! ([`Verdict::Repeated`]): a host reloading its link asks the fleet once per window, not
//! once per page. Only the fleet's question is saved; this budget's own check still comes
//! first. A secret is remembered as a keyed hash ([`SecretId`]), never in clear, and the
//! key is this process's own, so nobody outside can make two secrets look alike.

use std::{
    hash::{BuildHasher, Hash, RandomState},
    net::IpAddr,
    sync::{Arc, LazyLock, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use moka::sync::Cache;

use super::link::{RedisLink, Unreachable};

/// Which secret a right guess named, as a hash keyed by this process
/// ([`LocalBudgets::secret_id`]): the secret itself is never kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretId(u64);

/// What a guess turned out to be once compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Wrong,
    Right(SecretId),
}

impl Answer {
    pub fn is_wrong(self) -> bool {
        self == Answer::Wrong
    }
}

/// What this process's budget says of one guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The client's failures fill its budget: the answer is refused.
    Refused,
    /// The answer may go out as far as this budget goes (the fleet's may still refuse).
    Allowed,
    /// A right secret whose answer this process already released to the client within
    /// the window: it may go out again without asking the fleet, as it tells the client
    /// nothing new.
    Repeated,
}

impl Verdict {
    pub fn allows(self) -> bool {
        self != Verdict::Refused
    }
}

/// How many right secrets are remembered per client, the oldest dropped first: a host has
/// a link or two open, and a client sending many right secrets only asks the fleet more.
const REMEMBERED: usize = 4;

/// Wrong guesses per client in this process, and the right secrets released to it.
pub struct LocalBudgets {
    limit: u32,
    window: Duration,
    clients: Cache<IpAddr, Arc<Mutex<Budget>>>,
    /// The key of [`SecretId`]s, random per process.
    secrets: RandomState,
}

/// One client's count. The window starts at its first failure (not at its first request:
/// a host who opened the right link an hour ago starts no clock).
#[derive(Debug, Default)]
struct Budget {
    failures: u32,
    since: Option<Instant>,
    /// Right secrets whose answers the fleet let this process release to the client, the
    /// oldest first, each with when it was first released (at most [`REMEMBERED`]).
    released: Vec<(SecretId, Instant)>,
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

    /// Whether `secret`'s answer was released to the client less than `window` ago
    /// (forgetting those released longer ago).
    fn knows(&mut self, secret: SecretId, window: Duration) -> bool {
        let now = Instant::now();
        self.released
            .retain(|(_, at)| now.saturating_duration_since(*at) < window);
        self.released.iter().any(|(id, _)| *id == secret)
    }

    /// Remembers that `secret`'s answer was released now, unless it already is: its
    /// window runs from the first release, so a host asks the fleet once per window.
    fn remember(&mut self, secret: SecretId, window: Duration) {
        if self.knows(secret, window) {
            return;
        }
        if self.released.len() >= REMEMBERED {
            self.released.remove(0);
        }
        self.released.push((secret, Instant::now()));
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
            secrets: RandomState::new(),
        }
    }

    /// The identity of a right secret: a hash, keyed by this process, of what identifies
    /// its answer (for a role link: the brand, the room key and the hash).
    pub fn secret_id(&self, secret: impl Hash) -> SecretId {
        SecretId(self.secrets.hash_one(secret))
    }

    /// Whether `client`'s failures fill its budget: such a client is refused before
    /// anything slow (a cold room's lookup) is done for it.
    pub fn spent(&self, client: IpAddr) -> bool {
        self.clients
            .get(&client)
            .is_some_and(|budget| lock(&budget).failures(self.window) >= self.limit)
    }

    /// Releases the answer to one guess: [`Verdict::Refused`] when `client`'s failures
    /// already fill its budget, else allowed, counting a failure when the answer is
    /// wrong, and [`Verdict::Repeated`] for a right secret [`remember`]ed for `client`.
    /// Checked and counted under one lock: two wrong guesses can never both take the last
    /// place.
    ///
    /// [`remember`]: LocalBudgets::remember
    pub fn judge(&self, client: IpAddr, answer: Answer) -> Verdict {
        let budget = match answer {
            // A right answer counts nothing, so a client this instance holds nothing for
            // (no failures, no secret given) is allowed without an entry: a crowd of
            // hosts opening their links costs lookups, not insertions.
            Answer::Right(_) => match self.clients.get(&client) {
                Some(budget) => budget,
                None => return Verdict::Allowed,
            },
            Answer::Wrong => self.clients.get_with(client, Default::default),
        };
        let mut b = lock(&budget);
        if b.failures(self.window) >= self.limit {
            return Verdict::Refused;
        }
        match answer {
            Answer::Wrong => {
                b.failures += 1;
                b.since.get_or_insert_with(Instant::now);
                Verdict::Allowed
            }
            Answer::Right(secret) if b.knows(secret, self.window) => Verdict::Repeated,
            Answer::Right(_) => Verdict::Allowed,
        }
    }

    /// Remembers for one window that `secret`'s answer was released to `client` (the
    /// fleet allowed it): [`judge`] then calls it [`Verdict::Repeated`].
    ///
    /// [`judge`]: LocalBudgets::judge
    pub fn remember(&self, client: IpAddr, secret: SecretId) {
        let budget = self.clients.get_with(client, Default::default);
        lock(&budget).remember(secret, self.window);
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
mod tests;

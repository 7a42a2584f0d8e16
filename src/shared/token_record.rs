//! The fleet's one token record: opaque bytes with a generation number, and the lock that
//! lets one instance at a time renew what it holds.
//!
//! The record knows nothing of the vendor: the caller decides what the bytes mean. What
//! it guarantees is the protocol a rotating OAuth refresh token needs when several
//! instances share it:
//! - a write names the generation it replaces and is refused when the record has moved
//!   on since ([`TokenRecord::write_if`], a compare-and-set), so an instance that read an
//!   old record can never overwrite a newer one;
//! - the lock is `SET NX PX` with a random owner and released by a script that checks
//!   the owner, so a holder whose lock ran out cannot release its successor's, and a
//!   holder that dies loses the lock when its expiry passes.
//!
//! In Redis the record is a hash (`gen`, `body`) whose body is sealed with `shared.key`:
//! a copy of the Redis shows no token.

use std::{
    sync::{Arc, LazyLock, Mutex, PoisonError},
    time::Duration,
};

use super::link::{RedisLink, Unreachable};

/// What the record holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Counts every write; 0 means "never written".
    pub generation: u64,
    /// The bytes written, or `None` when they cannot be opened (another `shared.key`, or
    /// altered): the generation still lets a writer replace them.
    pub value: Option<Vec<u8>>,
}

/// Proof of holding the lock: the random value stored in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockOwner(String);

impl LockOwner {
    fn new() -> Self {
        LockOwner(uuid::Uuid::new_v4().simple().to_string())
    }
}

/// One record with a generation number and a lock, shared by every instance that
/// reaches it.
#[async_trait::async_trait]
pub trait TokenRecord: Send + Sync + 'static {
    /// The record, or `None` when nothing was ever written.
    async fn read(&self) -> Result<Option<Stored>, Unreachable>;
    /// Writes `value` if the record is still at generation `expected` (0: never written);
    /// the new generation, or `None` when another write came first.
    async fn write_if(&self, expected: u64, value: &[u8]) -> Result<Option<u64>, Unreachable>;
    /// Writes `value` whatever the record holds (a new connection replaces everything)
    /// and returns the new generation.
    async fn replace(&self, value: &[u8]) -> Result<u64, Unreachable>;
    /// Takes the lock for `ttl` unless someone holds it.
    async fn try_lock(&self, ttl: Duration) -> Result<Option<LockOwner>, Unreachable>;
    /// Lets the lock go if `owner` still holds it; says whether it did.
    async fn unlock(&self, owner: &LockOwner) -> Result<bool, Unreachable>;
}

/// Compare-and-set of the record: KEYS[1] the hash, ARGV[1] the expected generation,
/// ARGV[2] the sealed body. Answers the new generation, or -1.
static WRITE_IF: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
if gen ~= tonumber(ARGV[1]) then return -1 end
redis.call('HSET', KEYS[1], 'gen', gen + 1, 'body', ARGV[2])
return gen + 1
",
    )
});

/// Unconditional write with a new generation: KEYS[1] the hash, ARGV[1] the sealed body.
static REPLACE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0') + 1
redis.call('HSET', KEYS[1], 'gen', gen, 'body', ARGV[1])
return gen
",
    )
});

/// Owner-checked release: KEYS[1] the lock, ARGV[1] the owner.
static UNLOCK: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
",
    )
});

/// The record in the fleet's Redis, its body sealed with `shared.key`.
pub struct RedisTokenRecord {
    link: Arc<RedisLink>,
    key: String,
    lock_key: String,
}

impl RedisTokenRecord {
    /// The record called `name` (under the prefix), with its lock beside it.
    pub fn new(link: Arc<RedisLink>, name: &str) -> Self {
        RedisTokenRecord {
            key: link.key(name),
            lock_key: link.key(&format!("{name}:lock")),
            link,
        }
    }
}

#[async_trait::async_trait]
impl TokenRecord for RedisTokenRecord {
    async fn read(&self) -> Result<Option<Stored>, Unreachable> {
        let key = self.key.clone();
        let (generation, body): (Option<u64>, Option<Vec<u8>>) = self
            .link
            .run(|mut c| async move {
                redis::cmd("HMGET")
                    .arg(&key)
                    .arg("gen")
                    .arg("body")
                    .query_async(&mut c)
                    .await
            })
            .await?;
        let Some(generation) = generation else {
            return Ok(None);
        };
        let value = body.and_then(|sealed| match self.link.sealer().open(&self.key, &sealed) {
            Ok(plain) => Some(plain),
            Err(e) => {
                tracing::warn!(error = %e, generation, "the shared token record cannot be opened");
                None
            }
        });
        Ok(Some(Stored { generation, value }))
    }

    async fn write_if(&self, expected: u64, value: &[u8]) -> Result<Option<u64>, Unreachable> {
        let sealed = self.link.sealer().seal(&self.key, value);
        let key = self.key.clone();
        let answer: i64 = self
            .link
            .run(|mut c| async move {
                WRITE_IF
                    .key(&key)
                    .arg(expected)
                    .arg(sealed)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(u64::try_from(answer).ok())
    }

    async fn replace(&self, value: &[u8]) -> Result<u64, Unreachable> {
        let sealed = self.link.sealer().seal(&self.key, value);
        let key = self.key.clone();
        self.link
            .run(|mut c| async move { REPLACE.key(&key).arg(sealed).invoke_async(&mut c).await })
            .await
    }

    async fn try_lock(&self, ttl: Duration) -> Result<Option<LockOwner>, Unreachable> {
        let owner = LockOwner::new();
        let key = self.lock_key.clone();
        let value = owner.0.clone();
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let answer: Option<String> = self
            .link
            .run(|mut c| async move {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(&value)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(answer.map(|_| owner))
    }

    async fn unlock(&self, owner: &LockOwner) -> Result<bool, Unreachable> {
        let key = self.lock_key.clone();
        let value = owner.0.clone();
        let released: i64 = self
            .link
            .run(|mut c| async move { UNLOCK.key(&key).arg(value).invoke_async(&mut c).await })
            .await?;
        Ok(released == 1)
    }
}

/// The same record in this process, for one instance and for tests of the protocol.
/// Its lock never expires by itself (a process cannot outlive its own lock holder).
#[derive(Default)]
pub struct LocalTokenRecord {
    inner: Mutex<LocalInner>,
}

#[derive(Default)]
struct LocalInner {
    stored: Option<Stored>,
    owner: Option<LockOwner>,
}

impl LocalTokenRecord {
    fn inner(&self) -> std::sync::MutexGuard<'_, LocalInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl TokenRecord for LocalTokenRecord {
    async fn read(&self) -> Result<Option<Stored>, Unreachable> {
        Ok(self.inner().stored.clone())
    }

    async fn write_if(&self, expected: u64, value: &[u8]) -> Result<Option<u64>, Unreachable> {
        let mut inner = self.inner();
        let generation = inner.stored.as_ref().map_or(0, |s| s.generation);
        if generation != expected {
            return Ok(None);
        }
        inner.stored = Some(Stored {
            generation: generation + 1,
            value: Some(value.to_vec()),
        });
        Ok(Some(generation + 1))
    }

    async fn replace(&self, value: &[u8]) -> Result<u64, Unreachable> {
        let mut inner = self.inner();
        let generation = inner.stored.as_ref().map_or(0, |s| s.generation) + 1;
        inner.stored = Some(Stored {
            generation,
            value: Some(value.to_vec()),
        });
        Ok(generation)
    }

    async fn try_lock(&self, _ttl: Duration) -> Result<Option<LockOwner>, Unreachable> {
        let mut inner = self.inner();
        if inner.owner.is_some() {
            return Ok(None);
        }
        let owner = LockOwner::new();
        inner.owner = Some(owner.clone());
        Ok(Some(owner))
    }

    async fn unlock(&self, owner: &LockOwner) -> Result<bool, Unreachable> {
        let mut inner = self.inner();
        if inner.owner.as_ref() == Some(owner) {
            inner.owner = None;
            return Ok(true);
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_from_an_old_generation_is_refused() {
        let record = LocalTokenRecord::default();
        assert_eq!(record.read().await.unwrap(), None);
        assert_eq!(record.write_if(0, b"one").await.unwrap(), Some(1));
        assert_eq!(
            record.write_if(0, b"late").await.unwrap(),
            None,
            "read before the first write"
        );
        assert_eq!(record.write_if(1, b"two").await.unwrap(), Some(2));
        let stored = record.read().await.unwrap().unwrap();
        assert_eq!(stored.generation, 2);
        assert_eq!(stored.value.as_deref(), Some(&b"two"[..]));
        assert_eq!(record.replace(b"new").await.unwrap(), 3);
        assert_eq!(record.write_if(2, b"stale").await.unwrap(), None);
    }

    #[tokio::test]
    async fn only_the_owner_releases_the_lock() {
        let record = LocalTokenRecord::default();
        let ttl = Duration::from_secs(1);
        let owner = record.try_lock(ttl).await.unwrap().unwrap();
        assert!(record.try_lock(ttl).await.unwrap().is_none(), "held");
        assert!(!record.unlock(&LockOwner::new()).await.unwrap());
        assert!(record.try_lock(ttl).await.unwrap().is_none(), "still held");
        assert!(record.unlock(&owner).await.unwrap());
        assert!(record.try_lock(ttl).await.unwrap().is_some());
    }
}

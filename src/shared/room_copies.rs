//! Copies of what one instance learnt from the vendor (a room's details, the index of
//! room keys), kept for the others: the fleet then asks the vendor about once per room
//! per TTL, and an instance started during a vendor outage can serve rooms seen before.
//!
//! The values are bytes the room cache encodes; here they are only sealed (room records
//! hold role tokens) and kept for as long as the cache could still use them. Reading a
//! copy is for a local miss only: a cached room's page never comes here.

use std::{sync::Arc, time::Duration};

use super::link::RedisLink;

/// Copies shared by the fleet, by name (`room:{key}`, `index`).
#[async_trait::async_trait]
pub trait RoomCopies: Send + Sync + 'static {
    /// The copy kept under `name`, if there is one and it can be read now.
    async fn get(&self, name: &str) -> Option<Vec<u8>>;
    /// Keeps `value` under `name` for `keep`.
    async fn put(&self, name: &str, value: Vec<u8>, keep: Duration);
    /// Forgets the copy under `name` (after an operator's change).
    async fn forget(&self, name: &str);
}

/// One instance alone: its cache is the only copy.
pub struct LocalCopies;

#[async_trait::async_trait]
impl RoomCopies for LocalCopies {
    async fn get(&self, _name: &str) -> Option<Vec<u8>> {
        None
    }

    async fn put(&self, _name: &str, _value: Vec<u8>, _keep: Duration) {}

    async fn forget(&self, _name: &str) {}
}

/// Copies in the fleet's Redis, sealed with `shared.key`, expiring on their own.
pub struct RedisCopies {
    link: Arc<RedisLink>,
}

impl RedisCopies {
    /// Copies kept through `link`.
    pub fn new(link: Arc<RedisLink>) -> Self {
        RedisCopies { link }
    }

    fn key(&self, name: &str) -> String {
        self.link.key(name)
    }
}

#[async_trait::async_trait]
impl RoomCopies for RedisCopies {
    async fn get(&self, name: &str) -> Option<Vec<u8>> {
        let key = self.key(name);
        let read = key.clone();
        let sealed = self
            .link
            .run(|mut c| async move {
                redis::cmd("GET")
                    .arg(read)
                    .query_async::<Option<Vec<u8>>>(&mut c)
                    .await
            })
            .await
            .inspect_err(|e| tracing::debug!(error = %e, "room copy not read"))
            .ok()??;
        match self.link.sealer().open(&key, &sealed) {
            Ok(plain) => Some(plain),
            Err(e) => {
                tracing::warn!(error = %e, "a room copy could not be opened; ignored");
                None
            }
        }
    }

    async fn put(&self, name: &str, value: Vec<u8>, keep: Duration) {
        let key = self.key(name);
        let sealed = self.link.sealer().seal(&key, &value);
        let millis = keep.as_millis().max(1) as u64;
        let written = self
            .link
            .run(|mut c| async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(sealed)
                    .arg("PX")
                    .arg(millis)
                    .query_async::<()>(&mut c)
                    .await
            })
            .await;
        if let Err(e) = written {
            tracing::debug!(error = %e, "room copy not written");
        }
    }

    async fn forget(&self, name: &str) {
        let key = self.key(name);
        let forgotten = self
            .link
            .run(|mut c| async move { redis::cmd("DEL").arg(key).query_async::<()>(&mut c).await })
            .await;
        if let Err(e) = forgotten {
            // It then lives out its TTL: a gap the others also see in the change stream.
            tracing::warn!(error = %e, "a changed room's shared copy could not be dropped");
        }
    }
}

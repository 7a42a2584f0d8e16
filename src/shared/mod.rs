//! State that requests share, and that several instances share in fleet mode: used
//! one-time values (SSO token ids, OAuth states) and ended sign-ins, guess limits, the
//! OAuth token record, copies of rooms and the operators' changes.
//!
//! Each kind of state is one small trait with a local implementation (this process
//! only: `shared.backend = "local"`, the default) and a Redis one (`"redis"`: every
//! instance with the same `redis_url` and `prefix` shares it). [`Backend`] is the choice,
//! made once from the settings; the parts above pick their implementation from it.

pub mod changes;
pub mod limits;
pub mod link;
pub mod one_time;
pub mod room_copies;
pub mod sealed;
pub mod token_record;
pub mod used_once;

use std::sync::Arc;

pub use link::{RedisLink, Unreachable};
pub use one_time::OneTime;
pub use used_once::UsedOnce;

use crate::settings::{SharedBackend, SharedSettings};

/// Where shared state lives.
#[derive(Clone)]
pub enum Backend {
    /// In this process.
    Local,
    /// In the fleet's Redis.
    Redis(Arc<RedisLink>),
}

impl Backend {
    /// The backend `shared` names. Connects lazily: a Redis that is down at start-up
    /// leaves the instance degraded, not stopped.
    pub fn from_settings(shared: &SharedSettings) -> Result<Self, String> {
        match shared.backend {
            SharedBackend::Local => Ok(Backend::Local),
            SharedBackend::Redis => Ok(Backend::Redis(Arc::new(RedisLink::new(shared)?))),
        }
    }

    /// The Redis link, in fleet mode.
    pub fn redis(&self) -> Option<&Arc<RedisLink>> {
        match self {
            Backend::Local => None,
            Backend::Redis(link) => Some(link),
        }
    }

    /// What `/readyz` says of shared state, after asking Redis: `None` (nothing shared),
    /// `"up"` or `"degraded"`.
    pub async fn status(&self) -> Option<&'static str> {
        let link = self.redis()?;
        Some(if link.probe().await.is_ok() {
            "up"
        } else {
            "degraded"
        })
    }
}

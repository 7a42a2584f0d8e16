//! The connection to the fleet's Redis, shared by every part that keeps state there.
//!
//! Redis is never allowed to slow a page by more than a fixed small bound: every command
//! has a short timeout, and after a failure the link stays "down" for a moment, during
//! which calls fail at once instead of waiting for Redis again (a circuit breaker). Each
//! caller decides what "down" means for it (SSO fails closed, limits fall back to
//! per-instance ones, room copies are skipped).

use std::{
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::ExposeSecret;

use super::sealed::Sealer;
use crate::settings::SharedSettings;

/// Longest wait for one Redis command (and for a connection).
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(250);
/// How long calls fail at once after Redis failed one.
const DOWN_FOR: Duration = Duration::from_secs(1);

/// Redis could not be used; the text says why without the URL (it may hold a password).
#[derive(Debug, Clone, thiserror::Error)]
#[error("shared state unreachable: {0}")]
pub struct Unreachable(pub String);

/// The fleet's Redis: a self-healing connection, the key prefix and the sealer.
pub struct RedisLink {
    client: redis::Client,
    connection: ConnectionManager,
    prefix: String,
    sealer: Sealer,
    /// When the last failure happened; `None` while Redis answers.
    failed_at: Mutex<Option<Instant>>,
    /// Whether the last command worked (for `/readyz` and the metrics).
    up: AtomicBool,
}

impl RedisLink {
    /// A link to `shared.redis_url`; connects lazily, so a Redis that is down at start-up
    /// does not stop the server (it starts degraded and heals when Redis is back).
    pub fn new(settings: &SharedSettings) -> Result<Self, String> {
        let url = settings
            .redis_url
            .as_ref()
            .ok_or("shared.redis_url is not set")?;
        let key = settings.key.as_ref().ok_or("shared.key is not set")?;
        let client = redis::Client::open(url.expose_secret())
            .map_err(|_| "shared.redis_url: not a Redis URL Redis accepts".to_owned())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(100));
        let connection = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| format!("shared state: {e}"))?;
        Ok(RedisLink {
            client,
            connection,
            prefix: settings.prefix.clone(),
            sealer: Sealer::new(key),
            failed_at: Mutex::new(None),
            up: AtomicBool::new(true),
        })
    }

    /// The full Redis key of `name` (the prefix first).
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Seals and opens stored values.
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// The client, for connections of their own (pub/sub, blocking reads).
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// Whether the last command worked.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// A connection for one command, or [`Unreachable`] at once while the link is down.
    pub fn connection(&self) -> Result<ConnectionManager, Unreachable> {
        let failed_at = *self.failed_at.lock().unwrap_or_else(|e| e.into_inner());
        match failed_at {
            Some(at) if at.elapsed() < DOWN_FOR => Err(Unreachable(
                "Redis failed a moment ago; trying again shortly".into(),
            )),
            _ => Ok(self.connection.clone()),
        }
    }

    /// Runs `command` on the link, bounded by [`COMMAND_TIMEOUT`], and records whether
    /// Redis answered.
    pub async fn run<T, F, Fut>(&self, command: F) -> Result<T, Unreachable>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let connection = self.connection()?;
        self.run_on(connection, command).await
    }

    /// Asks Redis whether it answers, even while the link is down: `/readyz` must say
    /// how Redis is now, not how it was a moment ago. Records the outcome like [`run`].
    ///
    /// [`run`]: RedisLink::run
    pub async fn probe(&self) -> Result<(), Unreachable> {
        self.run_on(self.connection.clone(), |mut c| async move {
            redis::cmd("PING").query_async::<String>(&mut c).await
        })
        .await
        .map(drop)
    }

    async fn run_on<T, F, Fut>(
        &self,
        connection: ConnectionManager,
        command: F,
    ) -> Result<T, Unreachable>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let answer = tokio::time::timeout(COMMAND_TIMEOUT, command(connection)).await;
        let result = match answer {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) if !is_link_failure(&e) => {
                // Redis answered (a script error, a wrong type): the link is fine.
                self.answered();
                return Err(Unreachable(format!(
                    "Redis refused a command: {}",
                    e.kind_name()
                )));
            }
            Ok(Err(e)) => Err(Unreachable(format!("Redis failed: {}", e.kind_name()))),
            Err(_) => Err(Unreachable(format!(
                "Redis did not answer within {} ms",
                COMMAND_TIMEOUT.as_millis()
            ))),
        };
        match &result {
            Ok(_) => self.answered(),
            Err(e) => self.failed(e),
        }
        result
    }

    fn answered(&self) {
        *self.failed_at.lock().unwrap_or_else(|e| e.into_inner()) = None;
        if !self.up.swap(true, Ordering::Relaxed) {
            tracing::info!("shared state: Redis answers again");
        }
    }

    fn failed(&self, why: &Unreachable) {
        *self.failed_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        if self.up.swap(false, Ordering::Relaxed) {
            tracing::warn!(error = %why, "shared state: Redis unreachable; serving from this instance's copies");
        }
    }
}

/// Whether an error means the link (not the command) failed.
fn is_link_failure(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || e.is_unrecoverable_error()
        || matches!(e.kind(), redis::ErrorKind::Io | redis::ErrorKind::Client)
}

/// What a Redis error is, in a word (never its text, which may quote arguments).
trait KindName {
    fn kind_name(&self) -> String;
}

impl KindName for redis::RedisError {
    fn kind_name(&self) -> String {
        format!("{:?}", self.kind())
    }
}

//! Operators' changes, told to every instance of the fleet.
//!
//! An instance that changes a room applies the change to its own cache at once, then
//! publishes it here. In fleet mode that is an entry in a Redis Stream (kept to about
//! [`KEEP_ENTRIES`]) plus a pub/sub nudge: the nudge makes the others read the stream
//! within milliseconds, and the stream is what they replay after a dropped connection
//! (and every [`BACKSTOP`], in case a nudge was lost). Pub/sub alone forgets whatever is
//! sent while a subscriber reconnects; the stream alone would need polling.
//!
//! A follower remembers the id of the last entry it applied. When that entry is no longer
//! in the stream (trimmed away), or Redis lost its data (a restart without persistence,
//! `FLUSHALL`: the fleet's "epoch" key, set once by the first follower, is gone or
//! another), it cannot tell what it missed: it says so ([`Heard::Gap`]) and its owner
//! marks what it holds stale instead of trusting it.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, mpsc};

use super::link::{COMMAND_TIMEOUT, RedisLink, Unreachable};

/// About how many changes the stream keeps (`XADD … MAXLEN ~`): far more than a follower
/// can miss during a reconnect.
pub const KEEP_ENTRIES: usize = 10_000;
/// How often a follower reads the stream even without a nudge.
pub const BACKSTOP: Duration = Duration::from_secs(30);
/// How soon a follower tries again after Redis failed it.
const RETRY: Duration = Duration::from_millis(500);
/// Entries read at once.
const BATCH: usize = 500;
/// Changes kept for publishing while Redis is unreachable; past it the oldest go (the
/// others then see them only when their entries expire).
const PENDING_MAX: usize = 1_000;

/// One operator's change, as other instances must apply it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The room with this key changed (updated, opened, closed, deleted).
    Room(String),
    /// Rooms were created or deleted: the index of keys is out of date.
    Index,
}

/// What a follower hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// Another instance's change, and when it was published (Unix milliseconds, the
    /// stream's clock), to measure the delay.
    Change { change: Change, published_ms: u64 },
    /// Changes may have been missed and cannot be replayed.
    Gap,
}

/// Tells the fleet of changes and hears the others'.
#[async_trait::async_trait]
pub trait Changes: Send + Sync + 'static {
    /// Tells the other instances of `change` (this one has applied it already). Best
    /// effort: while Redis is unreachable the change is kept and published later.
    async fn publish(&self, change: &Change);

    /// Starts hearing the other instances' changes (on the current Tokio runtime); they
    /// arrive on the receiver, and hearing stops when it is dropped.
    fn follow(&self) -> mpsc::Receiver<Heard>;
}

/// One instance alone: there is nobody to tell, and nobody else changes anything.
pub struct LocalChanges;

#[async_trait::async_trait]
impl Changes for LocalChanges {
    async fn publish(&self, _change: &Change) {}

    fn follow(&self) -> mpsc::Receiver<Heard> {
        // The sender goes at once: the receiver ends without a word.
        mpsc::channel(1).1
    }
}

/// The fleet's changes in Redis: a stream of sealed entries and a nudge channel.
pub struct RedisChanges {
    link: Arc<RedisLink>,
    /// This instance, so that it skips its own entries.
    me: String,
    /// Changes that could not be published yet.
    pending: Arc<Mutex<VecDeque<Change>>>,
    /// Wakes the follower when a change is kept: it retries soon, not at the backstop
    /// (a frozen Redis drops no connection, so no reconnect would remind it).
    kept: Arc<Notify>,
}

impl RedisChanges {
    /// Changes told through `link`.
    pub fn new(link: Arc<RedisLink>) -> Self {
        RedisChanges {
            link,
            me: uuid::Uuid::new_v4().simple().to_string(),
            pending: Arc::default(),
            kept: Arc::default(),
        }
    }
}

#[async_trait::async_trait]
impl Changes for RedisChanges {
    async fn publish(&self, change: &Change) {
        if let Err(e) = publish(&self.link, &self.me, change).await {
            tracing::warn!(error = %e, "could not tell the fleet of a change yet; kept to publish when Redis is back");
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if pending.len() >= PENDING_MAX {
                pending.pop_front();
            }
            pending.push_back(change.clone());
            self.kept.notify_one();
        }
    }

    fn follow(&self) -> mpsc::Receiver<Heard> {
        let (tx, rx) = mpsc::channel(BATCH);
        let follower = Follower {
            link: self.link.clone(),
            me: self.me.clone(),
            pending: self.pending.clone(),
            kept: self.kept.clone(),
            tx,
            position: Position::Unknown,
            epoch: None,
        };
        tokio::spawn(follower.run());
        rx
    }
}

/// How far back a new follower starts: changes published just before it started may
/// concern rooms it is fetching right now. Applying one twice costs one fetch.
const START_MARGIN_MS: u64 = 5_000;

fn stream_key(link: &RedisLink) -> String {
    link.key("changes")
}

fn nudge_channel(link: &RedisLink) -> String {
    link.key("changes:nudge")
}

fn epoch_key(link: &RedisLink) -> String {
    link.key("changes:epoch")
}

async fn publish(link: &RedisLink, me: &str, change: &Change) -> Result<(), Unreachable> {
    let key = stream_key(link);
    let plain = serde_json::to_vec(change).map_err(|e| Unreachable(e.to_string()))?;
    let sealed = link.sealer().seal(&key, &plain);
    let channel = nudge_channel(link);
    let me = me.to_owned();
    link.run(|mut c| async move {
        redis::pipe()
            .cmd("XADD")
            .arg(&key)
            .arg("MAXLEN")
            .arg("~")
            .arg(KEEP_ENTRIES)
            .arg("*")
            .arg("from")
            .arg(me)
            .arg("change")
            .arg(sealed)
            .ignore()
            .cmd("PUBLISH")
            .arg(channel)
            .arg("1")
            .ignore()
            .query_async::<()>(&mut c)
            .await
    })
    .await
}

/// Where a follower is in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Position {
    /// Just started: the start is read from Redis's clock at the first read (this
    /// instance's clock may differ from Redis's, and stream ids are Redis's time).
    Unknown,
    /// No entry applied yet: every entry after this instant (Unix milliseconds) is new.
    Since(u64),
    /// The last entry applied; it must still be in the stream, or entries were missed.
    At(String),
}

/// Reads the stream after each nudge, each reconnect and each backstop.
struct Follower {
    link: Arc<RedisLink>,
    me: String,
    pending: Arc<Mutex<VecDeque<Change>>>,
    kept: Arc<Notify>,
    tx: mpsc::Sender<Heard>,
    position: Position,
    /// The fleet's epoch at this follower's last read: another one means Redis lost
    /// what it held since.
    epoch: Option<String>,
}

impl Follower {
    async fn run(mut self) {
        loop {
            let subscription = self.subscribe().await;
            // Subscribed or not, catch up: the connection may have dropped while
            // changes were published.
            let mut next_read = tokio::time::Instant::now() + self.catch_up().await;
            let Some((_sink, mut nudges)) = subscription else {
                tokio::select! {
                    _ = tokio::time::sleep(RETRY) => continue,
                    _ = self.tx.closed() => return,
                }
            };
            loop {
                tokio::select! {
                    nudge = nudges.next() => match nudge {
                        Some(_) => next_read = tokio::time::Instant::now() + self.catch_up().await,
                        // Killed, or Redis went away: subscribe again, then replay.
                        None => break,
                    },
                    _ = tokio::time::sleep_until(next_read) => {
                        next_read = tokio::time::Instant::now() + self.catch_up().await;
                    }
                    _ = self.kept.notified() => {
                        next_read = next_read.min(tokio::time::Instant::now() + RETRY);
                    }
                    _ = self.tx.closed() => return,
                }
            }
            tracing::info!("the change subscription dropped; subscribing again");
        }
    }

    /// A subscription to the nudges, or `None` while Redis cannot be reached.
    async fn subscribe(&self) -> Option<(redis::aio::PubSubSink, redis::aio::PubSubStream)> {
        let channel = nudge_channel(&self.link);
        let connect = async {
            let mut pubsub = self.link.client().get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub.split())
        };
        match tokio::time::timeout(COMMAND_TIMEOUT * 4, connect).await {
            Ok(Ok(pair)) => Some(pair),
            Ok(Err(e)) => {
                tracing::debug!(error = ?e.kind(), "cannot subscribe to changes yet");
                None
            }
            Err(_) => None,
        }
    }

    /// Publishes what waited, then applies every entry after the position. How long
    /// until the next read: the backstop, or soon when Redis failed.
    async fn catch_up(&mut self) -> Duration {
        if self.publish_pending().await.is_err() {
            return RETRY;
        }
        if let Err(e) = self.check_epoch().await {
            tracing::debug!(error = %e, "cannot read the changes yet");
            return RETRY;
        }
        loop {
            match self.read_batch().await {
                Ok(true) => continue,
                Ok(false) => return BACKSTOP,
                Err(e) => {
                    tracing::debug!(error = %e, "cannot read the changes yet");
                    return RETRY;
                }
            }
        }
    }

    async fn publish_pending(&self) -> Result<(), Unreachable> {
        loop {
            let next = self
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .front()
                .cloned();
            let Some(change) = next else { return Ok(()) };
            publish(&self.link, &self.me, &change).await?;
            self.pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop_front();
        }
    }

    /// Whether Redis still holds what it held at the last read: the epoch key is set
    /// once (`SET NX`) and only a loss of data removes it.
    async fn check_epoch(&mut self) -> Result<(), Unreachable> {
        let key = epoch_key(&self.link);
        let candidate = uuid::Uuid::new_v4().simple().to_string();
        let epoch: String = self
            .link
            .run(|mut c| async move {
                let (_, epoch): ((), String) = redis::pipe()
                    .cmd("SET")
                    .arg(&key)
                    .arg(candidate)
                    .arg("NX")
                    .cmd("GET")
                    .arg(&key)
                    .query_async(&mut c)
                    .await?;
                Ok(epoch)
            })
            .await?;
        match &self.epoch {
            Some(known) if *known != epoch => {
                tracing::warn!(
                    "the shared Redis lost its data (restarted or flushed); changes may have been missed, cached rooms are marked stale"
                );
                self.hear(Heard::Gap).await;
                // Whatever the stream holds now came after the loss.
                self.position = Position::Since(0);
            }
            _ => {}
        }
        self.epoch = Some(epoch);
        Ok(())
    }

    /// Reads one batch from the position; whether more may follow.
    async fn read_batch(&mut self) -> Result<bool, Unreachable> {
        let key = stream_key(&self.link);
        // From the last applied entry itself (XRANGE includes it): its presence proves
        // that nothing after it was trimmed.
        if self.position == Position::Unknown {
            self.position =
                Position::Since(self.redis_now_ms().await?.saturating_sub(START_MARGIN_MS));
        }
        let start = match &self.position {
            Position::Unknown | Position::Since(0) => "-".to_owned(),
            Position::Since(ms) => format!("{ms}-0"),
            Position::At(id) => id.clone(),
        };
        let read_key = key.clone();
        let reply: redis::streams::StreamRangeReply = self
            .link
            .run(|mut c| async move {
                redis::cmd("XRANGE")
                    .arg(&read_key)
                    .arg(start)
                    .arg("+")
                    .arg("COUNT")
                    .arg(BATCH)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        let full = reply.ids.len() >= BATCH;
        let mut entries = reply.ids.into_iter().peekable();
        if let Position::At(last) = &self.position {
            if entries.peek().is_some_and(|e| &e.id == last) {
                entries.next();
            } else {
                tracing::warn!(
                    "changes were missed and cannot be replayed (the stream was trimmed or lost); cached rooms are marked stale"
                );
                self.hear(Heard::Gap).await;
                // Whatever the stream holds now came after the loss.
                self.position = Position::Since(0);
            }
        }
        for entry in entries {
            self.position = Position::At(entry.id.clone());
            if entry.get::<String>("from").as_deref() == Some(self.me.as_str()) {
                continue;
            }
            let Some(change) = entry
                .get::<Vec<u8>>("change")
                .and_then(|sealed| self.link.sealer().open(&key, &sealed).ok())
                .and_then(|plain| serde_json::from_slice::<Change>(&plain).ok())
            else {
                tracing::warn!("a change entry could not be read (another shared.key?); skipped");
                continue;
            };
            let published_ms = entry
                .id
                .split('-')
                .next()
                .and_then(|ms| ms.parse().ok())
                .unwrap_or(0);
            self.hear(Heard::Change {
                change,
                published_ms,
            })
            .await;
        }
        Ok(full)
    }

    /// Redis's clock in Unix milliseconds (`TIME`).
    async fn redis_now_ms(&self) -> Result<u64, Unreachable> {
        let (secs, micros): (u64, u64) = self
            .link
            .run(|mut c| async move { redis::cmd("TIME").query_async(&mut c).await })
            .await?;
        Ok(secs * 1000 + micros / 1000)
    }

    async fn hear(&self, heard: Heard) {
        // A closed receiver ends the follower at its next wait.
        let _ = self.tx.send(heard).await;
    }
}

/// The wall clock in Unix milliseconds (stream ids use Redis's).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_back_as_written() {
        for change in [Change::Room("123-123-123".into()), Change::Index] {
            let json = serde_json::to_vec(&change).unwrap();
            assert_eq!(serde_json::from_slice::<Change>(&json).unwrap(), change);
        }
    }

    #[tokio::test]
    async fn a_lone_instance_hears_nothing() {
        let changes = LocalChanges;
        changes.publish(&Change::Index).await;
        assert_eq!(changes.follow().recv().await, None);
    }
}

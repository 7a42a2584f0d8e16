//! A real `redis-server` of a test's own, on a free loopback port, and a fleet of apps
//! sharing it. `./scripts/test` installs `redis-server` when it is missing; a test that
//! needs Redis fails (it is never skipped) when the binary is not there.

use std::{
    collections::HashMap,
    process::{Child, Command, Stdio},
    time::Duration,
};

use crate::helpers::{TestApp, spawn_app_with};

/// The key every fleet app seals its shared state with.
pub const SHARED_KEY: &str = "fleet-test-key-0123456789abcdef-0123456789";

/// A running `redis-server`, killed when dropped.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers PING.
    pub async fn start() -> RedisServer {
        let port = free_port();
        let mut server = RedisServer { port, child: None };
        server.launch().await;
        server
    }

    async fn launch(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            // Redis keeps the real clock when the suite runs under faketime (.ci/run's
            // year-ahead pass): it does not start under libfaketime, and the fleet must
            // not care whether its instances' clocks agree with Redis's anyway.
            .env_remove("LD_PRELOAD")
            .env_remove("FAKETIME")
            .env_remove("FAKETIME_DONT_FAKE_MONOTONIC")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (./scripts/test installs it: apt-get install redis-server)");
        self.child = Some(child);
        for _ in 0..200 {
            if self.ping().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "redis-server on port {} did not answer within 2 s",
            self.port
        );
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// The raw bytes at `key`, waiting up to a second for them to be written (roomgate
    /// writes its copies off the request path).
    pub async fn value_of(&self, key: &str) -> Vec<u8> {
        let mut c = self.connection().await;
        for _ in 0..100 {
            let value: Option<Vec<u8>> = redis::cmd("GET")
                .arg(key)
                .query_async(&mut c)
                .await
                .unwrap();
            if let Some(value) = value {
                return value;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("no {key} in Redis");
    }

    /// How many scripts Redis ran (`EVALSHA` and `EVAL` calls, by `INFO commandstats`)
    /// since it started or since [`RedisServer::reset_stats`].
    pub async fn script_runs(&self) -> u64 {
        let mut c = self.connection().await;
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(&mut c)
            .await
            .unwrap();
        info.lines()
            .filter_map(|line| {
                let stats = line
                    .strip_prefix("cmdstat_evalsha:")
                    .or_else(|| line.strip_prefix("cmdstat_eval:"))?;
                stats
                    .split(',')
                    .find_map(|s| s.strip_prefix("calls=")?.parse::<u64>().ok())
            })
            .sum()
    }

    /// Zeroes Redis's command counts (`CONFIG RESETSTAT`).
    pub async fn reset_stats(&self) {
        let mut c = self.connection().await;
        redis::cmd("CONFIG")
            .arg("RESETSTAT")
            .query_async::<()>(&mut c)
            .await
            .unwrap();
    }

    /// A connection of the test's own, to look at or change what the fleet stored.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .expect("the test's Redis answers")
    }

    async fn ping(&self) -> bool {
        let Ok(client) = redis::Client::open(self.url()) else {
            return false;
        };
        let Ok(Ok(mut c)) = tokio::time::timeout(
            Duration::from_millis(200),
            client.get_multiplexed_async_connection(),
        )
        .await
        else {
            return false;
        };
        redis::cmd("PING")
            .query_async::<String>(&mut c)
            .await
            .is_ok()
    }

    /// Kills the server (SIGKILL): every connection drops, nothing is saved.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (empty: nothing was saved).
    pub async fn restart(&mut self) {
        self.kill();
        self.launch().await;
    }

    /// Freezes the server (SIGSTOP): connections stay open and nothing answers.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen server go on (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("the server runs").id();
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} {pid}");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A paused server would not die of SIGTERM; SIGKILL ends it either way.
        self.kill();
    }
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The settings that put an app in fleet mode on `redis`.
pub fn fleet_env(redis: &RedisServer) -> HashMap<String, String> {
    [
        ("ROOMGATE__SHARED__BACKEND", "redis".to_owned()),
        ("ROOMGATE__SHARED__REDIS_URL", redis.url()),
        ("ROOMGATE__SHARED__KEY", SHARED_KEY.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// `n` apps sharing `redis`, each with its own port, files and clock, with settings
/// changed by `tweak` (the same for every app, as in a real fleet).
pub async fn spawn_fleet(
    redis: &RedisServer,
    n: usize,
    tweak: impl Fn(&mut HashMap<String, String>),
) -> Vec<TestApp> {
    let mut apps = Vec::with_capacity(n);
    for _ in 0..n {
        let env = fleet_env(redis);
        apps.push(
            spawn_app_with(|e| {
                e.extend(env);
                tweak(e);
            })
            .await,
        );
    }
    apps
}

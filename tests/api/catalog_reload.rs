//! SIGHUP re-reads the catalog. The server runs as its own process (the real binary), so
//! the signal reaches only it, and the test waits for its log lines instead of sleeping.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use crate::helpers::{new_client, repo_path, test_env};

const ONE_ROOM: &str = "[[rooms]]\nlicense = \"111-111-111\"\nname = \"Before\"\n";
const TWO_ROOMS: &str = "[[rooms]]\nlicense = \"111-111-111\"\nname = \"After\"\n\n[[rooms]]\nlicense = \"222-222-222\"\nname = \"New\"\n";

/// roomgate serving `catalog`, with its JSON log lines arriving on `lines`.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(catalog: &std::path::Path) -> Server {
        let mut env = test_env();
        env.insert(
            "ROOMGATE__CATALOG__PATH".into(),
            catalog.display().to_string(),
        );
        env.insert("ROOMGATE__LOG__FORMAT".into(), "json".into());
        env.insert("ROOMGATE__LOG__LEVEL".into(), "info".into());
        let mut child = Command::new(env!("CARGO_BIN_EXE_roomgate"))
            .env_clear()
            .envs(env)
            .current_dir(repo_path(""))
            .stdout(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let (tx, lines) = mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            lines,
            address: String::new(),
        };
        let listening = server.wait_for("roomgate is listening");
        let port = serde_json::from_str::<serde_json::Value>(&listening).unwrap()["port"]
            .as_u64()
            .unwrap();
        server.address = format!("http://127.0.0.1:{port}");
        server
    }

    /// The next log line containing `text`, waiting at most 10 s.
    fn wait_for(&self, text: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(_) => panic!("no log line with {text:?} within 10 s"),
            }
        }
    }

    fn sighup(&self) {
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }
}

#[tokio::test]
async fn sighup_reloads_the_catalog_and_a_bad_file_keeps_the_old_rooms() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rooms.toml");
    std::fs::write(&path, ONE_ROOM).unwrap();
    let server = Server::start(&path);
    let client = new_client();
    let get = |p: &str| client.get(format!("{}{p}", server.address)).send();
    let page = async |p: &str| {
        let res = get(p).await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    };
    let (status, html) = page("/room/111-111-111").await;
    assert_eq!(status, 200);
    assert!(html.contains("Before"));
    assert_eq!(page("/room/222-222-222").await.0, 404);

    // Requests keep flowing while the file changes and the signal arrives.
    let hammer = {
        let client = client.clone();
        let url = format!("{}/room/111-111-111", server.address);
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..200 {
                statuses.push(client.get(&url).send().await.unwrap().status().as_u16());
            }
            statuses
        })
    };
    std::fs::write(&path, TWO_ROOMS).unwrap();
    server.sighup();
    let line = server.wait_for("catalog reloaded");
    assert!(line.contains(r#""rooms":2"#), "{line}");
    assert_eq!(
        page("/room/222-222-222").await.0,
        200,
        "the new room is there"
    );
    assert!(page("/room/111-111-111").await.1.contains("After"));
    assert!(
        hammer.await.unwrap().iter().all(|s| *s == 200),
        "no request failed during the reload"
    );

    std::fs::write(&path, "[[rooms]]\nlicense = \"bad\"\n").unwrap();
    server.sighup();
    let line = server.wait_for("catalog not reloaded");
    assert!(line.contains("line 1"), "the log names the problem: {line}");
    for _ in 0..20 {
        assert_eq!(
            page("/room/222-222-222").await.0,
            200,
            "a bad file keeps the old rooms"
        );
        assert!(page("/room/111-111-111").await.1.contains("After"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

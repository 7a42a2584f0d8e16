use std::time::Duration;

use crate::helpers::spawn_app_with;

const ONE_ROOM: &str = "[[rooms]]\nlicense = \"111-111-111\"\nname = \"Before\"\n";
const TWO_ROOMS: &str = "[[rooms]]\nlicense = \"111-111-111\"\nname = \"After\"\n\n[[rooms]]\nlicense = \"222-222-222\"\nname = \"New\"\n";

fn send_sighup() {
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Polls until `check` holds, for at most five seconds.
async fn eventually(mut check: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..100 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn sighup_reloads_the_catalog_and_a_bad_file_keeps_the_old_rooms() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rooms.toml");
    std::fs::write(&path, ONE_ROOM).unwrap();
    let app = spawn_app_with(|env| {
        env.insert("ROOMGATE__CATALOG__PATH".into(), path.display().to_string());
    })
    .await;
    assert!(app.get_html("/room/111-111-111").await.1.contains("Before"));
    assert_eq!(app.get("/room/222-222-222").await.status(), 404);

    // Requests keep flowing while the file changes and the signal arrives.
    let hammer = {
        let client = app.client.clone();
        let url = app.url("/room/111-111-111");
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..200 {
                statuses.push(client.get(&url).send().await.unwrap().status().as_u16());
            }
            statuses
        })
    };
    std::fs::write(&path, TWO_ROOMS).unwrap();
    send_sighup();
    assert!(
        eventually(async || app.get("/room/222-222-222").await.status() == 200).await,
        "the new room appears after SIGHUP"
    );
    assert!(app.get_html("/room/111-111-111").await.1.contains("After"));
    assert!(
        hammer.await.unwrap().iter().all(|s| *s == 200),
        "no request failed during the reload"
    );

    std::fs::write(&path, "[[rooms]]\nlicense = \"bad\"\n").unwrap();
    send_sighup();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.get("/room/222-222-222").await.status(),
        200,
        "a bad file keeps the old rooms"
    );
}

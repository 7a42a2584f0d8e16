//! The command line, run as a user runs it: the real binary with settings in the environment.

use serde_json::json;
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{body_string, method, path},
};

use crate::fake_vendor::{Vendor, api_env};
use crate::helpers::{repo_path, roomgate, test_env, text};

#[tokio::test]
async fn check_reports_the_catalog() {
    let out = roomgate(&["check"], test_env()).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("has 7 rooms"),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test]
async fn check_prints_the_connected_account() {
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 1).await;
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"id": 42, "email": "ops@example.com"}})),
        )
        .expect(1)
        .mount(&vendor.server)
        .await;
    let mut env = test_env();
    env.extend(api_env(&vendor));
    let out = roomgate(&["check"], env).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("as ops@example.com (account id 42)"),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test]
async fn check_names_the_exact_problem_and_fails() {
    let vendor = Vendor::start().await;
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"message": "Invalid client credentials"}})),
        )
        .mount(&vendor.server)
        .await;
    let mut env = test_env();
    env.extend(api_env(&vendor));
    let out = roomgate(&["check"], env.clone()).await;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("Invalid client credentials"), "{err}");
    assert!(
        !err.contains(crate::fake_vendor::CLIENT_SECRET),
        "no secret in the output"
    );

    env.remove("ROOMGATE__API__CLIENT_SECRET");
    let out = roomgate(&["check"], env).await;
    assert_eq!(out.status.code(), Some(2), "bad settings");
    assert!(
        text(&out.stderr).contains("api.client_secret: required"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn register_client_prints_the_credentials_to_use() {
    let vendor = Vendor::start().await;
    Mock::given(method("POST"))
        .and(path("/api/oauth/clients"))
        .and(body_string(
            "name=Acme+%26+Co+events&redirect=https%3A%2F%2Fevents.example.com%2Foauth%2Fcallback",
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "name": "Acme & Co events", "client_id": 77, "client_secret": "x".repeat(40),
            "redirect_uri": "https://events.example.com/oauth/callback"
        })))
        .expect(1)
        .mount(&vendor.server)
        .await;
    let mut env = test_env();
    env.insert("ROOMGATE__API__BASE_URL".into(), vendor.uri());
    let out = roomgate(
        &[
            "register-client",
            "--name",
            "Acme & Co events",
            "--redirect",
            "https://events.example.com/oauth/callback",
        ],
        env,
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("ROOMGATE__API__CLIENT_ID=77"), "{stdout}");
    assert!(
        stdout.contains(&format!("ROOMGATE__API__CLIENT_SECRET={}", "x".repeat(40))),
        "{stdout}"
    );
}

#[tokio::test]
async fn register_client_passes_on_the_vendors_refusal() {
    let vendor = Vendor::start().await;
    Mock::given(method("POST"))
        .and(path("/api/oauth/clients"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"message": "3rd party client already exists"}})),
        )
        .mount(&vendor.server)
        .await;
    let mut env = test_env();
    env.insert("ROOMGATE__API__BASE_URL".into(), vendor.uri());
    let out = roomgate(
        &[
            "register-client",
            "--name",
            "Acme",
            "--redirect",
            "https://e.example/oauth/callback",
        ],
        env,
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("3rd party client already exists"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn bad_settings_stop_the_server_with_one_line_per_problem() {
    let mut env = test_env();
    env.insert("ROOMGATE__SERVER__PORT".into(), "8080".into());
    env.insert("ROOMGATE__BRANDING__PRIMARY_COLOR".into(), "blue".into());
    env.insert("ROOMGATE__EMBED__HEIGHT".into(), "tall".into());
    let out = roomgate(&[], env).await;
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(err.lines().all(|l| l.starts_with("roomgate: ")), "{err}");
}

#[tokio::test]
async fn the_server_says_it_shuts_down_gracefully_and_frees_its_port_on_sigterm_and_sigint() {
    for signal in ["-TERM", "-INT"] {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut env = test_env();
        env.insert("ROOMGATE__SERVER__PORT".into(), port.to_string());
        env.insert("ROOMGATE__LOG__FORMAT".into(), "json".into());
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_roomgate"))
            .env_clear()
            .envs(env)
            .current_dir(repo_path(""))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let client = crate::helpers::plain_client();
        let mut up = false;
        for _ in 0..100 {
            if client
                .get(format!("http://127.0.0.1:{port}/healthz"))
                .send()
                .await
                .is_ok()
            {
                up = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(up, "the server starts");
        std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap();
        assert!(out.status.success(), "{signal}: {:?}", out.status);
        assert!(out.stderr.is_empty(), "{signal}: {}", text(&out.stderr));

        // What the operator reads: listening, then the graceful shutdown, in that order.
        let messages: Vec<String> = text(&out.stdout)
            .lines()
            .map(|line| {
                let line: serde_json::Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{signal}: not a JSON log line ({e}): {line}"));
                line["message"].as_str().unwrap_or_default().to_owned()
            })
            .collect();
        let position = |wanted: &str| messages.iter().position(|m| m == wanted);
        let listening = position("roomgate is listening");
        let shutting_down = position("shutting down: finishing the requests under way");
        assert!(
            listening.is_some() && shutting_down > listening,
            "{signal}: {messages:#?}"
        );

        // And the port is free: nothing answers there any more.
        let refused = tokio::net::TcpStream::connect(("127.0.0.1", port)).await;
        assert!(
            refused.is_err(),
            "{signal}: the port still accepts connections"
        );
    }
}

#[tokio::test]
async fn rooms_list_prints_a_table_or_json() {
    let out = roomgate(&["rooms", "list"], test_env()).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("ROOM") && lines[0].contains("ATTENDEE LINK"),
        "{stdout}"
    );
    assert_eq!(lines.len(), 8, "{stdout}");
    assert!(
        lines[1].contains("http://rooms.test/room/123-123-123"),
        "{stdout}"
    );

    let out = roomgate(&["rooms", "list", "--json"], test_env()).await;
    let rooms: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rooms.as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn links_prints_every_link_on_the_public_url() {
    let out = roomgate(&["links", "123-123-123"], test_env()).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("attendee   http://rooms.test/room/123-123-123\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("host       http://rooms.test/room/123-123-123/HostToken123\n"),
        "{stdout}"
    );
    assert!(stdout.contains("vendor links (reference only)"), "{stdout}");
}

#[tokio::test]
async fn ics_prints_the_hosts_calendar_file() {
    let out = roomgate(&["ics", "234-234-234", "--role", "host"], test_env()).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ics = text(&out.stdout);
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
    assert!(
        ics.contains("URL:http://rooms.test/room/234-234-234/SchedHost1"),
        "{ics}"
    );
    let out = roomgate(&["ics", "123-123-123"], test_env()).await;
    assert_eq!(out.status.code(), Some(2), "a permanent room has no event");
}

#[tokio::test]
async fn user_errors_exit_2_and_vendor_errors_exit_1() {
    let out = roomgate(&["rooms", "create", "--name", "X"], test_env()).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("rooms of the catalog are managed in its file"));
    let out = roomgate(&["rooms", "show", "999-999-999"], test_env()).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no such room"));
    let out = roomgate(
        &["invite", "123-123-123", "--email", "a@example.com"],
        test_env(),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));

    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 1).await;
    Mock::given(method("POST"))
        .and(path("/api/widgets"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"message": "Internal vendor trouble"}})),
        )
        .mount(&vendor.server)
        .await;
    let mut env = test_env();
    env.extend(api_env(&vendor));
    let out = roomgate(&["rooms", "create", "--name", "X"], env.clone()).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("Internal vendor trouble"),
        "{}",
        text(&out.stderr)
    );
    let out = roomgate(
        &["rooms", "create", "--type", "scheduled", "--name", "X"],
        env,
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "our own validation");
    assert!(
        text(&out.stderr).contains("start: is required"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn create_and_invite_against_the_vendor() {
    let vendor = Vendor::start().await;
    vendor.login("JWT", 3600, 1..).await;
    Mock::given(method("POST"))
        .and(path("/api/widgets"))
        .and(body_string(
            "name=A+%26+B&type=scheduled&start_date=2026-12-01+16%3A00%3A00&timezone=Europe%2FWarsaw&duration=60&password=",
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": {"id": 9, "token": "999-000-999"}})))
        .expect(1)
        .mount(&vendor.server)
        .await;
    let mut w = crate::fake_vendor::widget(9, "999-000-999", "A & B");
    w["type"] = json!("scheduled");
    w["start_date"] = json!(1_796_137_200);
    vendor.detail(9, w, 1..).await;
    vendor.list(&[(9, "999-000-999")], 0..).await;
    Mock::given(method("POST"))
        .and(path("/api/widgets/9/personal"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": {"personal_token": "PT_9", "personal_url": "https://app.example/x"}}),
        ))
        .expect(1)
        .mount(&vendor.server)
        .await;
    let mut env = test_env();
    env.extend(api_env(&vendor));
    let out = roomgate(
        &[
            "rooms",
            "create",
            "--name",
            "A & B",
            "--start",
            "2026-12-01 16:00",
            "--timezone",
            "Europe/Warsaw",
            "--json",
        ],
        env.clone(),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let room: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(room["license"], "999-000-999");
    assert_eq!(
        room["links"]["roles"]["host"],
        "http://rooms.test/room/999-000-999/Host9"
    );

    let out = roomgate(
        &[
            "invite",
            "999-000-999",
            "--email",
            "grace@example.com",
            "--role",
            "presenter",
        ],
        env,
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "personal link for grace@example.com (presenter): http://rooms.test/room/999-000-999?_personal_token=PT_9\n"
    );
}

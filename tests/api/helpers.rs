//! `spawn_app()` and the typed helpers every test uses.

use std::{collections::HashMap, path::PathBuf, sync::Arc};

use roomgate::{
    domain::Clock,
    rooms::{RoomSource, Source, build_source},
    settings::{self, Settings},
    visit::embed::EmbedBlock,
    web::Application,
};

/// Room keys and role tokens of `tests/fixtures/rooms.toml`.
pub const L: &str = "123-123-123";
pub const L2: &str = "222-222-222";
pub const SCHEDULED: &str = "234-234-234";
pub const INACTIVE: &str = "345-345-345";
pub const H: &str = "HostToken123";
pub const P: &str = "PresenterToken456";
pub const H2: &str = "OtherHost789";
/// Links are built from this, never from the Host header.
pub const PUBLIC_URL: &str = "http://rooms.test";

pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The environment map the tests load settings with: development defaults, port 0,
/// the test catalog, absolute folders.
pub fn test_env() -> HashMap<String, String> {
    [
        ("ROOMGATE__SERVER__PORT", "0".to_owned()),
        ("ROOMGATE__SERVER__PUBLIC_URL", PUBLIC_URL.to_owned()),
        (
            "ROOMGATE__CATALOG__PATH",
            repo_path("tests/fixtures/rooms.toml").display().to_string(),
        ),
        (
            "ROOMGATE__BRANDING__TEMPLATES_DIR",
            repo_path("templates").display().to_string(),
        ),
        (
            "ROOMGATE__BRANDING__STATIC_DIR",
            repo_path("static").display().to_string(),
        ),
        (
            "ROOMGATE__EMBED__BASE_URL",
            "https://embed.example".to_owned(),
        ),
        ("ROOMGATE__API__APP_URL", "https://app.example".to_owned()),
        (
            "ROOMGATE__API__TOKEN_FILE",
            private_folder().join("tokens.json").display().to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// A new folder for the files an app keeps beside its token file (the room key memory),
/// so that apps never share what they remember and nothing lands in the repo's `data/`.
/// A test that restarts an app on the same files sets `ROOMGATE__API__TOKEN_FILE` itself.
pub fn private_folder() -> PathBuf {
    static ROOT: std::sync::LazyLock<tempfile::TempDir> =
        std::sync::LazyLock::new(|| tempfile::tempdir().expect("a temporary folder"));
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    ROOT.path().join(format!("app-{n}"))
}

/// Loads settings from the repo's `config/` with `env` as the environment.
pub fn load_settings(env: &HashMap<String, String>) -> Result<Settings, settings::SettingsError> {
    settings::load(&repo_path("config"), env)
}

/// The instant every test app starts at unless the test moves its clock: three hours
/// before the scheduled rooms of `tests/fixtures/rooms.toml` start. No test depends on
/// the day the suite runs.
pub const TEST_NOW: &str = "2026-12-01T12:00:00Z";

/// `TEST_NOW` as an instant.
pub fn test_now() -> chrono::DateTime<chrono::Utc> {
    TEST_NOW.parse().unwrap()
}

/// A clock the test moves by hand.
pub type HandClock = Arc<std::sync::Mutex<chrono::DateTime<chrono::Utc>>>;

/// A hand clock at `TEST_NOW`.
pub fn hand_clock() -> HandClock {
    Arc::new(std::sync::Mutex::new(test_now()))
}

/// The application's clock reading `clock`.
pub fn app_clock(clock: &HandClock) -> Clock {
    let clock = clock.clone();
    Arc::new(move || *clock.lock().unwrap())
}

pub struct TestApp {
    pub address: String,
    /// `http://127.0.0.1:PORT` of `/metrics`, when the test turned metrics on.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    /// The app's clock: tests move it instead of waiting.
    pub clock: HandClock,
    log: LogBuffer,
}

/// Log lines of one app (or of the global subscriber), as JSON.
type LogBuffer = Arc<std::sync::Mutex<Vec<u8>>>;

fn log_settings() -> roomgate::settings::LogSettings {
    roomgate::settings::LogSettings {
        format: roomgate::settings::LogFormat::Json,
        level: "debug".into(),
    }
}

/// What is logged outside any app (nothing a test reads); installed once so that such
/// lines never reach the terminal.
static GLOBAL_LOG: std::sync::LazyLock<LogBuffer> = std::sync::LazyLock::new(|| {
    let buffer = LogBuffer::default();
    let sink = buffer.clone();
    roomgate::telemetry::init(&log_settings(), move || LogWriter(sink.clone()));
    buffer
});

struct LogWriter(LogBuffer);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        if std::env::var_os("TEST_LOG").is_some() {
            std::io::stdout().write_all(buf)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The app with the test catalog and default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The app with settings changed by `tweak` (an environment map, as an operator would).
pub async fn spawn_app_with(tweak: impl FnOnce(&mut HashMap<String, String>)) -> TestApp {
    let mut env = test_env();
    tweak(&mut env);
    let settings = load_settings(&env).expect("test settings are valid");
    spawn(settings, None, hand_clock()).await
}

/// The app around a room source of the test's own, telling time by `clock`.
pub async fn spawn_app_with_source(source: Arc<dyn RoomSource>, clock: HandClock) -> TestApp {
    let settings = load_settings(&test_env()).expect("test settings are valid");
    spawn(settings, Some(Source::Custom(source)), clock).await
}

/// The app with settings changed by `tweak`, telling time by `clock`.
pub async fn spawn_app_with_clock(
    clock: HandClock,
    tweak: impl FnOnce(&mut HashMap<String, String>),
) -> TestApp {
    let mut env = test_env();
    tweak(&mut env);
    let settings = load_settings(&env).expect("test settings are valid");
    spawn(settings, None, clock).await
}

/// The app with the test catalog, telling time by `clock`.
pub async fn spawn_app_at(clock: HandClock) -> TestApp {
    let settings = load_settings(&test_env()).expect("test settings are valid");
    spawn(settings, None, clock).await
}

/// Builds and starts an app with a log of its own.
async fn spawn(settings: Settings, source: Option<Source>, clock: HandClock) -> TestApp {
    use tracing::instrument::WithSubscriber;
    std::sync::LazyLock::force(&GLOBAL_LOG);
    let log = LogBuffer::default();
    let sink = log.clone();
    let dispatch = roomgate::telemetry::dispatch(&log_settings(), move || LogWriter(sink.clone()));
    let time = app_clock(&clock);
    let source = match source {
        Some(source) => source,
        None => build_source(&settings, time.clone())
            .with_subscriber(dispatch.clone())
            .await
            .expect("the room source builds"),
    };
    let app = Application::build_logging_to(settings, source, time, Some(dispatch.clone()))
        .with_subscriber(dispatch)
        .await
        .expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        metrics_address,
        client: new_client(),
        clock,
        log,
    }
}

/// `GET path` sending exactly `cookie` (a copy saved earlier, as a replaying attacker or
/// another browser would), with a client that keeps none of its own.
pub async fn get_with_cookie(app: &TestApp, path: &str, cookie: &str) -> (u16, String) {
    let res = new_client()
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// A client with reqwest's defaults (it follows redirects, keeps no cookies).
pub fn plain_client() -> reqwest::Client {
    roomgate::vendor::install_crypto_provider();
    reqwest::Client::new()
}

/// A browser-like client: keeps cookies, does not follow redirects.
pub fn new_client() -> reqwest::Client {
    roomgate::vendor::install_crypto_provider();
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl TestApp {
    /// Every line this app has logged so far (JSON, one per line).
    pub fn logs(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().unwrap()).into_owned()
    }

    /// Moves the app's clock by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        *self.clock.lock().unwrap() += by;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// GET from another client address (through a trusted proxy).
    pub async fn get_from(&self, path: &str, client_ip: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("x-forwarded-for", client_ip)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn head(&self, path: &str) -> reqwest::Response {
        self.client
            .head(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get_html(&self, path: &str) -> (u16, String) {
        let res = self.get(path).await;
        let status = res.status().as_u16();
        (status, res.text().await.unwrap())
    }

    /// Posts the name prompt form as the browser would, from our own origin.
    pub async fn post_join(&self, license: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.post_join_from(license, form, Some(PUBLIC_URL)).await
    }

    pub async fn post_join_from(
        &self,
        license: &str,
        form: &[(&str, &str)],
        origin: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url(&format!("/room/{license}/join")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(form));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send().await.expect("request sent")
    }
}

pub fn form_body(form: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish()
}

/// The embed data block of a room page, parsed as the page script parses it.
pub fn embed_block(html: &str) -> Option<EmbedBlock> {
    let raw = embed_json(html)?;
    Some(serde_json::from_str(raw).expect("the data block is valid JSON"))
}

/// The raw text of the embed data block.
pub fn embed_json(html: &str) -> Option<&str> {
    let open = r#"<script id="roomgate-embed" type="application/json">"#;
    let start = html.find(open)? + open.len();
    let end = start + html[start..].find("</script>")?;
    Some(&html[start..end])
}

/// The value of a hidden or text input `name` in a form.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}""#);
    let at = html.find(&marker)?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let v = tag.find(r#"value=""#)? + 7;
    let len = tag[v..].find('"')?;
    Some(html_decode(&tag[v..v + len]))
}

/// Undoes Tera's HTML escaping, as a browser does when it reads an attribute.
pub fn html_decode(s: &str) -> String {
    s.replace("&#x2F;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Sends `request` as raw bytes and returns the status line of the answer, for requests
/// that an HTTP client library refuses to build.
pub async fn raw_request(address: &str, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    // The server may answer and close before reading everything we send.
    let _ = stream.write_all(request).await;
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut buf))
        .await
        .expect("the server answers")
        .unwrap_or(0);
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

/// Runs the real `roomgate` binary with exactly `env` as its environment, from the
/// repository's root (where `config/` is).
pub async fn roomgate(args: &[&str], env: HashMap<String, String>) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_roomgate"))
            .args(&args)
            .env_clear()
            .envs(env)
            .current_dir(repo_path(""))
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap()
}

/// A command's output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

//! The vendor misbehaving in every way we could think of: slow, resetting connections,
//! half answers, 5xx and 429 with and without `Retry-After`, HTML and truncated JSON,
//! 10 MiB answers, redirects, and a token that stops working mid-run while signing in
//! again fails too. Rooms seen before keep their pages, rooms never seen answer 503 with
//! `Retry-After`, nothing crashes, and no secret reaches the log.
//!
//! wiremock cannot reset a connection or stop half-way, so [`FlakyVendor`] is a small
//! raw TCP server for those.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU8, AtomicUsize, Ordering},
    },
    time::Duration,
};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{any, header, method, path, query_param},
};

use crate::fake_vendor::{CLIENT_ID, CLIENT_SECRET, Vendor, spawn_api_app, summary, widget};
use crate::helpers::{TestApp, spawn_app_with};

const SEEN: &str = "555-555-555";
const UNSEEN: &str = "556-556-556";
const TEN_MIB: usize = 10 * 1024 * 1024;

/// A widget whose JSON is padded past `size` bytes with a field the vendor might add.
fn padded_widget(id: u64, license: &str, size: usize) -> Value {
    let mut w = widget(id, license, "Padded");
    w["padding"] = json!("x".repeat(size));
    json!({ "data": w })
}

/// What a visitor sees when the room source cannot answer and nothing is cached.
async fn assert_unavailable(app: &TestApp, license: &str, case: &str) {
    let res = app.get(&format!("/room/{license}")).await;
    assert_eq!(res.status(), 503, "{case}");
    let retry_after = res
        .headers()
        .get("retry-after")
        .unwrap_or_else(|| panic!("{case}: no Retry-After"))
        .to_str()
        .unwrap()
        .parse::<u64>()
        .unwrap_or_else(|e| panic!("{case}: Retry-After is not seconds: {e}"));
    assert!(retry_after > 0, "{case}");
    let html = res.text().await.unwrap();
    assert!(html.contains("Temporarily unavailable"), "{case}");
    assert!(
        !html.contains("vendor-detail-xyz"),
        "{case}: the vendor's text leaks"
    );
}

/// Each way a detail call can fail, for a room the cache has never seen.
#[tokio::test]
async fn a_room_never_seen_answers_503_with_retry_after_whatever_the_vendor_does() {
    let elsewhere = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(padded_widget(7, UNSEEN, 0)))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let html_page =
        "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1>vendor-detail-xyz</body></html>";
    let cases: Vec<(&str, ResponseTemplate)> = vec![
        (
            "500 JSON",
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"message": "vendor-detail-xyz"}})),
        ),
        (
            "502 HTML",
            ResponseTemplate::new(502).set_body_string(html_page),
        ),
        (
            "503 with Retry-After",
            ResponseTemplate::new(503)
                .insert_header("retry-after", "120")
                .set_body_string(html_page),
        ),
        ("503 without Retry-After", ResponseTemplate::new(503)),
        (
            "429 with Retry-After",
            ResponseTemplate::new(429)
                .insert_header("retry-after", "7")
                .set_body_json(json!({"error": {"message": "vendor-detail-xyz"}})),
        ),
        ("429 without Retry-After", ResponseTemplate::new(429)),
        (
            "200 HTML error page",
            ResponseTemplate::new(200).set_body_string(html_page),
        ),
        (
            "200 truncated JSON",
            ResponseTemplate::new(200).set_body_string(
                r#"{"data": {"id": 7, "token": "556-556-556", "name": "vendor-detail-xyz"#,
            ),
        ),
        (
            "200 JSON of the wrong shape",
            ResponseTemplate::new(200).set_body_json(json!({"data": [1, 2, 3]})),
        ),
        (
            "200 of 10 MiB",
            ResponseTemplate::new(200).set_body_json(padded_widget(7, UNSEEN, TEN_MIB)),
        ),
        (
            "slower than api.timeout_ms",
            ResponseTemplate::new(200)
                .set_body_json(padded_widget(7, UNSEEN, 0))
                .set_delay(Duration::from_secs(3)),
        ),
        (
            "302 to another host",
            ResponseTemplate::new(302).insert_header(
                "location",
                format!("{}/api/widgets/7", elsewhere.uri()).as_str(),
            ),
        ),
    ];
    let mut logs = String::new();
    for (case, failure) in cases {
        let vendor = Vendor::start().await;
        vendor.login("JWT-FAULT-TABLE-1", 3600, 1).await;
        vendor.list(&[(7, UNSEEN)], 1u64..).await;
        Mock::given(method("GET"))
            .and(path("/api/widgets/7"))
            .respond_with(failure)
            .expect(1u64..)
            .mount(&vendor.server)
            .await;
        let app = spawn_api_app(&vendor, |e| {
            e.insert("ROOMGATE__API__TIMEOUT_MS".into(), "300".into());
        })
        .await;
        assert_unavailable(&app, UNSEEN, case).await;
        assert_unavailable(&app, UNSEEN, case).await;
        assert_eq!(app.get("/healthz").await.status(), 200, "{case}");
        logs.push_str(&app.logs());
    }
    // `elsewhere` checks on drop that the redirect was not followed.
    for secret in [CLIENT_SECRET, "JWT-FAULT-TABLE-1"] {
        assert!(!logs.contains(secret), "{secret:?} is in the log");
    }
}

/// The size cap, not anything else, refuses the 10 MiB answer: with a larger cap the
/// same answer makes a page.
#[tokio::test]
async fn a_10_mib_answer_is_refused_by_the_response_size_cap() {
    let vendor = Vendor::start().await;
    vendor.login("JWT-FAULT-CAP-1", 3600, 1u64..).await;
    vendor.list(&[(7, UNSEEN)], 1u64..).await;
    Mock::given(method("GET"))
        .and(path("/api/widgets/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(padded_widget(7, UNSEEN, TEN_MIB)))
        .mount(&vendor.server)
        .await;

    let capped = spawn_api_app(&vendor, |_| {}).await;
    assert_unavailable(&capped, UNSEEN, "default cap of 8 MiB").await;
    let logs = capped.logs();
    assert!(
        logs.contains("larger than 8388608 bytes"),
        "the log says why the answer was refused"
    );

    let roomy = spawn_api_app(&vendor, |e| {
        e.insert(
            "ROOMGATE__API__MAX_RESPONSE_BYTES".into(),
            (16 * 1024 * 1024).to_string(),
        );
    })
    .await;
    let (status, html) = roomy.get_html(&format!("/room/{UNSEEN}")).await;
    assert_eq!(status, 200, "a 16 MiB cap lets the same answer through");
    assert!(html.contains("Padded"));
}

/// How [`FlakyVendor`] answers the next connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Mode {
    /// The vendor API as it should be.
    Good,
    /// Accepts, then resets the connection (RST) without reading.
    Reset,
    /// Reads the request, sends half an answer, closes.
    HalfAnswer,
    /// 503 with `Retry-After` and an HTML body.
    Unavailable503,
    /// 429 without `Retry-After`.
    RateLimited429,
    /// 200 with a valid widget of 10 MiB, chunked (no length known in advance).
    HugeChunked,
}

/// A vendor on raw TCP: one request per connection, answered as `mode` says.
struct FlakyVendor {
    address: String,
    mode: Arc<AtomicU8>,
    /// Connections accepted so far: one per call (a reset leaves no path to count by).
    connections: Arc<AtomicUsize>,
}

impl FlakyVendor {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let mode = Arc::new(AtomicU8::new(Mode::Good as u8));
        let connections = Arc::new(AtomicUsize::new(0));
        let shared = mode.clone();
        let counted = connections.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let mode = match shared.load(Ordering::SeqCst) {
                    0 => Mode::Good,
                    1 => Mode::Reset,
                    2 => Mode::HalfAnswer,
                    3 => Mode::Unavailable503,
                    4 => Mode::RateLimited429,
                    _ => Mode::HugeChunked,
                };
                tokio::spawn(serve(socket, mode));
            }
        });
        FlakyVendor {
            address,
            mode,
            connections,
        }
    }

    fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Reads one request head (and its body, by `Content-Length`); returns its path.
async fn read_request(socket: &mut TcpStream) -> Option<String> {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        received.extend_from_slice(&buf[..n]);
        if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if received.len() > 64 * 1024 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body_read = received.len() - head_end;
    while body_read < length {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            break;
        }
        body_read += n;
    }
    let target = head.split_whitespace().nth(1)?.to_owned();
    Some(target.split('?').next().unwrap_or_default().to_owned())
}

async fn respond(socket: &mut TcpStream, status: &str, extra: &str, body: &str) {
    let answer = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
    let _ = socket.write_all(answer.as_bytes()).await;
    let _ = socket.shutdown().await;
}

async fn serve(mut socket: TcpStream, mode: Mode) {
    if mode == Mode::Reset {
        // Linger 0: closing sends RST instead of FIN. (Deprecated because a non-zero
        // linger blocks the thread on drop; zero does not.)
        #[allow(deprecated)]
        let _ = socket.set_linger(Some(Duration::ZERO));
        drop(socket);
        return;
    }
    let Some(path) = read_request(&mut socket).await else {
        return;
    };
    match mode {
        Mode::Good | Mode::Reset => {
            let body = match path.as_str() {
                "/api/auth/login" => json!({"token": "JWT-FLAKY-1", "expires_in": 3600}),
                "/api/widgets" => json!({"data": [summary(7, SEEN), summary(8, UNSEEN)]}),
                "/api/widgets/7" => json!({"data": widget(7, SEEN, "Seen before")}),
                "/api/widgets/8" => json!({"data": widget(8, UNSEEN, "Seen at last")}),
                _ => {
                    respond(&mut socket, "404 Not Found", "", "{}").await;
                    return;
                }
            };
            respond(&mut socket, "200 OK", "", &body.to_string()).await;
        }
        Mode::HalfAnswer => {
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{\"data\": {\"id\": 7, \"tok")
                .await;
            // Dropped: the connection closes half-way.
        }
        Mode::Unavailable503 => {
            respond(
                &mut socket,
                "503 Service Unavailable",
                "Retry-After: 120\r\n",
                "<html>maintenance</html>",
            )
            .await;
        }
        Mode::RateLimited429 => {
            respond(
                &mut socket,
                "429 Too Many Requests",
                "",
                "{\"error\": {\"message\": \"slow down\"}}",
            )
            .await;
        }
        Mode::HugeChunked => {
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
                .await;
            let text = padded_widget(8, UNSEEN, TEN_MIB).to_string();
            for chunk in text.as_bytes().chunks(64 * 1024) {
                let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                framed.extend_from_slice(chunk);
                framed.extend_from_slice(b"\r\n");
                if socket.write_all(&framed).await.is_err() {
                    // roomgate stopped reading at its cap.
                    return;
                }
            }
            let _ = socket.write_all(b"0\r\n\r\n").await;
        }
    }
}

#[tokio::test]
async fn rooms_seen_before_survive_resets_half_answers_5xx_429_and_huge_answers() {
    let vendor = FlakyVendor::start().await;
    let app = spawn_app_with(|e| {
        e.insert("ROOMGATE__ROOMS__SOURCE".into(), "api".into());
        e.insert(
            "ROOMGATE__API__BASE_URL".into(),
            format!("{}/api/", vendor.address),
        );
        e.insert("ROOMGATE__API__CLIENT_ID".into(), CLIENT_ID.into());
        e.insert("ROOMGATE__API__CLIENT_SECRET".into(), CLIENT_SECRET.into());
        e.insert("ROOMGATE__API__TIMEOUT_MS".into(), "1000".into());
        e.insert("ROOMGATE__CACHE__TTL_SECS".into(), "1".into());
    })
    .await;
    assert_eq!(app.get(&format!("/room/{SEEN}")).await.status(), 200);

    for mode in [
        Mode::Reset,
        Mode::HalfAnswer,
        Mode::Unavailable503,
        Mode::RateLimited429,
        Mode::HugeChunked,
    ] {
        vendor.set(mode);
        // The 503 answers `Retry-After: 120`, and while that runs no lookup calls the
        // vendor: the app's clock is moved past it, before each mode and, in the 503
        // mode, after each view (each refresh that reaches the vendor asks again).
        app.advance(chrono::Duration::seconds(121));
        // Past the TTL (and past the last refresh's timeout): every view now also starts
        // a refresh, which fails. Views of the cached room are the only calls now, so
        // views go on until two refreshes have reached the vendor: the first one failed,
        // and the room was still there (served, and stale again) afterwards.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let before = vendor.connections();
        let mut views = 0;
        while vendor.connections() < before + 2 {
            assert!(
                views < 50,
                "{mode:?}: {} refreshes reached the vendor in {views} views",
                vendor.connections() - before
            );
            let (status, html) = app.get_html(&format!("/room/{SEEN}")).await;
            assert_eq!(status, 200, "{mode:?}");
            assert!(html.contains("Seen before"), "{mode:?}");
            views += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
            if mode == Mode::Unavailable503 {
                app.advance(chrono::Duration::seconds(121));
            }
        }
        let (status, html) = app.get_html(&format!("/room/{SEEN}")).await;
        assert_eq!(status, 200, "{mode:?}: after two failed refreshes");
        assert!(html.contains("Seen before"), "{mode:?}");
        assert_unavailable(&app, UNSEEN, &format!("{mode:?}")).await;
        assert_eq!(app.get("/healthz").await.status(), 200, "{mode:?}");
    }

    // The vendor is back: the room never seen has its page now.
    vendor.set(Mode::Good);
    app.advance(chrono::Duration::seconds(121));
    let (status, html) = app.get_html(&format!("/room/{UNSEEN}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Seen at last"));
}

#[tokio::test]
async fn a_token_that_stops_working_mid_run_keeps_cached_rooms_and_role_checks() {
    const TOKEN: &str = "JWT-FAULT-MIDRUN-7f3a";
    const HOST: &str = "FaultHostTok31";
    const PERSONAL: &str = "FaultPersonal77";
    let vendor = Vendor::start().await;
    let mut room = widget(7, SEEN, "Cached room");
    room["roles"] = json!({"host": HOST, "presenter": "FaultPresTok32"});
    let working = vec![
        Mock::given(method("POST"))
            .and(path("/api/auth/login"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"token": TOKEN, "expires_in": 3600})),
            )
            .expect(1)
            .mount_as_scoped(&vendor.server)
            .await,
        // Page 1 only: the listing asks for page 2 too (a short first page may be a
        // capped one), and the 404 it gets there ends the listing.
        Mock::given(method("GET"))
            .and(path("/api/widgets"))
            .and(query_param("page", "1"))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"data": [summary(7, SEEN), summary(8, UNSEEN)]})),
            )
            .expect(1)
            .mount_as_scoped(&vendor.server)
            .await,
        Mock::given(method("GET"))
            .and(path("/api/widgets/7"))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": room})))
            .expect(1)
            .mount_as_scoped(&vendor.server)
            .await,
    ];
    let app = spawn_api_app(&vendor, |e| {
        e.insert("ROOMGATE__CACHE__TTL_SECS".into(), "1".into());
    })
    .await;
    assert_eq!(
        app.get(&format!("/room/{SEEN}/{HOST}?_personal_token={PERSONAL}"))
            .await
            .status(),
        200
    );
    drop(working);

    // Now the token is refused everywhere, and signing in again is refused too.
    let refused = |message: &str| {
        ResponseTemplate::new(401).set_body_json(json!({"error": {"message": message}}))
    };
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .respond_with(refused("Invalid client credentials"))
        .named("signing in again, refused")
        .expect(1)
        .mount(&vendor.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/widgets/7"))
        .respond_with(refused("Token expired"))
        .named("the cached room's refresh, refused")
        .expect(1)
        .mount(&vendor.server)
        .await;
    Mock::given(method("GET"))
        .respond_with(refused("Token expired"))
        .mount(&vendor.server)
        .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // Past the TTL: the first view starts a refresh, which the vendor refuses; signing
    // in again is refused too, and from then on calls wait for the sign-in back-off (on
    // the app's clock, which stands still) instead of reaching the vendor.
    let (status, html) = app.get_html(&format!("/room/{SEEN}")).await;
    assert_eq!(status, 200, "the cached room stays up");
    assert!(html.contains("Cached room"));
    let mut waited = 0;
    while !app
        .logs()
        .contains("room refresh failed; serving the cached room")
    {
        assert!(
            waited < 100,
            "no refresh of the cached room failed within 5 s ({} calls to the vendor for it)",
            vendor.calls_to("/api/widgets/7").await
        );
        waited += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    for _ in 0..3 {
        let (status, html) = app.get_html(&format!("/room/{SEEN}")).await;
        assert_eq!(status, 200, "the cached room stays up");
        assert!(html.contains("Cached room"));
        let (status, html) = app.get_html(&format!("/room/{SEEN}/{HOST}")).await;
        assert_eq!(status, 200, "the cached room's host link still works");
        assert!(html.contains("Joining as host"));
        assert_eq!(
            app.get(&format!("/room/{SEEN}/NotTheHostTok"))
                .await
                .status(),
            404,
            "role checks do not fail open"
        );
        assert_unavailable(&app, UNSEEN, "token refused").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.get("/readyz").await.status(), 503);
    assert_eq!(app.get("/healthz").await.status(), 200);

    let logs = app.logs();
    for secret in [
        CLIENT_SECRET,
        TOKEN,
        HOST,
        "FaultPresTok32",
        PERSONAL,
        "NotTheHostTok",
    ] {
        assert!(!logs.contains(secret), "{secret:?} is in the log");
    }
}

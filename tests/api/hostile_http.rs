//! 5 000 hostile requests against one running app, generated from a fixed seed so that a
//! failure can be replayed: odd methods, traversal and encoded paths, overlong and
//! invalid UTF-8 targets, huge and repeated headers, broken and foreign session cookies,
//! bogus `Host` headers, oversized bodies on the POST routes, plain garbage, slowloris
//! connections, and one client guessing role hashes while others use their links.
//!
//! Whatever arrives, nothing answers 5xx (for requests broken at the protocol level a
//! closed connection or any other answer is fine; valid requests must be answered, most
//! with an exact status), nothing panics, no file or secret leaks into an answer or the
//! log, the attacker is throttled while other clients are not, and `/healthz` still
//! answers at the end.
//!
//! Requests go over raw TCP (every client library refuses to send most of them), each
//! with `Connection: close` where it has headers at all. Run with `--nocapture` to see the
//! counts per kind.

use std::{
    collections::{BTreeMap, HashMap},
    fmt::Write as _,
    sync::{Mutex, Once},
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::oneshot,
};

use crate::helpers::{H, L, PUBLIC_URL, embed_json, spawn_app, spawn_app_with};

/// The seed of the whole run: change it to explore, keep it to replay.
const SEED: u64 = 0x726f_6f6d_6761_7465;
/// Requests in the run, all kinds together.
const TOTAL: usize = 5_000;
/// Requests in flight at once.
const IN_FLIGHT: usize = 8;
/// Slow connections opened next to the run; the slow bodies go round the body routes.
const SLOW_HEADERS: usize = 16;
const SLOW_BODIES: usize = 8;
/// How long a request body may take to arrive before it is answered 408.
const BODY_DEADLINE: Duration = Duration::from_secs(10);
/// The longest we wait for one answer.
const ANSWER_WAIT: Duration = Duration::from_secs(20);
/// The most we read of one answer.
const ANSWER_MAX_BYTES: usize = 2 * 1024 * 1024;

const ADMIN_TOKEN: &str = "hostile-suite-admin-token-0123456789-abcdefghij";
const GUESS_LIMIT: usize = 10;
const ATTACKER: &str = "198.51.100.66";
const OPERATOR: &str = "192.0.2.200";
/// In every `Host`-like header of the run: must never come back in a page.
const BOGUS_HOST: &str = "bogus-host.example";
/// In every hostile query value: must never come back as markup.
const MARKUP: &str = "<x-hostile";
/// Nicknames inside the cookies the run sends.
const FOREIGN_NICK: &str = "MalloryForeign";
const GENUINE_NICK: &str = "AdaGenuine";
/// Text of files that must never be served: config, manifest, catalog, sources, system.
const LEAK_MARKERS: [&str; 8] = [
    "license_pattern",
    "[package]",
    "HostToken123",
    "PresenterToken456",
    "OtherHost789",
    "fn main(",
    "root:x:0:0",
    ADMIN_TOKEN,
];
/// Panics other tests of this binary cause on purpose (status_pages.rs).
const DELIBERATE_PANICS: [&str; 1] = ["bug-detail-456"];

/// SplitMix64: tiny, and the same sequence on every machine and every version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
        (0..len).map(|_| *self.pick(ALPHABET) as char).collect()
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Method,
    Traversal,
    Encoded,
    Overlong,
    InvalidUtf8,
    Headers,
    Cookies,
    BogusHost,
    OversizedBody,
    HostileQuery,
    Garbage,
    RoleGuessAttacker,
    OtherClients,
    SlowHeaders,
    SlowBody,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Method => "random and garbage methods",
            Kind::Traversal => "path traversal (../, %2e%2e/)",
            Kind::Encoded => "encoded slashes and NULs (%2F, %00)",
            Kind::Overlong => "overlong paths",
            Kind::InvalidUtf8 => "invalid UTF-8 (raw and %-encoded)",
            Kind::Headers => "huge, repeated and malformed headers",
            Kind::Cookies => "malformed, tampered and foreign cookies",
            Kind::BogusHost => "bogus Host / X-Forwarded-Host",
            Kind::OversizedBody => "oversized bodies on POST routes",
            Kind::HostileQuery => "hostile query strings",
            Kind::Garbage => "garbage and pipelined bytes",
            Kind::RoleGuessAttacker => "role-hash guesses (one attacker)",
            Kind::OtherClients => "role links of other clients",
            Kind::SlowHeaders => "slowloris: headers one byte at a time",
            Kind::SlowBody => "slowloris: body one byte at a time",
        }
    }
}

/// What a request expects of its answer.
#[derive(Debug, Clone, PartialEq)]
enum Expect {
    /// Valid HTTP: an answer must come, below 500.
    Answer,
    /// Valid HTTP that must be refused: an answer in 400..=499.
    Refused,
    /// Valid HTTP with exactly this status.
    Status(u16),
    /// Broken at the protocol level: a closed connection, or an answer below 500.
    AnyButServerError,
}

/// One planned request.
struct Planned {
    kind: Kind,
    /// Short description for failure messages.
    what: String,
    bytes: Vec<u8>,
    expect: Expect,
    /// Texts the answer must not contain.
    must_not_contain: Vec<String>,
    /// Texts the answer must contain (controls that prove a check can fail).
    must_contain: Vec<String>,
    /// Requests with the same key go one after another, each sent only once the one
    /// before it was answered (one simulated client).
    sequence: Option<String>,
}

impl Planned {
    fn new(kind: Kind, what: impl Into<String>, bytes: Vec<u8>, expect: Expect) -> Self {
        let mut must_not_contain: Vec<String> =
            LEAK_MARKERS.iter().map(|s| s.to_string()).collect();
        must_not_contain.push(BOGUS_HOST.to_owned());
        Planned {
            kind,
            what: what.into(),
            bytes,
            expect,
            must_not_contain,
            must_contain: vec![],
            sequence: None,
        }
    }
    fn not_containing(mut self, text: &str) -> Self {
        self.must_not_contain.push(text.to_owned());
        self
    }
    fn containing(mut self, text: &str) -> Self {
        self.must_contain.push(text.to_owned());
        self
    }
}

/// A request with the usual head: `Host` and `Connection: close`, then `extra` headers.
fn request(method: &str, target: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut head =
        format!("{method} {target} HTTP/1.1\r\nHost: rooms.test\r\nConnection: close\r\n{extra}");
    if !body.is_empty()
        && !extra.to_ascii_lowercase().contains("content-length")
        && !extra.to_ascii_lowercase().contains("transfer-encoding")
    {
        let _ = write!(head, "Content-Length: {}\r\n", body.len());
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn get(target: &str) -> Vec<u8> {
    request("GET", target, "", b"")
}

/// Raw bytes as a readable description (for failure messages).
fn describe(bytes: &[u8]) -> String {
    let shown: String = String::from_utf8_lossy(&bytes[..bytes.len().min(160)])
        .chars()
        .flat_map(char::escape_debug)
        .collect();
    if bytes.len() > 160 {
        format!("{shown}… ({} bytes)", bytes.len())
    } else {
        shown
    }
}

/// The cookies the run sends, made before it starts.
struct Cookies {
    /// Made by this app: carries `GENUINE_NICK`.
    genuine: String,
    /// Made by another app instance (another key): carries `FOREIGN_NICK`.
    foreign: String,
}

const ROUTES: [&str; 16] = [
    "/",
    "/healthz",
    "/readyz",
    "/theme.css",
    "/static/css/site.css",
    "/static/js/room.js",
    "/room/123-123-123",
    "/room/123-123-123/join",
    "/room/123-123-123/calendar.ics",
    "/room/234-234-234/calendar.ics",
    "/room/345-345-345",
    "/room/999-999-999",
    "/admin/api/rooms",
    "/admin/api/rooms/123-123-123",
    "/oauth/connect",
    "/oauth/callback?code=x&state=y",
];

fn plan_method(rng: &mut Rng) -> Planned {
    const VALID: [&str; 11] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "PROPFIND", "BREW",
        "M-SEARCH",
    ];
    const GARBAGE: [&str; 10] = [
        "G ET",
        "GE\u{0}T",
        "GET\u{7f}",
        "ĞET",
        "GET/",
        "[GET]",
        "GET\t",
        "\"GET\"",
        "G\r\nET",
        "",
    ];
    let route = *rng.pick(&ROUTES);
    if rng.below(4) == 0 {
        let method = *rng.pick(&GARBAGE);
        let bytes = request(method, route, "", b"");
        return Planned::new(
            Kind::Method,
            format!("{method:?} {route}"),
            bytes,
            Expect::AnyButServerError,
        );
    }
    let method = if rng.below(10) == 0 {
        "X".repeat(1 + rng.below(2000))
    } else {
        (*rng.pick(&VALID)).to_owned()
    };
    let extra = if method == "POST" || method == "PUT" || method == "PATCH" {
        "Content-Length: 0\r\n"
    } else {
        ""
    };
    let bytes = request(&method, route, extra, b"");
    Planned::new(
        Kind::Method,
        format!("{} {route}", describe(method.as_bytes())),
        bytes,
        Expect::Answer,
    )
}

fn plan_traversal(rng: &mut Rng) -> Planned {
    const UP: [&str; 10] = [
        "../",
        "..%2F",
        "..%2f",
        "%2e%2e/",
        "%2E%2E%2F",
        "..\\",
        "..%5C",
        "%252e%252e%252f",
        "....//",
        ".%2e/",
    ];
    const TARGETS: [&str; 7] = [
        "config/default.toml",
        "Cargo.toml",
        "tests/fixtures/rooms.toml",
        "src/main.rs",
        "etc/passwd",
        "data/tokens.json",
        "admin/api/rooms",
    ];
    const STARTS: [&str; 6] = [
        "/static/",
        "/static/css/",
        "/room/",
        "/room/123-123-123/",
        "/",
        "/static/js/",
    ];
    let up = *rng.pick(&UP);
    let depth = 1 + rng.below(6);
    let target = format!(
        "{}{}{}",
        rng.pick(&STARTS),
        up.repeat(depth),
        rng.pick(&TARGETS)
    );
    Planned::new(
        Kind::Traversal,
        target.clone(),
        get(&target),
        Expect::Refused,
    )
}

fn plan_encoded(rng: &mut Rng) -> Planned {
    let guess = rng.token(8);
    let paths = [
        format!("/room/{L}%2F{guess}"),
        "/room/123%2F123-123".to_owned(),
        format!("/room/{L}%00"),
        format!("/room/{L}/{guess}%00"),
        format!("/room/{L}/%00"),
        format!("/room/{L}/%2F%2Fevil.example"),
        format!("/room/{L}%2Fjoin"),
        format!("/room/{L}/calendar.ics%00.bat"),
        format!("/room/{L}%3B.bat/calendar.ics"),
        "/static/css%2Fsite.css".to_owned(),
        "/static/x%00.css".to_owned(),
        "/static/css/site.css%00.html".to_owned(),
        "/admin%2Fapi%2Frooms".to_owned(),
        "/healthz%00".to_owned(),
        "/%00".to_owned(),
        "/%2F%2Fevil.example".to_owned(),
        "/room/%2e%2e%2F%2e%2e%2Fadmin%2Fapi%2Frooms".to_owned(),
        format!("/room/{L}/{guess}%2F..%2F..%2Fhealthz"),
    ];
    let path = rng.pick(&paths).clone();
    Planned::new(Kind::Encoded, path.clone(), get(&path), Expect::Refused)
}

fn plan_overlong(rng: &mut Rng) -> Planned {
    const LENGTHS: [usize; 8] = [
        2_000, 8_000, 16_000, 33_000, 64_000, 100_000, 131_072, 200_000,
    ];
    let len = *rng.pick(&LENGTHS);
    let (what, path) = match rng.below(4) {
        0 => ("room key", format!("/room/{}", "1".repeat(len))),
        1 => ("role hash", format!("/room/{L}/{}", rng.token(len))),
        2 => ("static path", format!("/static/{}", "a/".repeat(len / 2))),
        _ => ("query", format!("/room/{L}?_nickname={}", "n".repeat(len))),
    };
    // Up to 65 534 bytes (the longest target actix's URI type holds) these are valid HTTP
    // and must be answered; longer ones may be refused or closed.
    let expect = if len < 65_000 {
        if what == "query" {
            Expect::Answer
        } else {
            Expect::Refused
        }
    } else {
        Expect::AnyButServerError
    };
    Planned::new(
        Kind::Overlong,
        format!("{what} of {len} bytes"),
        get(&path),
        expect,
    )
}

fn plan_invalid_utf8(rng: &mut Rng) -> Planned {
    let raw: [&[u8]; 6] = [
        b"\xff\xfe",
        b"\xc0\xaf",
        b"\x80",
        b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80",
        b"a\xc3",
    ];
    let encoded = [
        "%FF%FE",
        "%C0%AF",
        "%80",
        "%ED%A0%80",
        "%F4%90%80%80",
        "a%C3",
    ];
    let i = rng.below(raw.len());
    match rng.below(6) {
        0 => {
            let mut target = b"/room/".to_vec();
            target.extend_from_slice(raw[i]);
            Planned::new(
                Kind::InvalidUtf8,
                describe(&target),
                raw_get(&target),
                Expect::AnyButServerError,
            )
        }
        1 => {
            let mut target = format!("/room/{L}/").into_bytes();
            target.extend_from_slice(raw[i]);
            Planned::new(
                Kind::InvalidUtf8,
                describe(&target),
                raw_get(&target),
                Expect::AnyButServerError,
            )
        }
        2 => {
            let mut target = format!("/room/{L}?_nickname=").into_bytes();
            target.extend_from_slice(raw[i]);
            Planned::new(
                Kind::InvalidUtf8,
                describe(&target),
                raw_get(&target),
                Expect::AnyButServerError,
            )
        }
        3 => {
            let path = format!("/room/{}", encoded[i]);
            Planned::new(Kind::InvalidUtf8, path.clone(), get(&path), Expect::Refused)
        }
        4 => {
            let path = format!(
                "/room/{L}?_nickname={}&_email={}&_personal_token={}",
                encoded[i], encoded[i], encoded[i]
            );
            Planned::new(
                Kind::InvalidUtf8,
                path.clone(),
                get(&path),
                Expect::Status(200),
            )
        }
        _ => {
            let mut extra = b"User-Agent: ".to_vec();
            extra.extend_from_slice(raw[i]);
            extra.extend_from_slice(b"\r\nAccept-Language: ");
            extra.extend_from_slice(raw[i]);
            extra.extend_from_slice(b"\r\n");
            let mut bytes =
                format!("GET /room/{L} HTTP/1.1\r\nHost: rooms.test\r\nConnection: close\r\n")
                    .into_bytes();
            bytes.extend_from_slice(&extra);
            bytes.extend_from_slice(b"\r\n");
            Planned::new(
                Kind::InvalidUtf8,
                "invalid UTF-8 in User-Agent",
                bytes,
                Expect::AnyButServerError,
            )
        }
    }
}

fn raw_get(target: &[u8]) -> Vec<u8> {
    let mut bytes = b"GET ".to_vec();
    bytes.extend_from_slice(target);
    bytes.extend_from_slice(b" HTTP/1.1\r\nHost: rooms.test\r\nConnection: close\r\n\r\n");
    bytes
}

fn plan_headers(rng: &mut Rng) -> Planned {
    let route = *rng.pick(&ROUTES);
    let (what, extra, body): (String, String, Vec<u8>) = match rng.below(16) {
        0 => {
            let n = *rng.pick(&[8_000usize, 32_000, 100_000, 140_000]);
            (
                format!("one header of {n} bytes"),
                format!("X-Big: {}\r\n", "a".repeat(n)),
                vec![],
            )
        }
        1 => {
            let n = *rng.pick(&[50usize, 95, 97, 200, 1_000]);
            let headers: String = (0..n).map(|i| format!("X-R{i}: v\r\n")).collect();
            (format!("{n} headers"), headers, vec![])
        }
        2 => {
            let n = *rng.pick(&[2usize, 20, 90, 200]);
            let headers: String = (0..n).map(|i| format!("Cookie: c{i}=v{i}\r\n")).collect();
            (format!("{n} Cookie headers"), headers, vec![])
        }
        3 => {
            let n = *rng.pick(&[4_096usize, 10_000, 60_000, 120_000]);
            (
                format!("Cookie header of {n} bytes"),
                format!("Cookie: roomgate={}\r\n", "A".repeat(n)),
                vec![],
            )
        }
        4 => (
            "two Content-Length".into(),
            "Content-Length: 0\r\nContent-Length: 5\r\n".into(),
            b"hello".to_vec(),
        ),
        5 => (
            "Content-Length and chunked".into(),
            "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n".into(),
            b"0\r\n\r\nGET /admin/api/rooms HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        ),
        6 => (
            "bad chunk size".into(),
            "Transfer-Encoding: chunked\r\n".into(),
            b"zz\r\nhello\r\n0\r\n\r\n".to_vec(),
        ),
        7 => (
            "chunk size overflow".into(),
            "Transfer-Encoding: chunked\r\n".into(),
            b"ffffffffffffffffffff\r\nx\r\n0\r\n\r\n".to_vec(),
        ),
        8 => (
            "unknown transfer coding".into(),
            "Transfer-Encoding: gzip, chunked, identity\r\n".into(),
            b"0\r\n\r\n".to_vec(),
        ),
        9 => (
            "header name with a space".into(),
            "Bad Header: x\r\n".into(),
            vec![],
        ),
        10 => (
            "header without a colon".into(),
            "NoColonHere\r\n".into(),
            vec![],
        ),
        11 => (
            "folded header".into(),
            "X-Folded: a\r\n  continued\r\n".into(),
            vec![],
        ),
        12 => (
            "control bytes in a value".into(),
            "X-Ctl: a\u{1}b\rc\u{0}\r\n".into(),
            vec![],
        ),
        13 => {
            let n = *rng.pick(&[10usize, 1_000, 20_000]);
            (
                format!("X-Forwarded-For with {n} hops"),
                format!("X-Forwarded-For: {}\r\n", "not-an-ip, ".repeat(n)),
                vec![],
            )
        }
        14 => {
            let n = *rng.pick(&[1usize, 100, 5_000]);
            (
                format!("Range with {n} parts"),
                format!(
                    "Range: bytes={}\r\nIf-None-Match: {}\r\nIf-Modified-Since: yesterday\r\n",
                    "0-0,".repeat(n),
                    "\"x\",".repeat(n.min(1000))
                ),
                vec![],
            )
        }
        _ => {
            let n = *rng.pick(&[10usize, 5_000, 60_000]);
            (
                format!("Authorization of {n} bytes"),
                format!("Authorization: Bearer {}\r\n", rng.token(n)),
                vec![],
            )
        }
    };
    let bytes = request(
        if body.is_empty() { "GET" } else { "POST" },
        route,
        &extra,
        &body,
    );
    // Ambiguous message framing must be refused, never guessed at (no smuggling).
    let framing = [
        "two Content-Length",
        "Content-Length and chunked",
        "bad chunk size",
        "chunk size overflow",
    ];
    let expect = if framing.contains(&what.as_str()) {
        Expect::Refused
    } else {
        Expect::AnyButServerError
    };
    Planned::new(Kind::Headers, format!("{what} on {route}"), bytes, expect)
}

fn plan_cookie(rng: &mut Rng, cookies: &Cookies) -> Planned {
    let route = rng
        .pick(&[
            format!("/room/{L}"),
            format!("/room/{L}?_email=x%40example.com"),
            "/room/222-222-222".to_owned(),
        ])
        .clone();
    let mut flipped = cookies.genuine.clone().into_bytes();
    let at = "roomgate=".len() + rng.below(flipped.len() - "roomgate=".len());
    flipped[at] = if flipped[at] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let truncated = cookies.genuine[..cookies.genuine.len() - 1 - rng.below(20)].to_owned();
    let random_b64: String = {
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
        let n = 1 + rng.below(3000);
        (0..n).map(|_| *rng.pick(B64) as char).collect()
    };
    let many_pairs: String = (0..500)
        .map(|i| format!("k{i}=v{i}"))
        .collect::<Vec<_>>()
        .join("; ");
    let variants: [(&str, String); 12] = [
        ("another app's cookie", cookies.foreign.clone()),
        ("one byte flipped", flipped),
        ("truncated", truncated),
        ("random base64", format!("roomgate={random_b64}")),
        ("not base64", "roomgate=%%%not-base64!!".to_owned()),
        ("empty", "roomgate=".to_owned()),
        ("no value", "roomgate".to_owned()),
        ("quoted", "roomgate=\"abc;def\"".to_owned()),
        ("500 pairs", many_pairs),
        ("Host-prefixed twin", format!("__Host-{}", cookies.foreign)),
        (
            "twice",
            format!(
                "{}; {}",
                cookies.foreign,
                cookies.genuine.replace("roomgate=", "roomgate=x")
            ),
        ),
        ("UTF-8 value", "roomgate=żółw🎉".to_owned()),
    ];
    let (what, cookie) = if rng.below(30) == 0 {
        // The control: this app's own cookie does carry the name.
        let bytes = request(
            "GET",
            &route,
            &format!("Cookie: {}\r\n", cookies.genuine),
            b"",
        );
        return Planned::new(
            Kind::Cookies,
            format!("genuine cookie (control) on {route}"),
            bytes,
            Expect::Status(200),
        )
        .containing(GENUINE_NICK);
    } else {
        rng.pick(&variants).clone()
    };
    let bytes = request("GET", &route, &format!("Cookie: {cookie}\r\n"), b"");
    Planned::new(
        Kind::Cookies,
        format!("{what} cookie on {route}"),
        bytes,
        Expect::Status(200),
    )
    .not_containing(FOREIGN_NICK)
    .not_containing(GENUINE_NICK)
}

fn plan_host(rng: &mut Rng) -> Planned {
    let route = *rng.pick(&[
        "/room/123-123-123",
        "/room/234-234-234",
        "/room/234-234-234/calendar.ics",
        "/room/999-999-999",
        "/oauth/connect",
        "/admin/api/rooms",
    ]);
    let long = format!("{}.{BOGUS_HOST}", "b".repeat(10_000));
    let heads: [(&str, String); 11] = [
        ("bogus Host", format!("Host: {BOGUS_HOST}\r\n")),
        (
            "Host with a bad port",
            format!("Host: {BOGUS_HOST}:99999\r\n"),
        ),
        ("empty Host", "Host: \r\n".to_owned()),
        ("no Host", String::new()),
        (
            "two Hosts",
            format!("Host: rooms.test\r\nHost: {BOGUS_HOST}\r\n"),
        ),
        (
            "Host with user info",
            format!("Host: user@{BOGUS_HOST}\r\n"),
        ),
        ("Host with a path", format!("Host: {BOGUS_HOST}/x\r\n")),
        ("unclosed IPv6 Host", "Host: [::1\r\n".to_owned()),
        ("long Host", format!("Host: {long}\r\n")),
        (
            "X-Forwarded-Host",
            format!(
                "Host: rooms.test\r\nX-Forwarded-Host: {BOGUS_HOST}\r\nX-Forwarded-Proto: https\r\n"
            ),
        ),
        (
            "Forwarded",
            format!("Host: rooms.test\r\nForwarded: host={BOGUS_HOST};proto=https;for=1.2.3.4\r\n"),
        ),
    ];
    let (what, head) = rng.pick(&heads);
    let auth = if route.starts_with("/admin") {
        format!("Authorization: Bearer {ADMIN_TOKEN}\r\nX-Forwarded-For: {OPERATOR}\r\n")
    } else {
        String::new()
    };
    let bytes =
        format!("GET {route} HTTP/1.1\r\n{head}{auth}Connection: close\r\n\r\n").into_bytes();
    let expect = match *what {
        "no Host"
        | "two Hosts"
        | "empty Host"
        | "unclosed IPv6 Host"
        | "Host with a path"
        | "Host with user info" => Expect::AnyButServerError,
        _ => Expect::Answer,
    };
    Planned::new(Kind::BogusHost, format!("{what} on {route}"), bytes, expect)
}

fn plan_body(rng: &mut Rng) -> Planned {
    const SIZES: [usize; 7] = [
        4_097, 10_000, 65_537, 100_000, 500_000, 1_000_000, 2_000_000,
    ];
    let huge = rng.below(200) == 0;
    let size = if huge {
        10 * 1024 * 1024
    } else {
        *rng.pick(&SIZES)
    };
    match rng.below(4) {
        0 | 1 => {
            // The join form allows 4 KiB.
            let mut body = b"nickname=".to_vec();
            body.resize(size, b'n');
            let extra = format!(
                "Content-Type: application/x-www-form-urlencoded\r\nOrigin: {PUBLIC_URL}\r\n"
            );
            Planned::new(
                Kind::OversizedBody,
                format!("join form of {size} bytes"),
                request("POST", &format!("/room/{L}/join"), &extra, &body),
                Expect::Status(413),
            )
        }
        2 => {
            // The admin API allows 128 KiB; above 128 KiB it must refuse before parsing.
            let size = size.max(131_073);
            let mut body = br#"{"name":""#.to_vec();
            body.resize(size - 2, b'x');
            body.extend_from_slice(br#""}"#);
            let extra = format!(
                "Content-Type: application/json\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nX-Forwarded-For: {OPERATOR}\r\n"
            );
            Planned::new(
                Kind::OversizedBody,
                format!("admin create of {size} bytes"),
                request("POST", "/admin/api/rooms", &extra, &body),
                Expect::Status(413),
            )
        }
        _ => {
            // Chunked, so the size is only known while reading.
            let chunk = vec![b'n'; 8_192];
            let mut body = Vec::new();
            for _ in 0..size.div_ceil(chunk.len()) {
                body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                body.extend_from_slice(&chunk);
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(b"0\r\n\r\n");
            let (target, extra) = if rng.below(2) == 0 {
                (
                    format!("/room/{L}/join"),
                    format!(
                        "Content-Type: application/x-www-form-urlencoded\r\nOrigin: {PUBLIC_URL}\r\nTransfer-Encoding: chunked\r\n"
                    ),
                )
            } else {
                (
                    "/admin/api/rooms".to_owned(),
                    format!(
                        "Content-Type: application/json\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nX-Forwarded-For: {OPERATOR}\r\nTransfer-Encoding: chunked\r\n"
                    ),
                )
            };
            Planned::new(
                Kind::OversizedBody,
                format!("chunked {size} bytes to {target}"),
                request("POST", &target, &extra, &body),
                Expect::AnyButServerError,
            )
        }
    }
}

fn plan_query(rng: &mut Rng) -> Planned {
    let markup = [
        format!("{MARKUP}>"),
        format!("</script>{MARKUP} onload=alert(1)>"),
        "%3C%2Fscript%3E%3Cx-hostile%3E".to_owned(),
        format!("\"'{MARKUP}&amp;"),
        "%E2%80%A8%E2%80%A9%3Cx-hostile".to_owned(),
        format!("{{{{7*7}}}}{MARKUP}"),
    ];
    let value = rng.pick(&markup).clone();
    let key = *rng.pick(&[
        "_nickname",
        "_email",
        "_avatar_url",
        "_personal_token",
        "__proto__",
        "constructor",
        "_nickname[]",
        "t",
        "_license_key",
        "_role_token",
    ]);
    let query = match rng.below(6) {
        0 => format!("{key}={value}"),
        1 => format!("{key}={value}&{key}={value}&_nickname=ok"),
        2 => (0..1 + rng.below(2_000))
            .map(|_| format!("{key}={value}"))
            .collect::<Vec<_>>()
            .join("&"),
        3 => format!("_nickname={value}&%=%%&%zz=%F&&&=&_email=%40{value}"),
        4 => format!("_nickname={}{value}", "x".repeat(rng.below(200))),
        _ => format!(
            "_avatar_url=javascript:{value}&_avatar_url=https://cdn.example/a.png%22{value}"
        ),
    };
    // Browsers send `"<>{}` and spaces in links percent-encoded; now and then send them raw.
    let raw = rng.below(5) == 0;
    let query = if raw {
        query
    } else {
        query
            .replace('"', "%22")
            .replace('<', "%3C")
            .replace('>', "%3E")
            .replace('{', "%7B")
            .replace('}', "%7D")
            .replace(' ', "%20")
    };
    let room = *rng.pick(&[L, "222-222-222"]);
    let target = format!("/room/{room}?{query}");
    // Targets over 65 534 bytes are beyond what actix's URI type holds: 400.
    let expect = if target.len() > 65_000 {
        Expect::AnyButServerError
    } else if raw {
        Expect::Answer
    } else {
        Expect::Status(200)
    };
    Planned::new(
        Kind::HostileQuery,
        describe(target.as_bytes()),
        get(&target),
        expect,
    )
    .not_containing(MARKUP)
}

fn plan_garbage(rng: &mut Rng) -> Planned {
    let (what, bytes): (&str, Vec<u8>) = match rng.below(10) {
        0 => {
            let n = 1 + rng.below(4_000);
            let mut b = rng.bytes(n);
            b.extend_from_slice(b"\r\n\r\n");
            ("random bytes", b)
        }
        1 => ("HTTP/9.9", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n".to_vec()),
        2 => ("HTTP/0.9", b"GET /healthz\r\n\r\n".to_vec()),
        3 => ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec()),
        4 => ("empty lines", b"\r\n\r\n\r\n\r\n".to_vec()),
        5 => ("bare LF", b"GET /healthz HTTP/1.1\nHost: x\nConnection: close\n\n".to_vec()),
        6 => ("extra spaces", b"GET  /healthz  HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        7 => ("incomplete head", b"GET /healthz HTTP/1.1\r\nHost: x\r\n".to_vec()),
        8 => ("absolute-form target", format!("GET http://{BOGUS_HOST}/room/{L} HTTP/1.1\r\nHost: rooms.test\r\nConnection: close\r\n\r\n").into_bytes()),
        _ => {
            // 50 pipelined requests, the last one closing.
            let mut b = Vec::new();
            for i in 0..50 {
                let close = if i == 49 { "Connection: close\r\n" } else { "" };
                b.extend_from_slice(format!("GET /room/{L}/G{i}x HTTP/1.1\r\nHost: rooms.test\r\n{close}\r\n").as_bytes());
            }
            ("50 pipelined requests", b)
        }
    };
    Planned::new(Kind::Garbage, what, bytes, Expect::AnyButServerError)
}

/// The role link of `client` (through the trusted proxy), with `hash`.
fn role_request(kind: Kind, client: &str, hash: &str) -> Planned {
    let bytes = request(
        "GET",
        &format!("/room/{L}/{hash}"),
        &format!("X-Forwarded-For: {client}\r\n"),
        b"",
    );
    let mut p = Planned::new(
        kind,
        format!("{client} /room/{L}/{hash}"),
        bytes,
        Expect::Answer,
    );
    p.must_not_contain.retain(|m| m != "HostToken123");
    p.sequence = Some(client.to_owned());
    p
}

/// The whole run, in order: hostile requests, with the attacker's and the other clients'
/// role links in between (densely at first, so that the attacker is blocked early).
fn plan(cookies: &Cookies) -> (Vec<Planned>, Vec<Option<bool>>) {
    let mut rng = Rng(SEED);
    let mut items = Vec::with_capacity(TOTAL);
    // For the attacker: whether the request carries the right hash.
    let mut attacker_right = Vec::new();
    let mut other_clients_seen = 0usize;
    let hostile_total = TOTAL - SLOW_HEADERS - SLOW_BODIES;
    for p in 0..hostile_total {
        let dense = p < 320;
        let attacker_turn = if dense { p % 8 == 3 } else { p % 50 == 3 };
        let client_turn = if dense { p % 8 == 7 } else { p % 50 == 28 };
        if attacker_turn {
            let right = attacker_right.len() % 7 == 6;
            let hash = if right {
                H.to_owned()
            } else {
                format!("Guess{}", rng.token(12))
            };
            items.push(role_request(Kind::RoleGuessAttacker, ATTACKER, &hash));
            attacker_right.push(Some(right));
            continue;
        }
        if client_turn {
            // 40 clients; each makes at most 4 wrong guesses over the whole run.
            let n = other_clients_seen;
            other_clients_seen += 1;
            let client = format!("203.0.113.{}", 1 + n % 40);
            let wrong = (n / 40) % 3 == 1 && n / 40 < 12;
            let hash = if wrong {
                format!("Typo{}", rng.token(6))
            } else {
                H.to_owned()
            };
            let mut item = role_request(Kind::OtherClients, &client, &hash);
            item.expect = Expect::Status(if wrong { 404 } else { 200 });
            if !wrong {
                item = item.containing("Joining as host");
            }
            items.push(item);
            continue;
        }
        let roll = rng.below(100);
        let item = match roll {
            0..=11 => plan_method(&mut rng),
            12..=23 => plan_traversal(&mut rng),
            24..=35 => plan_encoded(&mut rng),
            36..=40 => plan_overlong(&mut rng),
            41..=50 => plan_invalid_utf8(&mut rng),
            51..=60 => plan_headers(&mut rng),
            61..=72 => plan_cookie(&mut rng, cookies),
            73..=82 => plan_host(&mut rng),
            83..=87 => plan_body(&mut rng),
            88..=97 => plan_query(&mut rng),
            _ => plan_garbage(&mut rng),
        };
        items.push(item);
    }
    (items, attacker_right)
}

/// What came back on one connection.
#[derive(Debug, Clone)]
struct Answer {
    /// Every status line's code, in order (several for pipelined requests).
    statuses: Vec<u16>,
    /// The first answer's status line and headers, lower-cased.
    head: String,
    body: String,
    /// Nothing within `ANSWER_WAIT`.
    timed_out: bool,
    sent_at: Instant,
    received_at: Instant,
}

impl Answer {
    fn status(&self) -> Option<u16> {
        self.statuses.first().copied()
    }
}

/// Sends `bytes` on a new connection and reads until the server closes (bounded).
async fn exchange(address: &str, bytes: Vec<u8>) -> Answer {
    let sent_at = Instant::now();
    let stream = TcpStream::connect(address)
        .await
        .expect("the server accepts connections");
    let (mut reader, mut writer) = stream.into_split();
    let writing = tokio::spawn(async move {
        // The server may answer and close before it has read everything.
        if writer.write_all(&bytes).await.is_ok() {
            let _ = writer.flush().await;
        }
        // Keep the write side open: closing it early makes some servers drop the answer.
        tokio::time::sleep(ANSWER_WAIT).await;
        drop(writer);
    });
    let mut received = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut timed_out = false;
    let deadline = tokio::time::Instant::now() + ANSWER_WAIT;
    loop {
        match tokio::time::timeout_at(deadline, reader.read(&mut buf)).await {
            Err(_) => {
                timed_out = true;
                break;
            }
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                received.extend_from_slice(&buf[..n]);
                if received.len() > ANSWER_MAX_BYTES {
                    break;
                }
            }
        }
    }
    writing.abort();
    let received_at = Instant::now();
    let text = String::from_utf8_lossy(&received).into_owned();
    let statuses = status_codes(&text);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .map(|(h, b)| (h.to_ascii_lowercase(), b.to_owned()))
        .unwrap_or_default();
    Answer {
        timed_out: timed_out && received.is_empty(),
        statuses,
        head,
        body,
        sent_at,
        received_at,
    }
}

/// The codes of every `HTTP/1.x NNN` status line in `text`.
fn status_codes(text: &str) -> Vec<u16> {
    let mut codes = Vec::new();
    for (i, _) in text.match_indices("HTTP/1.") {
        if i != 0 && !text[..i].ends_with('\n') {
            continue;
        }
        if let Some(code) = text.get(i + 9..i + 12).and_then(|c| c.parse().ok()) {
            codes.push(code);
        }
    }
    codes
}

/// Panics on the server's worker threads, recorded by a panic hook (a panic outside the
/// handlers' catcher would kill the connection and never reach the log).
static WORKER_PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn record_worker_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            if thread.name().is_some_and(|n| n.starts_with("actix")) {
                WORKER_PANICS
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(info.to_string());
            }
            previous(info);
        }));
    });
}

/// The session cookie `app` sets on a page that remembers a nickname.
async fn cookie_of(app: &crate::helpers::TestApp, nickname: &str) -> String {
    let res = crate::helpers::plain_client()
        .get(app.url(&format!("/room/{L}?_nickname={nickname}")))
        .send()
        .await
        .unwrap();
    let set_cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    set_cookie.split(';').next().unwrap().to_owned()
}

/// What a slow client saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum SlowEnd {
    Answered(u16),
    ClosedByServer,
    StillOpenWhenWeStopped,
}

/// Sends `head`, then one byte every 250 ms (at most 160), until the server answers or
/// closes; returns how that ended and when, counted from the connection.
async fn slow_client(address: String, head: Vec<u8>) -> (SlowEnd, Duration) {
    let started = Instant::now();
    let end = trickle(address, head).await;
    (end, started.elapsed())
}

async fn trickle(address: String, head: Vec<u8>) -> SlowEnd {
    let mut stream = TcpStream::connect(&address)
        .await
        .expect("the server accepts connections");
    if stream.write_all(&head).await.is_err() {
        return SlowEnd::ClosedByServer;
    }
    let mut buf = vec![0u8; 4096];
    for _ in 0..160 {
        tokio::select! {
            read = stream.read(&mut buf) => {
                return match read {
                    Ok(0) | Err(_) => SlowEnd::ClosedByServer,
                    Ok(n) => status_codes(&String::from_utf8_lossy(&buf[..n]))
                        .first()
                        .map_or(SlowEnd::ClosedByServer, |c| SlowEnd::Answered(*c)),
                };
            }
            _ = tokio::time::sleep(Duration::from_millis(250)) => {
                if stream.write_all(b"a").await.is_err() {
                    return SlowEnd::ClosedByServer;
                }
            }
        }
    }
    SlowEnd::StillOpenWhenWeStopped
}

/// Checks the attacker's answers against the throttle's rule: wrong hashes are 404 until
/// `GUESS_LIMIT` of them within a minute, then every role link is 429 (even the right
/// hash) until that minute is over. The server's minute starts at its first counted
/// failure, somewhere between sending that request and its answer; an answer that may
/// fall on either side of the minute's end is accepted either way, and if it cannot tell
/// which, later answers are only checked for being one of 200, 404, 429.
/// Returns how many answers had to be, and were checked to be, 429.
fn check_attacker(answers: &[(bool, Answer)], failures: &mut Vec<String>) -> usize {
    let window = Duration::from_secs(60);
    let mut count = 0usize;
    // Earliest and latest moment the server may have started the current minute.
    let mut started: Option<(Instant, Instant)> = None;
    let mut certain = true;
    let mut blocked_checked = 0;
    for (i, (right, a)) in answers.iter().enumerate() {
        let status = a.status();
        if let Some((_, latest)) = started
            && a.sent_at >= latest + window
        {
            count = 0;
            started = None;
        }
        let in_window = started.is_none_or(|(earliest, _)| a.received_at < earliest + window);
        if certain && in_window {
            let expected = if count >= GUESS_LIMIT {
                429
            } else if *right {
                200
            } else {
                404
            };
            if status != Some(expected) {
                failures.push(format!(
                    "attacker request {i} ({count} wrong guesses counted, right hash: {right}): expected {expected}, got {status:?}"
                ));
            }
            if expected == 429 {
                blocked_checked += 1;
                if status == Some(429) && !a.head.contains("\r\nretry-after: ") {
                    failures.push(format!("attacker request {i}: 429 without Retry-After"));
                }
            }
        } else if !matches!(status, Some(200 | 404 | 429)) {
            failures.push(format!("attacker request {i}: got {status:?}"));
        }
        if certain && !in_window {
            match status {
                // Still the old minute.
                Some(429) => {}
                // Blocked before, not now: the minute ended.
                _ if count >= GUESS_LIMIT => {
                    count = 0;
                    started = None;
                }
                _ => certain = false,
            }
        }
        if status == Some(404) {
            if count == 0 {
                started = Some((a.sent_at, a.received_at));
            }
            count += 1;
        }
    }
    blocked_checked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_hostile_requests_get_no_5xx_and_the_server_stays_up() {
    record_worker_panics();
    let app = spawn_app_with(|env| {
        env.insert(
            "ROOMGATE__SERVER__TRUSTED_PROXIES".into(),
            "127.0.0.1".into(),
        );
        env.insert(
            "ROOMGATE__SECURITY__ROLE_GUESS_LIMIT".into(),
            GUESS_LIMIT.to_string(),
        );
        env.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN_TOKEN.into());
    })
    .await;
    let other = spawn_app().await;
    let cookies = Cookies {
        genuine: cookie_of(&app, GENUINE_NICK).await,
        foreign: cookie_of(&other, FOREIGN_NICK).await,
    };
    let address = app.address.trim_start_matches("http://").to_owned();
    let (items, attacker_right) = plan(&cookies);

    let slow = {
        let address = address.clone();
        tokio::spawn(async move {
            let mut clients = Vec::new();
            for i in 0..SLOW_HEADERS {
                let head = format!("GET /room/{L} HTTP/1.1\r\nHost: rooms.test\r\nX-Slow-{i}: ")
                    .into_bytes();
                clients.push((
                    Kind::SlowHeaders,
                    format!("GET /room/{L}"),
                    tokio::spawn(slow_client(address.clone(), head)),
                ));
            }
            // Every route that reads a body: forms, and the admin API with its token.
            // (Without the token the admin API answers 401 before reading any body:
            // see hardening_requests::h13_….)
            let form = format!(
                "Origin: {PUBLIC_URL}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            );
            let json = "Content-Type: application/json\r\n".to_owned();
            let admin = format!("{json}Authorization: Bearer {ADMIN_TOKEN}\r\n");
            let body_routes = [
                ("POST", format!("/room/{L}/join"), &form, "nickname="),
                ("POST", "/sso/logout".to_owned(), &form, "csrf="),
                (
                    "POST",
                    "/admin/api/rooms".to_owned(),
                    &admin,
                    "{\"name\": \"",
                ),
                (
                    "PUT",
                    format!("/admin/api/rooms/{L}"),
                    &admin,
                    "{\"name\": \"",
                ),
                (
                    "POST",
                    format!("/admin/api/rooms/{L}/invitations"),
                    &admin,
                    "{\"email\": \"",
                ),
            ];
            for (method, target, headers, start) in body_routes.iter().cycle().take(SLOW_BODIES) {
                let head = format!(
                    "{method} {target} HTTP/1.1\r\nHost: rooms.test\r\n{headers}Content-Length: 4000\r\n\r\n{start}"
                )
                .into_bytes();
                clients.push((
                    Kind::SlowBody,
                    format!("{method} {target}"),
                    tokio::spawn(slow_client(address.clone(), head)),
                ));
            }
            let mut ends = Vec::new();
            for (kind, what, client) in clients {
                ends.push((kind, what, client.await.unwrap()));
            }
            ends
        })
    };

    // The bytes go out; the rest of each plan stays here to check the answers against.
    let mut checks = items;
    let sends: Vec<(Vec<u8>, Option<String>)> = checks
        .iter_mut()
        .map(|p| (std::mem::take(&mut p.bytes), p.sequence.take()))
        .collect();
    let mut last_of_client: HashMap<String, oneshot::Receiver<()>> = HashMap::new();
    let requests = sends.into_iter().enumerate().map(|(i, (bytes, sequence))| {
        let (after, done) = match sequence {
            Some(client) => {
                let (done, next) = oneshot::channel();
                (last_of_client.insert(client, next), Some(done))
            }
            None => (None, None),
        };
        let address = address.clone();
        async move {
            if let Some(previous) = after {
                let _ = previous.await;
            }
            let answer = exchange(&address, bytes).await;
            if let Some(done) = done {
                let _ = done.send(());
            }
            (i, answer)
        }
    });
    // Unordered, so that one slow answer does not hold the others up; requests of one
    // client still go one after another (they start in order, and wait for the previous).
    let mut numbered: Vec<(usize, Answer)> = futures_util::stream::iter(requests)
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    numbered.sort_by_key(|(i, _)| *i);
    let answers: Vec<Answer> = numbered.into_iter().map(|(_, a)| a).collect();
    let slow_ends = slow.await.unwrap();

    // Every answer against its expectation.
    let mut failures = Vec::new();
    let mut table: BTreeMap<Kind, BTreeMap<String, usize>> = BTreeMap::new();
    let mut attacker = Vec::new();
    let mut attacker_index = 0;
    for (check, answer) in checks.iter().zip(&answers) {
        let Planned {
            kind,
            what,
            expect,
            must_not_contain: must_not,
            must_contain: must,
            ..
        } = check;
        let outcome = match (answer.status(), answer.timed_out) {
            (Some(s), _) => s.to_string(),
            (None, true) => "no answer".to_owned(),
            (None, false) => "closed".to_owned(),
        };
        *table.entry(*kind).or_default().entry(outcome).or_default() += 1;
        if *kind == Kind::RoleGuessAttacker {
            attacker.push((
                attacker_right[attacker_index].unwrap_or(false),
                answer.clone(),
            ));
            attacker_index += 1;
        }
        if let Some(bad) = answer.statuses.iter().find(|s| **s >= 500) {
            failures.push(format!("{}: {what}: answered {bad}", kind.label()));
            continue;
        }
        let status = answer.status();
        let ok = match expect {
            Expect::Answer => status.is_some(),
            Expect::Refused => status.is_some_and(|s| (400..500).contains(&s)),
            Expect::Status(code) => status == Some(*code),
            Expect::AnyButServerError => !answer.timed_out,
        };
        if !ok {
            failures.push(format!(
                "{}: {what}: expected {expect:?}, got {status:?} (timed out: {})",
                kind.label(),
                answer.timed_out
            ));
        }
        for text in must_not {
            if answer.body.contains(text.as_str()) {
                failures.push(format!(
                    "{}: {what}: the answer contains {text:?}",
                    kind.label()
                ));
            }
        }
        for text in must {
            if !answer.body.contains(text.as_str()) {
                failures.push(format!(
                    "{}: {what}: the answer lacks {text:?}",
                    kind.label()
                ));
            }
        }
        if status == Some(200)
            && let Some(json) = embed_json(&answer.body)
            && serde_json::from_str::<serde_json::Value>(json).is_err()
        {
            failures.push(format!(
                "{}: {what}: the data block is not JSON",
                kind.label()
            ));
        }
    }
    let blocked = check_attacker(&attacker, &mut failures);
    if blocked == 0 {
        failures.push("the attacker was never seen blocked".to_owned());
    }
    for (kind, what, (end, took)) in &slow_ends {
        *table
            .entry(*kind)
            .or_default()
            .entry(format!("{end:?}"))
            .or_default() += 1;
        match (kind, end) {
            (_, SlowEnd::Answered(s)) if *s >= 500 => {
                failures.push(format!("{}: answered {s}", kind.label()))
            }
            // The head must arrive within actix's client request timeout (5 s); we trickle
            // for up to 40 s.
            (Kind::SlowHeaders, SlowEnd::StillOpenWhenWeStopped) => failures.push(format!(
                "{}: the server kept the connection open for 40 s",
                kind.label()
            )),
            // The body must arrive within the body read deadline: then 408.
            (Kind::SlowBody, SlowEnd::Answered(408))
                if *took >= BODY_DEADLINE && *took < BODY_DEADLINE * 2 => {}
            (Kind::SlowBody, _) => failures.push(format!(
                "{}: {what}: expected 408 once the body was {BODY_DEADLINE:?} late, got {end:?} after {took:.1?}",
                kind.label()
            )),
            _ => {}
        }
    }

    // The server is still there, and nothing panicked or leaked.
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200, "/healthz after the run");
    assert_eq!(health.text().await.unwrap().trim(), "ok");
    let logs = app.logs();
    for line in logs.lines().filter(|l| l.contains("panicked")) {
        if !DELIBERATE_PANICS.iter().any(|d| line.contains(d)) {
            failures.push(format!("panic in the log: {line}"));
        }
    }
    for panic in WORKER_PANICS.lock().unwrap().iter() {
        if !DELIBERATE_PANICS.iter().any(|d| panic.contains(d)) {
            failures.push(format!("a server thread panicked: {panic}"));
        }
    }
    for secret in [
        ADMIN_TOKEN,
        H,
        &cookies.genuine["roomgate=".len()..],
        &cookies.foreign["roomgate=".len()..],
    ] {
        if logs.contains(secret) {
            failures.push(format!("{secret:?} is in the log"));
        }
    }
    for Planned { kind, what, .. } in &checks {
        if matches!(kind, Kind::RoleGuessAttacker | Kind::OtherClients) {
            let hash = what.rsplit('/').next().unwrap_or_default();
            if logs.contains(hash) {
                failures.push(format!("the role hash {hash:?} is in the log"));
            }
        }
    }

    let mut took = [0usize; 4];
    for a in &answers {
        let t = a.received_at - a.sent_at;
        took[[10u64, 100, 1000]
            .iter()
            .take_while(|ms| t > Duration::from_millis(**ms))
            .count()] += 1;
    }
    let mut report = format!(
        "{} requests, seed {SEED:#x}\n",
        answers.len() + slow_ends.len()
    );
    for (kind, outcomes) in &table {
        let n: usize = outcomes.values().sum();
        let detail: Vec<String> = outcomes.iter().map(|(o, c)| format!("{o}: {c}")).collect();
        let _ = writeln!(report, "{n:>5}  {:<42} {}", kind.label(), detail.join(", "));
    }
    let _ = writeln!(
        report,
        "answered within 10 ms: {}, 100 ms: {}, 1 s: {}, later: {}",
        took[0], took[1], took[2], took[3]
    );
    println!("{report}");
    assert_eq!(answers.len() + slow_ends.len(), TOTAL);
    assert!(
        failures.is_empty(),
        "{} problems:\n{}\n\n{report}",
        failures.len(),
        failures
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

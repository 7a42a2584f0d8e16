//! Logging: pretty lines in development, JSON in production, one span per request with a
//! request id, and no secrets: role hashes and query values never reach the log.

use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};
use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

use crate::settings::{LogFormat, LogSettings};

/// Installs the global subscriber writing to `sink`; `RUST_LOG` overrides `log.level`.
/// Calling it again (tests) leaves the first subscriber in place.
pub fn init<W>(settings: &LogSettings, sink: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    use tracing_subscriber::util::SubscriberInitExt;
    let _ = dispatch(settings, sink).try_init();
}

/// A subscriber in the format of `settings` writing to `sink`, not installed anywhere
/// (tests give each application its own, see `Application::build_logging_to`).
pub fn dispatch<W>(settings: &LogSettings, sink: W) -> tracing::Dispatch
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    use tracing_subscriber::layer::SubscriberExt;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.level));
    let quiet = QuietClientMistakes {
        verbose: filter
            .max_level_hint()
            .is_some_and(|level| level >= tracing::level_filters::LevelFilter::DEBUG),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(sink);
    match settings.format {
        LogFormat::Json => tracing::Dispatch::new(
            builder
                .json()
                .with_current_span(true)
                .flatten_event(true)
                .finish()
                .with(quiet),
        ),
        LogFormat::Pretty => tracing::Dispatch::new(
            builder
                .compact()
                .fmt_fields(escaped_fields())
                .finish()
                .with(quiet),
        ),
    }
}

/// Hides actix-http's "stream error" lines unless debug logging is on. actix logs them
/// at ERROR when a client sends something that is not HTTP/1.1 to this port (a TLS
/// handshake on the plain port, garbage) or breaks off mid-request: the client's
/// mistake, not ours, and at ERROR it would wake an operator. (A subscriber cannot lower
/// another crate's level, so the line is shown as it is, but only when asked for.)
struct QuietClientMistakes {
    verbose: bool,
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for QuietClientMistakes {
    fn event_enabled(
        &self,
        event: &tracing::Event<'_>,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        self.verbose || !is_client_stream_error(event)
    }
}

/// Whether `event` is actix-http's "stream error" line.
fn is_client_stream_error(event: &tracing::Event<'_>) -> bool {
    struct Message(bool);
    impl tracing::field::Visit for Message {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                self.0 = format!("{value:?}").starts_with("stream error:");
            }
        }
    }
    let meta = event.metadata();
    if meta.target() != "actix_http::h1::dispatcher" || *meta.level() != tracing::Level::ERROR {
        return false;
    }
    let mut message = Message(false);
    event.record(&mut message);
    message.0
}

/// The pretty format's fields with every control character escaped: a value from a
/// request (a token header, a name) with a line break must not write a line of its own.
/// (The JSON format escapes its strings already.)
fn escaped_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> {
    use tracing_subscriber::field::MakeExt;
    tracing_subscriber::fmt::format::debug_fn(|writer, field, value| {
        let text = escape_controls(&format!("{value:?}"));
        if field.name() == "message" {
            write!(writer, "{text}")
        } else {
            write!(writer, "{field}={text}")
        }
    })
    .delimited(" ")
}

/// `text` with control characters written as escapes (`\n`, `\u{1b}` …).
fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The request span of tracing-actix-web, with the target redacted.
pub struct RedactedSpans;

impl RootSpanBuilder for RedactedSpans {
    fn on_request_start(request: &ServiceRequest) -> Span {
        // With request logging off (log.level above info), skip building the span's fields.
        if !tracing::enabled!(tracing::Level::INFO) {
            return Span::none();
        }
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        let target = redact_target(request.path(), request.query_string());
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.target = %target,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        // The access log line: one per request, inside the request's span.
        if let Ok(response) = outcome {
            let status = response.status().as_u16();
            span.in_scope(|| tracing::info!(status, "request finished"));
        }
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// Longest target written to the log.
const TARGET_MAX: usize = 256;

/// The path with a room's role-hash segment replaced, and the query with its values
/// replaced (they can hold tokens, names and emails).
pub fn redact_target(path: &str, query: &str) -> String {
    let mut out = String::with_capacity(path.len() + query.len());
    let segments: Vec<&str> = path.split('/').collect();
    // Decided on the decoded segments, as the router matches them: `/%72oom/…` is a
    // room link too.
    let decoded = |i: usize| {
        segments
            .get(i)
            .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy())
    };
    let is_role_link = segments.len() >= 4
        && decoded(1).as_deref() == Some("room")
        && !matches!(decoded(3).as_deref(), Some("join" | "calendar.ics" | ""));
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        if is_role_link && i >= 3 {
            out.push_str("[redacted]");
            break;
        }
        out.push_str(segment);
    }
    if !query.is_empty() {
        let keys: Vec<String> = query
            .split('&')
            .map(|pair| {
                let key: String = pair
                    .split('=')
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(32)
                    .collect();
                format!("{key}=[redacted]")
            })
            .collect();
        out.push('?');
        out.push_str(&keys.join("&"));
    }
    if out.len() > TARGET_MAX {
        let mut cut = TARGET_MAX;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_hashes_and_query_values_are_redacted() {
        assert_eq!(redact_target("/room/123-123-123", ""), "/room/123-123-123");
        assert_eq!(
            redact_target(
                "/room/123-123-123/S3cretHash",
                "_personal_token=T0k&_nickname=Ada"
            ),
            "/room/123-123-123/[redacted]?_personal_token=[redacted]&_nickname=[redacted]"
        );
        assert_eq!(
            redact_target("/room/123-123-123/join", ""),
            "/room/123-123-123/join"
        );
        assert_eq!(
            redact_target("/room/123-123-123/S3cret/extra", ""),
            "/room/123-123-123/[redacted]"
        );
    }

    #[test]
    fn h8_role_hashes_are_redacted_however_the_path_is_encoded() {
        for path in [
            "/%72oom/123-123-123/S3cretHash",
            "/%72%6F%6Fm/123-123-123/S3cretHash",
            "/room/123-123-123/%53%33cretHash",
            "/r%6fom/123-123-123/S3cretHash/more",
        ] {
            let logged = redact_target(path, "");
            assert!(
                !logged.contains("S3cret") && !logged.contains("%53%33"),
                "{path} -> {logged}"
            );
            assert!(logged.ends_with("/[redacted]"), "{path} -> {logged}");
        }
        assert_eq!(
            redact_target("/r%6Fom/123-123-123/j%6Fin", ""),
            "/r%6Fom/123-123-123/j%6Fin",
            "the name prompt's form is no secret"
        );
    }

    #[test]
    fn h9_a_value_with_a_line_break_cannot_forge_a_pretty_log_line() {
        let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let settings = LogSettings {
            format: LogFormat::Pretty,
            level: "info".into(),
        };
        let dispatch = dispatch(&settings, move || Sink(sink.clone()));
        tracing::dispatcher::with_default(&dispatch, || {
            let reason = "bad alg \"HS256\nINFO forged: admin signed in\"";
            tracing::warn!(%reason, "sign-in token refused: {}", "x\ny");
        });
        let text = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "one event, one line: {text}");
        assert!(text.contains("HS256\\nINFO forged"), "{text}");
    }

    #[test]
    fn h15_a_clients_broken_stream_is_not_an_error_unless_debug_logging_is_on() {
        for (level, shown) in [("info", false), ("warn", false), ("debug", true)] {
            let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let sink = buffer.clone();
            let settings = LogSettings {
                format: LogFormat::Json,
                level: level.into(),
            };
            tracing::dispatcher::with_default(
                &dispatch(&settings, move || Sink(sink.clone())),
                || {
                    // What actix-http writes for a TLS handshake on the plain port.
                    tracing::error!(
                        target: "actix_http::h1::dispatcher",
                        "stream error: {}",
                        "Request parse error: Invalid HTTP method"
                    );
                    tracing::error!(target: "actix_http::h1::dispatcher", "write zero; closing");
                    tracing::error!("a real error of ours");
                },
            );
            let text = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
            assert_eq!(text.contains("stream error"), shown, "at {level}: {text}");
            assert!(
                text.contains("write zero"),
                "other actix errors stay: {text}"
            );
            assert!(text.contains("a real error of ours"), "{text}");
        }
    }

    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn long_targets_are_cut() {
        let t = redact_target(&format!("/{}", "é".repeat(1000)), "");
        assert!(t.len() <= TARGET_MAX + '…'.len_utf8());
    }
}

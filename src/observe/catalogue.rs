//! Every metric roomgate records: its name, kind, labels and meaning. The parts record
//! with literal names and labels of a small fixed set of values; the vendor and room-cache
//! figures also carry `brand`, the id of the brand whose vendor account they are about
//! (`default` for the top-level account), so each account is seen apart and the labels
//! stay as few as the brands. The test suite checks that each name recorded under `src/`
//! is listed here, shown on `/metrics` with these labels and explained in the README.

/// The commit roomgate was built from: `ROOMGATE_COMMIT` at build time (set by CI), else
/// "unknown". No build script asks git: a build from a source archive has none.
pub const BUILD_COMMIT: &str = match option_env!("ROOMGATE_COMMIT") {
    Some(commit) if !commit.is_empty() => commit,
    _ => "unknown",
};

/// What kind of figure a metric is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
}

/// One metric: its name, kind, label names and meaning (the `# HELP` line).
#[derive(Debug)]
pub struct Metric {
    pub name: &'static str,
    pub kind: MetricKind,
    pub labels: &'static [&'static str],
    pub help: &'static str,
}

const fn metric(
    name: &'static str,
    kind: MetricKind,
    labels: &'static [&'static str],
    help: &'static str,
) -> Metric {
    Metric {
        name,
        kind,
        labels,
        help,
    }
}

use MetricKind::{Counter, Gauge, Histogram};

/// Every metric roomgate records (the process_* figures of `metrics-process` aside).
pub const METRICS: &[Metric] = &[
    metric(
        "roomgate_http_requests_total",
        Counter,
        &["route", "status_class"],
        "HTTP answers, by route pattern (`other` when no route matched) and status class.",
    ),
    metric(
        "roomgate_http_request_duration_seconds",
        Histogram,
        &["route"],
        "Time from the request's arrival to its answer's head, by route pattern.",
    ),
    metric(
        "roomgate_page_views_total",
        Counter,
        &["kind", "phase"],
        "Room pages shown (GET): attendee, role (host link) or personal (personal token) link, by the room's phase.",
    ),
    metric(
        "roomgate_name_prompts_total",
        Counter,
        &["event"],
        "Name prompts shown instead of the room, and names submitted through them.",
    ),
    metric(
        "roomgate_room_cache_events_total",
        Counter,
        &["event", "brand"],
        "Room lookups of the API source by what the cache did: hit, miss (fetched), coalesced (waited for another visitor's fetch), stale (served past the TTL while refreshing), stale_if_error (served past the TTL because refreshing failed), negative_hit (a key known to have no room).",
    ),
    metric(
        "roomgate_room_cache_entries",
        Gauge,
        &["brand"],
        "Rooms in the API source's cache, at the time of the scrape, by brand (each vendor account has a cache of its own).",
    ),
    metric(
        "roomgate_vendor_calls_total",
        Counter,
        &["endpoint", "outcome", "brand"],
        "Calls to the LiveWebinar API by endpoint, outcome (ok, client_error, rate_limited, server_error, timeout, unreachable, bad_body) and the brand whose account made them.",
    ),
    metric(
        "roomgate_vendor_call_duration_seconds",
        Histogram,
        &["endpoint", "brand"],
        "Time of each call to the LiveWebinar API, by endpoint and brand.",
    ),
    metric(
        "roomgate_vendor_listings_total",
        Counter,
        &["brand"],
        "Listings of all the vendor's rooms (each of one or more widgets_list calls), by brand.",
    ),
    metric(
        "roomgate_vendor_sign_ins_total",
        Counter,
        &["kind", "outcome", "brand"],
        "Sign-ins to the LiveWebinar API: login, exchange (an OAuth code) or refresh (an OAuth token), ok or failed, by brand.",
    ),
    metric(
        "roomgate_vendor_token_expires_in_seconds",
        Gauge,
        &["brand"],
        "Seconds until the current vendor token of a brand's account runs out, at the time of the scrape (absent before the first sign-in). roomgate renews it on demand, so an idle instance's token runs down.",
    ),
    metric(
        "roomgate_vendor_sign_in_failures",
        Gauge,
        &["brand"],
        "Sign-ins of a brand's account to the LiveWebinar API failed in a row since the last one that worked (0: the last one worked), at the time of the scrape.",
    ),
    metric(
        "roomgate_throttled_total",
        Counter,
        &["limit"],
        "Requests answered 429 because their client sent too many wrong secrets: role hashes or admin tokens.",
    ),
    metric(
        "roomgate_sso_refused_total",
        Counter,
        &["reason"],
        "Sign-in tokens refused at /sso, by reason: missing, malformed, key_in_header, critical_header, invalid, expired, not_yet_valid, issued_in_future, too_long, issued_too_long_ago, bad_name, reused, unavailable (fleet mode: the shared record of used tokens could not be reached; answered 503).",
    ),
    metric(
        "roomgate_forms_refused_total",
        Counter,
        &["reason"],
        "Forms refused with 403: posted from another origin, or without this session's CSRF token.",
    ),
    metric(
        "roomgate_build_info",
        Gauge,
        &["version", "commit"],
        "Always 1: the version and commit of the running build.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_prometheus_names_of_roomgate() {
        let mut seen = std::collections::HashSet::new();
        for m in METRICS {
            assert!(seen.insert(m.name), "{} twice", m.name);
            assert!(m.name.starts_with("roomgate_"), "{}", m.name);
            assert!(
                m.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{}",
                m.name
            );
            assert_eq!(
                m.kind == Counter,
                m.name.ends_with("_total"),
                "{}: counters, and only counters, end in _total",
                m.name
            );
        }
    }
}

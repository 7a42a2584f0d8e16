//! `roomgate_http_requests_total{route, status_class}` and
//! `roomgate_http_request_duration_seconds{route}`: every answer, by the pattern of the
//! route that took it (a fixed set of names, never the path itself) and its status class.
//!
//! The page path is roomgate's hottest, so recording builds no labels and looks nothing
//! up in the recorder: each worker thread keeps the handles it registered on first use (a
//! worker serves one application, whose recorder is the thread's), and a request costs
//! one counter addition and one histogram sample. A room route allocates nothing; other
//! routes one `String`, actix's copy of the matched pattern.

use std::{cell::OnceCell, time::Instant};

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
};
use metrics::{Counter, Histogram};

use crate::visit::room_route::RoomRoute;

/// The route labels: one per route pattern roomgate serves, and `other` for any request
/// no route took (and for a route missing here).
pub const ROUTES: [&str; 22] = [
    "/room/{key}",
    "/room/{key}/{role}",
    "/room/{key}/join",
    "/room/{key}/calendar.ics",
    "/sso",
    "/sso/logout",
    "/oauth/connect",
    "/oauth/callback",
    "/admin/api/rooms",
    "/admin/api/rooms/{key}",
    "/admin/api/rooms/{key}/activate",
    "/admin/api/rooms/{key}/deactivate",
    "/admin/api/rooms/{key}/links",
    "/admin/api/rooms/{key}/invitations",
    "/admin/api/rooms/{key}/calendar.ics",
    "/admin/api/openapi.json",
    "/static",
    "/theme.css",
    "/favicon.ico",
    "/healthz",
    "/readyz",
    "other",
];

/// The status classes.
pub const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

const OTHER: usize = ROUTES.len() - 1;

/// The index in [`ROUTES`] of the route pattern actix matched (`None`: no route did).
pub fn route_index(pattern: Option<&str>) -> usize {
    let Some(pattern) = pattern else {
        return OTHER;
    };
    let label = match pattern {
        "/room/{license}" => "/room/{key}",
        "/room/{license}/{role_hash}" => "/room/{key}/{role}",
        "/room/{license}/join" => "/room/{key}/join",
        "/room/{license}/calendar.ics" => "/room/{key}/calendar.ics",
        p if p.starts_with("/static") => "/static",
        p => match p.strip_prefix("/admin/api/rooms/{license}") {
            Some("") => "/admin/api/rooms/{key}",
            Some("/activate") => "/admin/api/rooms/{key}/activate",
            Some("/deactivate") => "/admin/api/rooms/{key}/deactivate",
            Some("/links") => "/admin/api/rooms/{key}/links",
            Some("/invitations") => "/admin/api/rooms/{key}/invitations",
            Some("/calendar.ics") => "/admin/api/rooms/{key}/calendar.ics",
            Some(_) => "other",
            // The patterns with no key are their own labels.
            None => p,
        },
    };
    ROUTES.iter().position(|r| *r == label).unwrap_or(OTHER)
}

/// The index in [`ROUTES`] of the route that took `req`: one of the room routes (matched
/// by hand, inside the `/room` scope) or the pattern actix matched.
fn route_of(req: &actix_web::HttpRequest) -> usize {
    if let Some(route) = RoomRoute::parse(req.path()) {
        return room_route_index(&route);
    }
    route_index(req.match_pattern().as_deref())
}

/// The index in [`ROUTES`] of a room route.
fn room_route_index(route: &RoomRoute<'_>) -> usize {
    match route {
        RoomRoute::Attendee { .. } => 0,
        RoomRoute::Role { .. } => 1,
        RoomRoute::Join { .. } => 2,
        RoomRoute::Calendar { .. } => 3,
    }
}

/// The index in [`STATUS_CLASSES`] of `status`.
pub fn status_class_index(status: u16) -> usize {
    (usize::from(status / 100)).clamp(1, 5) - 1
}

thread_local! {
    /// This worker's handles, each registered with the thread's recorder on first use.
    static SERIES: Series = Series::default();
}

#[derive(Default)]
struct Series {
    answers: [[OnceCell<Counter>; STATUS_CLASSES.len()]; ROUTES.len()],
    durations: [OnceCell<Histogram>; ROUTES.len()],
}

/// Counts one answer of `route` with `status`, which took `seconds`.
fn record(route: usize, status: u16, seconds: f64) {
    let class = status_class_index(status);
    SERIES.with(|series| {
        series.answers[route][class]
            .get_or_init(|| {
                metrics::counter!(
                    "roomgate_http_requests_total",
                    "route" => ROUTES[route],
                    "status_class" => STATUS_CLASSES[class]
                )
            })
            .increment(1);
        series.durations[route]
            .get_or_init(|| {
                metrics::histogram!("roomgate_http_request_duration_seconds", "route" => ROUTES[route])
            })
            .record(seconds);
    });
}

/// `from_fn` middleware that counts every answer; outermost, so that it sees the status
/// the client gets, also of answers made by the other middleware.
pub async fn record_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let result = next.call(req).await;
    // The route is known only once routing has run, inside. An error raised by a layer
    // (not by a handler, whose errors are answers by now) comes without the request: its
    // route is unknown.
    let (route, status) = match &result {
        Ok(res) => (route_of(res.request()), res.status()),
        Err(e) => (OTHER, e.as_response_error().status_code()),
    };
    record(route, status.as_u16(), started.elapsed().as_secs_f64());
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_patterns_become_fixed_labels() {
        let cases = [
            (Some("/room/{license}"), "/room/{key}"),
            (Some("/room/{license}/{role_hash}"), "/room/{key}/{role}"),
            (Some("/room/{license}/join"), "/room/{key}/join"),
            (
                Some("/room/{license}/calendar.ics"),
                "/room/{key}/calendar.ics",
            ),
            (Some("/sso/logout"), "/sso/logout"),
            (Some("/oauth/callback"), "/oauth/callback"),
            (Some("/admin/api/rooms"), "/admin/api/rooms"),
            (Some("/admin/api/rooms/{license}"), "/admin/api/rooms/{key}"),
            (
                Some("/admin/api/rooms/{license}/invitations"),
                "/admin/api/rooms/{key}/invitations",
            ),
            (Some("/admin/api/openapi.json"), "/admin/api/openapi.json"),
            (Some("/static"), "/static"),
            (Some("/static/{tail}*"), "/static"),
            (Some("/healthz"), "/healthz"),
            (Some("/admin/api/rooms/{license}/new"), "other"),
            (Some("/something/new"), "other"),
            (None, "other"),
        ];
        for (pattern, label) in cases {
            assert_eq!(ROUTES[route_index(pattern)], label, "{pattern:?}");
        }
    }

    #[test]
    fn room_routes_get_their_patterns_labels() {
        for (path, pattern) in [
            ("/room/123-123-123", "/room/{license}"),
            ("/room/123-123-123/abc", "/room/{license}/{role_hash}"),
            ("/room/123-123-123/join", "/room/{license}/join"),
            (
                "/room/123-123-123/calendar.ics",
                "/room/{license}/calendar.ics",
            ),
        ] {
            let route = RoomRoute::parse(path).unwrap();
            assert_eq!(
                room_route_index(&route),
                route_index(Some(pattern)),
                "{path}"
            );
        }
    }

    #[test]
    fn statuses_fall_in_their_class() {
        for (status, class) in [
            (101, "1xx"),
            (200, "2xx"),
            (303, "3xx"),
            (429, "4xx"),
            (503, "5xx"),
        ] {
            assert_eq!(STATUS_CLASSES[status_class_index(status)], class);
        }
    }
}

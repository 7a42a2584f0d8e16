//! The verdicts on one room's detail: its key, roles, hosted_at URLs, status, start and
//! time zone.

use chrono_tz::Tz;
use serde_json::Value;

use super::{
    assumptions::Assumption,
    report::{Check, instant, short},
    seen::Seen,
};
use crate::{
    domain::{LicensePattern, is_token},
    vendor::tolerant::as_u64,
};

/// The checks made on one room's detail, in the report's order.
pub const ROOM_ASSUMPTIONS: [Assumption; 6] = [
    Assumption::RoomKey,
    Assumption::Roles,
    Assumption::HostedAt,
    Assumption::Status,
    Assumption::StartDate,
    Assumption::Timezone,
];

/// The verdicts on one room's detail (`GET widgets/{id}` → `data`). `whose` is added to
/// what was seen ("", or " (the temporary room)").
pub fn room_checks(room: &Seen<Value>, pattern: &LicensePattern, whose: &str) -> Vec<Check> {
    let room = match room {
        Ok(room) => room,
        Err(e) => {
            return ROOM_ASSUMPTIONS
                .iter()
                .map(|a| Check::failed(*a, format!("GET widgets/{{id}}: {e}")))
                .collect();
        }
    };
    let label = format!(
        "room {}{whose}",
        room.get("id")
            .and_then(as_u64)
            .map_or("?".to_owned(), |i| i.to_string())
    );
    vec![
        room_key(room, pattern, &label),
        roles(room, &label),
        hosted_at(room, &label),
        status(room, &label),
        start_date(room, &label),
        timezone(room, &label),
    ]
}

/// The room's `token` matches `rooms.license_pattern`.
fn room_key(room: &Value, pattern: &LicensePattern, label: &str) -> Check {
    match room.get("token").and_then(Value::as_str) {
        None => Check::differs(
            Assumption::RoomKey,
            format!("{label} has no token (room key)"),
        ),
        Some(key) if pattern.matches(key) => Check::ok(
            Assumption::RoomKey,
            format!(
                "{label}: token has the shape {}, which rooms.license_pattern accepts",
                shape(key)
            ),
        ),
        Some(key) => Check::differs(
            Assumption::RoomKey,
            format!(
                "{label}: token has the shape {}, which rooms.license_pattern refuses",
                shape(key)
            ),
        ),
    }
}

/// `roles` is a map of role name → a token roomgate accepts.
fn roles(room: &Value, label: &str) -> Check {
    let Some(Value::Object(roles)) = room.get("roles") else {
        return Check::differs(Assumption::Roles, format!("{label} has no roles object"));
    };
    let refused: Vec<&str> = roles
        .iter()
        .filter(|(_, t)| !t.as_str().is_some_and(is_token))
        .map(|(r, _)| r.as_str())
        .collect();
    if roles.is_empty() {
        Check::differs(
            Assumption::Roles,
            format!("{label} has an empty roles object"),
        )
    } else if !refused.is_empty() {
        Check::differs(
            Assumption::Roles,
            format!(
                "{label}: roles {} hold no token roomgate accepts ([A-Za-z0-9_-], 1 to 128)",
                refused.join(", ")
            ),
        )
    } else {
        Check::ok(
            Assumption::Roles,
            format!(
                "{label}: roles {} with tokens",
                roles.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )
    }
}

/// Every `hosted_at` URL ends in `/<room key>/x/<token>`, with the token `roles` gives
/// that role (or, for a role `roles` lacks, any token roomgate accepts).
fn hosted_at(room: &Value, label: &str) -> Check {
    let hosted = match room.get("hosted_at") {
        None | Some(Value::Null) => {
            return Check::ok(
                Assumption::HostedAt,
                format!("{label} has no hosted_at (roles are enough)"),
            );
        }
        Some(Value::Object(hosted)) => hosted,
        Some(_) => {
            return Check::differs(
                Assumption::HostedAt,
                format!("{label}: hosted_at is not an object of role → URL"),
            );
        }
    };
    let key = room.get("token").and_then(Value::as_str).unwrap_or("");
    let roles = room.get("roles").and_then(Value::as_object);
    let mut matching = Vec::new();
    let mut problems = Vec::new();
    for (role, url) in hosted {
        let path = url
            .as_str()
            .and_then(|u| u.split(['?', '#']).next())
            .map(|u| u.trim_end_matches('/'));
        let tail = path.and_then(|p| p.rsplit_once("/x/"));
        match tail {
            Some((before, token)) if before.ends_with(&format!("/{key}")) && is_token(token) => {
                match roles.and_then(|r| r.get(role)).and_then(Value::as_str) {
                    // A roles value roomgate refuses is the roles check's business: roomgate
                    // then takes the token from this URL.
                    Some(expected) if is_token(expected) && expected != token => {
                        problems.push(format!("{role} ends in another token than roles.{role}"))
                    }
                    _ => matching.push(role.as_str()),
                }
            }
            _ => problems.push(format!("{role} does not end in /<room key>/x/<role token>")),
        }
    }
    if problems.is_empty() {
        Check::ok(
            Assumption::HostedAt,
            format!(
                "{label}: hosted_at {} {} in /<room key>/x/<the token roles gives>",
                matching.join(", "),
                if matching.len() == 1 { "ends" } else { "end" }
            ),
        )
    } else {
        Check::differs(
            Assumption::HostedAt,
            format!("{label}: hosted_at {}", problems.join("; ")),
        )
    }
}

/// The room says its `status`.
fn status(room: &Value, label: &str) -> Check {
    match room.get("status") {
        None | Some(Value::Null) => {
            Check::differs(Assumption::Status, format!("{label} has no status field"))
        }
        Some(Value::String(s)) if s == "active" || s == "inactive" => {
            Check::ok(Assumption::Status, format!("{label}: status {s}"))
        }
        Some(other) => Check::differs(
            Assumption::Status,
            format!(
                "{label}: status {}, neither active nor inactive",
                short(other)
            ),
        ),
    }
}

/// `start_date` is Unix seconds (empty for a permanent room).
fn start_date(room: &Value, label: &str) -> Check {
    match room.get("start_date") {
        None | Some(Value::Null) => Check::ok(
            Assumption::StartDate,
            format!("{label}: no start_date (a permanent room; --write tries a scheduled one)"),
        ),
        Some(v) => match as_u64(v) {
            Some(0) => Check::ok(
                Assumption::StartDate,
                format!("{label}: start_date 0 (a permanent room; --write tries a scheduled one)"),
            ),
            Some(secs) => Check::ok(
                Assumption::StartDate,
                format!("{label}: start_date in Unix seconds ({})", instant(secs)),
            ),
            None => Check::differs(
                Assumption::StartDate,
                format!("{label}: start_date {}, not Unix seconds", short(v)),
            ),
        },
    }
}

/// `timezone` is an IANA name.
fn timezone(room: &Value, label: &str) -> Check {
    match room.get("timezone").and_then(Value::as_str) {
        None | Some("") => Check::skipped(Assumption::Timezone, format!("{label} has no timezone")),
        Some(tz) if tz.parse::<Tz>().is_ok() => Check::ok(
            Assumption::Timezone,
            format!("{label}: timezone {tz}, an IANA name"),
        ),
        Some(tz) => Check::differs(
            Assumption::Timezone,
            format!(
                "{label}: timezone {}, not an IANA name",
                short(&Value::from(tz))
            ),
        ),
    }
}

/// The shape of a room key: digits as `N`, letters as `a`, the rest as is (so the key
/// itself is not printed).
pub fn shape(key: &str) -> String {
    key.chars()
        .take(40)
        .map(|c| {
            if c.is_ascii_digit() {
                'N'
            } else if c.is_alphabetic() {
                'a'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::cli::probe::report::Outcome;

    fn room() -> Value {
        json!({
            "id": 7, "token": "700-000-007", "status": "active", "start_date": null,
            "timezone": "UTC",
            "roles": {"host": "Host7", "presenter": "Pres7"},
            "hosted_at": {"host": "https://app.example/700-000-007/x/Host7"},
        })
    }

    fn room_outcomes(room: Value) -> Vec<(&'static str, Outcome)> {
        room_checks(&Ok(room), &LicensePattern::default(), "")
            .into_iter()
            .filter(|c| c.outcome != Outcome::Ok)
            .map(|c| (c.assumption.name(), c.outcome))
            .collect()
    }

    #[test]
    fn a_room_as_assumed_is_all_ok_and_shows_no_token() {
        assert_eq!(room_outcomes(room()), []);
        for check in room_checks(&Ok(room()), &LicensePattern::default(), "") {
            assert!(
                !check.seen.contains("700-000-007") && !check.seen.contains("Host7"),
                "{}",
                check.seen
            );
        }
    }

    #[test]
    fn each_room_field_off_its_assumption_is_its_own_difference() {
        let cases = [
            ("roles", json!({"host": "has spaces"}), "roles"),
            (
                "hosted_at",
                json!({"host": "https://app.example/700-000-007/x/Other"}),
                "hosted_at",
            ),
            (
                "hosted_at",
                json!({"host": "https://app.example/room/700-000-007"}),
                "hosted_at",
            ),
            ("status", Value::Null, "status"),
            ("start_date", json!("2026-12-01 10:00:00"), "start_date"),
            ("timezone", json!("Central European"), "timezone"),
        ];
        for (field, value, name) in cases {
            let mut r = room();
            r[field] = value.clone();
            assert_eq!(
                room_outcomes(r),
                [(name, Outcome::Differs)],
                "{field} = {value}"
            );
        }
        // A key of another shape, in hosted_at as well.
        let mut other_key = room();
        other_key["token"] = json!("ABC-123");
        other_key["hosted_at"]["host"] = json!("https://app.example/ABC-123/x/Host7");
        assert_eq!(room_outcomes(other_key), [("room_key", Outcome::Differs)]);
        let mut unix = room();
        unix["start_date"] = json!("1796119200");
        assert_eq!(room_outcomes(unix), [], "seconds as a string");
        // A role only hosted_at names is taken from its URL: fine.
        let mut extra = room();
        extra["hosted_at"]["moderator"] = json!("https://app.example/700-000-007/x/Mod7");
        assert_eq!(room_outcomes(extra), []);
    }
}

//! A vendor widget as roomgate's own [`Room`]: read tolerantly (numbers as strings,
//! unknown fields, open role maps), never trusted for anything a page prints raw.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use crate::{
    domain::{Room, RoomKind, RoomStatus, is_token},
    vendor::{
        models::Widget,
        tolerant::{as_bool, as_u64},
    },
};

/// Room durations are checked up to a week, plus an hour of strict margin: a start
/// must leave room for more than that before the end of representable time.
const SCHEDULE_SPAN_DAYS: i64 = 8;

/// roomgate's room for a widget of the vendor.
pub fn room_of(widget: &Widget) -> Room {
    let start = widget
        .start_date
        .as_ref()
        .and_then(as_u64)
        .filter(|s| *s > 0)
        .and_then(|s| DateTime::<Utc>::from_timestamp(i64::try_from(s).ok()?, 0))
        .filter(|start| {
            // A start so far off that its end (plus the strict margin) cannot be
            // written as a date would break every time calculation: no schedule.
            let fits = start
                .checked_add_signed(chrono::Duration::days(SCHEDULE_SPAN_DAYS))
                .is_some();
            if !fits {
                tracing::warn!(
                    widget = widget.id,
                    start_date = %start.timestamp(),
                    "the widget's start date cannot be used; the room is served without a schedule"
                );
            }
            fits
        });
    let kind = match widget.kind.as_deref() {
        Some("permanent") => RoomKind::Permanent,
        Some("scheduled") => RoomKind::Scheduled,
        _ if start.is_some() => RoomKind::Scheduled,
        _ => RoomKind::Permanent,
    };
    Room {
        id: Some(widget.id),
        license: widget.token.clone(),
        name: widget
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or("Room")
            .to_owned(),
        agenda: widget
            .agenda
            .as_deref()
            .map(html_to_text)
            .unwrap_or_default(),
        kind,
        status: match widget.status.as_deref() {
            Some("inactive") => RoomStatus::Inactive,
            _ => RoomStatus::Active,
        },
        start: if kind == RoomKind::Scheduled {
            start
        } else {
            None
        },
        repeat: None,
        duration_minutes: widget
            .duration
            .as_ref()
            .and_then(as_u64)
            .and_then(|d| u32::try_from(d).ok())
            .unwrap_or(60),
        timezone: widget
            .timezone
            .as_deref()
            .and_then(|t| t.parse::<Tz>().ok())
            .unwrap_or(chrono_tz::UTC),
        strict_event: widget.strict_event.as_ref().is_some_and(as_bool),
        password_protected: widget
            .password
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(|p| !p.is_empty()),
        roles: role_tokens(
            &widget.token,
            widget.roles.as_ref(),
            widget.hosted_at.as_ref(),
        ),
    }
}

/// Role name → token, from `roles` and from `hosted_at` URLs of the vendor's own role-link
/// shape, `…/{license}/x/{token}`. A URL of any other shape is ignored rather than guessed
/// into a role token (a wrong one would let a link grant a role it should not). Only
/// string values that are valid tokens count.
pub fn role_tokens(
    license: &str,
    roles: Option<&Value>,
    hosted_at: Option<&Value>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(Value::Object(map)) = roles {
        for (role, token) in map {
            if let Some(t) = token.as_str().filter(|t| is_token(t)) {
                out.insert(role.clone(), t.to_owned());
            }
        }
    }
    if let Some(Value::Object(map)) = hosted_at {
        for (role, url) in map {
            let token = url
                .as_str()
                .and_then(|u| u.split(['?', '#']).next())
                .and_then(|u| role_link_token(u, license))
                .filter(|t| is_token(t));
            if let Some(t) = token {
                out.entry(role.clone()).or_insert_with(|| t.to_owned());
            }
        }
    }
    out
}

/// The token of a vendor role link `…/{license}/x/{token}[/]`, if `url` has that shape.
fn role_link_token<'u>(url: &'u str, license: &str) -> Option<&'u str> {
    let mut segments = url.trim_end_matches('/').rsplit('/');
    let token = segments.next()?;
    (segments.next() == Some("x") && segments.next() == Some(license)).then_some(token)
}

/// Plain text of an agenda that may hold HTML: tags dropped, block ends as new lines,
/// the common entities decoded. The page escapes the result again.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let tag = rest[open + 1..open + close].to_ascii_lowercase();
        if tag.starts_with("br")
            || tag.starts_with("/p")
            || tag.starts_with("/div")
            || tag.starts_with("/li")
        {
            out.push('\n');
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_full_widget_becomes_a_room() {
        let w: Widget = serde_json::from_value(json!({
            "id": "42", "token": "123-123-123", "name": " Demo ", "agenda": "<p>Hello &amp; welcome</p><p>Bye</p>",
            "type": "scheduled", "status": "active", "start_date": 1796137200, "duration": "90",
            "timezone": "Europe/Warsaw", "password": "pw", "strict_event": 1,
            "roles": {"host": "abc123", "presenter": 7, "weird": "bad token"},
            "hosted_at": {"host": "https://app.example/123-123-123/x/abc123", "moderator": "https://app.example/123-123-123/x/Mod99/"},
            "some_new_field": {"nested": true}
        })).unwrap();
        let room = room_of(&w);
        assert_eq!(room.id, Some(42));
        assert_eq!(room.name, "Demo");
        assert_eq!(room.agenda, "Hello & welcome\nBye");
        assert_eq!(room.kind, RoomKind::Scheduled);
        assert_eq!(room.start.unwrap().timestamp(), 1796137200);
        assert_eq!(room.duration_minutes, 90);
        assert!(room.strict_event && room.password_protected);
        assert_eq!(
            room.roles,
            BTreeMap::from([
                ("host".into(), "abc123".into()),
                ("moderator".into(), "Mod99".into())
            ])
        );
    }

    #[test]
    fn hosted_at_urls_of_another_shape_are_ignored_not_guessed() {
        let w: Widget = serde_json::from_value(json!({
            "id": 1, "token": "123-123-123",
            "hosted_at": {
                "host": "https://app.example/123-123-123/x/Host1?lang=en",
                "presenter": "https://app.example/123-123-123/join/Pres1",
                "moderator": "https://app.example/999-999-999/x/Mod1",
                "guest": "https://app.example/join?token=Guest1",
                "assistant": "https://app.example/123-123-123/x/",
            }
        }))
        .unwrap();
        assert_eq!(
            room_of(&w).roles,
            BTreeMap::from([("host".into(), "Host1".into())])
        );
    }

    #[test]
    fn a_room_without_a_status_is_active() {
        let w: Widget = serde_json::from_value(json!({"id": 3, "token": "123-123-123"})).unwrap();
        assert_eq!(room_of(&w).status, RoomStatus::Active);
    }

    #[test]
    fn a_permanent_room_has_no_start() {
        let w: Widget = serde_json::from_value(json!({"id": 1, "token": "1", "type": "permanent", "start_date": 0, "status": "inactive"})).unwrap();
        let room = room_of(&w);
        assert_eq!(room.start, None);
        assert_eq!(room.status, RoomStatus::Inactive);
    }
}

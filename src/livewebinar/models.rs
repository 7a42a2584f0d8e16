//! The vendor's JSON, read tolerantly: unknown fields are ignored, numbers may come as
//! strings, `roles` and `hosted_at` are open maps. Mapped into roomgate's own [`Room`].

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use secrecy::SecretString;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::room::validate::is_token;
use crate::rooms::{Room, RoomKind, RoomStatus};

/// One entry of `GET widgets`.
#[derive(Debug, Clone, Deserialize)]
pub struct WidgetSummary {
    #[serde(deserialize_with = "flexible_u64")]
    pub id: u64,
    /// The room key (`_license_key`).
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub start_date: Option<Value>,
}

impl WidgetSummary {
    /// The room's kind, when the list says.
    pub fn kind(&self) -> Option<RoomKind> {
        match self.kind.as_deref() {
            Some("scheduled") => Some(RoomKind::Scheduled),
            Some("permanent") => Some(RoomKind::Permanent),
            _ => None,
        }
    }

    /// The start, when the list gives one (Unix seconds).
    pub fn start(&self) -> Option<DateTime<Utc>> {
        let secs = self
            .start_date
            .as_ref()
            .and_then(as_u64)
            .filter(|s| *s > 0)?;
        DateTime::<Utc>::from_timestamp(i64::try_from(secs).ok()?, 0)
    }
}

/// `GET widgets/{id}` → `data`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Widget {
    #[serde(deserialize_with = "flexible_u64")]
    pub id: u64,
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub agenda: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub start_date: Option<Value>,
    #[serde(default)]
    pub duration: Option<Value>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub password: Option<Value>,
    #[serde(default)]
    pub strict_event: Option<Value>,
    #[serde(default)]
    pub roles: Option<Value>,
    #[serde(default)]
    pub hosted_at: Option<Value>,
}

/// `GET me` → `data`: whose account the token belongs to.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
pub struct Account {
    #[serde(default, deserialize_with = "flexible_opt_u64")]
    pub id: Option<u64>,
    #[serde(default)]
    pub email: Option<String>,
}

/// A token from any of the vendor's token answers.
#[derive(Debug, Clone)]
pub struct TokenAnswer {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub expires_in_secs: Option<u64>,
}

impl TokenAnswer {
    /// Reads `{"token", "expires_in"}` (login), `{"access_token", "refresh_token",
    /// "expires_in" | "expires_id"}` (OAuth), the same nested under `accessToken`, or
    /// any of these inside `data`.
    pub fn from_json(body: &Value) -> Option<Self> {
        let candidates = [
            Some(body),
            body.get("accessToken"),
            body.get("data"),
            body.get("data").and_then(|d| d.get("accessToken")),
        ];
        candidates.into_iter().flatten().find_map(|v| {
            let access = v
                .get("access_token")
                .or_else(|| v.get("token"))
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())?;
            Some(TokenAnswer {
                access_token: SecretString::from(access.to_owned()),
                refresh_token: v
                    .get("refresh_token")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .map(|t| SecretString::from(t.to_owned())),
                expires_in_secs: v
                    .get("expires_in")
                    .or_else(|| v.get("expires_id"))
                    .and_then(as_u64),
            })
        })
    }
}

/// Room durations are checked up to a week, plus an hour of strict margin: a start
/// must leave room for more than that before the end of representable time.
const SCHEDULE_SPAN_DAYS: i64 = 8;

impl Widget {
    /// roomgate's room for this widget.
    pub fn to_room(&self) -> Room {
        let start = self
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
                        widget = self.id,
                        start_date = %start.timestamp(),
                        "the widget's start date cannot be used; the room is served without a schedule"
                    );
                }
                fits
            });
        let kind = match self.kind.as_deref() {
            Some("permanent") => RoomKind::Permanent,
            Some("scheduled") => RoomKind::Scheduled,
            _ if start.is_some() => RoomKind::Scheduled,
            _ => RoomKind::Permanent,
        };
        Room {
            id: Some(self.id),
            license: self.token.clone(),
            name: self
                .name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .unwrap_or("Room")
                .to_owned(),
            agenda: self.agenda.as_deref().map(html_to_text).unwrap_or_default(),
            kind,
            status: match self.status.as_deref() {
                Some("inactive") => RoomStatus::Inactive,
                _ => RoomStatus::Active,
            },
            start: if kind == RoomKind::Scheduled {
                start
            } else {
                None
            },
            repeat: None,
            duration_minutes: self
                .duration
                .as_ref()
                .and_then(as_u64)
                .and_then(|d| u32::try_from(d).ok())
                .unwrap_or(60),
            timezone: self
                .timezone
                .as_deref()
                .and_then(|t| t.parse::<Tz>().ok())
                .unwrap_or(chrono_tz::UTC),
            strict_event: self.strict_event.as_ref().is_some_and(as_bool),
            password_protected: self
                .password
                .as_ref()
                .and_then(Value::as_str)
                .is_some_and(|p| !p.is_empty()),
            roles: role_tokens(self.roles.as_ref(), self.hosted_at.as_ref()),
        }
    }
}

/// Role name → token, from `roles` and from the last path segment of `hosted_at` URLs.
/// Only string values that are valid tokens count.
pub fn role_tokens(roles: Option<&Value>, hosted_at: Option<&Value>) -> BTreeMap<String, String> {
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
                .and_then(|u| u.trim_end_matches('/').rsplit('/').next())
                .filter(|t| is_token(t));
            if let Some(t) = token {
                out.entry(role.clone()).or_insert_with(|| t.to_owned());
            }
        }
    }
    out
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

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_bool(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_u64().is_some_and(|n| n != 0),
        Value::String(s) => matches!(s.as_str(), "1" | "true" | "yes"),
        _ => false,
    }
}

fn flexible_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = Value::deserialize(d)?;
    as_u64(&v).ok_or_else(|| serde::de::Error::custom("expected a number"))
}

fn flexible_opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.as_ref().and_then(as_u64))
}

/// Room key → vendor id, built by listing every widget.
pub type Index = HashMap<String, u64>;

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;
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
        let room = w.to_room();
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
    fn a_permanent_room_has_no_start() {
        let w: Widget = serde_json::from_value(json!({"id": 1, "token": "1", "type": "permanent", "start_date": 0, "status": "inactive"})).unwrap();
        let room = w.to_room();
        assert_eq!(room.start, None);
        assert_eq!(room.status, RoomStatus::Inactive);
    }

    #[test]
    fn token_answers_are_read_flat_nested_or_as_login() {
        let flat = TokenAnswer::from_json(&json!({"access_token": "A", "refresh_token": "R", "expires_in": 3600, "token_type": "Bearer"})).unwrap();
        assert_eq!(flat.access_token.expose_secret(), "A");
        assert_eq!(flat.refresh_token.unwrap().expose_secret(), "R");
        assert_eq!(flat.expires_in_secs, Some(3600));
        let nested = TokenAnswer::from_json(
            &json!({"accessToken": {"access_token": "B", "expires_id": "60"}}),
        )
        .unwrap();
        assert_eq!(nested.access_token.expose_secret(), "B");
        assert_eq!(nested.expires_in_secs, Some(60));
        let login = TokenAnswer::from_json(&json!({"token": "JWT", "expires_in": 7200})).unwrap();
        assert_eq!(login.access_token.expose_secret(), "JWT");
        assert!(TokenAnswer::from_json(&json!({"token": ""})).is_none());
        assert!(TokenAnswer::from_json(&json!({"error": {"message": "no"}})).is_none());
    }
}

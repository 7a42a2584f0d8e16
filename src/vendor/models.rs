//! The vendor's JSON, read tolerantly: unknown fields are ignored, numbers may come as
//! strings, `roles` and `hosted_at` are open maps. `rooms::from_vendor` maps a widget into
//! roomgate's own room.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::domain::RoomKind;

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

/// `POST widgets` → `data`: the new room's id (the room itself is read back with
/// `GET widgets/{id}`, which gives every field in one known shape).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CreatedWidget {
    #[serde(deserialize_with = "flexible_u64")]
    pub id: u64,
}

/// `POST widgets/{id}/personal` → `data`: one participant's personal token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PersonalLink {
    /// Checked against the token grammar by the client before it is handed out.
    pub personal_token: String,
    /// The vendor's own personal link, for reference only.
    #[serde(default)]
    pub personal_url: Option<String>,
}

/// `POST oauth/clients` → `data`: roomgate's OAuth client credentials.
#[derive(Debug, Clone, Deserialize)]
pub struct RegisteredClient {
    #[serde(deserialize_with = "flexible_string")]
    pub client_id: String,
    pub client_secret: SecretString,
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

/// A number the vendor may send as a number or as a string.
pub fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A flag the vendor may send as a boolean, a number or a string.
pub fn as_bool(v: &Value) -> bool {
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

fn flexible_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(serde::de::Error::custom("expected a string or a number")),
    }
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
    fn created_rooms_personal_links_and_clients_are_read_whatever_the_number_type() {
        let created: CreatedWidget =
            serde_json::from_value(json!({"id": "42", "token": "x"})).unwrap();
        assert_eq!(created.id, 42);
        let created: CreatedWidget = serde_json::from_value(json!({"id": 7})).unwrap();
        assert_eq!(created.id, 7);
        assert!(serde_json::from_value::<CreatedWidget>(json!({"token": "x"})).is_err());
        let link: PersonalLink = serde_json::from_value(
            json!({"personal_token": "Pt1", "personal_url": "https://app.example/1?_personal_token=Pt1", "x": 1}),
        )
        .unwrap();
        assert_eq!(link.personal_token, "Pt1");
        assert!(link.personal_url.is_some());
        let client: RegisteredClient =
            serde_json::from_value(json!({"client_id": 12, "client_secret": "s3"})).unwrap();
        assert_eq!(client.client_id, "12");
        assert_eq!(client.client_secret.expose_secret(), "s3");
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

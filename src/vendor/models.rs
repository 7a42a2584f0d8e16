//! The vendor's JSON, read tolerantly: unknown fields are ignored, numbers may come as
//! strings, `roles` and `hosted_at` are open maps. `rooms::from_vendor` maps a widget into
//! roomgate's own room.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use percent_encoding::percent_decode_str;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::tolerant::{as_bool, as_text, as_u64, flexible_opt_u64, flexible_string, flexible_u64};

use crate::domain::{
    RoomKind,
    grammar::{PERSONAL_TOKEN_MAX_BYTES, is_personal_token},
};

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
///
/// Holds the room password (`password`): it is only ever sent back to the vendor, so
/// `Debug` redacts it.
#[derive(Clone, Default, Deserialize)]
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
    /// `{"lock_state": "locked" | "unlocked"}`: the waiting room.
    #[serde(default)]
    pub autostart: Option<Value>,
    /// The registration form, when one is attached: `{"id": …}`.
    #[serde(default)]
    pub form: Option<Value>,
    #[serde(default)]
    pub manual_confirm_registrants: Option<Value>,
    #[serde(default)]
    pub roles: Option<Value>,
    #[serde(default)]
    pub hosted_at: Option<Value>,
}

/// The wall-clock format of `start_date` in requests.
const WALL_CLOCK: &str = "%Y-%m-%d %H:%M:%S";

impl Widget {
    /// The room's editable record as the form (a `client::Form`) that writes it back
    /// unchanged with `PUT widgets/{id}`, fields in the order of a create form. Nothing
    /// shows that the vendor keeps a field a `PUT` leaves out (its Moodle module always
    /// sends them all), so a change is this record with the changed fields written over
    /// it. Fields the widget does not carry are left out: there is nothing to send back.
    /// Holds the room password: for the vendor only, never to be printed.
    pub fn editable_form(&self) -> Vec<(String, String)> {
        let mut form = Vec::new();
        let mut push = |key: &str, value: String| form.push((key.to_owned(), value));
        let text = |v: &Option<String>| v.clone().filter(|t| !t.trim().is_empty());
        if let Some(name) = text(&self.name) {
            push("name", name);
        }
        if let Some(kind) = text(&self.kind) {
            push("type", kind);
        }
        if let Some(start) = self
            .start_date
            .as_ref()
            .and_then(|s| wall_clock(s, self.zone()))
        {
            push("start_date", start);
        }
        if let Some(zone) = text(&self.timezone) {
            push("timezone", zone);
        }
        if let Some(minutes) = self.duration.as_ref().and_then(as_u64) {
            push("duration", minutes.to_string());
        }
        if let Some(agenda) = &self.agenda {
            push("agenda", agenda.clone());
        }
        // Even empty: "no password" is a value to keep as well.
        if let Some(password) = self.password.as_ref().and_then(as_text) {
            push("password", password);
        }
        let lock_state = self
            .autostart
            .as_ref()
            .and_then(|a| a.get("lock_state"))
            .and_then(as_text)
            .filter(|s| !s.is_empty());
        if let Some(lock_state) = lock_state {
            push("autostart[lock_state]", lock_state);
        }
        if let Some(strict) = &self.strict_event {
            push("strict_event", flag(as_bool(strict)));
        }
        if let Some(id) = self
            .form
            .as_ref()
            .and_then(|f| f.get("id"))
            .and_then(as_u64)
        {
            push("form[id]", id.to_string());
        }
        if let Some(manual) = &self.manual_confirm_registrants {
            push("manual_confirm_registrants", flag(as_bool(manual)));
        }
        form
    }

    /// The room's time zone, UTC when the widget names none we know (as `room_of` reads it).
    fn zone(&self) -> Tz {
        self.timezone
            .as_deref()
            .and_then(|t| t.parse().ok())
            .unwrap_or(chrono_tz::UTC)
    }
}

/// `start_date` as a request writes it: Unix seconds (what answers hold) as wall clock
/// in `zone`; a wall-clock string as it is. None for no start (null, 0).
fn wall_clock(start: &Value, zone: Tz) -> Option<String> {
    if let Some(text) = start.as_str()
        && NaiveDateTime::parse_from_str(text.trim(), WALL_CLOCK).is_ok()
    {
        return Some(text.trim().to_owned());
    }
    let secs = i64::try_from(as_u64(start).filter(|s| *s > 0)?).ok()?;
    let instant = DateTime::<Utc>::from_timestamp(secs, 0)?;
    Some(instant.with_timezone(&zone).format(WALL_CLOCK).to_string())
}

fn flag(on: bool) -> String {
    if on { "1" } else { "0" }.to_owned()
}

impl std::fmt::Debug for Widget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Widget")
            .field("id", &self.id)
            .field("token", &self.token)
            .field("name", &self.name)
            .field("agenda", &self.agenda)
            .field("kind", &self.kind)
            .field("status", &self.status)
            .field("start_date", &self.start_date)
            .field("duration", &self.duration)
            .field("timezone", &self.timezone)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("strict_event", &self.strict_event)
            .field("autostart", &self.autostart)
            .field("form", &self.form)
            .field(
                "manual_confirm_registrants",
                &self.manual_confirm_registrants,
            )
            .field("roles", &self.roles)
            .field("hosted_at", &self.hosted_at)
            .finish()
    }
}

/// `POST widgets` → `data`: the new room's id (the room itself is read back with
/// `GET widgets/{id}`, which gives every field in one known shape).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CreatedWidget {
    #[serde(deserialize_with = "flexible_u64")]
    pub id: u64,
}

/// `POST widgets/{id}/personal` → `data`: one participant's personal token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalLink {
    /// Usable in a room link: it passes [`is_personal_token`].
    pub personal_token: String,
    /// The vendor's own personal link, for reference only.
    pub personal_url: Option<String>,
}

/// Query parameters of a personal URL that may carry the token, in order of trust.
const TOKEN_PARAMETERS: [&str; 3] = ["_personal_token", "personal_token", "token"];

impl PersonalLink {
    /// Reads `personal_token`, or the token inside `personal_url` when only the URL
    /// comes back (the FAQ: "personal_token and/or personal_url"). The error says why no
    /// token usable in a link came back, without the token itself.
    pub fn from_answer(data: &Value) -> Result<Self, String> {
        let field = |key: &str| {
            data.get(key)
                .and_then(as_text)
                .filter(|t| !t.trim().is_empty())
        };
        let personal_url = field("personal_url");
        let token = match (field("personal_token"), personal_url.as_deref()) {
            (Some(token), _) => Ok(token),
            (None, Some(url)) => token_in_url(url).ok_or_else(|| {
                "personal_url carries no personal token (no _personal_token, personal_token \
                 or token parameter, no path segment after the room's)"
                    .to_owned()
            }),
            (None, None) => {
                Err("the answer has neither personal_token nor personal_url".to_owned())
            }
        }?;
        if !is_personal_token(&token) {
            let source = if field("personal_token").is_some() {
                "personal_token"
            } else {
                "the token in personal_url"
            };
            return Err(format!(
                "{source} is not usable in a link ({} bytes; roomgate takes 1 to \
                 {PERSONAL_TOKEN_MAX_BYTES} of A-Z a-z 0-9 - . _ ~)",
                token.len()
            ));
        }
        Ok(PersonalLink {
            personal_token: token,
            personal_url,
        })
    }
}

/// The token inside a personal URL: a [`TOKEN_PARAMETERS`] query parameter, else the
/// last path segment, but never the first one: that is where the vendor's links put the
/// room key (`{app_url}/{room key}/…`).
fn token_in_url(raw: &str) -> Option<String> {
    // A relative URL is read against any base: only its path and query matter.
    let base = Url::parse("https://vendor.invalid/").ok()?;
    let url = Url::options().base_url(Some(&base)).parse(raw).ok()?;
    for key in TOKEN_PARAMETERS {
        if let Some((_, value)) = url.query_pairs().find(|(k, v)| k == key && !v.is_empty()) {
            return Some(value.into_owned());
        }
    }
    let segments: Vec<&str> = url.path_segments()?.filter(|s| !s.is_empty()).collect();
    let last = segments.get(1..)?.last()?;
    percent_decode_str(last)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
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
        let client: RegisteredClient =
            serde_json::from_value(json!({"client_id": 12, "client_secret": "s3"})).unwrap();
        assert_eq!(client.client_id, "12");
        assert_eq!(client.client_secret.expose_secret(), "s3");
    }

    #[test]
    fn a_personal_link_comes_with_its_token_or_a_url_that_holds_it() {
        let token = |answer: Value| PersonalLink::from_answer(&answer).map(|l| l.personal_token);
        let both = json!({"personal_token": "Pt1", "personal_url": "https://app.example/1?_personal_token=Other", "x": 1});
        assert_eq!(token(both).as_deref(), Ok("Pt1"), "the token field wins");
        assert_eq!(
            token(json!({"personal_token": 12345})).as_deref(),
            Ok("12345")
        );
        for (url, expected) in [
            ("https://app.example/123-123-123?_personal_token=Pt2", "Pt2"),
            (
                "https://app.example/123-123-123?x=1&personal_token=Pt3",
                "Pt3",
            ),
            ("https://app.example/123-123-123?token=v1.a~b", "v1.a~b"),
            ("https://app.example/123-123-123/p/Pt4/", "Pt4"),
            ("/123-123-123/Pt5#top", "Pt5"),
            ("https://app.example/123-123-123/p/Pt%2D6", "Pt-6"),
        ] {
            let answer = json!({"personal_url": url});
            assert_eq!(token(answer).as_deref(), Ok(expected), "{url}");
        }
        for (answer, says) in [
            (
                json!({"personal_url": "https://app.example/123-123-123"}),
                "personal_url carries no",
            ),
            (
                json!({"personal_url": "https://app.example/123-123-123?_personal_token="}),
                "personal_url carries no",
            ),
            (
                json!({"personal_url": "https://app.example/1/p/a%20b"}),
                "the token in personal_url is not usable",
            ),
            (
                json!({"personal_token": "a/b", "personal_url": "https://app.example/1/p/ok"}),
                "personal_token is not usable",
            ),
            (json!({"personal_token": "t".repeat(129)}), "(129 bytes;"),
            (
                json!({"personal_token": "", "personal_url": null}),
                "neither",
            ),
        ] {
            let error = token(answer.clone()).unwrap_err();
            assert!(error.contains(says), "{answer}: {error}");
        }
    }

    #[test]
    fn a_widget_gives_back_its_whole_editable_record() {
        let w: Widget = serde_json::from_value(json!({
            "id": 7, "token": "123-123-123", "name": "Q&A", "type": "scheduled",
            "start_date": 1_796_137_200, "duration": "90", "timezone": "Europe/Warsaw",
            "agenda": "<p>Hi</p>", "password": " pw ", "strict_event": true,
            "autostart": {"lock_state": "locked"}, "form": {"id": "12", "name": "Signup"},
            "manual_confirm_registrants": 0, "status": "active", "roles": {}
        }))
        .unwrap();
        let form = w.editable_form();
        let expected: Vec<(String, String)> = [
            ("name", "Q&A"),
            ("type", "scheduled"),
            ("start_date", "2026-12-01 16:00:00"),
            ("timezone", "Europe/Warsaw"),
            ("duration", "90"),
            ("agenda", "<p>Hi</p>"),
            ("password", " pw "),
            ("autostart[lock_state]", "locked"),
            ("strict_event", "1"),
            ("form[id]", "12"),
            ("manual_confirm_registrants", "0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(form, expected);
        assert!(!format!("{w:?}").contains("pw"), "Debug hides the password");

        let bare: Widget = serde_json::from_value(
            json!({"id": 1, "name": "Bare", "start_date": 0, "password": ""}),
        )
        .unwrap();
        let keys: Vec<String> = bare.editable_form().into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            ["name", "password"],
            "nothing invented, no start, an empty password kept"
        );
        let wall: Widget =
            serde_json::from_value(json!({"id": 1, "start_date": "2026-12-01 16:00:00"})).unwrap();
        assert_eq!(
            wall.editable_form(),
            [("start_date".to_owned(), "2026-12-01 16:00:00".to_owned())]
        );
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

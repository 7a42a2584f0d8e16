//! What an operator sends to create or change a room, checked field by field and turned
//! into the vendor's form fields (invitations: `invitation.rs`).

use std::collections::BTreeMap;

use chrono_tz::Tz;
use serde::{
    Deserialize, Deserializer,
    de::{Error as _, Unexpected},
};
use utoipa::ToSchema;

use super::start::parse_start;
use crate::{
    domain::{Room, RoomKind},
    vendor::client::Form,
};

/// Field name → messages.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// A room to create, or the fields to change (absent fields stay as they are).
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomInput {
    /// Required to create a room; 1 to 200 characters (surrounding spaces are dropped),
    /// not all spaces, no control characters (the Unicode `Cc` category).
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: Option<String>,
    /// `scheduled` when a `start` is given, else `permanent` (for a new room) or as it was.
    #[serde(rename = "type")]
    pub kind: Option<RoomKind>,
    /// RFC 3339 (`2026-12-01T15:00:00Z`), or wall-clock time (`2026-12-01 16:00`) in `timezone`.
    /// Required for a scheduled room.
    #[schema(max_length = 64, examples("2026-12-01T15:00:00Z", "2026-12-01 16:00"))]
    pub start: Option<String>,
    /// An IANA time zone name; `UTC` for a new room without one.
    #[schema(max_length = 64, examples("Europe/Warsaw"))]
    pub timezone: Option<String>,
    /// 60 for a new scheduled room without one.
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 1, maximum = 10_080)]
    pub duration_minutes: Option<u32>,
    #[schema(max_length = 10_000)]
    pub agenda: Option<String>,
    /// Sent to the vendor only, never shown; empty or absent for a new room: none. No
    /// control characters.
    #[schema(
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$",
        write_only
    )]
    pub password: Option<String>,
    /// Visitors wait in a lobby until a host lets them in (`autostart[lock_state]`).
    pub waiting_room: Option<bool>,
    /// The vendor admits no one earlier than 60 minutes before the start.
    pub strict_event: Option<bool>,
    /// The vendor's registration form to show before the room.
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(maximum = 9_223_372_036_854_775_807_u64)]
    pub registration_form_id: Option<u64>,
}

/// The largest vendor id: the vendor's ids are signed 64-bit integers.
const MAX_VENDOR_ID: u64 = i64::MAX as u64;

/// The longest `start`: the longest form it takes is 35 characters.
const START_MAX_CHARS: usize = 64;

/// An optional whole number, also when written with a zero fraction (`90.0`, `9e1`):
/// JSON has one kind of number, JSON Schema's `integer` takes both, and clients write
/// either (Python's `json` keeps a float a float).
fn whole_number<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    number
        .as_u64()
        .or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < u64::MAX as f64)
                .map(|f| f as u64)
        })
        .and_then(|n| T::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| {
            D::Error::invalid_value(
                Unexpected::Other(&number.to_string()),
                &"a whole number in range",
            )
        })
}

impl RoomInput {
    /// The vendor form to create this room. `password` is always sent, empty when none,
    /// as both of the vendor's plugins do.
    pub fn create_form(&self) -> Result<Form, FieldErrors> {
        self.form(None)
    }

    /// The vendor form fields this input changes in `current`, checked; the name only
    /// when given. [`whole_record`] writes them over the room's whole record.
    pub fn changes(&self, current: &Room) -> Result<Form, FieldErrors> {
        self.form(Some(current))
    }

    fn form(&self, current: Option<&Room>) -> Result<Form, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut form = Form::new();
        let mut push = |k: &str, v: String| form.push((k.to_owned(), v));

        match (self.name.as_deref().map(str::trim), current) {
            // Kept: the whole record that a change is written over carries the name.
            (None, Some(_)) => {}
            (None | Some(""), _) => error(&mut errors, "name", "is required"),
            (Some(n), _) if n.chars().count() > 200 || n.contains(char::is_control) => error(
                &mut errors,
                "name",
                "must be 1 to 200 characters without control characters",
            ),
            (Some(n), _) => push("name", n.to_owned()),
        }

        let timezone_name = self
            .timezone
            .clone()
            .or_else(|| current.map(|r| r.timezone.name().to_owned()))
            .unwrap_or_else(|| "UTC".to_owned());
        let timezone = match timezone_name.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                error(
                    &mut errors,
                    "timezone",
                    "is not an IANA time zone name such as Europe/Warsaw",
                );
                None
            }
        };
        // The kind after this change: as given, scheduled when a start is given, else as it was.
        let kind = self
            .kind
            .or_else(|| self.start.as_ref().map(|_| RoomKind::Scheduled))
            .or_else(|| current.map(|r| r.kind))
            .unwrap_or(RoomKind::Permanent);
        if current.is_none_or(|r| r.kind != kind) || self.kind.is_some() {
            let value = match kind {
                RoomKind::Scheduled => "scheduled",
                RoomKind::Permanent => "permanent",
            };
            push("type", value.to_owned());
        }
        if kind == RoomKind::Scheduled
            && self.start.is_none()
            && current.is_none_or(|r| r.start.is_none())
        {
            error(&mut errors, "start", "is required for a scheduled room");
        }
        if self
            .start
            .as_ref()
            .is_some_and(|s| s.chars().count() > START_MAX_CHARS)
        {
            let message = format!("must be at most {START_MAX_CHARS} characters");
            error(&mut errors, "start", &message);
        } else if let (Some(start), Some(tz)) = (&self.start, timezone) {
            match parse_start(start, tz) {
                Ok(local) => push("start_date", local.format("%Y-%m-%d %H:%M:%S").to_string()),
                Err(e) => error(&mut errors, "start", &e),
            }
        }
        // A new zone alone keeps the start instant: the whole record holds the start as
        // wall clock in the old zone, so it is written again in the new one.
        if let (None, Some(_), Some(tz), Some(start), RoomKind::Scheduled) = (
            &self.start,
            &self.timezone,
            timezone,
            current.and_then(|r| r.start),
            kind,
        ) {
            push(
                "start_date",
                start
                    .with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string(),
            );
        }
        if (self.timezone.is_some() || self.start.is_some() || current.is_none())
            && timezone.is_some()
        {
            push("timezone", timezone_name.clone());
        }
        if let Some(d) = self.duration_minutes {
            if (1..=10_080).contains(&d) {
                push("duration", d.to_string());
            } else {
                error(
                    &mut errors,
                    "duration_minutes",
                    "must be between 1 and 10080",
                );
            }
        } else if current.is_none() && kind == RoomKind::Scheduled {
            push("duration", "60".to_owned());
        }
        if let Some(agenda) = &self.agenda {
            if agenda.chars().count() > 10_000 {
                error(&mut errors, "agenda", "must be at most 10000 characters");
            } else {
                push("agenda", agenda.clone());
            }
        }
        if let Some(password) = &self.password {
            if password.chars().count() > 100 || password.contains(char::is_control) {
                error(
                    &mut errors,
                    "password",
                    "must be at most 100 characters without control characters",
                );
            } else {
                push("password", password.clone());
            }
        } else if current.is_none() {
            push("password", String::new());
        }
        if let Some(w) = self.waiting_room {
            push(
                "autostart[lock_state]",
                if w { "locked" } else { "unlocked" }.to_owned(),
            );
        }
        if let Some(s) = self.strict_event {
            push("strict_event", if s { "1" } else { "0" }.to_owned());
        }
        match self.registration_form_id {
            Some(id) if id > MAX_VENDOR_ID => {
                let message = format!("must be at most {MAX_VENDOR_ID}");
                error(&mut errors, "registration_form_id", &message);
            }
            Some(id) => push("form[id]", id.to_string()),
            None => {}
        }
        if errors.is_empty() {
            Ok(form)
        } else {
            Err(errors)
        }
    }
}

/// The whole record to `PUT`: `record` (the room as read from the vendor) with `changes`
/// written over it, each in its field's place, new fields at the end. The vendor may
/// replace the record with what a `PUT` holds, so nothing may be left out; `name` (which
/// it requires) is `current_name` when the record has none.
pub fn whole_record(mut record: Form, changes: &Form, current_name: &str) -> Form {
    for (key, value) in changes {
        match record.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value.clone(),
            None => record.push((key.clone(), value.clone())),
        }
    }
    if !record.iter().any(|(k, _)| k == "name") {
        record.insert(0, ("name".to_owned(), current_name.to_owned()));
    }
    record
}

/// Adds `message` to the messages of `field`.
pub(super) fn error(errors: &mut FieldErrors, field: &str, message: &str) {
    errors
        .entry(field.to_owned())
        .or_default()
        .push(message.to_owned());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(form: &'a Form, key: &str) -> Option<&'a str> {
        form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_scheduled_room_becomes_the_vendors_form() {
        let input = RoomInput {
            name: Some("Q&A = fun + more".into()),
            start: Some("2026-12-01T15:00:00Z".into()),
            timezone: Some("Europe/Warsaw".into()),
            duration_minutes: Some(90),
            waiting_room: Some(true),
            strict_event: Some(false),
            registration_form_id: Some(12),
            ..RoomInput::default()
        };
        let form = input.create_form().unwrap();
        assert_eq!(get(&form, "name"), Some("Q&A = fun + more"));
        assert_eq!(get(&form, "type"), Some("scheduled"));
        assert_eq!(
            get(&form, "start_date"),
            Some("2026-12-01 16:00:00"),
            "wall clock in the room's zone"
        );
        assert_eq!(get(&form, "timezone"), Some("Europe/Warsaw"));
        assert_eq!(get(&form, "duration"), Some("90"));
        assert_eq!(get(&form, "autostart[lock_state]"), Some("locked"));
        assert_eq!(get(&form, "strict_event"), Some("0"));
        assert_eq!(get(&form, "form[id]"), Some("12"));
    }

    fn pairs(items: &[(&str, &str)]) -> Form {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn scheduled_room() -> Room {
        Room {
            id: Some(7),
            license: "123-123-123".into(),
            name: "Old".into(),
            agenda: String::new(),
            kind: RoomKind::Scheduled,
            status: crate::domain::RoomStatus::Active,
            start: Some("2026-12-01T15:00:00Z".parse().unwrap()),
            repeat: None,
            duration_minutes: 90,
            timezone: chrono_tz::Europe::Warsaw,
            strict_event: true,
            password_protected: true,
            roles: Default::default(),
        }
    }

    #[test]
    fn a_new_room_always_sends_a_password_empty_when_none() {
        let form = RoomInput {
            name: Some("A".into()),
            ..RoomInput::default()
        }
        .create_form()
        .unwrap();
        assert_eq!(get(&form, "password"), Some(""));
    }

    #[test]
    fn a_change_holds_only_what_the_operator_gave() {
        let room = scheduled_room();
        let changes = RoomInput {
            agenda: Some("New".into()),
            ..RoomInput::default()
        }
        .changes(&room)
        .unwrap();
        assert_eq!(changes, pairs(&[("agenda", "New")]));
        let renamed = RoomInput {
            name: Some(" New name ".into()),
            ..RoomInput::default()
        }
        .changes(&room)
        .unwrap();
        assert_eq!(renamed, pairs(&[("name", "New name")]));
    }

    #[test]
    fn a_new_zone_alone_keeps_the_start_instant() {
        let changes = RoomInput {
            timezone: Some("America/New_York".into()),
            ..RoomInput::default()
        }
        .changes(&scheduled_room())
        .unwrap();
        assert_eq!(get(&changes, "start_date"), Some("2026-12-01 10:00:00"));
        assert_eq!(get(&changes, "timezone"), Some("America/New_York"));
    }

    #[test]
    fn changes_are_written_over_the_whole_record_in_place() {
        let record = pairs(&[
            ("name", "Old"),
            ("type", "scheduled"),
            ("password", "secret"),
            ("agenda", "<p>Old</p>"),
        ]);
        let merged = whole_record(
            record.clone(),
            &pairs(&[("agenda", "New"), ("status", "inactive")]),
            "Old",
        );
        assert_eq!(
            merged,
            pairs(&[
                ("name", "Old"),
                ("type", "scheduled"),
                ("password", "secret"),
                ("agenda", "New"),
                ("status", "inactive"),
            ])
        );
        let nameless = whole_record(pairs(&[("agenda", "x")]), &Form::new(), "Room");
        assert_eq!(nameless, pairs(&[("name", "Room"), ("agenda", "x")]));
    }

    #[test]
    fn every_bad_field_is_reported() {
        let input = RoomInput {
            name: Some(" ".into()),
            kind: Some(RoomKind::Scheduled),
            timezone: Some("Mars/Base".into()),
            duration_minutes: Some(0),
            ..RoomInput::default()
        };
        let errors = input.create_form().unwrap_err();
        for field in ["name", "timezone", "duration_minutes", "start"] {
            assert!(errors.contains_key(field), "{field}: {errors:?}");
        }
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_zero_fraction() {
        let input: RoomInput =
            serde_json::from_str(r#"{"duration_minutes": 90.0, "registration_form_id": 1.2e1}"#)
                .unwrap();
        assert_eq!(input.duration_minutes, Some(90));
        assert_eq!(input.registration_form_id, Some(12));
        let absent: RoomInput = serde_json::from_str(r#"{"duration_minutes": null}"#).unwrap();
        assert_eq!(absent.duration_minutes, None);
        assert_eq!(absent.registration_form_id, None);
        for bad in [
            r#"{"duration_minutes": 90.5}"#,
            r#"{"duration_minutes": -1}"#,
            r#"{"duration_minutes": 4294967296}"#,
            r#"{"duration_minutes": "90"}"#,
            r#"{"registration_form_id": 1e20}"#,
        ] {
            assert!(serde_json::from_str::<RoomInput>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_form_id_the_vendor_cannot_hold_is_a_field_error() {
        let input = |id| RoomInput {
            name: Some("A".into()),
            registration_form_id: Some(id),
            ..RoomInput::default()
        };
        let form = input(i64::MAX as u64).create_form().unwrap();
        assert_eq!(get(&form, "form[id]"), Some("9223372036854775807"));
        let errors = input(i64::MAX as u64 + 1).create_form().unwrap_err();
        assert!(errors.contains_key("registration_form_id"), "{errors:?}");
    }

    #[test]
    fn a_start_longer_than_documented_is_refused_even_if_it_trims_to_a_date() {
        let start = format!("{:>64}", "2026-12-01T15:00:00Z");
        let at_most = RoomInput {
            name: Some("A".into()),
            start: Some(start.clone()),
            ..RoomInput::default()
        };
        assert!(at_most.create_form().is_ok(), "64 characters");
        let errors = RoomInput {
            start: Some(format!(" {start}")),
            ..at_most
        }
        .create_form()
        .unwrap_err();
        assert!(errors.contains_key("start"), "{errors:?}");
    }
}

//! What an operator sends to create or change a room, checked field by field and turned
//! into the vendor's form fields.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::{
    domain::{Room, RoomKind, grammar::clean_email},
    vendor::client::Form,
};

/// Field name → messages.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// A room to create, or the fields to change (absent fields stay as they are).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomInput {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<RoomKind>,
    /// RFC 3339 (`2026-12-01T15:00:00Z`), or wall-clock time (`2026-12-01 16:00`) in `timezone`.
    pub start: Option<String>,
    pub timezone: Option<String>,
    pub duration_minutes: Option<u32>,
    pub agenda: Option<String>,
    pub password: Option<String>,
    /// Visitors wait in a lobby until a host lets them in (`autostart[lock_state]`).
    pub waiting_room: Option<bool>,
    pub strict_event: Option<bool>,
    pub registration_form_id: Option<u64>,
}

/// One participant's personal invitation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvitationInput {
    pub email: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
}

/// Roles a personal link can carry.
pub const INVITATION_ROLES: [&str; 3] = ["attendee", "presenter", "moderator"];

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
        if let (Some(start), Some(tz)) = (&self.start, timezone) {
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
        if let Some(id) = self.registration_form_id {
            push("form[id]", id.to_string());
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

impl InvitationInput {
    /// The vendor form for `widgets/{id}/personal`. The vendor's documentation spells the
    /// address both `email` and `emails`, so both are sent.
    pub fn form(&self) -> Result<Form, FieldErrors> {
        let mut errors = FieldErrors::new();
        let email = self.email.trim();
        if clean_email(email).is_none() {
            error(&mut errors, "email", "is not a valid email address");
        }
        let role = self.role.as_deref().unwrap_or("attendee");
        if !INVITATION_ROLES.contains(&role) {
            error(
                &mut errors,
                "role",
                "must be attendee, presenter or moderator",
            );
        }
        for (field, value) in [
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
        ] {
            if value
                .as_deref()
                .is_some_and(|v| v.chars().count() > 100 || v.contains(char::is_control))
            {
                error(
                    &mut errors,
                    field,
                    "must be at most 100 characters without control characters",
                );
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut form = vec![
            ("email".to_owned(), email.to_owned()),
            ("emails".to_owned(), email.to_owned()),
            ("role".to_owned(), role.to_owned()),
        ];
        if let Some(f) = &self.first_name {
            form.push(("firstname".to_owned(), f.trim().to_owned()));
        }
        if let Some(l) = &self.last_name {
            form.push(("lastname".to_owned(), l.trim().to_owned()));
        }
        Ok(form)
    }

    /// The role, `attendee` when none was given.
    pub fn role(&self) -> &str {
        self.role.as_deref().unwrap_or("attendee")
    }
}

/// A start given as an RFC 3339 instant, or as wall-clock time in `tz`.
pub fn parse_start(start: &str, tz: Tz) -> Result<DateTime<Tz>, String> {
    let start = start.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(start) {
        return Ok(instant.with_timezone(&tz));
    }
    let naive = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(start, f).ok())
        .ok_or_else(|| {
            "must be RFC 3339 (2026-12-01T15:00:00Z) or local time (2026-12-01 16:00) in the room's timezone"
                .to_owned()
        })?;
    tz.from_local_datetime(&naive).single().ok_or_else(|| {
        format!(
            "{start} does not exist or is ambiguous in {} (a clock change)",
            tz.name()
        )
    })
}

fn error(errors: &mut FieldErrors, field: &str, message: &str) {
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
    fn local_time_is_read_in_the_given_zone() {
        let t = parse_start("2026-07-01 09:30", chrono_tz::America::New_York).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-07-01T09:30:00-04:00");
        assert!(
            parse_start("2026-03-08 02:30", chrono_tz::America::New_York).is_err(),
            "DST gap"
        );
        assert!(parse_start("next tuesday", chrono_tz::UTC).is_err());
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
    fn invitations_send_both_spellings_of_the_address() {
        let form = InvitationInput {
            email: "ada@example.com".into(),
            first_name: Some("Ada".into()),
            last_name: None,
            role: Some("presenter".into()),
        }
        .form()
        .unwrap();
        assert_eq!(get(&form, "email"), Some("ada@example.com"));
        assert_eq!(get(&form, "emails"), Some("ada@example.com"));
        assert_eq!(get(&form, "role"), Some("presenter"));
        assert_eq!(get(&form, "firstname"), Some("Ada"));
        let bad = InvitationInput {
            email: "nope".into(),
            first_name: None,
            last_name: None,
            role: Some("host".into()),
        };
        let errors = bad.form().unwrap_err();
        assert!(errors.contains_key("email") && errors.contains_key("role"));
    }
}

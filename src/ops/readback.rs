//! What the vendor stored, compared with what roomgate sent. The vendor answers a `PUT`
//! with 200 whatever it did with it, so every change is read back, and each field that
//! did not take is told to the operator: as a warning beside the room, or as an error
//! when nothing the operator asked for took.

use serde::Serialize;
use utoipa::ToSchema;

use super::input::FieldErrors;
use crate::vendor::client::Form;

/// One field the vendor did not store as sent. Never carries a value: one of the fields
/// is the room password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Warning {
    /// The field as operators name it (`agenda`, `start`, `waiting_room`, …).
    pub field: String,
    pub message: String,
}

/// The message of a field the operator changed that the vendor did not store.
pub const NOT_STORED: &str = "the vendor accepted the change but did not store it";
/// The message of a changed field the vendor's answer does not show.
pub const NOT_SHOWN: &str =
    "the vendor's answer does not show this field, so the change is not confirmed";
/// The message of a field roomgate sent unchanged that the vendor changed.
pub const NOT_KEPT: &str = "the vendor changed it although roomgate sent it unchanged";

/// The fields of `sent` that `stored` (the record read back) does not hold as sent.
/// A field stored differently is reported whether the operator asked for it (it is in
/// `asked`) or roomgate only sent it back unchanged; a field missing from the answer
/// only when asked for (the change cannot be confirmed), as a vendor may simply not show
/// a field it keeps. `status` is not part of the record: [`status_taken`] checks it.
pub fn not_taken(sent: &Form, stored: &Form, asked: &Form) -> Vec<Warning> {
    sent.iter()
        .filter(|(key, _)| key != "status")
        .filter_map(|(key, value)| {
            let was_asked = asked.iter().any(|(k, _)| k == key);
            let message = match (value_of(stored, key), was_asked) {
                (Some(kept), _) if kept == value => return None,
                (Some(_), true) => NOT_STORED,
                (Some(_), false) => NOT_KEPT,
                (None, true) => NOT_SHOWN,
                (None, false) => return None,
            };
            Some(Warning {
                field: field_name(key).to_owned(),
                message: message.to_owned(),
            })
        })
        .collect()
}

/// Whether the vendor stored none of the operator's changes: at least one field of
/// `asked` differs from the record `before` it, and the record read back (`stored`)
/// holds each such field with another value. A field the answer does not show is not
/// known to have failed, so it does not count. A partial change is the room as it now
/// is, with warnings; this is an error.
pub fn ignored_entirely(before: &Form, asked: &Form, stored: &Form) -> bool {
    let mut real = asked
        .iter()
        .filter(|(key, value)| value_of(before, key) != Some(value))
        .peekable();
    real.peek().is_some()
        && real.all(|(key, value)| value_of(stored, key).is_some_and(|s| s != value))
}

/// The warnings as the admin API's `error.fields` (field → messages).
pub fn as_fields(warnings: &[Warning]) -> FieldErrors {
    let mut fields = FieldErrors::new();
    for w in warnings {
        fields
            .entry(w.field.clone())
            .or_default()
            .push(w.message.clone());
    }
    fields
}

/// How a room's `status` reads after it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusRead {
    /// As sent.
    Taken,
    /// The answer has no status: the change cannot be confirmed.
    Unknown,
    /// Unchanged, or anything but what was sent.
    NotTaken,
}

/// How `stored` (the widget's `status` read back) compares with the `wanted` one.
pub fn status_taken(wanted: &str, stored: Option<&str>) -> StatusRead {
    match stored {
        None => StatusRead::Unknown,
        Some(s) if s == wanted => StatusRead::Taken,
        Some(_) => StatusRead::NotTaken,
    }
}

/// The warning when the answer does not say whether the room is open.
pub fn status_unknown() -> Warning {
    Warning {
        field: "status".to_owned(),
        message: "the vendor's answer does not say whether the room is open, so the change is not confirmed"
            .to_owned(),
    }
}

/// A warning when a change that did not ask for it opened or closed the room (a vendor
/// that replaces the whole record may reset its status too). Statuses other than
/// `active` and `inactive` say nothing either way.
pub fn status_moved(before: Option<&str>, after: Option<&str>) -> Option<Warning> {
    let done = match (before?, after?) {
        ("inactive", "active") => "reopened",
        ("active", "inactive") => "closed",
        _ => return None,
    };
    Some(Warning {
        field: "status".to_owned(),
        message: format!("the vendor {done} the room although roomgate did not ask for it"),
    })
}

/// The operators' name of a vendor form field (as `RoomInput` and the CLI spell it).
pub fn field_name(key: &str) -> &str {
    match key {
        "start_date" => "start",
        "duration" => "duration_minutes",
        "autostart[lock_state]" => "waiting_room",
        "form[id]" => "registration_form_id",
        other => other,
    }
}

fn value_of<'a>(form: &'a Form, key: &str) -> Option<&'a String> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(items: &[(&str, &str)]) -> Form {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn each_field_not_stored_as_sent_is_named_without_its_value() {
        let sent = form(&[
            ("name", "New"),
            ("agenda", "New agenda"),
            ("password", "secret"),
            ("autostart[lock_state]", "locked"),
            ("duration", "90"),
            ("status", "inactive"),
        ]);
        let stored = form(&[
            ("name", "New"),
            ("agenda", "Old agenda"),
            ("password", ""),
            ("duration", "90"),
        ]);
        let asked = form(&[
            ("name", "New"),
            ("agenda", "New agenda"),
            ("autostart[lock_state]", "locked"),
        ]);
        let warnings = not_taken(&sent, &stored, &asked);
        let got: Vec<(&str, &str)> = warnings
            .iter()
            .map(|w| (w.field.as_str(), w.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("agenda", NOT_STORED),
                ("password", NOT_KEPT),
                ("waiting_room", NOT_SHOWN)
            ]
        );
        assert!(!format!("{warnings:?}").contains("secret"));
    }

    #[test]
    fn a_change_is_ignored_entirely_only_when_every_real_change_was_stored_otherwise() {
        let before = form(&[("name", "Old"), ("agenda", "A")]);
        let asked = form(&[("name", "New"), ("agenda", "A")]);
        assert!(
            ignored_entirely(&before, &asked, &before),
            "agenda was no change"
        );
        let asked = form(&[("name", "New"), ("agenda", "B")]);
        assert!(ignored_entirely(&before, &asked, &before));
        let half = form(&[("name", "Old"), ("agenda", "B")]);
        assert!(!ignored_entirely(&before, &asked, &half));
        let asked = form(&[("autostart[lock_state]", "locked")]);
        assert!(
            !ignored_entirely(&before, &asked, &before),
            "not shown is not known to have failed"
        );
        assert!(
            !ignored_entirely(&before, &form(&[("name", "Old")]), &before),
            "nothing to change"
        );
    }

    #[test]
    fn a_status_reads_as_sent_unknown_or_not_taken() {
        assert_eq!(status_taken("active", Some("active")), StatusRead::Taken);
        assert_eq!(
            status_taken("active", Some("inactive")),
            StatusRead::NotTaken
        );
        assert_eq!(status_taken("inactive", None), StatusRead::Unknown);
        assert!(status_moved(Some("inactive"), Some("active")).is_some());
        assert_eq!(status_moved(Some("active"), Some("active")), None);
        assert_eq!(status_moved(None, Some("active")), None);
        assert_eq!(status_moved(Some("active"), Some("\u{1b}[2J")), None);
    }
}

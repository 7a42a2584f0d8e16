//! What a vendor answer means for a lookup by room key: the room found under the key it
//! was asked by, a room gone, a key that moved to another room, and how long a
//! `Retry-After` holds lookups back. Plain functions, tested without HTTP.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{from_vendor::room_of, lookup::Lookup};
use crate::vendor::{ApiError, models::Widget};

/// The longest wait asked by the vendor that is honoured: past it, lookups call again.
const MAX_HOLD_SECS: u64 = 3600;

/// The room of `widget`, under the key it was asked by.
pub(super) fn found(license: &str, widget: &Widget) -> Lookup {
    let mut room = room_of(widget);
    room.license = license.to_owned();
    Lookup::Found(Arc::new(room))
}

/// Whether a failed detail call says the room is gone: deleted (404/410) or no longer
/// ours (403).
pub(super) fn is_gone(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::NotFound { .. } | ApiError::Vendor { status: 403, .. }
    )
}

/// Whether `widget` still has `license` as its key. An answer without a token does not
/// say otherwise (the vendor's fields come and go; see the wire contract's unknowns).
pub(super) fn still_has_key(widget: &Widget, license: &str) -> bool {
    widget.token.is_empty() || widget.token == license
}

/// Until when no lookup calls the vendor after `error`: the `Retry-After` it gave, at
/// most [`MAX_HOLD_SECS`]; no wait when it gave none (or zero).
pub(super) fn hold_until(now: DateTime<Utc>, error: &ApiError) -> Option<DateTime<Utc>> {
    let secs = error.retry_after_secs()?.min(MAX_HOLD_SECS);
    (secs > 0).then(|| now + chrono::Duration::seconds(secs as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widget(token: &str) -> Widget {
        Widget {
            id: 7,
            token: token.to_owned(),
            ..Widget::default()
        }
    }

    #[test]
    fn a_remembered_key_counts_only_while_its_widget_has_it() {
        assert!(still_has_key(&widget("123-123-123"), "123-123-123"));
        assert!(still_has_key(&widget(""), "123-123-123"));
        assert!(!still_has_key(&widget("999-999-999"), "123-123-123"));
    }

    #[test]
    fn only_a_retry_after_makes_lookups_wait_and_never_for_more_than_an_hour() {
        let now: DateTime<Utc> = "2026-12-01T12:00:00Z".parse().unwrap();
        let unavailable = |secs| ApiError::Unavailable {
            retry_after_secs: secs,
            message: "maintenance".into(),
        };
        assert_eq!(
            hold_until(now, &unavailable(Some(120))),
            Some(now + chrono::Duration::seconds(120))
        );
        assert_eq!(
            hold_until(
                now,
                &ApiError::RateLimited {
                    retry_after_secs: Some(u64::MAX)
                }
            ),
            Some(now + chrono::Duration::seconds(3600))
        );
        assert_eq!(hold_until(now, &unavailable(None)), None);
        assert_eq!(hold_until(now, &unavailable(Some(0))), None);
        assert_eq!(hold_until(now, &ApiError::Timeout), None);
    }

    #[test]
    fn deleted_and_foreign_rooms_are_gone_other_failures_are_not() {
        assert!(is_gone(&ApiError::NotFound { status: 404 }));
        assert!(is_gone(&ApiError::NotFound { status: 410 }));
        assert!(is_gone(&ApiError::Vendor {
            status: 403,
            message: "Forbidden".into()
        }));
        assert!(!is_gone(&ApiError::Vendor {
            status: 500,
            message: "Oops".into()
        }));
    }
}

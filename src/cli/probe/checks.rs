//! The probe's verdicts: what the vendor answered → one [`Check`] per assumption, in the
//! report's order. Plain functions over plain data ([`super::seen`]), tested without HTTP.
//! Each part has its file: the listings, one room's detail, the temporary room.
//!
//! No verdict puts a token, a role hash or a password into what it says it saw: room keys
//! are shown by their shape (`NNN-NNN-NNN`), roles by their names.

use serde_json::Value;

use super::{
    assumptions::Assumption,
    listing_checks::{limit, paging, scopes, total, unscoped_listing, unscoped_listing_with},
    report::Check,
    room_checks::{ROOM_ASSUMPTIONS, room_checks},
    seen::{ReadSeen, Seen, Sent, Step, WriteSeen},
    write_checks::write_checks,
};
use crate::{domain::LicensePattern, vendor::tolerant::as_u64};

/// The sign-in: `how` names the mode (server-to-server login or OAuth).
pub fn sign_in(result: &Seen<()>, how: &str) -> Check {
    match result {
        Ok(()) => Check::ok(Assumption::SignIn, format!("signed in ({how})")),
        Err(e) => Check::failed(
            Assumption::SignIn,
            format!("signing in ({how}) failed: {e}"),
        ),
    }
}

/// Every verdict of a run, in the report's order: the sign-in, then (once signed in) the
/// read-only part, then the write part. An account without rooms has its room checked
/// on the temporary room, and one without closed rooms has the unscoped listing checked
/// by the temporary room once closed.
pub fn verdicts(
    sign_in: Check,
    read: Option<&ReadSeen>,
    write: Option<(&WriteSeen, &Sent)>,
    pattern: &LicensePattern,
) -> Vec<Check> {
    let mut checks = vec![sign_in];
    let Some(read) = read else {
        return checks;
    };
    let mut read_checks = read_checks(read, pattern);
    if let Some((written, sent)) = write {
        if let (None, Step::Ran(room)) = (&read.room, &written.created) {
            let fresh = room_checks(room, pattern, " (the temporary room)");
            for check in &mut read_checks {
                if let Some(new) = fresh.iter().find(|f| f.assumption == check.assumption) {
                    *check = new.clone();
                }
            }
        }
        for check in &mut read_checks {
            if check.assumption == Assumption::UnscopedListing {
                *check = unscoped_listing_with(check.clone(), &written.closed);
            }
        }
        checks.extend(read_checks);
        checks.extend(write_checks(written, sent));
    } else {
        checks.extend(read_checks);
    }
    checks
}

/// Every verdict of the read-only part, in the report's order.
pub fn read_checks(seen: &ReadSeen, pattern: &LicensePattern) -> Vec<Check> {
    let mut checks = vec![
        account(&seen.account),
        paging(&seen.listings),
        limit(&seen.listings),
        total(&seen.listings),
        unscoped_listing(&seen.listings),
        scopes(&seen.listings),
    ];
    match &seen.room {
        Some(room) => checks.extend(room_checks(room, pattern, "")),
        None => checks.extend(ROOM_ASSUMPTIONS.iter().map(|a| {
            Check::skipped(
                *a,
                "no room in the account to read (run with --write to probe a temporary one)",
            )
        })),
    }
    checks
}

/// `GET me`.
pub fn account(me: &Seen<Value>) -> Check {
    let me = match me {
        Ok(me) => me,
        Err(e) => return Check::failed(Assumption::Account, format!("GET me: {e}")),
    };
    let id = me.get("id").and_then(as_u64);
    let email = me.get("email").and_then(Value::as_str);
    match (id, email) {
        (None, None) => Check::differs(Assumption::Account, "GET me names no id and no email"),
        (id, email) => Check::ok(
            Assumption::Account,
            format!(
                "account {}, {}",
                id.map_or("without id".to_owned(), |i| i.to_string()),
                email.unwrap_or("without email")
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;
    use serde_json::json;

    use super::*;
    use crate::cli::probe::{
        report::Outcome,
        seen::{Listing, Listings, ReadBack, StatusSeen},
    };

    fn outcome_of(checks: &[Check], assumption: Assumption) -> (Outcome, String) {
        let check = checks.iter().find(|c| c.assumption == assumption).unwrap();
        (check.outcome, check.seen.clone())
    }

    #[test]
    fn a_failed_sign_in_is_the_only_line() {
        let checks = verdicts(
            sign_in(
                &Err("the vendor refused the credentials (no)".into()),
                "OAuth",
            ),
            None,
            None,
            &LicensePattern::default(),
        );
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].outcome, Outcome::Failed);
        assert_eq!(
            checks[0].seen,
            "signing in (OAuth) failed: the vendor refused the credentials (no)"
        );
    }

    #[test]
    fn an_account_without_rooms_is_probed_on_the_temporary_room() {
        let none = || Ok(Listing::default());
        let read = ReadSeen {
            account: Ok(json!({"id": 1, "email": "ops@example.com"})),
            listings: Listings {
                small_page1: none(),
                small_page2: none(),
                full_page1: none(),
                full_page2: none(),
                active: none(),
                inactive: none(),
            },
            room: None,
        };
        let pattern = LicensePattern::default();
        let signed_in = || sign_in(&Ok(()), "server-to-server login");

        let read_only = verdicts(signed_in(), Some(&read), None, &pattern);
        assert_eq!(
            outcome_of(&read_only, Assumption::RoomKey).0,
            Outcome::Skipped
        );
        assert_eq!(
            outcome_of(&read_only, Assumption::UnscopedListing).0,
            Outcome::Skipped
        );

        let sent = Sent::new(
            "2026-03-20T08:00:00Z".parse().unwrap(),
            SecretString::from("pw-secret"),
        );
        let written = WriteSeen {
            create: Ok(1),
            created: Step::Ran(Ok(json!({
                "id": 1, "token": "700-000-001", "status": "active", "timezone": "Europe/Warsaw",
                "start_date": sent.start_at.timestamp(), "roles": {"host": "Host1"},
            }))),
            updated: Step::NotRun("not in this test"),
            closed: Step::Ran(Ok(StatusSeen {
                status: Some("inactive".into()),
                in_scope: Some(true),
                in_unscoped: Some(false),
            })),
            reopened: Step::NotRun("not in this test"),
            personal: Step::NotRun("no --email given"),
            deleted: Step::Ran(Ok(ReadBack::Gone(404))),
        };
        let both = verdicts(signed_in(), Some(&read), Some((&written, &sent)), &pattern);
        let (outcome, seen) = outcome_of(&both, Assumption::RoomKey);
        assert_eq!(outcome, Outcome::Ok);
        assert!(seen.starts_with("room 1 (the temporary room)"), "{seen}");
        assert_eq!(outcome_of(&both, Assumption::Status).0, Outcome::Ok);
        assert_eq!(
            outcome_of(&both, Assumption::UnscopedListing).0,
            Outcome::Differs,
            "told by the temporary room once closed"
        );
        assert_eq!(both.len(), 20);
    }
}

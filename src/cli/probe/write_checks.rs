//! The verdicts on the temporary room of `--write`: created and read back, changed by a
//! PUT of two fields, closed, reopened, invited to, deleted.

use secrecy::ExposeSecret;
use serde_json::Value;

use super::{
    assumptions::Assumption,
    report::{Check, instant, short},
    seen::{ReadBack, Seen, Sent, StatusSeen, Step, WriteSeen},
};
use crate::{domain::is_token, vendor::tolerant::as_u64};

/// Every verdict of the write part, in the report's order.
pub fn write_checks(seen: &WriteSeen, sent: &Sent) -> Vec<Check> {
    vec![
        create(&seen.create, sent),
        create_read_back(&seen.created, sent),
        update(&seen.created, &seen.updated, sent),
        close_or_reopen(Assumption::Close, &seen.closed, "inactive"),
        close_or_reopen(Assumption::Reopen, &seen.reopened, "active"),
        personal_link(&seen.personal),
        delete(&seen.deleted, &seen.create, sent),
    ]
}

/// `POST widgets`.
fn create(created: &Seen<u64>, sent: &Sent) -> Check {
    match created {
        Ok(id) => Check::ok(
            Assumption::Create,
            format!("created room {id}, \"{}\"", sent.name),
        ),
        Err(e) => Check::failed(Assumption::Create, format!("POST widgets: {e}")),
    }
}

/// The created room holds every field as sent.
fn create_read_back(created: &Step<Value>, sent: &Sent) -> Check {
    let room = match step(Assumption::CreateReadBack, created, "GET widgets/{id}") {
        Ok(room) => room,
        Err(check) => return check,
    };
    let mut off = Vec::new();
    for (field, expected) in [
        ("name", Value::from(sent.name.as_str())),
        ("type", Value::from("scheduled")),
        ("duration", Value::from(sent.duration_minutes)),
        ("timezone", Value::from(sent.timezone.name())),
    ] {
        if !same(room.get(field), Some(&expected)) {
            off.push(format!(
                "{field} {} (sent {})",
                shown(room.get(field)),
                short(&expected)
            ));
        }
    }
    let agenda = room.get("agenda").and_then(Value::as_str).unwrap_or("");
    // The vendor may wrap the agenda in HTML: the text must be in it.
    if !agenda.contains(&sent.agenda) {
        off.push(format!("agenda {}", shown(room.get("agenda"))));
    }
    if room.get("password").and_then(Value::as_str) != Some(sent.password.expose_secret()) {
        off.push("password not as sent".to_owned());
    }
    let start = room.get("start_date").and_then(as_u64);
    let sent_at = sent.start_at.timestamp();
    if start.and_then(|s| i64::try_from(s).ok()) != Some(sent_at) {
        let as_utc = chrono::NaiveDateTime::parse_from_str(&sent.start_wall, "%Y-%m-%d %H:%M:%S")
            .ok()
            .map(|w| w.and_utc().timestamp());
        let why = if start.and_then(|s| i64::try_from(s).ok()) == as_utc && as_utc.is_some() {
            ", the wall clock read in UTC instead of in timezone"
        } else {
            ""
        };
        off.push(format!(
            "start_date {} (sent {} {} = {}{why})",
            shown(room.get("start_date")),
            sent.start_wall,
            sent.timezone.name(),
            sent.start_at.format("%Y-%m-%dT%H:%M:%SZ")
        ));
    }
    if off.is_empty() {
        Check::ok(
            Assumption::CreateReadBack,
            format!(
                "name, type, start_date ({} {} = {}), duration, timezone, agenda and password read back as sent",
                sent.start_wall,
                sent.timezone.name(),
                sent.start_at.format("%Y-%m-%dT%H:%M:%SZ")
            ),
        )
    } else {
        Check::differs(
            Assumption::CreateReadBack,
            format!("read back otherwise: {}", off.join("; ")),
        )
    }
}

/// The fields the update leaves alone, compared before and after it.
const KEPT_FIELDS: [&str; 5] = ["password", "start_date", "duration", "timezone", "type"];

/// A `PUT` of name and agenda only changes those two and keeps the rest as the vendor
/// stored them at creation.
fn update(created: &Step<Value>, updated: &Step<Value>, sent: &Sent) -> Check {
    let after = match step(Assumption::Update, updated, "PUT widgets/{id}") {
        Ok(after) => after,
        Err(check) => return check,
    };
    let Step::Ran(Ok(before)) = created else {
        return Check::skipped(
            Assumption::Update,
            "the room could not be read before the PUT: nothing to compare with",
        );
    };
    let name = after.get("name").and_then(Value::as_str);
    let agenda = after.get("agenda").and_then(Value::as_str).unwrap_or("");
    if name != Some(sent.new_name.as_str()) || !agenda.contains(&sent.new_agenda) {
        return Check::differs(
            Assumption::Update,
            "the PUT of name and agenda did not change them",
        );
    }
    let lost: Vec<String> = KEPT_FIELDS
        .iter()
        .filter(|f| !same(before.get(**f), after.get(**f)))
        .map(|f| format!("{f} {}", shown_field(f, after.get(*f))))
        .collect();
    if lost.is_empty() {
        Check::ok(
            Assumption::Update,
            format!(
                "a PUT of name and agenda only kept {}",
                KEPT_FIELDS.join(", ")
            ),
        )
    } else {
        Check::differs(
            Assumption::Update,
            format!(
                "a PUT of name and agenda only reset the fields it did not send: {}",
                lost.join(", ")
            ),
        )
    }
}

/// `PUT status=inactive` closes, `status=active` reopens: by the `status` field, or,
/// for a room without one, by the scoped listing.
fn close_or_reopen(assumption: Assumption, seen: &Step<StatusSeen>, wanted: &str) -> Check {
    let seen = match step(assumption, seen, "PUT widgets/{id}") {
        Ok(seen) => seen,
        Err(check) => return check,
    };
    match (&seen.status, seen.in_scope) {
        (Some(status), _) if status == wanted => Check::ok(
            assumption,
            format!("status {wanted} after PUT status={wanted}"),
        ),
        (Some(status), _) => Check::differs(
            assumption,
            format!("status {status} after PUT status={wanted}"),
        ),
        (None, Some(true)) => Check::ok(
            assumption,
            format!("no status field; scope={wanted} lists the room after PUT status={wanted}"),
        ),
        (None, Some(false)) => Check::differs(
            assumption,
            format!(
                "no status field, and scope={wanted} does not list the room after PUT status={wanted}"
            ),
        ),
        (None, None) => Check::skipped(
            assumption,
            format!("no status field, and listing scope={wanted} failed: cannot tell"),
        ),
    }
}

/// `POST widgets/{id}/personal` answers with a usable `personal_token`.
fn personal_link(seen: &Step<Value>) -> Check {
    let answer = match step(Assumption::PersonalLink, seen, "POST widgets/{id}/personal") {
        Ok(answer) => answer,
        Err(check) => return check,
    };
    let token = answer.get("personal_token").and_then(Value::as_str);
    let url = answer.get("personal_url").and_then(Value::as_str);
    let url_token = url.and_then(personal_token_in);
    match (token, url) {
        (Some(t), Some(_)) if is_token(t) && url_token.is_some_and(|u| u != t) => Check::differs(
            Assumption::PersonalLink,
            "personal_token and personal_url, whose _personal_token is another token",
        ),
        (Some(t), Some(_)) if is_token(t) => Check::ok(
            Assumption::PersonalLink,
            "personal_token and personal_url (tokens not shown)",
        ),
        (Some(t), None) if is_token(t) => Check::ok(
            Assumption::PersonalLink,
            "personal_token only, no personal_url (token not shown)",
        ),
        (Some(_), _) => Check::differs(
            Assumption::PersonalLink,
            "a personal_token roomgate does not accept ([A-Za-z0-9_-], 1 to 128)",
        ),
        (None, Some(_)) if url_token.is_some() => Check::differs(
            Assumption::PersonalLink,
            "personal_url only, no personal_token; the URL's _personal_token is usable",
        ),
        (None, Some(_)) => Check::differs(
            Assumption::PersonalLink,
            "personal_url only, with no usable _personal_token in it",
        ),
        (None, None) => Check::differs(
            Assumption::PersonalLink,
            "neither personal_token nor personal_url",
        ),
    }
}

/// The `_personal_token` query value of a personal URL, if it is a token.
pub fn personal_token_in(url: &str) -> Option<&str> {
    let query = url.split_once('?')?.1.split('#').next()?;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "_personal_token")
        .map(|(_, v)| v)
        .filter(|v| is_token(v))
}

/// `DELETE widgets/{id}` and the room is gone.
fn delete(seen: &Step<ReadBack>, created: &Seen<u64>, sent: &Sent) -> Check {
    let room = match created {
        Ok(id) => format!("room {id}, \"{}\"", sent.name),
        Err(_) => format!("\"{}\"", sent.name),
    };
    match seen {
        Step::Ran(Ok(ReadBack::Gone(status))) => Check::ok(
            Assumption::Delete,
            format!("deleted {room}; reading it back answers HTTP {status}"),
        ),
        Step::Ran(Ok(ReadBack::StillThere)) => Check::differs(
            Assumption::Delete,
            format!("DELETE answered, but {room} can still be read"),
        ),
        Step::Ran(Ok(ReadBack::Unreadable(e))) => Check::failed(
            Assumption::Delete,
            format!("DELETE answered; reading {room} back failed: {e}"),
        ),
        Step::Ran(Err(e)) => {
            Check::failed(Assumption::Delete, format!("DELETE of {room} failed: {e}"))
        }
        Step::NotRun(why) => Check::skipped(Assumption::Delete, *why),
        Step::Interrupted => Check::failed(
            Assumption::Delete,
            format!("interrupted before deleting {room}"),
        ),
    }
}

/// A step's value, or the check that says why there is none.
fn step<'a, T>(assumption: Assumption, step: &'a Step<T>, call: &str) -> Result<&'a T, Check> {
    match step {
        Step::Ran(Ok(value)) => Ok(value),
        Step::Ran(Err(e)) => Err(Check::failed(assumption, format!("{call}: {e}"))),
        Step::NotRun(why) => Err(Check::skipped(assumption, *why)),
        Step::Interrupted => Err(Check::failed(assumption, "interrupted before this step")),
    }
}

/// Two answer values mean the same: numbers whether sent as numbers or strings, absent
/// as null.
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    let a = a.filter(|v| !v.is_null());
    let b = b.filter(|v| !v.is_null());
    match (a, b) {
        (Some(a), Some(b)) => match (as_u64(a), as_u64(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        (None, None) => true,
        _ => false,
    }
}

/// A field's value for the report; the password only as set or empty.
fn shown_field(field: &str, value: Option<&Value>) -> String {
    if field == "password" {
        match value.and_then(Value::as_str) {
            Some("") | None => "now empty".to_owned(),
            Some(_) => "changed (not shown)".to_owned(),
        }
    } else {
        shown(value)
    }
}

/// A value for the report: `empty` for null or absent, Unix seconds with their instant,
/// anything else as short JSON.
fn shown(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "empty".to_owned(),
        Some(v) => match as_u64(v) {
            Some(secs) if secs > 100_000_000 => format!("{secs} ({})", instant(secs)),
            _ => short(v),
        },
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;
    use serde_json::json;

    use super::*;
    use crate::cli::probe::report::Outcome;

    fn sent() -> Sent {
        Sent::new(
            "2026-03-20T08:00:00Z".parse().unwrap(),
            SecretString::from("pw-secret"),
        )
    }

    fn stored(s: &Sent) -> Value {
        json!({
            "id": 8, "name": s.name, "type": "scheduled", "duration": 45,
            "timezone": "Europe/Warsaw", "agenda": s.agenda, "password": "pw-secret",
            "start_date": s.start_at.timestamp(), "status": "active",
        })
    }

    fn write(created: Value, updated: Value) -> WriteSeen {
        WriteSeen {
            create: Ok(8),
            created: Step::Ran(Ok(created)),
            updated: Step::Ran(Ok(updated)),
            closed: Step::Ran(Ok(StatusSeen {
                status: Some("inactive".into()),
                in_scope: Some(true),
                in_unscoped: Some(true),
            })),
            reopened: Step::Ran(Ok(StatusSeen {
                status: Some("active".into()),
                in_scope: Some(true),
                in_unscoped: Some(true),
            })),
            personal: Step::Ran(Ok(
                json!({"personal_token": "Pt8", "personal_url": "https://app.example/x?_personal_token=Pt8"}),
            )),
            deleted: Step::Ran(Ok(ReadBack::Gone(404))),
        }
    }

    fn write_not_ok(seen: &WriteSeen, s: &Sent) -> Vec<(&'static str, Outcome)> {
        write_checks(seen, s)
            .into_iter()
            .filter(|c| c.outcome != Outcome::Ok)
            .map(|c| (c.assumption.name(), c.outcome))
            .collect()
    }

    fn changed(s: &Sent, mut room: Value) -> Value {
        room["name"] = json!(s.new_name);
        room["agenda"] = json!(s.new_agenda);
        room
    }

    #[test]
    fn a_write_run_as_assumed_is_all_ok_and_never_shows_the_password() {
        let s = sent();
        let seen = write(stored(&s), changed(&s, stored(&s)));
        assert_eq!(write_not_ok(&seen, &s), []);
        for check in write_checks(&seen, &s) {
            assert!(!check.seen.contains("pw-secret"), "{}", check.seen);
            assert!(!check.seen.contains("Pt8"), "{}", check.seen);
        }
    }

    #[test]
    fn a_put_that_replaces_the_record_is_an_update_difference_only() {
        let s = sent();
        let mut replaced = changed(&s, stored(&s));
        for (k, v) in [
            ("password", json!("")),
            ("start_date", Value::Null),
            ("duration", json!(60)),
            ("timezone", json!("UTC")),
            ("type", json!("permanent")),
        ] {
            replaced[k] = v;
        }
        let seen = write(stored(&s), replaced);
        assert_eq!(write_not_ok(&seen, &s), [("update", Outcome::Differs)]);
        let check = update(&seen.created, &seen.updated, &s);
        assert!(check.seen.contains("password now empty"), "{}", check.seen);
        assert!(check.seen.contains("timezone \"UTC\""), "{}", check.seen);
    }

    #[test]
    fn a_start_read_in_utc_is_named_as_such() {
        let s = sent();
        let mut utc = stored(&s);
        utc["start_date"] = json!(s.start_at.timestamp() + 7200);
        let check = create_read_back(&Step::Ran(Ok(utc)), &s);
        assert_eq!(check.outcome, Outcome::Differs);
        assert!(check.seen.contains("read in UTC"), "{}", check.seen);
    }

    #[test]
    fn personal_links_with_a_url_only_differ_and_say_whether_the_url_helps() {
        let url_only = Step::Ran(Ok(
            json!({"personal_url": "https://app.example/700-000-008?_personal_token=Pt8"}),
        ));
        let check = personal_link(&url_only);
        assert_eq!(check.outcome, Outcome::Differs);
        assert!(check.seen.contains("usable"), "{}", check.seen);
        assert!(!check.seen.contains("Pt8"));
        assert_eq!(
            personal_link(&Step::Ran(Ok(json!({"personal_token": "Pt8"})))).outcome,
            Outcome::Ok
        );
        assert_eq!(
            personal_link(&Step::NotRun("no --email given")).outcome,
            Outcome::Skipped
        );
        assert_eq!(
            personal_token_in("https://a.example/k?x=1&_personal_token=Ab-1#f"),
            Some("Ab-1")
        );
    }

    #[test]
    fn a_room_without_status_is_closed_and_reopened_by_its_listing() {
        let by_listing = |in_scope| {
            Step::Ran(Ok(StatusSeen {
                status: None,
                in_scope,
                in_unscoped: Some(true),
            }))
        };
        assert_eq!(
            close_or_reopen(Assumption::Close, &by_listing(Some(true)), "inactive").outcome,
            Outcome::Ok
        );
        assert_eq!(
            close_or_reopen(Assumption::Close, &by_listing(Some(false)), "inactive").outcome,
            Outcome::Differs
        );
        assert_eq!(
            close_or_reopen(Assumption::Reopen, &by_listing(None), "active").outcome,
            Outcome::Skipped
        );
        let still = Step::Ran(Ok(StatusSeen {
            status: Some("active".into()),
            ..StatusSeen::default()
        }));
        assert_eq!(
            close_or_reopen(Assumption::Close, &still, "inactive").outcome,
            Outcome::Differs
        );
    }

    #[test]
    fn a_room_left_behind_is_a_failure_that_names_it() {
        let s = sent();
        let check = delete(&Step::Ran(Err("HTTP 500".into())), &Ok(8), &s);
        assert_eq!(check.outcome, Outcome::Failed);
        assert!(
            check.seen.contains("room 8, \"roomgate probe"),
            "{}",
            check.seen
        );
        assert_eq!(
            delete(&Step::Ran(Ok(ReadBack::StillThere)), &Ok(8), &s).outcome,
            Outcome::Differs
        );
        assert_eq!(
            delete(&Step::Interrupted, &Ok(8), &s).outcome,
            Outcome::Failed
        );
    }
}

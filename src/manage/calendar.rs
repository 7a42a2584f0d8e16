//! Calendar invitations (RFC 5545) for scheduled rooms. The `icalendar` crate does the
//! escaping of `,;\` and new lines and the folding of long lines.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike};

use crate::rooms::Room;

/// One event for `room`, joined through `link` (the attendee link, or a role link when
/// `role` is set). `None` for rooms without a start.
///
/// The UID is stable per room and role, so importing a newer file updates the event.
/// Times are written in UTC, which every calendar shows in its own zone. A repeating room
/// gives a series that starts at its occurrence under way or next at `now`, with an
/// `RRULE` for the rest.
pub fn room_calendar(
    room: &Room,
    link: &str,
    role: Option<&str>,
    uid_domain: &str,
    now: DateTime<Utc>,
) -> Option<String> {
    let start = room.start_at(now)?;
    let end = room.end_from(start)?;
    let uid = format!(
        "{}-{}@{uid_domain}",
        room.license,
        role.unwrap_or("attendee")
    );
    let summary = match role {
        Some(role) => format!("{} ({role})", room.name),
        None => room.name.clone(),
    };
    let description = if room.agenda.trim().is_empty() {
        format!("Join: {link}")
    } else {
        format!("{}\n\nJoin: {link}", room.agenda.trim())
    };
    let event = Event::new()
        .uid(&uid)
        .summary(&summary)
        .description(&description)
        .starts(start)
        .ends(end)
        .url(link)
        .location(link)
        .timestamp(now)
        .done();
    let mut event = event;
    let event = match room.repeat {
        Some(repeat) => {
            let mut rule = format!("FREQ={}", repeat.every.rrule_name());
            if let Some(until) = repeat.until {
                rule.push_str(&format!(";UNTIL={}", until.format("%Y%m%dT%H%M%SZ")));
            }
            event.add_property("RRULE", rule).done()
        }
        None => event,
    };
    Some(
        Calendar::new()
            .name(&room.name)
            .push(event)
            .done()
            .to_string(),
    )
}

/// The host part of a base URL, for UIDs.
pub fn uid_domain(public_url: &str) -> String {
    url::Url::parse(public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "roomgate".to_owned())
}

//! Calendar invitations (RFC 5545) for scheduled rooms.
//!
//! Room names and agendas come from the vendor or the catalog, so they may hold any
//! character. Each text is first cleaned ([`plain_text`]: carriage returns and other
//! control characters removed, line breaks kept); the `icalendar` crate then escapes
//! `\ ; ,` and line breaks in every property whose type is TEXT, and folds long lines.
//! It does not know that RFC 7986's `NAME` is TEXT, so `NAME` says so itself
//! (`VALUE=TEXT`). The tests parse the files back and check that no text can start a
//! line of its own.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike, Property};

use crate::domain::Room;

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
    let name = plain_text(&room.name);
    let summary = match role {
        Some(role) => format!("{name} ({role})"),
        None => name.clone(),
    };
    let agenda = plain_text(&room.agenda);
    let description = if agenda.trim().is_empty() {
        format!("Join: {link}")
    } else {
        format!("{}\n\nJoin: {link}", agenda.trim())
    };
    let mut event = Event::new()
        .uid(&uid)
        .summary(&summary)
        .description(&description)
        .starts(start)
        .ends(end)
        .url(link)
        .location(link)
        .timestamp(now)
        .done();
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
            .append_property(
                Property::new("NAME", &name)
                    .add_parameter("VALUE", "TEXT")
                    .done(),
            )
            .append_property(Property::new("X-WR-CALNAME", &name))
            .push(event)
            .done()
            .to_string(),
    )
}

/// `text` without carriage returns or other control characters (line breaks stay): a
/// lone CR would end a content line in many parsers.
fn plain_text(text: &str) -> String {
    text.chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect()
}

/// The host part of a base URL, for UIDs.
pub fn uid_domain(public_url: &str) -> String {
    url::Url::parse(public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "roomgate".to_owned())
}

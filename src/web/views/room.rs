//! Turns a room, a checked role and a visitor into the room page's view.

use chrono::{DateTime, Utc};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use super::pages::{CountdownView, PromptView, RoomPage, RoomView, ScheduleView, SignedInView};
use crate::{
    domain::{Language, Room},
    visit::{
        embed::{CONTAINER_ID, EmbedFrame, script_json},
        phase::Phase,
        visitor::Visitor,
    },
};

/// Everything the room page is made from.
pub struct PageInput<'a> {
    pub room: &'a Room,
    /// `(role name, role token)` when a valid role link was used.
    pub role: Option<(&'a str, &'a str)>,
    pub visitor: &'a Visitor,
    pub embed: &'a EmbedFrame,
    /// Vendor app host, for the `<noscript>` direct link.
    pub app_url: &'a str,
    /// When set, the page asks for a name and carries no embed at all.
    pub prompt: Option<PromptView>,
    pub lang: Language,
    pub phase: Phase,
    pub now: DateTime<Utc>,
    pub signed_in: Option<SignedInView>,
}

/// The parts of a room page that are the visitor's own: the embed data block (empty when
/// the page shows no room) and the `<noscript>` direct link. A compiled page needs only
/// these and the prompt and sign-in views, so they are made before, and without, the rest.
pub struct VisitorParts {
    pub embed_json: String,
    pub direct_link: String,
}

impl VisitorParts {
    /// The visitor's parts of the page `input` describes.
    pub fn of(input: &PageInput<'_>) -> Self {
        let role_token = input.role.map(|(_, token)| token);
        let embed_json = if input.prompt.is_none() && input.phase.shows_room() {
            script_json(input.embed, &input.room.license, role_token, input.visitor)
        } else {
            String::new()
        };
        VisitorParts {
            embed_json,
            direct_link: direct_link(
                input.app_url,
                &input.room.license,
                role_token,
                input.visitor.nickname.as_deref(),
            ),
        }
    }
}

/// The room page view.
pub fn room_view(input: PageInput<'_>) -> RoomPage {
    let parts = VisitorParts::of(&input);
    room_view_with(input, parts)
}

/// The room page view around the visitor's `parts` of it, already made.
pub fn room_view_with(input: PageInput<'_>, parts: VisitorParts) -> RoomPage {
    let PageInput {
        room,
        role,
        prompt,
        lang,
        phase,
        now,
        signed_in,
        ..
    } = input;
    let VisitorParts {
        embed_json,
        direct_link,
    } = parts;
    let countdown = match phase {
        Phase::Upcoming { starts_at } => {
            Some(countdown(starts_at, now, false, lang.word("starts_in")))
        }
        Phase::Waiting { opens_at } => Some(countdown(opens_at, now, true, lang.word("opens_in"))),
        Phase::Live | Phase::Ended => None,
    };
    RoomPage {
        room: RoomView {
            name: room.name.clone(),
            agenda: room.agenda.clone(),
            schedule: schedule_view(room, now, lang),
            calendar_url: (room.start.is_some() && phase != Phase::Ended)
                .then(|| format!("/room/{}/calendar.ics", room.license)),
        },
        role: role.map(|(name, _)| name.to_owned()),
        role_label: role.map(|(name, _)| {
            let known = lang.word(&format!("role_{name}"));
            let shown = if known.is_empty() { name } else { known };
            lang.fill("joining_as", &[("role", shown)])
        }),
        phase: phase.name(),
        countdown,
        embed_json,
        container_id: CONTAINER_ID,
        direct_link,
        prompt,
        signed_in,
    }
}

fn countdown(to: DateTime<Utc>, now: DateTime<Utc>, reload: bool, label: &str) -> CountdownView {
    CountdownView {
        to_iso: to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        seconds_left: (to - now).num_seconds().max(0),
        reload,
        label: label.to_owned(),
    }
}

/// The schedule of `room` at `now` (a repeating room's occurrence under way or next) in
/// its own timezone and in `lang`, or `None` without a start.
pub fn schedule_view(room: &Room, now: DateTime<Utc>, lang: Language) -> Option<ScheduleView> {
    let start = room.start_at(now)?;
    let end = room.end_from(start)?;
    let local_start = start.with_timezone(&room.timezone);
    let local_end = end.with_timezone(&room.timezone);
    let same_day = local_start.date_naive() == local_end.date_naive();
    Some(ScheduleView {
        start_iso: start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        start_text: lang.format_datetime(&local_start),
        end_text: if same_day {
            lang.format_time(&local_end)
        } else {
            lang.format_datetime(&local_end)
        },
        timezone: room.timezone.name().to_owned(),
        duration_minutes: room.duration_minutes,
    })
}

/// The vendor's own link to the room: `{app_url}/{key}[/x/{role token}][?_nickname=…]`.
pub fn direct_link(
    app_url: &str,
    license: &str,
    role_token: Option<&str>,
    nickname: Option<&str>,
) -> String {
    let mut link = String::with_capacity(app_url.len() + license.len() + 64);
    link.push_str(app_url);
    link.push('/');
    link.push_str(license);
    if let Some(token) = role_token {
        link.push_str("/x/");
        link.push_str(token);
    }
    if let Some(name) = nickname {
        link.push_str("?_nickname=");
        link.extend(utf8_percent_encode(name, NON_ALPHANUMERIC));
    }
    link
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RoomKind, RoomStatus};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn room() -> Room {
        Room {
            id: None,
            license: "123-123-123".into(),
            name: "Demo".into(),
            agenda: String::new(),
            kind: RoomKind::Scheduled,
            status: RoomStatus::Active,
            start: Some(at("2026-12-01T15:00:00Z")),
            repeat: None,
            duration_minutes: 90,
            timezone: chrono_tz::Europe::Warsaw,
            strict_event: false,
            password_protected: false,
            roles: Default::default(),
        }
    }

    #[test]
    fn the_start_is_shown_in_the_rooms_timezone_and_language() {
        let v = schedule_view(&room(), at("2026-11-30T00:00:00Z"), Language::En).unwrap();
        assert_eq!(v.start_text, "Tuesday, 1 December 2026, 16:00 CET");
        assert_eq!(v.end_text, "17:30 CET");
        assert_eq!(v.start_iso, "2026-12-01T15:00:00Z");
        assert_eq!(v.timezone, "Europe/Warsaw");
        let v = schedule_view(&room(), at("2026-11-30T00:00:00Z"), Language::Pl).unwrap();
        assert_eq!(v.start_text, "wtorek, 1 grudnia 2026, 16:00 CET");
    }

    #[test]
    fn direct_links_follow_the_vendor_shape() {
        assert_eq!(
            direct_link("https://app.example", "123-123-123", None, None),
            "https://app.example/123-123-123"
        );
        assert_eq!(
            direct_link(
                "https://app.example",
                "123-123-123",
                Some("H0st"),
                Some("John Doe&x")
            ),
            "https://app.example/123-123-123/x/H0st?_nickname=John%20Doe%26x"
        );
    }
}

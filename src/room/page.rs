//! Turns a room, a checked role and a visitor into the room page's view.

use chrono::{DateTime, Utc};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use super::{
    embed::{CONTAINER_ID, EmbedBlock},
    request::Visitor,
    schedule::{Phase, schedule_view},
};
use crate::{
    configuration::EmbedSettings,
    i18n::Language,
    pages::{CountdownView, PromptView, RoomPage, RoomView, SignedInView},
    rooms::Room,
};

/// Everything the room page is made from.
pub struct PageInput<'a> {
    pub room: &'a Room,
    /// `(role name, role token)` when a valid role link was used.
    pub role: Option<(&'a str, &'a str)>,
    pub visitor: &'a Visitor,
    pub embed: &'a EmbedSettings,
    /// Vendor app host, for the `<noscript>` direct link.
    pub app_url: &'a str,
    /// When set, the page asks for a name and carries no embed at all.
    pub prompt: Option<PromptView>,
    pub lang: Language,
    pub phase: Phase,
    pub now: DateTime<Utc>,
    pub signed_in: Option<SignedInView>,
}

/// The room page view.
pub fn room_page(input: PageInput<'_>) -> RoomPage {
    let PageInput {
        room,
        role,
        visitor,
        embed,
        app_url,
        prompt,
        lang,
        phase,
        now,
        signed_in,
    } = input;
    let role_token = role.map(|(_, token)| token);
    let embed_json = if prompt.is_none() && phase.shows_room() {
        EmbedBlock::new(embed, &room.license, role_token, visitor).to_script_json()
    } else {
        String::new()
    };
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
        direct_link: direct_link(
            app_url,
            &room.license,
            role_token,
            visitor.nickname.as_deref(),
        ),
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

/// The vendor's own link to the room: `{app_url}/{key}[/x/{role token}][?_nickname=…]`.
pub fn direct_link(
    app_url: &str,
    license: &str,
    role_token: Option<&str>,
    nickname: Option<&str>,
) -> String {
    let mut link = format!("{app_url}/{license}");
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

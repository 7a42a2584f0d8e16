//! Turns a room, a checked role and a visitor into the room page's view.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use super::{
    embed::{CONTAINER_ID, EmbedBlock},
    request::Visitor,
    schedule::schedule_view,
};
use crate::{
    configuration::EmbedSettings,
    pages::{PromptView, RoomPage, RoomView},
    rooms::Room,
};

/// The room page for `visitor` joining `room` (as `role`, when a role link was used).
/// With `prompt` set the page asks for a name and carries no embed at all.
pub fn room_page(
    room: &Room,
    role: Option<(&str, &str)>,
    visitor: &Visitor,
    embed: &EmbedSettings,
    app_url: &str,
    prompt: Option<PromptView>,
) -> RoomPage {
    let role_token = role.map(|(_, token)| token);
    let embed_json = if prompt.is_some() {
        String::new()
    } else {
        EmbedBlock::new(embed, &room.license, role_token, visitor).to_script_json()
    };
    RoomPage {
        room: RoomView {
            name: room.name.clone(),
            agenda: room.agenda.clone(),
            schedule: schedule_view(room),
            calendar_url: room
                .start
                .map(|_| format!("/room/{}/calendar.ics", room.license)),
        },
        role: role.map(|(name, _)| name.to_owned()),
        embed_json,
        container_id: CONTAINER_ID,
        direct_link: direct_link(
            app_url,
            &room.license,
            role_token,
            visitor.nickname.as_deref(),
        ),
        prompt,
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

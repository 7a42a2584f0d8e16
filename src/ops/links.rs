//! The links an operator hands out, all on `server.public_url`; the vendor's own links
//! only for reference.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::{domain::Room, settings::Settings};

/// Every link of one room.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct RoomLinks {
    /// For attendees: `{public_url}/room/{license}`.
    #[schema(format = "uri")]
    pub attendee: String,
    /// Role name → `{public_url}/room/{license}/{role token}`.
    pub roles: BTreeMap<String, String>,
    /// Calendar files; the attendee one is public, role ones need the admin token.
    pub calendar: CalendarLinks,
    /// The vendor's direct links, for reference only.
    pub vendor: VendorLinks,
}

/// Calendar invitation links.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct CalendarLinks {
    /// `null` for rooms without a start.
    #[schema(format = "uri")]
    pub attendee: Option<String>,
}

/// The vendor's own links.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct VendorLinks {
    #[schema(format = "uri")]
    pub attendee: String,
    pub roles: BTreeMap<String, String>,
}

/// Builds links from the configured base URLs.
#[derive(Debug, Clone)]
pub struct LinkBuilder {
    pub public_url: String,
    pub app_url: String,
}

impl LinkBuilder {
    /// The links of the settings: on `server.public_url`, with `api.app_url` for the
    /// vendor's own links. The server and the command line both build theirs here.
    pub fn from_settings(settings: &Settings) -> Self {
        LinkBuilder {
            public_url: settings.server.public_url.clone(),
            app_url: settings.api.app_url.clone(),
        }
    }

    /// The attendee link of `license`.
    pub fn attendee(&self, license: &str) -> String {
        format!("{}/room/{license}", self.public_url)
    }

    /// The link that joins `license` with `token`'s role.
    pub fn role(&self, license: &str, token: &str) -> String {
        format!("{}/room/{license}/{token}", self.public_url)
    }

    /// The personal link of one participant.
    pub fn personal(&self, license: &str, personal_token: &str) -> String {
        let mut url = self.attendee(license);
        url.push_str("?_personal_token=");
        url.extend(url::form_urlencoded::byte_serialize(
            personal_token.as_bytes(),
        ));
        url
    }

    /// The public calendar file of `license`.
    pub fn attendee_calendar(&self, license: &str) -> String {
        format!("{}/room/{license}/calendar.ics", self.public_url)
    }

    /// Every link of `room`.
    pub fn for_room(&self, room: &Room) -> RoomLinks {
        RoomLinks {
            attendee: self.attendee(&room.license),
            roles: room
                .roles
                .iter()
                .map(|(role, token)| (role.clone(), self.role(&room.license, token)))
                .collect(),
            calendar: CalendarLinks {
                attendee: room.start.map(|_| self.attendee_calendar(&room.license)),
            },
            vendor: VendorLinks {
                attendee: format!("{}/{}", self.app_url, room.license),
                roles: room
                    .roles
                    .iter()
                    .map(|(role, token)| {
                        (
                            role.clone(),
                            format!("{}/{}/x/{token}", self.app_url, room.license),
                        )
                    })
                    .collect(),
            },
        }
    }
}

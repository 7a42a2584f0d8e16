//! What roomgate assumes about the vendor's API, one name per assumption, and what
//! roomgate does when the real account behaves otherwise. The names are the report's
//! `check` column and the JSON's `check` field: scripts match on them, so they stay put.

use serde::Serialize;

/// One assumption the probe checks, in the order the report lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Assumption {
    /// The configured credentials give a token.
    SignIn,
    /// `GET me` names the account.
    Account,
    /// `page=2` gives other rooms than `page=1`.
    Paging,
    /// `limit` is honoured, small or 500.
    Limit,
    /// Whether listings say how many rooms there are (noted, not relied on).
    Total,
    /// A listing without `scope` holds closed rooms too.
    UnscopedListing,
    /// `scope=active` and `scope=inactive` list different rooms.
    Scopes,
    /// A room's `token` (its key) matches `rooms.license_pattern`.
    RoomKey,
    /// `roles` maps role names to tokens roomgate accepts.
    Roles,
    /// `hosted_at` URLs end in `/<room key>/x/<role token>`, the token of `roles`.
    HostedAt,
    /// Rooms say their `status`.
    Status,
    /// `start_date` comes as Unix seconds.
    StartDate,
    /// `timezone` is an IANA name.
    Timezone,
    /// `POST widgets` creates a room.
    Create,
    /// The created room holds every field as sent.
    CreateReadBack,
    /// `PUT` with some fields keeps the others.
    Update,
    /// `PUT status=inactive` closes a room.
    Close,
    /// `PUT status=active` opens it again.
    Reopen,
    /// `POST widgets/{id}/personal` answers with a `personal_token`.
    PersonalLink,
    /// `DELETE widgets/{id}` removes the room.
    Delete,
}

impl Assumption {
    /// The name in the report and in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            Assumption::SignIn => "sign_in",
            Assumption::Account => "account",
            Assumption::Paging => "paging",
            Assumption::Limit => "limit",
            Assumption::Total => "total",
            Assumption::UnscopedListing => "unscoped_listing",
            Assumption::Scopes => "scopes",
            Assumption::RoomKey => "room_key",
            Assumption::Roles => "roles",
            Assumption::HostedAt => "hosted_at",
            Assumption::Status => "status",
            Assumption::StartDate => "start_date",
            Assumption::Timezone => "timezone",
            Assumption::Create => "create",
            Assumption::CreateReadBack => "create_read_back",
            Assumption::Update => "update",
            Assumption::Close => "close",
            Assumption::Reopen => "reopen",
            Assumption::PersonalLink => "personal_link",
            Assumption::Delete => "delete",
        }
    }

    /// What roomgate does when this assumption does not hold: the sentence a support
    /// engineer reads next to the difference.
    pub fn what_roomgate_does(self) -> &'static str {
        match self {
            Assumption::SignIn => {
                "nothing reaches the API until the sign-in works: check api.auth, api.client_id \
                 and api.client_secret (OAuth: connect again at /oauth/connect)"
            }
            Assumption::Account => {
                "only `roomgate check` reads `me`, to show the connected account; room pages \
                 do not need it"
            }
            Assumption::Paging => {
                "page ignored: roomgate stops paging when a page repeats; rooms past the first \
                 page are found through remembered keys"
            }
            Assumption::Limit => {
                "roomgate asks for the next page while pages bring new rooms and stay as long \
                 as the longest so far (or a total says more), so a capped limit costs calls, \
                 not rooms"
            }
            Assumption::Total => {
                "roomgate bounds a listing by the total when one is given and otherwise pages \
                 by what pages hold"
            }
            Assumption::UnscopedListing => {
                "roomgate remembers every room key it has seen (room-keys.json next to \
                 api.token_file) and checks a key the listing no longer shows with GET \
                 widgets/{id}, so a room closed after roomgate saw it answers 410, not 404, and \
                 can be reopened by key"
            }
            Assumption::Scopes => {
                "roomgate takes a room's status from the room itself, never from the listing \
                 it came in"
            }
            Assumption::RoomKey => {
                "room links whose key does not match rooms.license_pattern get the 404 page \
                 without any lookup: set rooms.license_pattern to fit the vendor's keys"
            }
            Assumption::Roles => {
                "roomgate takes role tokens from roles and from hosted_at URLs shaped \
                 <app>/<room key>/x/<token>; a role found in neither cannot be opened through \
                 roomgate's role links"
            }
            Assumption::HostedAt => {
                "roomgate trusts roles first and takes a hosted_at token only for a role that \
                 roles lacks; its vendor links are {app_url}/<room key>/x/<role token>"
            }
            Assumption::Status => {
                "roomgate reads a room without status as open: a closed room keeps opening \
                 through roomgate until it is deleted"
            }
            Assumption::StartDate => {
                "roomgate reads start_date as Unix seconds; a room whose start it cannot read \
                 is served as permanent (no countdown, no strict-event window)"
            }
            Assumption::Timezone => {
                "roomgate shows a room's times in UTC when it does not know its time zone"
            }
            Assumption::Create => {
                "`roomgate rooms create` and the admin API fail the same way with this account"
            }
            Assumption::CreateReadBack => {
                "roomgate reads every room it creates back and shows what the vendor stored: \
                 set the fields named here in the vendor's panel"
            }
            Assumption::Update => {
                "roomgate reads the room, merges the change and PUTs the whole editable \
                 record, then reads it back, so fields it does not change are kept"
            }
            Assumption::Close => {
                "roomgate closes rooms with status=inactive and reads them back: `roomgate rooms \
                 deactivate` says when a room is still open; until that works, close rooms in \
                 the vendor's panel"
            }
            Assumption::Reopen => {
                "`roomgate rooms activate` reads the room back and says when it is still \
                 closed: reopen rooms in the vendor's panel"
            }
            Assumption::PersonalLink => {
                "roomgate takes the personal token from personal_url (its _personal_token, \
                 personal_token or token parameter, else its last path segment) \
                 when the answer has no personal_token"
            }
            Assumption::Delete => {
                "delete the temporary room named on this line in the vendor's panel"
            }
        }
    }
}

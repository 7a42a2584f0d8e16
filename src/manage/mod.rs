//! What operators do with rooms: list, create, change, open and close, delete, hand out
//! links and personal invitations, and calendar files. One core shared by the command
//! line (`roomgate rooms …`) and the admin API (`/admin/api/…`).
//!
//! Every link comes out on `server.public_url`. Every change invalidates the room in the
//! directory cache, so the next page view shows it.

pub mod calendar;
pub mod input;
pub mod links;

use std::sync::Arc;

use chrono::Utc;
use serde::Serialize;

pub use input::{FieldErrors, InvitationInput, RoomInput};
pub use links::{LinkBuilder, RoomLinks};

use crate::{
    clock::Clock,
    livewebinar::{ApiError, models::Widget},
    rooms::{Catalog, Directory, Lookup, Room, RoomKind, RoomSource, RoomStatus},
};

/// Why an operator's request failed; each variant says the HTTP status it answers.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    /// 404: no room has this key.
    #[error("no such room")]
    NotFound,
    /// 404: the room has no start, so no calendar event.
    #[error("this room has no start time, so there is no calendar event")]
    NoSchedule,
    /// 409: the catalog is edited in its file, not through roomgate.
    #[error("rooms of the catalog are managed in its file")]
    CatalogManaged,
    /// 409: invitations need the vendor API.
    #[error("personal invitations need rooms.source = \"api\"")]
    NeedsVendor,
    /// 422: the input is not acceptable; messages per field.
    #[error("{message}")]
    Invalid {
        message: String,
        fields: FieldErrors,
    },
    /// The vendor refused or failed: 422 with its messages, 404, or 502.
    #[error("the vendor: {0}")]
    Vendor(#[from] ApiError),
}

impl ManageError {
    fn invalid(fields: FieldErrors) -> Self {
        ManageError::Invalid {
            message: "some fields are not acceptable".to_owned(),
            fields,
        }
    }

    /// The HTTP status this error answers.
    pub fn status(&self) -> u16 {
        match self {
            ManageError::NotFound | ManageError::NoSchedule => 404,
            ManageError::CatalogManaged | ManageError::NeedsVendor => 409,
            ManageError::Invalid { .. } => 422,
            ManageError::Vendor(ApiError::Validation { .. }) => 422,
            ManageError::Vendor(ApiError::NotFound { .. }) => 404,
            ManageError::Vendor(_) => 502,
        }
    }

    /// Messages per field, when there are any (ours or the vendor's).
    pub fn fields(&self) -> Option<&FieldErrors> {
        match self {
            ManageError::Invalid { fields, .. }
            | ManageError::Vendor(ApiError::Validation { fields, .. })
                if !fields.is_empty() =>
            {
                Some(fields)
            }
            _ => None,
        }
    }

    /// Whether the vendor (rather than the operator's input) is to blame.
    pub fn is_vendor_failure(&self) -> bool {
        matches!(self, ManageError::Vendor(e) if !matches!(e, ApiError::Validation { .. } | ApiError::NotFound { .. }))
    }
}

/// A room as operators see it: roomgate's model plus every link.
#[derive(Debug, Clone, Serialize)]
pub struct RoomOut {
    pub license: String,
    pub id: Option<u64>,
    pub name: String,
    pub agenda: String,
    #[serde(rename = "type")]
    pub kind: RoomKind,
    pub status: RoomStatus,
    /// RFC 3339, UTC.
    pub start: Option<String>,
    pub duration_minutes: u32,
    pub timezone: String,
    pub strict_event: bool,
    pub password_protected: bool,
    pub links: RoomLinks,
}

/// One line of the room list: listing the vendor's rooms gives no role tokens, so only
/// the attendee link (use `show` or `links` for the rest).
#[derive(Debug, Clone, Serialize)]
pub struct RoomListItem {
    pub license: String,
    pub id: Option<u64>,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Option<RoomKind>,
    pub status: Option<RoomStatus>,
    pub start: Option<String>,
    pub attendee_link: String,
}

/// A personal invitation.
#[derive(Debug, Clone, Serialize)]
pub struct InvitationOut {
    pub license: String,
    pub email: String,
    pub role: String,
    pub personal_token: String,
    /// The link to hand out: `{public_url}/room/{license}?_personal_token=…`.
    pub link: String,
    /// The vendor's own personal link, for reference only.
    pub vendor_personal_url: Option<String>,
}

/// Where the rooms are.
#[derive(Clone)]
pub enum Backend {
    /// The catalog file: read-only here.
    Catalog(Arc<Catalog>),
    /// The vendor API, with the cache to invalidate.
    Api(Directory),
}

/// The operators' core.
#[derive(Clone)]
pub struct Manager {
    backend: Backend,
    links: LinkBuilder,
    clock: Clock,
}

impl Manager {
    /// Operations on `backend`, with links on `public_url` (and `app_url` for reference).
    pub fn new(backend: Backend, public_url: &str, app_url: &str, clock: Clock) -> Self {
        Manager {
            backend,
            clock,
            links: LinkBuilder {
                public_url: public_url.to_owned(),
                app_url: app_url.to_owned(),
            },
        }
    }

    /// Every room.
    pub async fn list(&self) -> Result<Vec<RoomListItem>, ManageError> {
        match &self.backend {
            Backend::Catalog(catalog) => Ok(catalog
                .rooms()
                .iter()
                .map(|room| RoomListItem {
                    license: room.license.clone(),
                    id: room.id,
                    name: room.name.clone(),
                    kind: Some(room.kind),
                    status: Some(room.status),
                    start: room.start.map(|s| rfc3339(&s)),
                    attendee_link: self.links.attendee(&room.license),
                })
                .collect()),
            Backend::Api(directory) => {
                let mut widgets = directory.api().all_widgets().await?;
                widgets.sort_by_key(|w| std::cmp::Reverse(w.id));
                Ok(widgets
                    .into_iter()
                    .filter_map(|w| {
                        let license = w.token.clone()?;
                        Some(RoomListItem {
                            attendee_link: self.links.attendee(&license),
                            license,
                            id: Some(w.id),
                            name: w.name.clone().unwrap_or_default(),
                            kind: w.kind(),
                            status: None,
                            start: w.start().map(|s| rfc3339(&s)),
                        })
                    })
                    .collect())
            }
        }
    }

    /// One room, fresh from its source.
    pub async fn show(&self, license: &str) -> Result<RoomOut, ManageError> {
        let room = self.room(license).await?;
        Ok(self.out(&room))
    }

    /// Creates a room at the vendor.
    pub async fn create(&self, input: &RoomInput) -> Result<RoomOut, ManageError> {
        let directory = self.directory()?;
        let form = input.create_form().map_err(ManageError::invalid)?;
        let created = directory.api().create_widget(&form).await?;
        let id = created
            .get("id")
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .ok_or_else(|| ApiError::BadBody {
                status: 200,
                reason: "the created room has no id".into(),
            })?;
        directory.invalidate_index().await;
        let widget = directory.api().widget(id).await?;
        let room = widget.to_room();
        directory.invalidate(&room.license).await;
        tracing::info!(audit = "room_created", license = %room.license, id, "room created");
        Ok(self.out(&room))
    }

    /// Changes a room at the vendor.
    pub async fn update(&self, license: &str, input: &RoomInput) -> Result<RoomOut, ManageError> {
        let (directory, id, current) = self.vendor_room(license).await?;
        let form = input.update_form(&current).map_err(ManageError::invalid)?;
        directory.api().update_widget(id, &form).await?;
        self.after_change(directory, license, id, "room_updated")
            .await
    }

    /// Opens (`active`) or closes a room.
    pub async fn set_active(&self, license: &str, active: bool) -> Result<RoomOut, ManageError> {
        let (directory, id, current) = self.vendor_room(license).await?;
        let status = if active { "active" } else { "inactive" };
        let form = vec![
            ("name".to_owned(), current.name.clone()),
            ("status".to_owned(), status.to_owned()),
        ];
        directory.api().update_widget(id, &form).await?;
        let audit = if active {
            "room_activated"
        } else {
            "room_deactivated"
        };
        self.after_change(directory, license, id, audit).await
    }

    /// Deletes a room at the vendor.
    pub async fn delete(&self, license: &str) -> Result<(), ManageError> {
        let (directory, id, _) = self.vendor_room(license).await?;
        directory.api().delete_widget(id).await?;
        directory.invalidate(license).await;
        directory.invalidate_index().await;
        tracing::info!(audit = "room_deleted", %license, id, "room deleted");
        Ok(())
    }

    /// Every link of a room.
    pub async fn links(&self, license: &str) -> Result<RoomLinks, ManageError> {
        let room = self.room(license).await?;
        Ok(self.links.for_room(&room))
    }

    /// A personal invitation: the vendor's personal token, on our link.
    pub async fn invite(
        &self,
        license: &str,
        input: &InvitationInput,
    ) -> Result<InvitationOut, ManageError> {
        if matches!(self.backend, Backend::Catalog(_)) {
            self.room(license).await?;
            return Err(ManageError::NeedsVendor);
        }
        let form = input.form().map_err(ManageError::invalid)?;
        let (directory, id, _) = self.vendor_room(license).await?;
        let answer = directory.api().personal_link(id, &form).await?;
        let token = answer
            .get("personal_token")
            .and_then(|v| v.as_str())
            .filter(|t| crate::room::validate::is_token(t))
            .ok_or_else(|| ApiError::BadBody {
                status: 200,
                reason: "the answer has no usable personal_token".into(),
            })?
            .to_owned();
        tracing::info!(audit = "invitation_created", %license, role = input.role(), "personal invitation created");
        Ok(InvitationOut {
            license: license.to_owned(),
            email: input.email.trim().to_owned(),
            role: input.role().to_owned(),
            link: self.links.personal(license, &token),
            personal_token: token,
            vendor_personal_url: answer
                .get("personal_url")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
        })
    }

    /// The calendar file for attendees, or for `role` (then the event carries the role link).
    pub async fn calendar(&self, license: &str, role: Option<&str>) -> Result<String, ManageError> {
        let room = self.room(license).await?;
        let link = match role {
            None => self.links.attendee(license),
            Some(role) => {
                let token = room.roles.get(role).ok_or_else(|| {
                    ManageError::invalid(FieldErrors::from([(
                        "role".to_owned(),
                        vec![format!("this room has no role {role:?}")],
                    )]))
                })?;
                self.links.role(license, token)
            }
        };
        calendar::room_calendar(
            &room,
            &link,
            role,
            &calendar::uid_domain(&self.links.public_url),
            (self.clock)(),
        )
        .ok_or(ManageError::NoSchedule)
    }

    /// The links of this manager.
    pub fn link_builder(&self) -> &LinkBuilder {
        &self.links
    }

    fn out(&self, room: &Room) -> RoomOut {
        RoomOut {
            license: room.license.clone(),
            id: room.id,
            name: room.name.clone(),
            agenda: room.agenda.clone(),
            kind: room.kind,
            status: room.status,
            start: room.start.map(|s| rfc3339(&s)),
            duration_minutes: room.duration_minutes,
            timezone: room.timezone.name().to_owned(),
            strict_event: room.strict_event,
            password_protected: room.password_protected,
            links: self.links.for_room(room),
        }
    }

    fn directory(&self) -> Result<&Directory, ManageError> {
        match &self.backend {
            Backend::Api(d) => Ok(d),
            Backend::Catalog(_) => Err(ManageError::CatalogManaged),
        }
    }

    /// The room with key `license`, fresh (the vendor's, bypassing the cache).
    async fn room(&self, license: &str) -> Result<Room, ManageError> {
        match &self.backend {
            Backend::Catalog(catalog) => match catalog.lookup(license).await {
                Ok(Lookup::Found(room)) => Ok(room.as_ref().clone()),
                _ => Err(ManageError::NotFound),
            },
            Backend::Api(_) => Ok(self.vendor_room(license).await?.2),
        }
    }

    async fn vendor_room(&self, license: &str) -> Result<(&Directory, u64, Room), ManageError> {
        let directory = self.directory()?;
        let id = directory
            .vendor_id(license, true)
            .await?
            .ok_or(ManageError::NotFound)?;
        let widget: Widget = match directory.api().widget(id).await {
            Err(ApiError::NotFound { .. }) => return Err(ManageError::NotFound),
            other => other?,
        };
        let mut room = widget.to_room();
        room.license = license.to_owned();
        Ok((directory, id, room))
    }

    async fn after_change(
        &self,
        directory: &Directory,
        license: &str,
        id: u64,
        audit: &str,
    ) -> Result<RoomOut, ManageError> {
        directory.invalidate(license).await;
        tracing::info!(audit, %license, id, "room changed");
        let mut room = directory.api().widget(id).await?.to_room();
        room.license = license.to_owned();
        Ok(self.out(&room))
    }
}

fn rfc3339(t: &chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

//! The operators' core: list, create, change, open and close, delete, hand out links and
//! personal invitations, and calendar files.
//!
//! Every link comes out on `server.public_url`. Every change invalidates the room in the
//! directory cache, so the next page view shows it: here at once, and in fleet mode on
//! every other instance too (the directory publishes the change; the command line thus
//! reaches running servers).
//!
//! A change is read, merged, written whole and read back: the vendor may replace the
//! record with what a `PUT` holds and answers 200 whatever it stored, so roomgate sends
//! the whole editable record and reports each field that did not take (`readback`).

use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    calendar,
    error::OpsError,
    input::{FieldErrors, RoomInput, whole_record},
    invitation::InvitationInput,
    links::{LinkBuilder, RoomLinks},
    readback::{self, StatusRead, Warning},
};
use crate::{
    domain::{Clock, Room, RoomKind, RoomPatterns, RoomStatus},
    rooms::{Directory, Lookup, RoomSource, Source, from_vendor::room_of},
    vendor::{ApiError, client::Form, models::Widget},
};

/// A room as operators see it: roomgate's model plus every link.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoomOut {
    pub license: String,
    pub id: Option<u64>,
    pub name: String,
    pub agenda: String,
    #[serde(rename = "type")]
    pub kind: RoomKind,
    pub status: RoomStatus,
    /// RFC 3339, UTC; `null` for rooms without a start.
    #[schema(format = DateTime)]
    pub start: Option<String>,
    pub duration_minutes: u32,
    /// An IANA time zone name.
    pub timezone: String,
    pub strict_event: bool,
    pub password_protected: bool,
    pub links: RoomLinks,
    /// Fields of a change that the vendor, read back, did not store as sent; empty
    /// when everything took (and for anything but a change).
    pub warnings: Vec<Warning>,
}

/// One line of the room list: listing the vendor's rooms gives no role tokens, so only
/// the attendee link (use `show` or `links` for the rest).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoomListItem {
    pub license: String,
    pub id: Option<u64>,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Option<RoomKind>,
    /// `null` when the vendor's listing does not say.
    pub status: Option<RoomStatus>,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub start: Option<String>,
    #[schema(format = "uri")]
    pub attendee_link: String,
}

/// A personal invitation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvitationOut {
    pub license: String,
    pub email: String,
    pub role: String,
    pub personal_token: String,
    /// The link to hand out: `{public_url}/room/{license}?_personal_token=…`.
    #[schema(format = "uri")]
    pub link: String,
    /// The vendor's own personal link, for reference only.
    pub vendor_personal_url: Option<String>,
}

/// The operators' core.
#[derive(Clone)]
pub struct Manager {
    source: Source,
    links: LinkBuilder,
    clock: Clock,
    /// The rooms of the brand this manager works for; others are "no such room".
    rooms: RoomPatterns,
}

impl Manager {
    /// Operations on the rooms of `source`, with `links`, at the times of `clock`.
    pub fn new(source: Source, links: LinkBuilder, clock: Clock) -> Self {
        Manager {
            source,
            links,
            clock,
            rooms: RoomPatterns::all(),
        }
    }

    /// The same operations, on the rooms of `rooms` only (a brand's): any other room is
    /// answered exactly as an unknown one, and new rooms cannot be made (the vendor picks
    /// their keys, which the list may not name).
    pub fn serving(mut self, rooms: RoomPatterns) -> Self {
        self.rooms = rooms;
        self
    }

    /// Every room.
    pub async fn list(&self) -> Result<Vec<RoomListItem>, OpsError> {
        match &self.source {
            Source::Catalog(catalog) => Ok(catalog
                .rooms()
                .iter()
                .filter(|room| self.rooms.allows(&room.license))
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
            Source::Custom(_) => Err(OpsError::LookupOnly),
            Source::Api(directory) => {
                let mut widgets = directory.api().all_widgets().await?;
                widgets.sort_by_key(|w| std::cmp::Reverse(w.id));
                Ok(widgets
                    .into_iter()
                    .filter_map(|w| {
                        let license = w.token.clone().filter(|l| self.rooms.allows(l))?;
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
    pub async fn show(&self, license: &str) -> Result<RoomOut, OpsError> {
        let room = self.room(license).await?;
        Ok(self.out(&room))
    }

    /// Creates a room at the vendor.
    pub async fn create(&self, input: &RoomInput) -> Result<RoomOut, OpsError> {
        let directory = self.directory()?;
        if !self.rooms.is_all() {
            return Err(OpsError::BrandRoomsListed);
        }
        let form = input.create_form().map_err(OpsError::invalid)?;
        let id = directory.api().create_widget(&form).await?.id;
        directory.invalidate_index().await;
        let room = room_of(&directory.api().widget(id).await?);
        directory.invalidate(&room.license).await;
        tracing::info!(audit = "room_created", license = %room.license, id, "room created");
        Ok(self.out(&room))
    }

    /// Changes a room at the vendor: the whole record with the operator's changes
    /// written over it, read back. Fields that did not take come as warnings; when none
    /// of the asked changes took, [`OpsError::NotStored`].
    pub async fn update(&self, license: &str, input: &RoomInput) -> Result<RoomOut, OpsError> {
        let (directory, id, before) = self.vendor_room(license).await?;
        let current = keyed_room(&before, license);
        let changes = input.changes(&current).map_err(OpsError::invalid)?;
        let record = before.editable_form();
        let form = whole_record(record.clone(), &changes, &current.name);
        directory.api().update_widget(id, &form).await?;
        let after = self
            .read_back(directory, license, id, "room_updated")
            .await?;
        let stored = after.editable_form();
        let mut warnings = readback::not_taken(&form, &stored, &changes);
        if readback::ignored_entirely(&record, &changes, &stored) {
            return Err(OpsError::NotStored {
                fields: readback::as_fields(&warnings),
            });
        }
        warnings.extend(readback::status_moved(
            before.status.as_deref(),
            after.status.as_deref(),
        ));
        Ok(self.changed(&after, license, warnings))
    }

    /// Opens (`active`) or closes a room, its whole record sent along (a vendor that
    /// replaces the record would otherwise reset it). Reopening appears in no public
    /// code, so the status is read back: [`OpsError::NotReopened`] or
    /// [`OpsError::NotClosed`] when it did not take.
    pub async fn set_active(&self, license: &str, active: bool) -> Result<RoomOut, OpsError> {
        let (directory, id, before) = self.vendor_room(license).await?;
        let current = keyed_room(&before, license);
        let status = if active { "active" } else { "inactive" };
        let change: Form = vec![("status".to_owned(), status.to_owned())];
        let form = whole_record(before.editable_form(), &change, &current.name);
        directory.api().update_widget(id, &form).await?;
        let audit = if active {
            "room_activated"
        } else {
            "room_deactivated"
        };
        let after = self.read_back(directory, license, id, audit).await?;
        let mut warnings = readback::not_taken(&form, &after.editable_form(), &change);
        match readback::status_taken(status, after.status.as_deref()) {
            StatusRead::Taken => {}
            StatusRead::Unknown => warnings.push(readback::status_unknown()),
            StatusRead::NotTaken if active => return Err(OpsError::NotReopened),
            StatusRead::NotTaken => return Err(OpsError::NotClosed),
        }
        Ok(self.changed(&after, license, warnings))
    }

    /// Deletes a room at the vendor.
    pub async fn delete(&self, license: &str) -> Result<(), OpsError> {
        let (directory, id, _) = self.vendor_room(license).await?;
        directory.api().delete_widget(id).await?;
        directory.invalidate(license).await;
        directory.invalidate_index().await;
        tracing::info!(audit = "room_deleted", %license, id, "room deleted");
        Ok(())
    }

    /// Every link of a room.
    pub async fn links(&self, license: &str) -> Result<RoomLinks, OpsError> {
        let room = self.room(license).await?;
        Ok(self.links.for_room(&room))
    }

    /// A personal invitation: the vendor's personal token, on our link.
    pub async fn invite(
        &self,
        license: &str,
        input: &InvitationInput,
    ) -> Result<InvitationOut, OpsError> {
        if !matches!(self.source, Source::Api(_)) {
            self.room(license).await?;
            return Err(OpsError::NeedsVendor);
        }
        let form = input.form().map_err(OpsError::invalid)?;
        let (directory, id, _) = self.vendor_room(license).await?;
        // The token comes from `personal_token` or from inside `personal_url`, and is
        // one the room page takes back (`is_personal_token`).
        let answer = directory.api().personal_link(id, &form).await?;
        tracing::info!(audit = "invitation_created", %license, role = input.role(), "personal invitation created");
        Ok(InvitationOut {
            license: license.to_owned(),
            email: input.email.trim().to_owned(),
            role: input.role().to_owned(),
            link: self.links.personal(license, &answer.personal_token),
            personal_token: answer.personal_token,
            vendor_personal_url: answer.personal_url,
        })
    }

    /// The calendar file for attendees, or for `role` (then the event carries the role link).
    pub async fn calendar(&self, license: &str, role: Option<&str>) -> Result<String, OpsError> {
        let room = self.room(license).await?;
        self.calendar_file(&room, role)
    }

    /// The calendar file of `room` (as already looked up) for attendees, or for `role`.
    /// The public calendar link serves the cached room through this too, so both files
    /// are built from the same links and the same clock.
    pub fn calendar_file(&self, room: &Room, role: Option<&str>) -> Result<String, OpsError> {
        let license = &room.license;
        let link = match role {
            None => self.links.attendee(license),
            Some(role) => {
                let token = room.roles.get(role).ok_or_else(|| {
                    OpsError::invalid(FieldErrors::from([(
                        "role".to_owned(),
                        vec![format!("this room has no role {role:?}")],
                    )]))
                })?;
                self.links.role(license, token)
            }
        };
        calendar::room_calendar(
            room,
            &link,
            role,
            &calendar::uid_domain(&self.links.public_url),
            (self.clock)(),
        )
        .ok_or(OpsError::NoSchedule)
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
            warnings: Vec::new(),
        }
    }

    /// The room as read back after a change, with what did not take.
    fn changed(&self, widget: &Widget, license: &str, warnings: Vec<Warning>) -> RoomOut {
        for w in &warnings {
            tracing::warn!(%license, field = %w.field, warning = %w.message, "a change did not take");
        }
        RoomOut {
            warnings,
            ..self.out(&keyed_room(widget, license))
        }
    }

    fn directory(&self) -> Result<&Directory, OpsError> {
        match &self.source {
            Source::Api(d) => Ok(d),
            Source::Catalog(_) => Err(OpsError::CatalogManaged),
            Source::Custom(_) => Err(OpsError::LookupOnly),
        }
    }

    /// The room with key `license`, fresh (the vendor's, bypassing the cache).
    async fn room(&self, license: &str) -> Result<Room, OpsError> {
        if !self.rooms.allows(license) {
            return Err(OpsError::NotFound);
        }
        let source = match &self.source {
            Source::Api(_) => {
                let widget = self.vendor_room(license).await?.2;
                return Ok(keyed_room(&widget, license));
            }
            Source::Catalog(catalog) => catalog.as_ref() as &dyn RoomSource,
            Source::Custom(source) => source.as_ref(),
        };
        match source.lookup(license).await {
            Ok(Lookup::Found(room)) => Ok(room.as_ref().clone()),
            _ => Err(OpsError::NotFound),
        }
    }

    /// The vendor's widget with key `license`, as it is now.
    async fn vendor_room(&self, license: &str) -> Result<(&Directory, u64, Widget), OpsError> {
        let directory = self.directory()?;
        if !self.rooms.allows(license) {
            return Err(OpsError::NotFound);
        }
        let id = directory
            .vendor_id(license, true)
            .await?
            .ok_or(OpsError::NotFound)?;
        match directory.api().widget(id).await {
            Err(ApiError::NotFound { .. }) => Err(OpsError::NotFound),
            other => Ok((directory, id, other?)),
        }
    }

    /// After a change: the cache forgets the room, the audit line, and the widget read
    /// back to see what took.
    async fn read_back(
        &self,
        directory: &Directory,
        license: &str,
        id: u64,
        audit: &str,
    ) -> Result<Widget, OpsError> {
        directory.invalidate(license).await;
        tracing::info!(audit, %license, id, "room changed");
        Ok(directory.api().widget(id).await?)
    }
}

/// roomgate's room for `widget`, under the key it was asked for.
fn keyed_room(widget: &Widget, license: &str) -> Room {
    let mut room = room_of(widget);
    room.license = license.to_owned();
    room
}

fn rfc3339(t: &chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

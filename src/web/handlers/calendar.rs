//! `GET /room/{license}/calendar.ics`: the public calendar invitation, with the attendee
//! link only (role links come from the admin API and the command line).

use actix_web::{HttpRequest, HttpResponse, web};

use crate::{
    ops::OpsError,
    web::{
        error::PageError,
        ics::ics_response,
        lookup::{active_room, room_path},
        state::AppState,
    },
};

/// The attendee's calendar file; 404 for rooms without a start.
pub async fn attendee_calendar(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let path = room_path(&req, &state)?;
    let site = state.site(&req);
    let room = active_room(site, &path.license).await?;
    let ics = site
        .manager
        .calendar_file(&room, None)
        .map_err(|e| match e {
            OpsError::NoSchedule => PageError::NotFound,
            other => PageError::Unexpected(other.into()),
        })?;
    Ok(ics_response(&path.license, None, ics))
}

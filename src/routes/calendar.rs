//! `GET /room/{license}/calendar.ics`: the public calendar invitation, with the attendee
//! link only (role links come from the admin API and the command line).

use actix_web::{HttpRequest, HttpResponse, http::header, web};

use crate::{
    error::PageError,
    manage::{LinkBuilder, calendar},
    startup::AppState,
};

/// The attendee's calendar file; 404 for rooms without a start.
pub async fn attendee_calendar(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let path = super::room_path(&req, &state)?;
    let room = super::room::active_room(state.source.as_ref(), &path.license).await?;
    let links = LinkBuilder {
        public_url: state.public_url.clone(),
        app_url: state.app_url.clone(),
    };
    let ics = calendar::room_calendar(
        &room,
        &links.attendee(&path.license),
        None,
        &calendar::uid_domain(&state.public_url),
        state.now(),
    )
    .ok_or(PageError::NotFound)?;
    Ok(ics_response(&path.license, None, ics))
}

/// A calendar file download.
pub fn ics_response(license: &str, role: Option<&str>, ics: String) -> HttpResponse {
    let name = match role {
        Some(role) => format!("room-{license}-{role}.ics"),
        None => format!("room-{license}.ics"),
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/calendar; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(ics)
}

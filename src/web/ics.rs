//! A calendar file as a download, for the public and the admin calendar routes alike.

use actix_web::{HttpResponse, http::header};

/// `ics` as `room-{license}[-{role}].ics`.
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

//! `GET /sso?token=…&return_to=…` (sign-in handoff) and `POST /sso/logout`.

use actix_session::Session;
use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header::LOCATION},
    web,
};
use serde::Deserialize;

use super::forms::check_form;
use crate::{
    error::PageError, i18n, pages::ErrorPage, redirect::safe_return_path, room::query::pairs,
    session, startup::AppState,
};

/// Verifies the token, stores the identity in a renewed session, and answers 303 to
/// `return_to` (a path on this site; anything else goes to `/`).
#[tracing::instrument(name = "sso", skip_all)]
pub async fn sign_in(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let Some(verifier) = &state.sso else {
        return Err(PageError::NotFound);
    };
    let mut token = None;
    let mut return_to = None;
    for (key, value) in pairs(req.query_string()) {
        match key.as_str() {
            "token" if token.is_none() => token = Some(value),
            "return_to" if return_to.is_none() => return_to = Some(value),
            _ => {}
        }
    }
    let mut remembered = session::load(&session);
    let lang = i18n::choose(&req, remembered.lang.as_deref(), state.default_language);
    let now = state.now().timestamp();
    let identity = match token.as_deref().map(|t| verifier.verify(t, now)) {
        Some(Ok(identity)) => identity,
        refused => {
            let reason = match refused {
                Some(Err(e)) => e.to_string(),
                _ => "no token".to_owned(),
            };
            tracing::warn!(security_event = "sso_rejected", %reason, "sign-in token refused");
            let page = ErrorPage {
                title: lang.word("error_sso_title"),
                message: lang.word("error_sso_text"),
                ..ErrorPage::for_status(StatusCode::BAD_REQUEST, lang)
            };
            return Ok(state
                .pages
                .respond(StatusCode::BAD_REQUEST, "error.html", &page, lang));
        }
    };
    // A new sign-in gets a new session (no fixation), keeping the visitor's own values.
    session.renew();
    remembered.identity = Some(identity);
    session::save(&session, &remembered)?;
    tracing::info!(
        security_event = "sso_signed_in",
        "visitor signed in through the company's site"
    );
    let target = return_to
        .as_deref()
        .and_then(safe_return_path)
        .unwrap_or_else(|| "/".to_owned());
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, target))
        .finish())
}

/// The sign-out form.
#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    csrf: String,
    #[serde(default)]
    return_to: String,
}

/// Clears the signed-in identity (CSRF token and same origin required).
#[tracing::instrument(name = "sso logout", skip_all)]
pub async fn sign_out(
    req: HttpRequest,
    form: web::Form<LogoutForm>,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let mut remembered = session::load(&session);
    check_form(&req, &state.public_origin, &remembered, &form.csrf)?;
    remembered.identity = None;
    session.renew();
    session::save(&session, &remembered)?;
    let target = safe_return_path(&form.return_to).unwrap_or_else(|| "/".to_owned());
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, target))
        .finish())
}

//! `GET /sso?token=…&return_to=…` (sign-in handoff) and `POST /sso/logout`.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header::LOCATION},
    web,
};
use serde::Deserialize;

use crate::{
    domain::Language,
    visit::{query::pairs, redirect::safe_return_path},
    web::{
        counters,
        error::PageError,
        forms::check_form,
        language,
        session::{self, Session},
        sites::Site,
        sso_token::SsoError,
        state::AppState,
        views::ErrorPage,
    },
};

/// Verifies the token, stores the identity in a freshly sealed session, and answers 303 to
/// `return_to` (a path on this site; anything else goes to `/`).
#[tracing::instrument(name = "sso", skip_all)]
pub async fn sign_in(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let site = state.site(&req);
    // Each brand checks tokens with its own key and audience: a token for one brand
    // signs no one in on another.
    let Some(verifier) = &site.sso else {
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
    let mut remembered = session::load(&session, site);
    let lang = language::of_request(&req, remembered.lang.as_deref(), site.default_language);
    let now = state.now().timestamp();
    let verified = match token.as_deref().map(|t| verifier.verify(t, now)) {
        Some(Ok(verified)) => verified,
        Some(Err(e)) => return Ok(refused(site, lang, &e.to_string(), e.reason())),
        None => return Ok(refused(site, lang, "no token", "missing")),
    };
    // A sign-in replaces any earlier one, which ends like a sign-out.
    let replaced = remembered
        .sign_in_to_end()
        .map(|(id, until)| (id.to_owned(), until));
    remembered.sign_in(verified.identity.clone(), state.visits.max_rooms);
    // Used up only now that the new state is ready: a sign-in that failed earlier leaves
    // the token usable for a retry. Nothing is stored in the session before this.
    match verifier.use_up(&verified, now).await {
        Ok(()) => {}
        Err(SsoError::Unavailable) => {
            // Fails closed: without the fleet's record the token might be a replay.
            counters::sso_refused(SsoError::Unavailable.reason());
            return Ok(site.views.sign_in_unavailable(lang));
        }
        Err(e) => return Ok(refused(site, lang, &e.to_string(), e.reason())),
    }
    if let Some((id, until)) = replaced {
        end_sign_in(&state, &id, until, now).await;
    }
    // A new sign-in's cookie is sealed afresh (no fixation), keeping the visitor's own
    // values.
    session::save(&session, &remembered);
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

/// The one 400 page for every refused token; the reason goes only to the log, and its
/// `label` (one of a fixed few) to the counts.
fn refused(site: &Site, lang: Language, reason: &str, label: &'static str) -> HttpResponse {
    tracing::warn!(security_event = "sso_rejected", %reason, "sign-in token refused");
    counters::sso_refused(label);
    let page = ErrorPage {
        title: lang.word("error_sso_title"),
        message: lang.word("error_sso_text"),
        ..ErrorPage::for_status(StatusCode::BAD_REQUEST, lang)
    };
    site.views
        .respond(StatusCode::BAD_REQUEST, "error.html", &page, lang)
}

/// Records a sign-in as ended on the server, until its identity would have expired anyway:
/// a saved copy of the cookie then no longer signs in (see `session::forget_ended_sign_ins`).
///
/// When the fleet's record cannot be reached, the sign-in is recorded on this instance
/// only, the sign-out goes ahead, and the log says so. Refusing would be worse: the
/// visitor's own browser would stay signed in, while the record only guards against
/// copies of the cookie (which still fail on this instance, and on others once the
/// identity expires).
async fn end_sign_in(state: &AppState, id: &str, until: i64, now: i64) {
    if let Err(e) = state.guards.ended_sign_ins.first_use(id, until, now).await {
        state.guards.ended_sign_ins.record_here(id, until, now);
        tracing::warn!(
            security_event = "sso_sign_out_local_only",
            error = %e,
            "sign-out recorded on this instance only: the fleet's record cannot be reached, so a saved copy of the cookie may still sign in on other instances until the identity expires"
        );
    }
}

/// The sign-out form.
#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    csrf: String,
    #[serde(default)]
    return_to: String,
}

/// Clears the signed-in identity (CSRF token and same origin required) and ends its
/// sign-in on the server.
#[tracing::instrument(name = "sso logout", skip_all)]
pub async fn sign_out(
    req: HttpRequest,
    form: web::Form<LogoutForm>,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let site = state.site(&req);
    let mut remembered = session::load(&session, site);
    check_form(&req, &site.public_origin, &remembered, &form.csrf)?;
    if let Some((id, until)) = remembered.sign_in_to_end() {
        end_sign_in(&state, id, until, state.now().timestamp()).await;
    }
    remembered.sign_out();
    session::save(&session, &remembered);
    let target = safe_return_path(&form.return_to).unwrap_or_else(|| "/".to_owned());
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, target))
        .finish())
}

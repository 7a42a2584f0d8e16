//! The session cookie: actix-session's cookie store in private mode (encrypted and
//! authenticated), holding one [`VisitorState`]. Also the middleware that drops an
//! identity whose sign-in has ended on the server before any handler reads it.

use actix_session::{
    Session, SessionExt, SessionInsertError, SessionMiddleware,
    config::{CookieContentSecurity, PersistentSession},
    storage::CookieSessionStore,
};
use actix_web::{
    body::MessageBody,
    cookie::{Key, SameSite, time::Duration as CookieDuration},
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web,
};

use super::state::AppState;
use crate::visit::remembered::VisitorState;

/// Session key under which [`VisitorState`] is stored.
pub const STATE_KEY: &str = "v";

/// The visitor's state; an unreadable or tampered cookie counts as a fresh session.
pub fn load(session: &Session) -> VisitorState {
    session
        .get::<VisitorState>(STATE_KEY)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Stores the visitor's state in the cookie.
pub fn save(session: &Session, state: &VisitorState) -> Result<(), SessionInsertError> {
    session.insert(STATE_KEY, state)
}

/// Middleware inside the session middleware: a signed-in identity whose sign-in has ended
/// on the server is dropped from the session (and from the cookie sent back) before any
/// handler reads it.
pub async fn forget_ended_sign_ins(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(state) = req.app_data::<web::Data<AppState>>() {
        let session = req.get_session();
        let mut remembered = load(&session);
        let ended = |id: &str, until: i64| state.guards.ended_sign_ins.was_used(id, until);
        if remembered.forget_ended_sign_in(ended) {
            tracing::info!(
                security_event = "sso_ended_session_replayed",
                "the identity of an ended sign-in came back in a cookie: it no longer counts"
            );
            if save(&session, &remembered).is_err() {
                // Never let the identity through: drop the whole session instead.
                session.purge();
            }
        }
    }
    next.call(req).await
}

/// The cookie's name: `__Host-roomgate` whenever it is `Secure`, which the prefix demands.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-roomgate"
    } else {
        "roomgate"
    }
}

/// The session middleware: encrypted cookie, HttpOnly, SameSite=Lax, 30 days.
pub fn middleware(key: Key, secure: bool) -> SessionMiddleware<CookieSessionStore> {
    SessionMiddleware::builder(CookieSessionStore::default(), key)
        .cookie_name(cookie_name(secure).to_owned())
        .cookie_secure(secure)
        .cookie_http_only(true)
        // Strict would drop the cookie on links opened from mail and calendars.
        .cookie_same_site(SameSite::Lax)
        .cookie_path("/".to_owned())
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(PersistentSession::default().session_ttl(CookieDuration::days(30)))
        .build()
}

//! The session cookie: actix-session's cookie store in private mode (encrypted and
//! authenticated), holding one [`VisitorState`]. Also the middleware that drops an
//! identity whose sign-in has ended on the server before any handler reads it.

use actix_session::{
    Session, SessionExt, SessionInsertError, SessionMiddleware,
    config::{CookieContentSecurity, PersistentSession},
    storage::CookieSessionStore,
};
use actix_web::{
    HttpMessage, HttpRequest,
    body::MessageBody,
    cookie::{Key, SameSite, time::Duration as CookieDuration},
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web,
};

use super::{sites::Site, state::AppState};
use crate::visit::remembered::VisitorState;

/// Session key under which [`VisitorState`] is stored.
pub const STATE_KEY: &str = "v";

/// The visitor's state on `site`; an unreadable or tampered cookie counts as a fresh
/// session, and so does one written for another brand: a session never carries names,
/// tokens or a sign-in from one brand to another (browsers keep cookies per host, and
/// this holds even for a cookie carried over by hand).
pub fn load(session: &Session, site: &Site) -> VisitorState {
    let state = session
        .get::<VisitorState>(STATE_KEY)
        .ok()
        .flatten()
        .unwrap_or_default();
    let brand = brand_mark(site);
    if state.brand.as_deref() == brand {
        state
    } else {
        VisitorState {
            brand: brand.map(str::to_owned),
            ..VisitorState::default()
        }
    }
}

/// The visitor's state on `site`, as [`load`] gives it, taken from the request when
/// [`forget_ended_sign_ins`] has read it already: the cookie's JSON is then parsed once per
/// page rather than twice.
pub fn load_once(req: &HttpRequest, session: &Session, site: &Site) -> VisitorState {
    match req.extensions_mut().remove::<Loaded>() {
        Some(Loaded(state)) => state,
        None => load(session, site),
    }
}

/// The state [`forget_ended_sign_ins`] read, kept for the handler (see [`load_once`]).
struct Loaded(VisitorState);

/// What a session on `site` is marked with: nothing for the default brand (so cookies
/// written before brands existed stay good), the brand's id for the others.
fn brand_mark(site: &Site) -> Option<&str> {
    (site.index != 0).then_some(site.id.as_str())
}

/// Stores the visitor's state in the cookie.
pub fn save(session: &Session, state: &VisitorState) -> Result<(), SessionInsertError> {
    session.insert(STATE_KEY, state)
}

/// Middleware inside the session middleware: a signed-in identity whose sign-in has ended
/// on the server (on any instance, in fleet mode) is dropped from the session (and from
/// the cookie sent back) before any handler reads it.
///
/// Only a request carrying a live identity asks the record, so an anonymous page view
/// never waits for Redis. When the fleet's record cannot be reached, this instance's own
/// record decides: treating every identity as ended would sign every visitor out for
/// good (the cookie sent back drops it) over a short Redis outage, while a copy of a
/// cookie signed out elsewhere is only accepted until its identity expires.
pub async fn forget_ended_sign_ins(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(state) = req
        .app_data::<web::Data<AppState>>()
        .filter(|_| may_read_identity(req.path()))
    {
        let session = req.get_session();
        let site = state.site(req.request());
        let mut remembered = load(&session, site);
        let now = state.now().timestamp();
        let ended = match remembered.sign_in_to_end() {
            Some((id, until)) if remembered.identity_at(now).is_some() => {
                let record = &state.guards.ended_sign_ins;
                match record.was_used(id, until).await {
                    Ok(ended) => ended,
                    Err(e) => {
                        tracing::debug!(error = %e, "sign-out check on this instance's record only");
                        record.was_used_here(id, until)
                    }
                }
            }
            _ => false,
        };
        if remembered.forget_ended_sign_in(|_, _| ended) {
            tracing::info!(
                security_event = "sso_ended_session_replayed",
                "the identity of an ended sign-in came back in a cookie: it no longer counts"
            );
            if save(&session, &remembered).is_err() {
                // Never let the identity through: drop the whole session instead.
                session.purge();
                remembered = load(&session, site);
            }
        }
        req.extensions_mut().insert(Loaded(remembered));
    }
    next.call(req).await
}

/// Whether a request to `path` may show or use the signed-in identity: assets, probes and
/// the admin API (which ignores cookies) never do, so a signed-in visitor's page does not
/// cost one Redis round trip per stylesheet and image.
fn may_read_identity(path: &str) -> bool {
    !(path.starts_with("/static/")
        || path.starts_with("/admin/api/")
        || matches!(path, "/theme.css" | "/favicon.ico" | "/healthz" | "/readyz"))
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

#[cfg(test)]
mod tests {
    use super::may_read_identity;

    #[test]
    fn only_pages_ask_whether_a_sign_in_has_ended() {
        for path in [
            "/room/123-123-123",
            "/sso",
            "/sso/logout",
            "/",
            "/oauth/callback",
        ] {
            assert!(may_read_identity(path), "{path}");
        }
        for path in [
            "/static/app.js",
            "/theme.css",
            "/favicon.ico",
            "/healthz",
            "/readyz",
            "/admin/api/rooms",
        ] {
            assert!(!may_read_identity(path), "{path}");
        }
    }
}

//! The visitor's session: one [`VisitorState`] in an encrypted cookie (its format in
//! `session_cookie`), opened only when something reads it and written back only when a
//! handler saved a change. Also the check that drops an identity whose sign-in has ended
//! on the server before any handler reads it.

use std::{cell::RefCell, future::Ready, rc::Rc};

use actix_web::{
    FromRequest, HttpMessage, HttpRequest,
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::header::{COOKIE, SET_COOKIE},
    web,
};

use super::{session_cookie::SessionCookie, sites::Site, state::AppState};
use crate::visit::remembered::VisitorState;

/// A request's session, taken by handlers as an extractor. Reading it opens the cookie
/// once; [`save`] decides whether the answer carries a `Set-Cookie`.
#[derive(Clone)]
pub struct Session(Rc<RefCell<Inner>>);

struct Inner {
    /// The key and attributes; none when the server runs without sessions (a bare app in
    /// a unit test), where nothing is read and changes are dropped.
    cookie: Option<web::Data<SessionCookie>>,
    /// The cookie's value as the request carried it, still sealed.
    incoming: Option<String>,
    /// The state as opened, once something asked for it.
    opened: Option<VisitorState>,
    /// Whether a handler saved a state (then sent back sealed).
    saved: bool,
}

impl Session {
    /// The request's session, created (from its cookie, not yet opened) on first use.
    pub fn of(req: &HttpRequest) -> Session {
        if let Some(session) = req.extensions().get::<Session>() {
            return session.clone();
        }
        let cookie = req.app_data::<web::Data<SessionCookie>>().cloned();
        let incoming = cookie
            .as_ref()
            .and_then(|c| c.find(req.headers()))
            .map(str::to_owned);
        let session = Session(Rc::new(RefCell::new(Inner {
            cookie,
            incoming,
            opened: None,
            saved: false,
        })));
        req.extensions_mut().insert(session.clone());
        session
    }

    /// Whether the request carried a session cookie (good or not).
    fn has_cookie(&self) -> bool {
        self.0.borrow().incoming.is_some()
    }

    /// The stored state as it stands: the cookie's, opened on the first call (an
    /// unreadable, tampered or foreign cookie reads as a fresh state), or what was saved
    /// since.
    fn with_state<R>(&self, read: impl FnOnce(&VisitorState) -> R) -> R {
        let mut inner = self.0.borrow_mut();
        let inner = &mut *inner;
        let state = inner.opened.get_or_insert_with(|| {
            let (Some(cookie), Some(value)) = (&inner.cookie, &inner.incoming) else {
                return VisitorState::default();
            };
            cookie.open(value).unwrap_or_else(|| {
                // Sealed under another key (a rotated `session.key`, or instances of a
                // fleet that disagree on it), altered, or cut short.
                tracing::info!(
                    security_event = "session_cookie_refused",
                    "a session cookie did not open: a fresh session"
                );
                VisitorState::default()
            })
        });
        read(state)
    }

    /// The `Set-Cookie` value the answer needs: the saved state sealed, if one was saved.
    fn set_cookie(&self) -> Option<actix_web::http::header::HeaderValue> {
        let inner = self.0.borrow();
        let (cookie, state) = match (&inner.cookie, &inner.opened) {
            (Some(cookie), Some(state)) if inner.saved => (cookie, state),
            _ => return None,
        };
        match cookie.seal(state) {
            Ok(value) => Some(value),
            Err(e) => {
                tracing::error!(error = %e, "the session could not be stored");
                None
            }
        }
    }
}

impl FromRequest for Session {
    type Error = actix_web::Error;
    type Future = Ready<Result<Session, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Session::of(req)))
    }
}

/// The visitor's state on `site`; an unreadable or tampered cookie counts as a fresh
/// session, and so does one written for another brand: a session never carries names,
/// tokens or a sign-in from one brand to another (browsers keep cookies per host, and
/// this holds even for a cookie carried over by hand).
pub fn load(session: &Session, site: &Site) -> VisitorState {
    let brand = brand_mark(site);
    match session.with_state(|state| (state.brand.as_deref() == brand).then(|| state.clone())) {
        Some(state) => state,
        None => VisitorState {
            brand: brand.map(str::to_owned),
            ..VisitorState::default()
        },
    }
}

/// What a session on `site` is marked with: nothing for the default brand (so cookies
/// written before brands existed stay good), the brand's id for the others.
fn brand_mark(site: &Site) -> Option<&str> {
    (site.index != 0).then_some(site.id.as_str())
}

/// Stores the visitor's state in the cookie (sealed again with a fresh nonce, so a new
/// sign-in's cookie shares nothing with the one before it).
pub fn save(session: &Session, state: &VisitorState) {
    let mut inner = session.0.borrow_mut();
    inner.opened = Some(state.clone());
    inner.saved = true;
}

/// Before the handlers (called by the brand middleware, once the brand is chosen): a
/// signed-in identity whose sign-in has ended on the server (on any instance, in fleet
/// mode) is dropped from the session, and so from the cookie sent back.
///
/// Only a request carrying a cookie with a live identity asks the record, so an anonymous
/// page view never waits for Redis, and a request without a cookie costs nothing here.
/// When the fleet's record cannot be reached, this instance's own record decides:
/// treating every identity as ended would sign every visitor out for good (the cookie sent
/// back drops it) over a short Redis outage, while a copy of a cookie signed out elsewhere
/// is only accepted until its identity expires.
pub async fn forget_ended_sign_ins(req: &ServiceRequest, state: &AppState) {
    if req.headers().contains_key(COOKIE) && may_read_identity(req.path()) {
        let session = Session::of(req.request());
        if session.has_cookie() {
            forget_ended_sign_in(&session, state.site(req.request()), state).await;
        }
    }
}

/// After the handlers (called by the brand middleware): the `Set-Cookie` the session's
/// changes need, if any.
pub fn write_back<B>(res: &mut ServiceResponse<B>) {
    let set_cookie = res
        .request()
        .extensions()
        .get::<Session>()
        .and_then(Session::set_cookie);
    if let Some(value) = set_cookie {
        res.headers_mut().append(SET_COOKIE, value);
    }
}

async fn forget_ended_sign_in(session: &Session, site: &Site, state: &AppState) {
    let now = state.now().timestamp();
    // Most cookies hold no identity: then there is nothing to copy, ask or drop. Otherwise
    // a live identity's sign-in is looked up; one without a sign-in id (from before ids
    // existed) cannot be signed out, so it is dropped without asking.
    let question = session.with_state(|s| {
        if s.identity.is_none() || s.brand.as_deref() != brand_mark(site) {
            return None;
        }
        Some(match s.sign_in_to_end() {
            Some((id, until)) if s.identity_at(now).is_some() => Some((id.to_owned(), until)),
            _ => None,
        })
    });
    let Some(question) = question else {
        return;
    };
    let ended = match question {
        Some((id, until)) => {
            let record = &state.guards.ended_sign_ins;
            match record.was_used(&id, until).await {
                Ok(ended) => ended,
                Err(e) => {
                    tracing::debug!(error = %e, "sign-out check on this instance's record only");
                    record.was_used_here(&id, until)
                }
            }
        }
        None => false,
    };
    let mut remembered = load(session, site);
    if remembered.forget_ended_sign_in(|_, _| ended) {
        tracing::info!(
            security_event = "sso_ended_session_replayed",
            "the identity of an ended sign-in came back in a cookie: it no longer counts"
        );
        save(session, &remembered);
    }
}

/// Whether a request to `path` may show or use the signed-in identity: assets, probes and
/// the admin API (which ignores cookies) never do, so a signed-in visitor's page does not
/// cost one Redis round trip per stylesheet and image.
fn may_read_identity(path: &str) -> bool {
    !(path.starts_with("/static/")
        || path.starts_with("/admin/api/")
        || matches!(path, "/theme.css" | "/favicon.ico" | "/healthz" | "/readyz"))
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

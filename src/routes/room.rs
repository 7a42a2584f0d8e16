//! `GET/HEAD /room/{license}` and `/room/{license}/{role_hash}`.

use std::sync::Arc;

use actix_session::Session;
use actix_web::{
    HttpRequest, HttpResponse,
    http::StatusCode,
    web::{self, Bytes},
};

use crate::{
    client_ip::client_ip,
    error::PageError,
    i18n,
    pages::{PromptView, SignedInView, html_response},
    room::{
        page::{PageInput, room_page as room_page_view},
        query::RoomQuery,
        request::Visitor,
        role::role_for_hash,
        schedule::{Phase, phase},
    },
    rooms::{Lookup, Room, RoomSource, RoomStatus},
    session,
    startup::AppState,
};

/// The room page: the embed, the name prompt when a name is required and missing, or the
/// waiting and ended states of a scheduled room.
#[tracing::instrument(name = "room page", skip_all)]
pub async fn room_page(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let path = super::room_path(&req, &state)?;

    // Reserved before the lookup, which can take seconds on a cold room: overlapping
    // guesses must not all pass before the first of them is found wrong. Every way out
    // but a wrong hash gives the attempt back.
    let attempt = match &path.role_hash {
        Some(_) => Some(
            state
                .guesses
                .reserve(client_ip(&req, &state.trusted_proxies))
                .ok_or(PageError::TooManyAttempts)?,
        ),
        None => None,
    };
    let room = active_room(state.source.as_ref(), &path.license).await?;
    let role = match &path.role_hash {
        None => None,
        Some(hash) => match role_for_hash(&room, hash) {
            Some(role) => Some((role, hash.as_str())),
            None => {
                if let Some(attempt) = attempt {
                    attempt.failed();
                }
                tracing::info!(security_event = "role_hash_mismatch", "wrong role hash");
                // Exactly the answer of an unknown room: no oracle for guessing.
                return Err(PageError::NotFound);
            }
        },
    };
    drop(attempt);

    let query_string = req.query_string();
    let query = RoomQuery::parse(query_string);
    let mut remembered = session::load(&session);
    let mut changed = remembered.remember(&path.license, &query, state.max_rooms);
    if let Some(lang) = i18n::from_query(query_string) {
        changed |= remembered.lang.as_deref() != Some(lang.code());
        remembered.lang = Some(lang.code().to_owned());
    }
    let lang = i18n::choose(&req, remembered.lang.as_deref(), state.default_language);
    let now = state.now();
    let visitor = Visitor::resolve(&path.license, &query, &remembered, now.timestamp());
    let phase = phase(&room, now, role.is_some());

    let prompt = if state.require_nickname && !visitor.has_name() && phase.shows_room() {
        changed |= remembered.csrf.is_none();
        Some(PromptView {
            action: format!("/room/{}/join", path.license),
            csrf: remembered.csrf_token().to_owned(),
            return_to: path.to_path(),
            error: None,
            nickname: String::new(),
        })
    } else {
        None
    };
    let signed_in = match remembered
        .identity_at(now.timestamp())
        .map(|i| i.name.clone())
    {
        Some(name) => {
            changed |= remembered.csrf.is_none();
            Some(SignedInView {
                name,
                csrf: remembered.csrf_token().to_owned(),
                return_to: path.to_path(),
            })
        }
        None => None,
    };
    if changed {
        session::save(&session, &remembered)?;
    }

    // A visitor who brings nothing of their own gets the same page as everyone else.
    let shared = visitor == Visitor::default()
        && prompt.is_none()
        && signed_in.is_none()
        && phase == Phase::Live;
    let role_hash = role.map(|(_, hash)| hash);
    if shared && let Some(html) = state.page_cache.get(&room, role_hash, lang) {
        return Ok(html_response(StatusCode::OK, html));
    }
    let view = room_page_view(PageInput {
        room: &room,
        role,
        visitor: &visitor,
        embed: &state.embed,
        app_url: &state.app_url,
        prompt,
        lang,
        phase,
        now,
        signed_in,
    });
    let html = Bytes::from(
        state
            .pages
            .render_logged("room.html", &view, lang)
            .ok_or_else(|| {
                PageError::Unexpected(anyhow::anyhow!("the room page did not render"))
            })?,
    );
    if shared {
        state
            .page_cache
            .put(room.clone(), role_hash, lang, html.clone());
    }
    Ok(html_response(StatusCode::OK, html))
}

/// The room with key `license`, if it exists and is active.
pub async fn active_room(source: &dyn RoomSource, license: &str) -> Result<Arc<Room>, PageError> {
    match source
        .lookup(license)
        .await
        .map_err(PageError::Unavailable)?
    {
        Lookup::Found(room) if room.status == RoomStatus::Active => Ok(room),
        Lookup::Found(_) | Lookup::Gone => Err(PageError::Gone),
        Lookup::NotFound => Err(PageError::NotFound),
    }
}

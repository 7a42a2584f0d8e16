//! `GET/HEAD /room/{license}` and `/room/{license}/{role_hash}`.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{Method, StatusCode},
    web::{self, Bytes},
};

use crate::{
    visit::{
        language::from_query,
        phase::{Phase, phase},
        query::RoomQuery,
        role::role_for_hash,
        visitor::Visitor,
    },
    web::{
        client_ip::client_ip,
        counters::{self, PageKind},
        error::PageError,
        language,
        lookup::{active_room, room_path},
        session::{self, Session},
        state::AppState,
        throttle::Answer,
        views::{
            PromptView, SignedInView, html_response,
            room::{PageInput, VisitorParts, room_view_with},
            spliced::Values,
        },
    },
};

/// The room page: the embed, the name prompt when a name is required and missing, or the
/// waiting and ended states of a scheduled room.
#[tracing::instrument(name = "room page", skip_all)]
pub async fn room_page(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let path = room_path(&req, &state)?;

    // A client that spent its guesses here is refused before any lookup. Otherwise the
    // hash is compared first and its answer released only if the guess limit allows it,
    // which it decides and charges in one step: overlapping guesses (a cold room's
    // lookup can hold them for seconds) get at most the limit of "wrong" answers.
    let client = client_ip(&req, &state.guards.trusted_proxies);
    let guesses = &state.guards.role_guesses;
    if path.role_hash.is_some() && guesses.spent(client) {
        return Err(PageError::TooManyAttempts);
    }
    let site = state.site(&req);
    let room = active_room(site, &path.license).await?;
    let role = match &path.role_hash {
        None => None,
        Some(hash) => {
            let role = role_for_hash(&room, hash);
            // A right hash is named by its brand, room and hash: one this instance gave
            // the client within the minute is given again without asking the fleet.
            let answer = match role {
                Some(_) => guesses.right((site.index, path.license.as_str(), hash.as_str())),
                None => Answer::Wrong,
            };
            if !guesses.judge(client, answer).await {
                return Err(PageError::TooManyAttempts);
            }
            match role {
                Some(role) => Some((role, hash.as_str())),
                None => {
                    tracing::info!(security_event = "role_hash_mismatch", "wrong role hash");
                    // Exactly the answer of an unknown room: no oracle for guessing.
                    return Err(PageError::NotFound);
                }
            }
        }
    };

    let query_string = req.query_string();
    let query = RoomQuery::parse(query_string);
    let mut remembered = session::load(&session, site);
    let mut changed = remembered.remember(&path.license, &query, state.visits.max_rooms);
    if let Some(lang) = from_query(query_string) {
        changed |= remembered.lang.as_deref() != Some(lang.code());
        remembered.lang = Some(lang.code().to_owned());
    }
    let lang = language::of_request(&req, remembered.lang.as_deref(), site.default_language);
    let now = state.now();
    let visitor = Visitor::resolve(&path.license, &query, &remembered, now.timestamp());
    let phase = phase(&room, now, role.is_some());

    let prompt = if state.visits.require_nickname && !visitor.has_name() && phase.shows_room() {
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
        session::save(&session, &remembered);
    }
    // Pages shown, not HEAD answers (link checkers, monitors).
    if req.method() != Method::HEAD {
        counters::page_viewed(
            PageKind::of(role.is_some(), visitor.personal_token.is_some()),
            phase,
        );
        if prompt.is_some() {
            counters::prompt_shown();
        }
    }

    // A live page is kept per room, role and language: whole for visitors who bring
    // nothing of their own, compiled and spliced for the others. Other phases carry a
    // countdown of the moment and are rendered in full.
    let page = (phase == Phase::Live).then(|| {
        state
            .pages
            .cache
            .page(site.index, &room, role.map(|(_, h)| h), lang)
    });
    let shared = visitor == Visitor::default() && prompt.is_none() && signed_in.is_none();
    if shared && let Some(html) = page.as_ref().and_then(|p| p.shared.get()) {
        return Ok(html_response(StatusCode::OK, html.clone()));
    }
    let input = PageInput {
        room: &room,
        role,
        visitor: &visitor,
        embed: &state.pages.embed,
        app_url: &site.app_url,
        prompt,
        lang,
        phase,
        now,
        signed_in,
    };
    let parts = VisitorParts::of(&input);
    // A variant compiled before needs only the visitor's own values, not the whole view.
    if let Some(page) = &page
        && let Some(html) = page.compiled.fill(&Values {
            embed_json: &parts.embed_json,
            direct_link: &parts.direct_link,
            prompt: input.prompt.as_ref(),
            signed_in: input.signed_in.as_ref(),
        })
    {
        if shared {
            let _ = page.shared.set(html.clone());
        }
        return Ok(html_response(StatusCode::OK, html));
    }
    let view = room_view_with(input, parts);
    let html = match &page {
        Some(page) => page.compiled.render(&site.views, &view, lang),
        None => site
            .views
            .render_logged("room.html", &view, lang)
            .map(Bytes::from),
    }
    .ok_or_else(|| PageError::Unexpected(anyhow::anyhow!("the room page did not render")))?;
    if shared && let Some(page) = &page {
        // Another visitor may have set it first: the same bytes.
        let _ = page.shared.set(html.clone());
    }
    Ok(html_response(StatusCode::OK, html))
}

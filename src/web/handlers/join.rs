//! `POST /room/{license}/join`: the name prompt's form.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header::LOCATION},
    web,
};
use serde::Deserialize;

use crate::{
    domain::grammar::clean_nickname,
    visit::{phase::phase, redirect::safe_return_path, visitor::Visitor},
    web::{
        counters,
        error::PageError,
        forms::check_form,
        language,
        lookup::{active_room, room_path},
        session::{self, Session},
        state::AppState,
        views::{
            PromptView,
            room::{PageInput, room_view},
        },
    },
};

/// The prompt's fields.
#[derive(Debug, Deserialize)]
pub struct JoinForm {
    nickname: String,
    csrf: String,
    #[serde(default)]
    return_to: String,
}

/// Stores the nickname in the session and answers 303 back to the room link; a name that
/// is not acceptable shows the prompt again with an error (422).
#[tracing::instrument(name = "join form", skip_all)]
pub async fn join(
    req: HttpRequest,
    form: web::Form<JoinForm>,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let path = room_path(&req, &state)?;
    let site = state.site(&req);
    let mut remembered = session::load(&session, site);
    check_form(&req, &site.public_origin, &remembered, &form.csrf)?;

    // Back to this room's own link (role hash kept); anything else is ignored.
    let room_path = path.to_path();
    let return_to = safe_return_path(&form.return_to)
        .filter(|p| {
            p == &room_path
                || p.starts_with(&format!("{room_path}/"))
                || p.starts_with(&format!("{room_path}?"))
        })
        .unwrap_or(room_path);

    match clean_nickname(&form.nickname) {
        Some(nickname) => {
            remembered.nickname = Some(nickname);
            session::save(&session, &remembered);
            counters::prompt_submitted();
            Ok(HttpResponse::SeeOther()
                .insert_header((LOCATION, return_to))
                .finish())
        }
        None => {
            let room = active_room(site, &path.license).await?;
            let lang =
                language::of_request(&req, remembered.lang.as_deref(), site.default_language);
            let prompt = PromptView {
                action: format!("/room/{}/join", path.license),
                csrf: remembered.csrf_token().to_owned(),
                return_to,
                error: Some(lang.word("prompt_error").to_owned()),
                nickname: form.nickname.chars().take(100).collect(),
            };
            let now = state.now();
            counters::prompt_shown();
            let view = room_view(PageInput {
                room: &room,
                role: None,
                visitor: &Visitor::default(),
                embed: &state.pages.embed,
                app_url: &site.app_url,
                prompt: Some(prompt),
                lang,
                phase: phase(&room, now, false),
                now,
                signed_in: None,
            });
            Ok(site
                .views
                .respond(StatusCode::UNPROCESSABLE_ENTITY, "room.html", &view, lang))
        }
    }
}

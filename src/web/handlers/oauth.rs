//! The operator connects roomgate to their LiveWebinar account (OAuth2 authorization code):
//! `GET /oauth/connect` sends the browser to the vendor, `GET /oauth/callback` comes back.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header::LOCATION},
    web,
};
use subtle::ConstantTimeEq;
use url::Url;

use crate::{
    visit::{
        query::pairs,
        remembered::{OAuthState, new_secret_token},
    },
    web::{
        error::PageError,
        language, operator,
        session::{self, Session},
        state::AppState,
        views::NoticePage,
    },
};

/// How long an authorization may take, from connect to callback.
const STATE_MAX_AGE_SECS: i64 = 600;

/// `GET /oauth/connect`: operator only (HTTP Basic, user `admin`, password `admin.token`).
#[tracing::instrument(name = "oauth connect", skip_all)]
pub async fn connect(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let site = state.site(&req);
    let Some(oauth) = &site.oauth else {
        return Err(PageError::NotFound);
    };
    operator::require_basic(&state, site, &req).await?;

    let value = new_secret_token();
    let mut remembered = session::load(&session, site);
    remembered.oauth_state = Some(OAuthState {
        value: value.clone(),
        issued_at: state.now().timestamp(),
    });
    session::save(&session, &remembered);

    let mut url = Url::parse(&format!("{}/auth/oauth2/authorize", oauth.app_url))
        .map_err(|e| PageError::Unexpected(anyhow::anyhow!("authorize URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("client_id", &oauth.client_id)
        .append_pair("redirect_uri", &oauth.redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("state", &value);
    tracing::info!(
        security_event = "oauth_connect_started",
        "operator started the OAuth connection"
    );
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, url.to_string()))
        .finish())
}

/// `GET /oauth/callback?code=…&state=…`: checks the state (single use, 10 minutes),
/// exchanges the code, stores the tokens, and shows which account is connected.
#[tracing::instrument(name = "oauth callback", skip_all)]
pub async fn callback(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let site = state.site(&req);
    let Some(oauth) = &site.oauth else {
        return Err(PageError::NotFound);
    };
    let api = &oauth.api;
    let mut code = None;
    let mut given_state = None;
    let mut vendor_error = false;
    for (key, value) in pairs(req.query_string()) {
        match key.as_str() {
            "code" if code.is_none() => code = Some(value),
            "state" if given_state.is_none() => given_state = Some(value),
            "error" => vendor_error = true,
            _ => {}
        }
    }

    // The state is used up by this request, whatever happens next: in the cookie sent
    // back, and on the server, since a copy of the cookie saved before this request
    // still holds it.
    let mut remembered = session::load(&session, site);
    let expected = remembered.oauth_state.take();
    if expected.is_some() {
        session::save(&session, &remembered);
    }
    let now = state.now().timestamp();
    let lang = language::of_request(&req, remembered.lang.as_deref(), site.default_language);
    let state_ok = match (&expected, &given_state) {
        (Some(expected), given) => {
            let first_use = oauth
                .used_states
                .first_use(
                    &expected.value,
                    expected.issued_at.saturating_add(STATE_MAX_AGE_SECS),
                    now,
                )
                .await;
            let first_use = match first_use {
                Ok(first_use) => first_use,
                Err(e) => {
                    // Refused like a sign-in: another instance may have used this state.
                    // It is gone from the cookie already, so the operator starts again.
                    tracing::warn!(
                        security_event = "oauth_state_unverifiable",
                        error = %e,
                        "OAuth callback refused: the fleet's record of used states cannot be reached"
                    );
                    return Ok(site.views.sign_in_unavailable(lang));
                }
            };
            first_use
                && given
                    .as_deref()
                    .is_some_and(|g| state_matches(expected, g, now))
        }
        (None, _) => false,
    };
    if !state_ok {
        tracing::warn!(
            security_event = "oauth_state_mismatch",
            "OAuth callback with a missing, foreign, reused or expired state"
        );
        return Err(PageError::BadRequest(
            "the authorization state does not match",
        ));
    }
    if vendor_error {
        return Err(PageError::BadRequest("the vendor did not grant access"));
    }
    let code = code
        .filter(|c| !c.is_empty() && c.len() <= 2048 && !c.contains(char::is_control))
        .ok_or(PageError::BadRequest("the callback carries no code"))?;

    let client = api.client();
    let answer = client
        .exchange_code(
            &oauth.client_id,
            &oauth.client_secret,
            &code,
            &oauth.redirect_uri,
        )
        .await
        .map_err(PageError::Upstream)?;
    api.auth()
        .connect(answer)
        .await
        .map_err(PageError::Upstream)?;
    tracing::info!(security_event = "oauth_connected", "OAuth tokens stored");

    let account = api.me().await.ok();
    let mut details = Vec::new();
    if let Some(email) = account.as_ref().and_then(|a| a.email.clone()) {
        details.push(lang.fill("account", &[("email", &email)]));
    }
    if let Some(id) = account.as_ref().and_then(|a| a.id) {
        details.push(lang.fill("account_id", &[("id", &id.to_string())]));
    }
    let page = NoticePage {
        title: lang.word("connected_title").to_owned(),
        message: lang.word("connected_text").to_owned(),
        details,
    };
    Ok(site
        .views
        .respond(StatusCode::OK, "notice.html", &page, lang))
}

/// Whether `given` is the session's `expected` state, still fresh at `now` (Unix seconds).
fn state_matches(expected: &OAuthState, given: &str, now: i64) -> bool {
    now.saturating_sub(expected.issued_at) <= STATE_MAX_AGE_SECS
        && bool::from(expected.value.as_bytes().ct_eq(given.as_bytes()))
}

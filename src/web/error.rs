//! How a failed request turns into a status code, and how every error status becomes the
//! branded error page.
//!
//! Handlers return [`PageError`]; its variants say which status they answer. The body is
//! rendered later, in one place ([`render_error_page`]), for these errors and for every
//! other error answer (actix's own 404/405/413, a caught panic), so every error looks the
//! same and none carries detail of its cause: that goes to the log through `Debug`.

use actix_web::{
    HttpResponse, ResponseError,
    dev::ServiceResponse,
    http::{
        StatusCode,
        header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER},
    },
    middleware::ErrorHandlerResponse,
    web,
};

use super::{
    language, session,
    state::AppState,
    views::{FinishedPage, PLAIN_500},
};

/// Seconds a visitor is asked to wait when the room source is down and did not say.
pub const RETRY_AFTER_SECS: u64 = 30;

/// The most seconds a visitor is asked to wait, whatever the upstream said.
pub const MAX_RETRY_AFTER_SECS: u64 = 3600;

/// The `Retry-After` of the 503 page: the upstream's wait when it gave one, kept between
/// 1 s and an hour (a wait of 0 or of days helps no visitor), else the default.
pub fn retry_after_secs(upstream: Option<u64>) -> u64 {
    upstream.map_or(RETRY_AFTER_SECS, |s| s.clamp(1, MAX_RETRY_AFTER_SECS))
}

/// Why a page cannot be shown.
#[derive(thiserror::Error)]
pub enum PageError {
    /// 404: unknown room, malformed key, or a role hash that is not this room's.
    #[error("no such room")]
    NotFound,
    /// 410: the room is inactive or was deleted.
    #[error("room no longer available")]
    Gone,
    /// 400: a request that cannot be acted on (e.g. an OAuth callback with a bad state).
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// 401 with `WWW-Authenticate`: operator credentials missing or wrong.
    #[error("operator credentials missing or wrong")]
    Unauthorized {
        /// The `WWW-Authenticate` challenge.
        challenge: &'static str,
    },
    /// 403: a form without a valid CSRF token or from another origin.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 429: too many wrong secrets from this client.
    #[error("too many attempts")]
    TooManyAttempts,
    /// 502: the vendor refused or failed an operator's request.
    #[error("the vendor failed the request")]
    Upstream(#[source] crate::vendor::ApiError),
    /// 503 with `Retry-After` (the upstream's, when it gave one): the room source cannot
    /// answer and nothing is cached.
    #[error("room source unavailable")]
    Unavailable(#[source] crate::rooms::Unavailable),
    /// 500: a bug; the cause goes to the log only.
    #[error("unexpected error")]
    Unexpected(#[source] anyhow::Error),
}

impl std::fmt::Debug for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        error_chain_fmt(self, f)
    }
}

/// Writes an error and its whole `source()` chain, for the log.
pub fn error_chain_fmt(
    e: &impl std::error::Error,
    f: &mut std::fmt::Formatter<'_>,
) -> std::fmt::Result {
    write!(f, "{e}")?;
    let mut current = e.source();
    while let Some(cause) = current {
        write!(f, "\n  caused by: {cause}")?;
        current = cause.source();
    }
    Ok(())
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            PageError::Upstream(_) => StatusCode::BAD_GATEWAY,
            PageError::Gone => StatusCode::GONE,
            PageError::Forbidden(_) => StatusCode::FORBIDDEN,
            PageError::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            PageError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        match self {
            PageError::Unavailable(why) => {
                res.insert_header((
                    RETRY_AFTER,
                    retry_after_secs(why.retry_after_secs).to_string(),
                ));
            }
            PageError::TooManyAttempts => {
                res.insert_header((RETRY_AFTER, "60"));
            }
            PageError::Unauthorized { challenge } => {
                res.insert_header((actix_web::http::header::WWW_AUTHENTICATE, *challenge));
            }
            _ => {}
        }
        // The body is filled in by `render_error_page`.
        res.finish()
    }
}

/// Anything no route answers: the branded 404.
pub async fn not_found() -> Result<actix_web::HttpResponse, PageError> {
    Err(PageError::NotFound)
}

/// Replaces the body of every error answer that is not already a finished page with the
/// branded error page for its status, keeping its headers (`Retry-After`, `Allow`, …).
/// JSON answers (the admin API) keep their own bodies.
pub fn render_error_page<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || res.response().extensions().get::<FinishedPage>().is_some() {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let html = match res.request().app_data::<web::Data<AppState>>() {
        Some(state) => {
            let site = state.site(res.request());
            let remembered = session::load(&session::Session::of(res.request()), site);
            let lang = language::of_request(
                res.request(),
                remembered.lang.as_deref(),
                site.default_language,
            );
            site.views.error_html(status, lang)
        }
        None => PLAIN_500.to_owned(),
    };
    let (req, res) = res.into_parts();
    let mut res = res.set_body(html);
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    let res = ServiceResponse::new(req, res)
        .map_into_boxed_body()
        .map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upstreams_retry_after_is_passed_on_within_bounds() {
        assert_eq!(retry_after_secs(None), RETRY_AFTER_SECS);
        assert_eq!(retry_after_secs(Some(120)), 120);
        assert_eq!(retry_after_secs(Some(0)), 1);
        assert_eq!(retry_after_secs(Some(u64::MAX)), MAX_RETRY_AFTER_SECS);
    }
}

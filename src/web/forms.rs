//! What every state-changing form must prove: it comes from this site, and it carries this
//! session's CSRF token.

use actix_web::HttpRequest;

use super::{
    counters::{self, FormRefusal},
    error::PageError,
};
use crate::visit::remembered::VisitorState;

/// Refuses a form posted from another site or without this session's CSRF token.
pub fn check_form(
    req: &HttpRequest,
    public_origin: &str,
    remembered: &VisitorState,
    csrf: &str,
) -> Result<(), PageError> {
    if !is_same_origin(req, public_origin) {
        tracing::info!(
            security_event = "csrf_origin_mismatch",
            "form posted from another origin"
        );
        counters::form_refused(FormRefusal::Origin);
        return Err(PageError::Forbidden(
            "the form was posted from another site",
        ));
    }
    if !remembered.csrf_matches(csrf) {
        tracing::info!(
            security_event = "csrf_token_mismatch",
            "form without a valid token"
        );
        counters::form_refused(FormRefusal::Csrf);
        return Err(PageError::Forbidden("the form's token is missing or wrong"));
    }
    Ok(())
}

/// A browser's own word on where a form comes from.
///
/// `Sec-Fetch-Site` decides when the browser sends it: only `same-origin` passes. Older
/// browsers send only `Origin`, which must then be ours; `Origin: null` (what browsers
/// send under `Referrer-Policy: no-referrer`) says nothing, and the CSRF token decides.
fn is_same_origin(req: &HttpRequest, public_origin: &str) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return site == "same-origin";
    }
    match header("origin") {
        None | Some("null") => true,
        Some(origin) => origin == public_origin,
    }
}

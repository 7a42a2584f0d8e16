//! The language of a request, as `visit::language::choose` decides it from the query, the
//! session and the `Accept-Language` header.

use actix_web::HttpRequest;

use crate::{domain::Language, visit::language::choose};

/// The language of `req` for a visitor whose session chose `remembered`.
pub fn of_request(req: &HttpRequest, remembered: Option<&str>, default: Language) -> Language {
    let accept_language = req
        .headers()
        .get("accept-language")
        .and_then(|v| v.to_str().ok());
    choose(req.query_string(), remembered, accept_language, default)
}

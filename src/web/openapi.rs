//! The admin API's OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`s
//! and the types they read and write, served at `GET /admin/api/openapi.json` and printed
//! by `roomgate openapi`.
//!
//! The document needs no token: it describes the shape of the API (as the README does)
//! and holds nothing of this server's: no rooms, keys, links or settings, so that the
//! served document and the printed one are the same bytes. Tools that read it (client
//! generators, schemathesis) can then fetch it as they fetch any description, and a
//! client with a wrong token is not counted as guessing for reading it. Like every
//! admin route, it answers 404 while `admin.token` is unset.

use std::sync::LazyLock;

use actix_web::{HttpResponse, http::header, web};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use super::{
    admin_errors::{
        AdminError, BadRequest, Conflict, ErrorBody, Invalid, NotFound, RequestTimeout, Throttled,
        TooLarge, Unauthorized, VendorFailed,
    },
    handlers::admin,
    operator::Refusal,
    state::AppState,
};

/// The name of the bearer scheme in the document (the derive below, which takes only a
/// literal, spells it out too).
const SCHEME: &str = "admin_token";

/// Every admin route and the answers they share.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "roomgate admin API",
        description = "Rooms, links, invitations and calendar files of roomgate, as JSON. \
            Every route answers 404 while `admin.token` is unset; with it, every route but \
            this document needs `Authorization: Bearer <admin.token>`. Errors are \
            `{\"error\": {\"message\", \"fields\"?}}`.",
    ),
    paths(
        admin::list,
        admin::create,
        admin::show,
        admin::update,
        admin::delete,
        admin::activate,
        admin::deactivate,
        admin::links,
        admin::invite,
        admin::calendar,
        openapi_json,
    ),
    components(
        schemas(ErrorBody),
        responses(
            BadRequest,
            Unauthorized,
            NotFound,
            RequestTimeout,
            Conflict,
            TooLarge,
            Invalid,
            Throttled,
            VendorFailed
        )
    ),
    security(("admin_token" = [])),
    modifiers(&BearerScheme),
    tags(
        (name = "rooms", description = "The operators' rooms, as on the command line."),
        (name = "meta", description = "This description."),
    ),
)]
struct AdminApi;

/// Adds the bearer scheme that the document's `security` names, and drops the empty license.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "`admin.token` (`ROOMGATE__ADMIN__TOKEN`). A wrong token answers 401; too \
                 many wrong tokens from one client answer 429.",
            ))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(SCHEME, SecurityScheme::Http(scheme));
        // The derive names Cargo.toml's license, and the package has none.
        openapi.info.license = None;
    }
}

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    AdminApi::openapi()
}

/// The document as pretty JSON, made once.
pub fn document_json() -> &'static str {
    static JSON: LazyLock<String> = LazyLock::new(|| {
        document()
            .to_pretty_json()
            .expect("the document is plain data")
    });
    &JSON
}

/// This document.
#[utoipa::path(
    get,
    path = "/admin/api/openapi.json",
    operation_id = "openapi",
    tag = "meta",
    security(()),
    responses(
        (status = 200, description = "This OpenAPI 3.1 document.", body = Object),
        (status = 404, response = NotFound),
    ),
)]
pub async fn openapi_json(state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    if state.operator.token.is_none() {
        return Err(AdminError::Refused(Refusal::SurfaceOff));
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(document_json()))
}

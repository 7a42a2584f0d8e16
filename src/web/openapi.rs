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
    openapi::{
        ObjectBuilder, PathItem, Required, Type,
        path::{Operation, Parameter, ParameterBuilder, ParameterIn},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
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
        // Every room route may name its brand; one parameter, added to each here rather
        // than repeated in every handler's path block.
        for (path, item) in openapi.paths.paths.iter_mut() {
            if path.ends_with("/openapi.json") {
                continue;
            }
            for operation in item_operations(item) {
                operation
                    .parameters
                    .get_or_insert_with(Vec::new)
                    .push(brand_parameter().into());
            }
        }
    }
}

/// `?brand=ID`: which brand's rooms and links (default: the brand of the request's host).
fn brand_parameter() -> Parameter {
    ParameterBuilder::new()
        .name("brand")
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(
            "The brand whose rooms, links and calendar files to use (an id of `[[brands]]`, \
             or `default`); without it, the brand of the host the request was sent to. A \
             brand's own token is good for that brand only; an unknown brand answers 404.",
        ))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build()
}

/// Every operation of a path item.
fn item_operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
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
pub async fn openapi_json(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    if !super::operator::surface_on(&state, state.site(&req)) {
        return Err(AdminError::Refused(Refusal::SurfaceOff));
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(document_json()))
}

//! The admin API under `/admin/api/`: JSON in and out, `Authorization: Bearer <admin.token>`
//! only (cookies are ignored). Without `admin.token` every route answers 404.
//!
//! Handlers take the raw payload and read it only once the token checks out: a body
//! extractor would read (and wait for) the body of anyone, and answer a large one 413
//! before an unauthenticated client had been told 401.
//!
//! Each handler carries its `#[utoipa::path]`, and the answers shared by all of them (the
//! error shape, 401, 404, …) are reusable components here, beside the code that writes
//! them: `web::openapi` gathers them into the OpenAPI document.

use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::{StatusCode, header},
    middleware::Next,
    web,
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use utoipa::{
    PartialSchema, ToResponse, ToSchema,
    openapi::{
        ContentBuilder, Ref, RefOr, ResponseBuilder,
        header::HeaderBuilder,
        response::Response,
        schema::{AllOfBuilder, ObjectBuilder, Schema, Type},
    },
};

use crate::{
    ops::{
        FieldErrors, InvitationInput, InvitationOut, Manager, OpsError, RoomInput, RoomLinks,
        RoomListItem, RoomOut,
    },
    visit::path::RoomPath,
    web::{
        ics::ics_response,
        operator::{self, Refusal},
        state::AppState,
    },
};

/// Why an admin request failed, as `{"error": {"message", "fields"?}}`.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("not found")]
    Refused(Refusal),
    #[error("{0}")]
    BadJson(String),
    #[error("the body is larger than {} KiB", BODY_LIMIT / 1024)]
    TooLarge,
    #[error("the body could not be read")]
    Unreadable,
    #[error("no such room")]
    BadKey,
    #[error(transparent)]
    Ops(#[from] OpsError),
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            AdminError::Refused(Refusal::SurfaceOff) | AdminError::BadKey => StatusCode::NOT_FOUND,
            AdminError::Refused(Refusal::Throttled) => StatusCode::TOO_MANY_REQUESTS,
            AdminError::Refused(Refusal::Unauthorized) => StatusCode::UNAUTHORIZED,
            AdminError::BadJson(_) | AdminError::Unreadable => StatusCode::BAD_REQUEST,
            AdminError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AdminError::Ops(e) => ops_status(e),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            AdminError::Refused(Refusal::Unauthorized) => {
                "a valid admin token is required".to_owned()
            }
            AdminError::Refused(Refusal::Throttled) => {
                "too many wrong tokens; wait a minute".to_owned()
            }
            other => other.to_string(),
        };
        let fields = match self {
            AdminError::Ops(e) => e.fields().cloned(),
            _ => None,
        };
        let mut res = HttpResponse::build(self.status_code());
        match self {
            AdminError::Refused(Refusal::Unauthorized) => {
                res.insert_header((header::WWW_AUTHENTICATE, BEARER_CHALLENGE));
            }
            AdminError::Refused(Refusal::Throttled) => {
                res.insert_header((header::RETRY_AFTER, "60"));
            }
            _ => {}
        }
        res.json(ErrorBody {
            error: ErrorDetail { message, fields },
        })
    }
}

/// The challenge of a 401.
const BEARER_CHALLENGE: &str = "Bearer realm=\"roomgate admin\"";

/// The body of every admin API error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub message: String,
    /// Messages per field of the input (ours or the vendor's); only when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    // Spelled out, not `FieldErrors`: the document then shows the map itself.
    #[schema(value_type = Option<BTreeMap<String, Vec<String>>>, nullable = false)]
    pub fields: Option<FieldErrors>,
}

/// `GET /admin/api/rooms`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomList {
    pub rooms: Vec<RoomListItem>,
}

/// A room to create: a [`RoomInput`] with `name` (the schema only; the handler reads a
/// [`RoomInput`] and says "is required" for a missing name, per field).
pub struct NewRoom;

impl PartialSchema for NewRoom {
    fn schema() -> RefOr<Schema> {
        AllOfBuilder::new()
            .item(Ref::from_schema_name(RoomInput::name()))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .required("name"),
            )
            .description(Some("A room to create: `name` is required."))
            .into()
    }
}

impl ToSchema for NewRoom {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((RoomInput::name().into_owned(), RoomInput::schema()));
        RoomInput::schemas(schemas);
    }
}

/// 408: the body did not arrive in time, answered by `middleware::body_deadline` before
/// any handler, as an HTML page.
pub struct RequestTimeout;

impl<'r> ToResponse<'r> for RequestTimeout {
    fn response() -> (&'r str, RefOr<Response>) {
        let answer = ResponseBuilder::new().description(
            "The body did not arrive within 10 seconds of the request head; the connection \
             is closed.",
        );
        ("RequestTimeout", answer.build().into())
    }
}

/// An error answer of `description`, with `headers` (name, description) set.
fn error_answer(description: &str, headers: &[(&str, &str)]) -> RefOr<Response> {
    let mut answer = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(ErrorBody::name())))
            .build(),
    );
    for (name, about) in headers {
        answer = answer.header(
            *name,
            HeaderBuilder::new()
                .schema(Some(String::schema()))
                .description(Some(*about))
                .build(),
        );
    }
    answer.build().into()
}

/// Declares reusable error answers: each a type whose [`ToResponse`] is `error_answer`.
macro_rules! error_answers {
    ($($(#[$doc:meta])* $name:ident: $description:literal $([$header:literal: $about:literal])?;)*) => {$(
        $(#[$doc])*
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                (stringify!($name), error_answer($description, &[$(($header, $about))?]))
            }
        }
    )*};
}

error_answers! {
    /// 400.
    BadRequest: "The body is not JSON of the documented shape (a wrong type, an unknown \
        field), or the query cannot be read.";
    /// 401.
    Unauthorized: "No valid admin token: send `Authorization: Bearer <admin.token>`."
        ["WWW-Authenticate": "`Bearer realm=\"roomgate admin\"`"];
    /// 404.
    NotFound: "No such room, or no calendar event for a room without a start. While \
        `admin.token` is unset, every admin route answers 404.";
    /// 409.
    Conflict: "The room source cannot do this: catalog rooms are changed in the catalog \
        file, and invitations need `rooms.source = \"api\"`.";
    /// 413.
    TooLarge: "The body is larger than 128 KiB.";
    /// 422.
    Invalid: "Some fields are not acceptable (ours or the vendor's messages): \
        `error.fields` names them.";
    /// 429.
    Throttled: "Too many wrong tokens from this client: wait before trying again."
        ["Retry-After": "Seconds to wait."];
    /// 502.
    VendorFailed: "LiveWebinar failed, could not be reached, or said yes and did not do it \
        (a change it stored none of, a room it did not open or close).";
}

/// The status of each way an operator's request can fail.
fn ops_status(e: &OpsError) -> StatusCode {
    match e {
        OpsError::NotFound | OpsError::NoSchedule | OpsError::VendorNotFound(_) => {
            StatusCode::NOT_FOUND
        }
        OpsError::CatalogManaged | OpsError::NeedsVendor | OpsError::LookupOnly => {
            StatusCode::CONFLICT
        }
        OpsError::Invalid { .. } | OpsError::VendorRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
        // The vendor said yes and did not do it: as much the vendor's failure as a 5xx.
        OpsError::VendorFailed(_)
        | OpsError::NotStored { .. }
        | OpsError::NotReopened
        | OpsError::NotClosed => StatusCode::BAD_GATEWAY,
    }
}

/// Middleware of the `/admin/api` scope: without `admin.token` the surface does not exist,
/// so every request under it gets the one 404, whatever its method and path. Without it,
/// actix answers a method a route does not take with 405 and `Allow`, which tells that a
/// route exists there.
pub async fn hidden_when_off(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let off = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.operator.token.is_none());
    if off {
        let res = AdminError::Refused(Refusal::SurfaceOff).error_response();
        return Ok(req.into_response(res).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// The operators' core, once the bearer token checks out.
fn authorize<'a>(req: &HttpRequest, state: &'a AppState) -> Result<&'a Manager, AdminError> {
    operator::check(state, req, operator::bearer_token(req)).map_err(AdminError::Refused)?;
    Ok(&state.operator.manager)
}

fn license(req: &HttpRequest, state: &AppState) -> Result<String, AdminError> {
    RoomPath::parse(
        &state.rooms.key_pattern,
        req.match_info().get("license").unwrap_or_default(),
        None,
    )
    .map(|p| p.license)
    .ok_or(AdminError::BadKey)
}

/// Largest request body. A room form or an invitation is a few hundred bytes, but the
/// largest valid one (every text at its documented longest, 10 428 characters, each
/// written as a JSON-escaped surrogate pair of 12 bytes, as Python's `json` writes
/// anything outside the BMP) is about 123 KiB, and must not be refused.
const BODY_LIMIT: usize = 128 * 1024;

/// The JSON body of an authorized request, read only now and never past [`BODY_LIMIT`].
async fn json_body<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<T, AdminError> {
    // An announced length over the limit is refused without reading a byte.
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|n| n > BODY_LIMIT as u64) {
        return Err(AdminError::TooLarge);
    }
    let body = match payload.to_bytes_limited(BODY_LIMIT).await {
        Ok(Ok(body)) => body,
        // A body cut off by the read deadline is answered 408 by `body_deadline`.
        Ok(Err(_)) => return Err(AdminError::Unreadable),
        Err(_) => return Err(AdminError::TooLarge),
    };
    parse(&body)
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    serde_json::from_slice(body)
        .map_err(|e| AdminError::BadJson(format!("the body is not acceptable JSON: {e}")))
}

/// Every room, with its attendee link.
#[utoipa::path(
    get,
    path = "/admin/api/rooms",
    operation_id = "list_rooms",
    tag = "rooms",
    responses(
        (status = 200, description = "Every room (the newest first from the vendor, in file order from the catalog).", body = RoomList),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 429, response = Throttled),
        (status = 502, response = VendorFailed),
    ),
)]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let rooms = authorize(&req, &state)?.list().await?;
    Ok(HttpResponse::Ok().json(RoomList { rooms }))
}

/// Creates a room at the vendor.
#[utoipa::path(
    post,
    path = "/admin/api/rooms",
    operation_id = "create_room",
    tag = "rooms",
    request_body = NewRoom,
    responses(
        (status = 201, description = "The room, with its links.", body = RoomOut, links(
            ("show" = (operation_id = "show_room", parameters(("license" = "$response.body#/license")))),
            ("update" = (operation_id = "update_room", parameters(("license" = "$response.body#/license")))),
            ("delete" = (operation_id = "delete_room", parameters(("license" = "$response.body#/license")))),
            ("activate" = (operation_id = "activate_room", parameters(("license" = "$response.body#/license")))),
            ("deactivate" = (operation_id = "deactivate_room", parameters(("license" = "$response.body#/license")))),
            ("links" = (operation_id = "room_links", parameters(("license" = "$response.body#/license")))),
            ("invite" = (operation_id = "invite", parameters(("license" = "$response.body#/license")))),
            ("calendar" = (operation_id = "room_calendar", parameters(("license" = "$response.body#/license")))),
        )),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 408, response = RequestTimeout),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 422, response = Invalid),
        (status = 429, response = Throttled),
        (status = 502, response = VendorFailed),
    ),
)]
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let manager = authorize(&req, &state)?;
    let input: RoomInput = json_body(&req, payload).await?;
    let room = manager.create(&input).await?;
    Ok(HttpResponse::Created().json(room))
}

/// One room, fresh from its source, with every link.
#[utoipa::path(
    get,
    path = "/admin/api/rooms/{license}",
    operation_id = "show_room",
    tag = "rooms",
    params(License),
    responses(
        (status = 200, description = "The room.", body = RoomOut),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, response = Throttled),
        (status = 502, response = VendorFailed),
    ),
)]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let manager = authorize(&req, &state)?;
    Ok(HttpResponse::Ok().json(manager.show(&license(&req, &state)?).await?))
}

/// Changes the fields given; the others stay as they are.
///
/// The whole record is sent back to the vendor with the changes written over it, then
/// read back: a field the vendor did not store as sent is listed under `warnings`, and a
/// change of which it stored nothing is a 502.
#[utoipa::path(
    put,
    path = "/admin/api/rooms/{license}",
    operation_id = "update_room",
    tag = "rooms",
    params(License),
    request_body = RoomInput,
    responses(
        (status = 200, description = "The room as read back, with `warnings`.", body = RoomOut),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 408, response = RequestTimeout),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 422, response = Invalid),
        (status = 429, response = Throttled),
        (status = 502, response = VendorFailed),
    ),
)]
pub async fn update(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let manager = authorize(&req, &state)?;
    let license = license(&req, &state)?;
    let input: RoomInput = json_body(&req, payload).await?;
    Ok(HttpResponse::Ok().json(manager.update(&license, &input).await?))
}

/// Deletes a room at the vendor.
#[utoipa::path(
    delete,
    path = "/admin/api/rooms/{license}",
    operation_id = "delete_room",
    tag = "rooms",
    params(License),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 429, response = Throttled),
        (status = 502, response = VendorFailed),
    ),
)]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let manager = authorize(&req, &state)?;
    manager.delete(&license(&req, &state)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Opens a room: its pages open again at once.
#[utoipa::path(
    post,
    path = "/admin/api/rooms/{license}/activate",
    operation_id = "activate_room",
    tag = "rooms",
    params(License),
    responses(
        (status = 200, description = "The room as read back.", body = RoomOut),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 429, response = Throttled),
        (status = 502, response = VendorFailed),
    ),
)]
pub async fn activate(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let manager = authorize(&req, &state)?;
    Ok(HttpResponse::Ok().json(manager.set_active(&license(&req, &state)?, true).await?))
}

/// Closes a room: its pages answer 410 at once.
#[utoipa::path(
    post,
    path = "/admin/api/rooms/{license}/deactivate",
    operation_id = "deactivate_room",
    tag = "rooms",
    params(License),
    responses(
        (status = 200, description = "The room as read back.", body = RoomOut),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 429, response = Throttled),
        (status = 502, response = VendorFailed),
    ),
)]
pub async fn deactivate(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let manager = authorize(&req, &state)?;
    Ok(HttpResponse::Ok().json(manager.set_active(&license(&req, &state)?, false).await?))
}

/// Every link of a room, on `server.public_url`.
#[utoipa::path(
    get,
    path = "/admin/api/rooms/{license}/links",
    operation_id = "room_links",
    tag = "rooms",
    params(License),
    responses(
        (status = 200, description = "The room's links.", body = RoomLinks),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, response = Throttled),
        (status = 502, response = VendorFailed),
    ),
)]
pub async fn links(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let manager = authorize(&req, &state)?;
    Ok(HttpResponse::Ok().json(manager.links(&license(&req, &state)?).await?))
}

/// A personal invitation: the vendor's personal token, on a link of `server.public_url`.
#[utoipa::path(
    post,
    path = "/admin/api/rooms/{license}/invitations",
    operation_id = "invite",
    tag = "rooms",
    params(License),
    request_body = InvitationInput,
    responses(
        (status = 201, description = "The invitation.", body = InvitationOut),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 408, response = RequestTimeout),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 422, response = Invalid),
        (status = 429, response = Throttled),
        (status = 502, response = VendorFailed),
    ),
)]
pub async fn invite(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let manager = authorize(&req, &state)?;
    let license = license(&req, &state)?;
    let input: InvitationInput = json_body(&req, payload).await?;
    Ok(HttpResponse::Created().json(manager.invite(&license, &input).await?))
}

/// The `{license}` of a room route, for the document: handlers read it from the match
/// info, through `license()`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct License {
    /// The room key (`123-123-123` with the default `rooms.license_pattern`).
    pub license: String,
}

/// `?role=` of the admin calendar route.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoleQuery {
    /// A role of the room (`host`, `presenter`, …): the event then carries that role's
    /// link. Without it, the attendees' file.
    #[param(example = "host")]
    role: Option<String>,
}

/// A room's calendar file, for attendees or for one role (role links only here).
#[utoipa::path(
    get,
    path = "/admin/api/rooms/{license}/calendar.ics",
    operation_id = "room_calendar",
    tag = "rooms",
    params(License, RoleQuery),
    responses(
        (status = 200, description = "An iCalendar file (`Content-Disposition: attachment`).", body = String, content_type = "text/calendar",
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"room-{license}[-{role}].ics\"`"))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 422, response = Invalid),
        (status = 429, response = Throttled),
        (status = 502, response = VendorFailed),
    ),
)]
pub async fn calendar(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let manager = authorize(&req, &state)?;
    let license = license(&req, &state)?;
    let query = web::Query::<RoleQuery>::from_query(req.query_string())
        .map_err(|e| AdminError::BadJson(format!("bad query: {e}")))?;
    let ics = manager.calendar(&license, query.role.as_deref()).await?;
    Ok(ics_response(&license, query.role.as_deref(), ics))
}

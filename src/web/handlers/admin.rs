//! The admin API under `/admin/api/`: JSON in and out, `Authorization: Bearer <admin.token>`
//! only (cookies are ignored). Without `admin.token` every route answers 404.
//!
//! Handlers take the raw payload and read it only once the token checks out: a body
//! extractor would read (and wait for) the body of anyone, and answer a large one 413
//! before an unauthenticated client had been told 401.
//!
//! Each handler carries its `#[utoipa::path]`; the answers shared by all of them (the error
//! shape, 401, 404, …) are reusable components in `web::admin_errors`, beside the code
//! that writes them, and `web::openapi` gathers them into the OpenAPI document.

use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header,
    middleware::Next,
    web,
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        Ref, RefOr,
        schema::{AllOfBuilder, ObjectBuilder, Schema, Type},
    },
};

use crate::{
    ops::{InvitationInput, InvitationOut, Manager, RoomInput, RoomLinks, RoomListItem, RoomOut},
    visit::path::RoomPath,
    web::{
        admin_errors::{
            AdminError, BODY_LIMIT, BadRequest, Conflict, Invalid, NotFound, RequestTimeout,
            Throttled, TooLarge, Unauthorized, VendorFailed,
        },
        ics::ics_response,
        operator::{self, Refusal},
        sites::Site,
        state::AppState,
    },
};

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

/// Middleware of the `/admin/api` scope: without `admin.token` the surface does not exist,
/// so every request under it gets the one 404, whatever its method and path. Without it,
/// actix answers a method a route does not take with 405 and `Allow`, which tells that a
/// route exists there.
pub async fn hidden_when_off(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let off = req.app_data::<web::Data<AppState>>().is_some_and(|state| {
        match chosen_site(req.request(), state) {
            Ok(site) => !operator::surface_on(state, site),
            Err(_) => state.operator.token.is_none(),
        }
    });
    if off {
        let res = AdminError::Refused(Refusal::SurfaceOff).error_response();
        return Ok(req.into_response(res).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// The operators' core of the brand asked for, once the bearer token checks out for it.
async fn authorize<'a>(req: &HttpRequest, state: &'a AppState) -> Result<&'a Manager, AdminError> {
    let token = operator::bearer_token(req);
    match chosen_site(req, state) {
        Ok(site) => {
            operator::check(state, site, req, token)
                .await
                .map_err(AdminError::Refused)?;
            Ok(&site.manager)
        }
        // Only the deployment's own operator learns that a brand does not exist: anyone
        // else is told what a wrong token is told, so brand ids cannot be listed.
        Err(unknown) => {
            let default = &state.sites.all()[0];
            operator::check(state, default, req, token)
                .await
                .map_err(AdminError::Refused)?;
            Err(unknown)
        }
    }
}

/// The brand of an admin request: `?brand=ID`, else the brand of the host it was sent to.
fn chosen_site<'a>(req: &HttpRequest, state: &'a AppState) -> Result<&'a Site, AdminError> {
    let asked = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(key, _)| key == "brand")
        .map(|(_, value)| value);
    match asked {
        None => Ok(state.site(req)),
        Some(id) => state.sites.by_id(&id).ok_or(AdminError::UnknownBrand),
    }
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
    let rooms = authorize(&req, &state).await?.list().await?;
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
    let manager = authorize(&req, &state).await?;
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
    let manager = authorize(&req, &state).await?;
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
    let manager = authorize(&req, &state).await?;
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
    let manager = authorize(&req, &state).await?;
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
    let manager = authorize(&req, &state).await?;
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
    let manager = authorize(&req, &state).await?;
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
    let manager = authorize(&req, &state).await?;
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
    let manager = authorize(&req, &state).await?;
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
    let manager = authorize(&req, &state).await?;
    let license = license(&req, &state)?;
    let query = web::Query::<RoleQuery>::from_query(req.query_string())
        .map_err(|e| AdminError::BadJson(format!("bad query: {e}")))?;
    let ics = manager.calendar(&license, query.role.as_deref()).await?;
    Ok(ics_response(&license, query.role.as_deref(), ics))
}

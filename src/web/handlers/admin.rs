//! The admin API under `/admin/api/`: JSON in and out, `Authorization: Bearer <admin.token>`
//! only (cookies are ignored). Without `admin.token` every route answers 404.
//!
//! Handlers take the raw payload and read it only once the token checks out: a body
//! extractor would read (and wait for) the body of anyone, and answer a large one 413
//! before an unauthenticated client had been told 401.

use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    http::{StatusCode, header},
    web,
};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::json;

use crate::{
    ops::{InvitationInput, Manager, OpsError, RoomInput},
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
        let mut error = json!({ "message": message });
        if let AdminError::Ops(e) = self
            && let Some(fields) = e.fields()
        {
            error["fields"] = json!(fields);
        }
        let mut res = HttpResponse::build(self.status_code());
        match self {
            AdminError::Refused(Refusal::Unauthorized) => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"roomgate admin\""));
            }
            AdminError::Refused(Refusal::Throttled) => {
                res.insert_header((header::RETRY_AFTER, "60"));
            }
            _ => {}
        }
        res.json(json!({ "error": error }))
    }
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

/// Largest request body: a room form or an invitation is a few hundred bytes.
const BODY_LIMIT: usize = 64 * 1024;

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

/// `GET /admin/api/rooms`.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let rooms = authorize(&req, &state)?.list().await?;
    Ok(HttpResponse::Ok().json(json!({ "rooms": rooms })))
}

/// `POST /admin/api/rooms`.
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

/// `GET /admin/api/rooms/{license}`.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let manager = authorize(&req, &state)?;
    Ok(HttpResponse::Ok().json(manager.show(&license(&req, &state)?).await?))
}

/// `PUT /admin/api/rooms/{license}`.
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

/// `DELETE /admin/api/rooms/{license}`.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let manager = authorize(&req, &state)?;
    manager.delete(&license(&req, &state)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /admin/api/rooms/{license}/activate`.
pub async fn activate(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let manager = authorize(&req, &state)?;
    Ok(HttpResponse::Ok().json(manager.set_active(&license(&req, &state)?, true).await?))
}

/// `POST /admin/api/rooms/{license}/deactivate`.
pub async fn deactivate(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let manager = authorize(&req, &state)?;
    Ok(HttpResponse::Ok().json(manager.set_active(&license(&req, &state)?, false).await?))
}

/// `GET /admin/api/rooms/{license}/links`.
pub async fn links(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let manager = authorize(&req, &state)?;
    Ok(HttpResponse::Ok().json(manager.links(&license(&req, &state)?).await?))
}

/// `POST /admin/api/rooms/{license}/invitations`.
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

/// `?role=` of the admin calendar route.
#[derive(Deserialize)]
pub struct RoleQuery {
    role: Option<String>,
}

/// `GET /admin/api/rooms/{license}/calendar.ics[?role=host]`: role links only here.
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

//! How the admin API fails: [`AdminError`] and the one JSON shape of its answers
//! (`{"error": {"message", "fields"?}}`), the status of each way an operator's request can
//! fail, and the error answers the OpenAPI document shares between routes, beside the
//! code that writes them.

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};
use serde::Serialize;
use utoipa::{
    PartialSchema, ToResponse, ToSchema,
    openapi::{
        ContentBuilder, Ref, RefOr, ResponseBuilder, header::HeaderBuilder, response::Response,
    },
};

use super::operator::Refusal;
use crate::ops::{FieldErrors, OpsError};

/// Largest request body. A room form or an invitation is a few hundred bytes, but the
/// largest valid one (every text at its documented longest, 10 428 characters, each
/// written as a JSON-escaped surrogate pair of 12 bytes, as Python's `json` writes
/// anything outside the BMP) is about 123 KiB, and must not be refused.
pub const BODY_LIMIT: usize = 128 * 1024;

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
    /// `?brand=` names no brand.
    #[error("no such brand")]
    UnknownBrand,
    #[error(transparent)]
    Ops(#[from] OpsError),
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            AdminError::Refused(Refusal::SurfaceOff)
            | AdminError::BadKey
            | AdminError::UnknownBrand => StatusCode::NOT_FOUND,
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
        OpsError::CatalogManaged
        | OpsError::NeedsVendor
        | OpsError::LookupOnly
        | OpsError::BrandRoomsListed => StatusCode::CONFLICT,
        OpsError::Invalid { .. } | OpsError::VendorRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
        // The vendor said yes and did not do it: as much the vendor's failure as a 5xx.
        OpsError::VendorFailed(_)
        | OpsError::NotStored { .. }
        | OpsError::NotReopened
        | OpsError::NotClosed => StatusCode::BAD_GATEWAY,
    }
}

//! Every way a call to the vendor can end badly, told apart so callers can decide
//! (re-authenticate, answer 410, serve a stale page, pass validation messages on).

use std::collections::BTreeMap;

/// The outcome of a failed vendor call. Never carries a token or secret.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// 401: the token (or the login credentials) were refused.
    #[error("the vendor refused the credentials ({message})")]
    Unauthorized { message: String },
    /// 404, 410 (or 403 on a room): the thing is not there (any more).
    #[error("not found at the vendor (HTTP {status})")]
    NotFound { status: u16 },
    /// 422 or an `error.errors` body: field-by-field validation messages.
    #[error("the vendor rejected the input: {message}")]
    Validation {
        message: String,
        fields: BTreeMap<String, Vec<String>>,
    },
    /// 429: the vendor asks us to slow down.
    #[error("the vendor is rate limiting (HTTP 429{})", wait_text(*.retry_after_secs))]
    RateLimited { retry_after_secs: Option<u64> },
    /// 503: the vendor is down for now (maintenance, overload), maybe saying for how long.
    #[error("the vendor is unavailable (HTTP 503{}): {message}", wait_text(*.retry_after_secs))]
    Unavailable {
        retry_after_secs: Option<u64>,
        message: String,
    },
    /// Any other failure with the vendor's own message.
    #[error("the vendor answered HTTP {status}: {message}")]
    Vendor { status: u16, message: String },
    /// The answer was not the JSON we expect: HTML, empty, truncated, wrong shape.
    #[error("unreadable answer from the vendor (HTTP {status}): {reason}")]
    BadBody { status: u16, reason: String },
    /// The answer was larger than `api.max_response_bytes`.
    #[error("the vendor's answer is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// A redirect: the client follows none, so that tokens never travel elsewhere.
    #[error("the vendor answered with a redirect (HTTP {status}), which is not followed")]
    Redirect { status: u16 },
    /// No answer within `api.timeout_ms`.
    #[error("the vendor did not answer in time")]
    Timeout,
    /// No connection (refused, reset, DNS, TLS).
    #[error("cannot reach the vendor: {0}")]
    Connection(String),
    /// roomgate has no usable token and cannot get one right now.
    #[error("not signed in to the vendor: {0}")]
    NotSignedIn(String),
}

impl ApiError {
    /// Whether this failure says the thing asked for does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::NotFound { .. })
    }

    /// How long the vendor asked us to wait before calling again (its `Retry-After` on a
    /// 429 or 503), when it said.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ApiError::RateLimited { retry_after_secs }
            | ApiError::Unavailable {
                retry_after_secs, ..
            } => *retry_after_secs,
            _ => None,
        }
    }
}

/// ", retry after N s" when the vendor said how long to wait.
fn wait_text(retry_after_secs: Option<u64>) -> String {
    retry_after_secs
        .map(|s| format!(", retry after {s} s"))
        .unwrap_or_default()
}

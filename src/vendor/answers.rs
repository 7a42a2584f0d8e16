//! Reading the vendor's answers: the `data` envelope, the error shapes (`{"error":
//! {"message"}}`, validation maps, HTML from a gateway, empty bodies) and transport
//! failures, each turned into an [`ApiError`]. Plain functions over bytes, tested without
//! HTTP.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::Value;

use super::{error::ApiError, models::TokenAnswer};

pub(super) fn transport_error(e: reqwest::Error) -> ApiError {
    if e.is_timeout() {
        ApiError::Timeout
    } else {
        // Without the URL: it is ours, and the cause chain says what went wrong.
        let e = e.without_url();
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        ApiError::Connection(message)
    }
}

/// Turns a status and body into the JSON answer or the failure it describes;
/// `retry_after_secs` is what the answer's `Retry-After` said.
pub(super) fn interpret(
    status: StatusCode,
    retry_after_secs: Option<u64>,
    bytes: &[u8],
) -> Result<Value, ApiError> {
    let code = status.as_u16();
    let parsed: Option<Value> = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice(bytes).ok()
    };
    let Some(json) = parsed else {
        let reason = if bytes.iter().all(u8::is_ascii_whitespace) {
            "empty answer".to_owned()
        } else if bytes.trim_ascii_start().starts_with(b"<") {
            "HTML instead of JSON".to_owned()
        } else {
            "not JSON".to_owned()
        };
        return match code {
            200..=299 if bytes.iter().all(u8::is_ascii_whitespace) => Ok(Value::Null),
            200..=299 => Err(ApiError::BadBody {
                status: code,
                reason,
            }),
            _ => Err(failure(code, reason, Default::default(), retry_after_secs)),
        };
    };
    let error = json.get("error").filter(|e| !e.is_null());
    if status.is_success() && error.is_none() {
        return Ok(json);
    }
    let message = error
        .and_then(|e| {
            e.get("message")
                .and_then(Value::as_str)
                .or_else(|| e.as_str())
        })
        .or_else(|| json.get("message").and_then(Value::as_str))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error"))
        .to_owned();
    let mut fields = std::collections::BTreeMap::new();
    if let Some(Value::Object(errors)) = error.and_then(|e| e.get("errors")) {
        for (field, messages) in errors {
            let list = match messages {
                Value::Array(items) => items
                    .iter()
                    .filter_map(|m| m.as_str().map(str::to_owned))
                    .collect(),
                Value::String(s) => vec![s.clone()],
                _ => vec![],
            };
            fields.insert(field.clone(), list);
        }
    }
    Err(failure(code, message, fields, retry_after_secs))
}

fn failure(
    code: u16,
    message: String,
    fields: std::collections::BTreeMap<String, Vec<String>>,
    retry_after_secs: Option<u64>,
) -> ApiError {
    match code {
        401 => ApiError::Unauthorized { message },
        404 | 410 => ApiError::NotFound { status: code },
        429 => ApiError::RateLimited { retry_after_secs },
        503 => ApiError::Unavailable {
            retry_after_secs,
            message,
        },
        _ if code == 422 || !fields.is_empty() => ApiError::Validation { message, fields },
        _ => ApiError::Vendor {
            status: code,
            message,
        },
    }
}

/// Seconds to wait from a `Retry-After` value: delay-seconds, or an HTTP date (counted
/// from `now`; a date in the past means no wait). Anything else is no answer.
pub(super) fn retry_after_secs(value: &str, now: DateTime<Utc>) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Absurdly long numbers saturate; callers clamp to what they are willing to wait.
        return Some(value.parse().unwrap_or(u64::MAX));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&Utc) - now;
    Some(u64::try_from(wait.num_seconds()).unwrap_or(0))
}

/// The number of rooms a list answer says the account has: `meta.total`, a top-level
/// `total`, or `meta.pagination.total`, as a number or a numeric string.
pub(super) fn total_of(answer: &Value) -> Option<u64> {
    let meta = answer.get("meta");
    [
        meta.and_then(|m| m.get("total")),
        answer.get("total"),
        meta.and_then(|m| m.get("pagination"))
            .and_then(|p| p.get("total")),
    ]
    .into_iter()
    .flatten()
    .find_map(|v| match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// The `data` member of an answer, or the answer itself when it has none.
pub(super) fn data(answer: Value) -> Value {
    match answer {
        Value::Object(mut map) if map.contains_key("data") => {
            map.remove("data").unwrap_or(Value::Null)
        }
        other => other,
    }
}

pub(super) fn token_answer(answer: &Value) -> Result<TokenAnswer, ApiError> {
    TokenAnswer::from_json(answer).ok_or_else(|| ApiError::BadBody {
        status: 200,
        reason: "no token in the answer".to_owned(),
    })
}

pub(super) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_failure_shape_is_told_apart() {
        let s = |c| StatusCode::from_u16(c).unwrap();
        assert_eq!(
            interpret(s(200), None, br#"{"data":{"id":1}}"#).unwrap(),
            json!({"data":{"id":1}})
        );
        assert_eq!(interpret(s(204), None, b"").unwrap(), Value::Null);
        assert!(
            matches!(interpret(s(200), None, b"<html>oops</html>"), Err(ApiError::BadBody { reason, .. }) if reason == "HTML instead of JSON")
        );
        assert!(matches!(
            interpret(s(200), None, br#"{"data":[1,"#),
            Err(ApiError::BadBody { .. })
        ));
        assert!(matches!(
            interpret(s(502), None, b"<html>Bad gateway</html>"),
            Err(ApiError::Vendor { status: 502, .. })
        ));
        assert!(matches!(
            interpret(s(500), None, b""),
            Err(ApiError::Vendor { status: 500, .. })
        ));
        assert!(
            matches!(interpret(s(401), None, br#"{"error":{"message":"Token expired"}}"#), Err(ApiError::Unauthorized { message }) if message == "Token expired")
        );
        assert!(matches!(
            interpret(s(410), None, b""),
            Err(ApiError::NotFound { status: 410 })
        ));
        assert!(matches!(
            interpret(s(200), None, br#"{"error":{"message":"Quota exceeded"}}"#),
            Err(ApiError::Vendor { status: 200, message }) if message == "Quota exceeded"
        ));
        let Err(ApiError::Validation { message, fields }) = interpret(
            s(422),
            None,
            br#"{"error":{"message":"The given data was invalid.","errors":{"name":["The name field is required."]}}}"#,
        ) else {
            panic!("validation expected")
        };
        assert_eq!(message, "The given data was invalid.");
        assert_eq!(fields["name"], ["The name field is required."]);
        assert!(matches!(
            interpret(s(503), Some(120), b"<html>maintenance</html>"),
            Err(ApiError::Unavailable {
                retry_after_secs: Some(120),
                ..
            })
        ));
        assert!(matches!(
            interpret(s(429), Some(7), br#"{"error":{"message":"slow down"}}"#),
            Err(ApiError::RateLimited {
                retry_after_secs: Some(7)
            })
        ));
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_a_date() {
        let now: DateTime<Utc> = "2026-12-01T12:00:00Z".parse().unwrap();
        assert_eq!(retry_after_secs("120", now), Some(120));
        assert_eq!(retry_after_secs(" 0 ", now), Some(0));
        assert_eq!(
            retry_after_secs("99999999999999999999999", now),
            Some(u64::MAX)
        );
        assert_eq!(
            retry_after_secs("Tue, 01 Dec 2026 12:02:00 GMT", now),
            Some(120)
        );
        assert_eq!(
            retry_after_secs("Tue, 01 Dec 2026 11:00:00 GMT", now),
            Some(0),
            "a date gone by: no wait"
        );
        for nonsense in ["", "soon", "-5", "1.5", "12 s"] {
            assert_eq!(retry_after_secs(nonsense, now), None, "{nonsense:?}");
        }
    }

    #[test]
    fn a_total_is_found_wherever_the_vendor_puts_it() {
        assert_eq!(
            total_of(&json!({"data": [], "meta": {"total": 600}})),
            Some(600)
        );
        assert_eq!(total_of(&json!({"data": [], "total": "42"})), Some(42));
        assert_eq!(
            total_of(&json!({"data": [], "meta": {"pagination": {"total": 7}}})),
            Some(7)
        );
        assert_eq!(total_of(&json!({"data": []})), None);
        assert_eq!(
            total_of(&json!({"data": [], "meta": {"total": null}})),
            None
        );
        assert_eq!(total_of(&json!({"data": [], "total": -1})), None);
    }
}

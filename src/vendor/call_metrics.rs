//! What each call to the vendor is counted as: a fixed name per endpoint and a small set
//! of outcomes, so that no id, key or token ever becomes a label, and the brand whose
//! account made it. Recorded with the `metrics` macros into the recorder of the calling
//! thread (see `observe`).

use std::{sync::Arc, time::Duration};

use metrics::SharedString;
use reqwest::Method;

use super::error::ApiError;
use crate::settings::DEFAULT_BRAND;

/// The `brand` label of one vendor account's figures (its calls, sign-ins, listings and
/// room cache): the id of the brand it serves, `default` for the top-level account. Brand
/// ids are few and fixed by the settings, so the label stays bounded; no host name or key
/// ever becomes one.
#[derive(Debug, Clone)]
pub struct BrandLabel(SharedString);

impl BrandLabel {
    /// The label of brand `id` (`settings.brand_id`).
    pub fn new(id: &str) -> Self {
        if id == DEFAULT_BRAND {
            return BrandLabel::default();
        }
        // Shared, not owned: each count clones the label, and an `Arc` clone allocates
        // nothing.
        BrandLabel(SharedString::from(Arc::<str>::from(id)))
    }

    /// The label's value, to record with.
    pub fn value(&self) -> SharedString {
        self.0.clone()
    }
}

impl Default for BrandLabel {
    fn default() -> Self {
        BrandLabel(SharedString::const_str(DEFAULT_BRAND))
    }
}

/// The endpoint label of a call: one fixed name per kind of call, `other` for the rest.
pub fn endpoint_of(method: &Method, path: &str) -> &'static str {
    let path = path.trim_matches('/');
    let (first, rest) = path.split_once('/').unwrap_or((path, ""));
    match (method.as_str(), first, rest) {
        ("POST", "auth", "login") => "login",
        ("POST", "oauth", "access_token") => "oauth_token",
        ("POST", "oauth", "access_token/refresh") => "oauth_refresh",
        ("GET", "widgets", "") => "widgets_list",
        ("POST", "widgets", "") => "widget_create",
        ("GET", "me", "") => "me",
        (method, "widgets", rest) => match rest.split_once('/') {
            None if is_id(rest) => match method {
                "GET" => "widget",
                "PUT" => "widget_update",
                "DELETE" => "widget_delete",
                _ => "other",
            },
            Some((id, "personal")) if is_id(id) && method == "POST" => "personal",
            _ => "other",
        },
        _ => "other",
    }
}

fn is_id(segment: &str) -> bool {
    !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit())
}

/// The outcome label of a call that ended with `error` (`None`: it succeeded).
pub fn outcome_of(error: Option<&ApiError>) -> &'static str {
    let Some(error) = error else {
        return "ok";
    };
    match error {
        ApiError::Unauthorized { .. } | ApiError::NotFound { .. } | ApiError::Validation { .. } => {
            "client_error"
        }
        ApiError::RateLimited { .. } => "rate_limited",
        ApiError::Unavailable { .. } => "server_error",
        ApiError::Vendor { status, .. } if *status >= 500 => "server_error",
        ApiError::Vendor { .. } => "client_error",
        ApiError::BadBody { .. } | ApiError::TooLarge { .. } | ApiError::Redirect { .. } => {
            "bad_body"
        }
        ApiError::Timeout => "timeout",
        ApiError::Connection(_) => "unreachable",
        ApiError::NotSignedIn(_) => "not_signed_in",
    }
}

/// Counts one call of `brand`'s account to `endpoint` that took `took` and ended with
/// `error`.
pub(super) fn call_made(
    brand: &BrandLabel,
    endpoint: &'static str,
    took: Duration,
    error: Option<&ApiError>,
) {
    let outcome = outcome_of(error);
    metrics::counter!(
        "roomgate_vendor_calls_total",
        "endpoint" => endpoint, "outcome" => outcome, "brand" => brand.value()
    )
    .increment(1);
    metrics::histogram!(
        "roomgate_vendor_call_duration_seconds",
        "endpoint" => endpoint, "brand" => brand.value()
    )
    .record(took.as_secs_f64());
}

/// How roomgate signs in to the vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    /// `POST auth/login` with the client id and secret.
    Login,
    /// An OAuth authorization code exchanged for tokens.
    Exchange,
    /// An OAuth refresh token exchanged for new tokens.
    Refresh,
}

/// Counts one sign-in of `kind` to `brand`'s account, successful or not.
pub(super) fn signed_in(brand: &BrandLabel, kind: SignIn, ok: bool) {
    let kind = match kind {
        SignIn::Login => "login",
        SignIn::Exchange => "exchange",
        SignIn::Refresh => "refresh",
    };
    let outcome = if ok { "ok" } else { "failed" };
    metrics::counter!(
        "roomgate_vendor_sign_ins_total",
        "kind" => kind, "outcome" => outcome, "brand" => brand.value()
    )
    .increment(1);
}

/// Counts one listing of all the rooms of `brand`'s account.
pub(super) fn listed(brand: &BrandLabel) {
    metrics::counter!("roomgate_vendor_listings_total", "brand" => brand.value()).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_of_the_client_has_its_own_endpoint_name() {
        let cases = [
            (Method::POST, "auth/login", "login"),
            (Method::POST, "oauth/access_token", "oauth_token"),
            (Method::POST, "oauth/access_token/refresh", "oauth_refresh"),
            (Method::GET, "widgets", "widgets_list"),
            (Method::POST, "widgets", "widget_create"),
            (Method::GET, "widgets/42", "widget"),
            (Method::PUT, "widgets/42", "widget_update"),
            (Method::DELETE, "widgets/42", "widget_delete"),
            (Method::POST, "widgets/42/personal", "personal"),
            (Method::GET, "me", "me"),
            (Method::POST, "oauth/clients", "other"),
            (Method::GET, "widgets/abc", "other"),
            (Method::GET, "widgets/42/personal", "other"),
            (Method::GET, "something/new", "other"),
        ];
        for (method, path, expected) in cases {
            assert_eq!(endpoint_of(&method, path), expected, "{method} {path}");
        }
    }

    #[test]
    fn outcomes_tell_the_callers_mistakes_from_the_vendors() {
        let vendor = |status| ApiError::Vendor {
            status,
            message: String::new(),
        };
        assert_eq!(outcome_of(None), "ok");
        assert_eq!(
            outcome_of(Some(&ApiError::NotFound { status: 404 })),
            "client_error"
        );
        assert_eq!(outcome_of(Some(&vendor(400))), "client_error");
        assert_eq!(outcome_of(Some(&vendor(502))), "server_error");
        assert_eq!(
            outcome_of(Some(&ApiError::RateLimited {
                retry_after_secs: None
            })),
            "rate_limited"
        );
        assert_eq!(outcome_of(Some(&ApiError::Timeout)), "timeout");
        assert_eq!(
            outcome_of(Some(&ApiError::Connection("refused".into()))),
            "unreachable"
        );
        assert_eq!(
            outcome_of(Some(&ApiError::BadBody {
                status: 200,
                reason: "HTML".into()
            })),
            "bad_body"
        );
    }

    #[test]
    fn the_brand_label_is_the_brand_id_and_default_for_the_top_level_account() {
        assert_eq!(&*BrandLabel::default().value(), "default");
        assert_eq!(&*BrandLabel::new(DEFAULT_BRAND).value(), "default");
        assert_eq!(&*BrandLabel::new("acme").value(), "acme");
    }
}

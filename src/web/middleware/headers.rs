//! Security headers on every answer, built once per brand from its settings.

use actix_web::http::header::{HeaderName, HeaderValue};

use crate::settings::{Settings, origin_of};

/// The `Content-Security-Policy` value: no inline script or style anywhere, scripts only
/// from this site and the embed host, frames only from the vendor.
pub fn content_security_policy(settings: &Settings) -> String {
    let embed = origin_of(&settings.embed.base_url);
    let app = origin_of(&settings.api.app_url);
    [
        "default-src 'none'".to_owned(),
        format!("script-src 'self' {embed}"),
        format!("style-src 'self' {embed}"),
        "img-src 'self' data: https:".to_owned(),
        format!("font-src 'self' {embed}"),
        format!("connect-src 'self' {embed} {app}"),
        format!("media-src 'self' {embed} {app}"),
        format!("frame-src {app} {embed}"),
        "object-src 'none'".to_owned(),
        "base-uri 'none'".to_owned(),
        "form-action 'self'".to_owned(),
        format!("frame-ancestors {}", settings.security.frame_ancestors),
    ]
    .join("; ")
}

/// `Permissions-Policy`: camera, microphone and screen sharing only for the vendor's room.
pub fn permissions_policy(settings: &Settings) -> String {
    let app = origin_of(&settings.api.app_url);
    let embed = origin_of(&settings.embed.base_url);
    let allow = format!("(self \"{app}\" \"{embed}\")");
    format!(
        "camera={allow}, microphone={allow}, display-capture={allow}, fullscreen={allow}, \
         geolocation=(), payment=(), usb=()"
    )
}

/// The headers added to every answer that does not set its own value.
///
/// `Cache-Control: private, no-store` is the default because room pages carry role and
/// personal tokens; static files set their own long lifetime.
pub fn header_block(settings: &Settings) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = vec![
        ("content-security-policy", content_security_policy(settings)),
        ("permissions-policy", permissions_policy(settings)),
        ("referrer-policy", "no-referrer".to_owned()),
        ("x-content-type-options", "nosniff".to_owned()),
        ("x-robots-tag", "noindex".to_owned()),
        ("cache-control", "private, no-store".to_owned()),
    ];
    if let Some(value) = frame_options(settings) {
        headers.push(("x-frame-options", value.to_owned()));
    }
    if settings.server.public_url.starts_with("https://") {
        headers.push(("strict-transport-security", "max-age=31536000".to_owned()));
    }
    headers
        .into_iter()
        .filter_map(|(name, value)| {
            // Every value was checked at start-up (no control characters in
            // frame-ancestors or the URLs), so none is dropped here in practice.
            Some((
                HeaderName::from_static(name),
                HeaderValue::from_str(&value).ok()?,
            ))
        })
        .collect()
}

/// Old browsers that ignore `frame-ancestors` still honour this, where it can say the same.
fn frame_options(settings: &Settings) -> Option<&'static str> {
    match settings.security.frame_ancestors.trim() {
        "'none'" => Some("DENY"),
        "'self'" => Some("SAMEORIGIN"),
        _ => None,
    }
}

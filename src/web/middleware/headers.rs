//! Security headers on every answer, built once from the settings.

use actix_web::middleware::DefaultHeaders;

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
pub fn security_headers(settings: &Settings) -> DefaultHeaders {
    let mut headers = DefaultHeaders::new()
        .add(("Content-Security-Policy", content_security_policy(settings)))
        .add(("Permissions-Policy", permissions_policy(settings)))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Robots-Tag", "noindex"))
        .add(("Cache-Control", "private, no-store"));
    if let Some(value) = frame_options(settings) {
        headers = headers.add(("X-Frame-Options", value));
    }
    if settings.server.public_url.starts_with("https://") {
        headers = headers.add(("Strict-Transport-Security", "max-age=31536000"));
    }
    headers
}

/// Old browsers that ignore `frame-ancestors` still honour this, where it can say the same.
fn frame_options(settings: &Settings) -> Option<&'static str> {
    match settings.security.frame_ancestors.trim() {
        "'none'" => Some("DENY"),
        "'self'" => Some("SAMEORIGIN"),
        _ => None,
    }
}

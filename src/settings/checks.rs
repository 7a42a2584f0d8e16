//! Start-up validation of the whole settings tree: every problem becomes one line naming
//! the setting, so an operator fixes them all in one go.

use secrecy::ExposeSecret;
use url::Url;

use super::{Environment, Parsed, RoomSourceKind, Settings, SharedBackend, parse_net};
use crate::domain::{Language, LicensePattern, RoomPatterns};

impl Settings {
    /// Checks every setting: the values parsed on the way, or every problem, one human
    /// line each, so that an operator fixes them all in one go.
    pub(super) fn check(&self) -> Result<Parsed, Vec<String>> {
        let mut out = Vec::new();
        let license_pattern = self.license_pattern(&mut out);
        let trusted_proxies = self.trusted_proxies(&mut out);
        let default_language = self.default_language(&mut out);
        let metrics_address = self.metrics_address(&mut out);
        out.extend(self.server_problems());
        out.extend(self.api_problems());
        out.extend(self.cache_problems());
        out.extend(self.sso_problems());
        out.extend(self.admin_problems());
        out.extend(self.shared_problems());
        out.extend(self.session_problems());
        out.extend(self.branding_problems());
        let brands = self.brand_problems(&mut out);
        let (Some(license_pattern), Some(default_language)) = (license_pattern, default_language)
        else {
            return Err(out);
        };
        if !out.is_empty() {
            return Err(out);
        }
        let parsed = Parsed {
            license_pattern,
            trusted_proxies,
            default_language,
            metrics_address,
            brands: brands.into(),
            rooms: RoomPatterns::all(),
        };
        // Each brand is served with settings of its own: they pass the same checks.
        let mut with_parsed = self.clone();
        with_parsed.parsed = parsed.clone();
        for brand in self.brands.iter() {
            let Some(settings) = with_parsed.for_brand(&brand.id) else {
                continue;
            };
            let problems = settings
                .server_problems()
                .into_iter()
                .chain(settings.branding_problems())
                .chain(settings.api_problems());
            out.extend(problems.map(|p| format!("brand {}: {}", brand.id, as_brand_key(&p))));
        }
        if out.is_empty() { Ok(parsed) } else { Err(out) }
    }

    fn license_pattern(&self, out: &mut Vec<String>) -> Option<LicensePattern> {
        let text = &self.rooms.license_pattern;
        match LicensePattern::new(text) {
            Err(e) => out.push(format!("rooms.license_pattern: not a valid regex ({e})")),
            Ok(_) if !text.starts_with('^') || !text.ends_with('$') => {
                out.push("rooms.license_pattern: must be anchored with ^ and $".into())
            }
            Ok(pattern) => return Some(pattern),
        }
        None
    }

    fn trusted_proxies(&self, out: &mut Vec<String>) -> Vec<ipnet::IpNet> {
        let mut nets = Vec::new();
        for proxy in &self.server.trusted_proxies {
            match parse_net(proxy) {
                Some(net) => nets.push(net),
                None => out.push(format!(
                    "server.trusted_proxies: `{proxy}` is not an IP address or CIDR range"
                )),
            }
        }
        nets
    }

    fn default_language(&self, out: &mut Vec<String>) -> Option<Language> {
        let code = &self.branding.default_language;
        let language = Language::from_code(code);
        if language.is_none() {
            out.push(format!(
                "branding.default_language: `{code}` is not one of {}",
                Language::codes().join(", ")
            ));
        }
        language
    }

    /// `metrics.address`: off when empty, else an IP address and a port that is not the
    /// public one (the figures are for the operator's Prometheus, not for visitors).
    fn metrics_address(&self, out: &mut Vec<String>) -> Option<std::net::SocketAddr> {
        let text = self.metrics.address.trim();
        if text.is_empty() {
            return None;
        }
        let Ok(address) = text.parse::<std::net::SocketAddr>() else {
            out.push(format!(
                "metrics.address: `{text}` is not an IP address and port like 127.0.0.1:9464 (empty turns metrics off)"
            ));
            return None;
        };
        if address.port() != 0 && address.port() == self.server.port {
            out.push(format!(
                "metrics.address: port {} is server.port; metrics need a port of their own",
                address.port()
            ));
        }
        Some(address)
    }

    /// Addresses, the embed's size, and the browser-facing policy.
    fn server_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (key, value) in [
            ("server.public_url", &self.server.public_url),
            ("embed.base_url", &self.embed.base_url),
            ("api.app_url", &self.api.app_url),
            ("api.base_url", &self.api.base_url),
        ] {
            if let Err(e) = parse_origin_url(value) {
                out.push(format!("{key}: {e}"));
            }
        }
        for (key, value) in [
            ("embed.width", &self.embed.width),
            ("embed.height", &self.embed.height),
        ] {
            if !is_css_length(value) {
                out.push(format!(
                    "{key}: `{value}` is not a CSS length like 100%, 100vh or 640px"
                ));
            }
        }
        let fa = &self.security.frame_ancestors;
        if fa.trim().is_empty() || fa.contains([';', ',', '\n', '\r']) {
            out.push(
                "security.frame_ancestors: a CSP source list such as 'self' or 'none' or https://intranet.example.com"
                    .into(),
            );
        }
        if self.security.role_guess_limit == 0 {
            out.push("security.role_guess_limit: must be at least 1".into());
        }
        // Shorter than /32 (a whole ISP's usual allocation), unrelated networks share a budget.
        if !(32..=128).contains(&self.security.ipv6_prefix_len) {
            out.push("security.ipv6_prefix_len: must be between 32 and 128 (64: one budget per IPv6 /64)".into());
        }
        out
    }

    fn session_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let production = self.environment == Environment::Production;
        match &self.session.key {
            Some(key) if key.expose_secret().len() < 64 => {
                out.push("session.key: must be at least 64 bytes (try `openssl rand -base64 64`)".into())
            }
            None if production => out.push(
                "session.key: required in production, at least 64 bytes (set ROOMGATE__SESSION__KEY)"
                    .into(),
            ),
            _ => {}
        }
        if production && !self.session.secure {
            out.push("session.secure: must be true in production".into());
        }
        if !(1..=50).contains(&self.session.max_rooms) {
            out.push("session.max_rooms: must be between 1 and 50".into());
        }
        out
    }

    fn branding_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !is_hex_color(&self.branding.primary_color) {
            out.push(format!(
                "branding.primary_color: `{}` is not a colour like #1f6feb",
                self.branding.primary_color
            ));
        }
        for (name, url) in [
            ("branding.logo_url", &self.branding.logo_url),
            ("branding.favicon_url", &self.branding.favicon_url),
        ] {
            let on_this_site = url.starts_with('/') && !url.starts_with("//");
            if !on_this_site && !url.starts_with("https://") {
                out.push(format!(
                    "{name}: must be a path on this site or an https:// URL"
                ));
            }
        }
        if !self.branding.support_url.is_empty()
            && parse_any_http_url(&self.branding.support_url).is_err()
        {
            out.push("branding.support_url: must be empty or an http(s) URL".into());
        }
        if self.branding.site_name.trim().is_empty() {
            out.push("branding.site_name: must not be empty".into());
        }
        for (key, dir) in [
            ("branding.templates_dir", &self.branding.templates_dir),
            ("branding.static_dir", &self.branding.static_dir),
        ] {
            if std::fs::read_dir(dir).is_err() {
                out.push(format!(
                    "{key}: `{}` is not a readable folder",
                    dir.display()
                ));
            }
        }
        out
    }

    fn api_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let api = &self.api;
        let needs_credentials = self.rooms.source == RoomSourceKind::Api;
        if needs_credentials && api.client_id.trim().is_empty() {
            out.push("api.client_id: required with rooms.source = \"api\"".into());
        }
        if needs_credentials && api.client_secret.is_none() {
            out.push(
                "api.client_secret: required with rooms.source = \"api\" (set ROOMGATE__API__CLIENT_SECRET)"
                    .into(),
            );
        }
        if api.timeout_ms == 0 || api.timeout_ms > 120_000 {
            out.push("api.timeout_ms: must be between 1 and 120000".into());
        }
        if api.max_response_bytes < 1024 {
            out.push("api.max_response_bytes: must be at least 1024".into());
        }
        if api.identifier.trim().is_empty() {
            out.push("api.identifier: must not be empty".into());
        }
        if !api.redirect_uri.is_empty() {
            match parse_any_http_url(&api.redirect_uri) {
                Err(e) => out.push(format!("api.redirect_uri: {e}")),
                Ok(u) if self.environment == Environment::Production && u.scheme() != "https" => {
                    out.push("api.redirect_uri: must be https in production".into())
                }
                Ok(_) => {}
            }
        }
        out
    }

    fn cache_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let c = &self.cache;
        if c.ttl_secs == 0 {
            out.push("cache.ttl_secs: must be at least 1".into());
        }
        if c.max_stale_secs < c.ttl_secs {
            out.push("cache.max_stale_secs: must be at least cache.ttl_secs".into());
        }
        if c.capacity == 0 {
            out.push("cache.capacity: must be at least 1".into());
        }
        if c.negative_capacity == 0 {
            out.push("cache.negative_capacity: must be at least 1".into());
        }
        // A room created at the vendor stays 404 this long; moka also refuses absurd TTLs.
        if c.negative_ttl_secs > 86_400 {
            out.push("cache.negative_ttl_secs: must be at most 86400 (a day)".into());
        }
        out
    }

    fn sso_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(secret) = &self.sso.secret
            && secret.expose_secret().len() < 32
        {
            out.push(
                "sso.secret: must be at least 32 bytes (try `openssl rand -base64 32`)".into(),
            );
        }
        if !(1..=3600).contains(&self.sso.max_age_secs) {
            out.push("sso.max_age_secs: must be between 1 and 3600".into());
        }
        if self.sso.session_max_age_secs == 0 {
            out.push("sso.session_max_age_secs: must be at least 1".into());
        }
        out
    }

    fn admin_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(token) = &self.admin.token
            && token.expose_secret().len() < 32
        {
            out.push(
                "admin.token: must be at least 32 bytes (try `openssl rand -base64 32`)".into(),
            );
        }
        out
    }
}

impl Settings {
    /// Fleet mode needs a Redis URL and a key; the local backend needs neither.
    fn shared_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let shared = &self.shared;
        if shared.prefix.is_empty()
            || shared.prefix.len() > 64
            || shared.prefix.contains(char::is_whitespace)
        {
            out.push(
                "shared.prefix: must be 1 to 64 characters without spaces, e.g. `roomgate:`".into(),
            );
        }
        if shared.backend != SharedBackend::Redis {
            return out;
        }
        match shared.redis_url.as_ref().map(|u| u.expose_secret().trim()) {
            None | Some("") => out.push(
                "shared.redis_url: needed with shared.backend = \"redis\" (e.g. redis://127.0.0.1:6379/0)".into(),
            ),
            // The URL may carry a password: the message names only what is wrong.
            Some(url) => match Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "redis" | "rediss") && u.host().is_some() => {}
                _ => out.push(
                    "shared.redis_url: must be a redis:// or rediss:// URL with a host".into(),
                ),
            },
        }
        match &shared.key {
            Some(key) if key.expose_secret().len() >= 32 => {}
            _ => out.push(
                "shared.key: needed with shared.backend = \"redis\", at least 32 bytes, the same on every instance (try `openssl rand -base64 32`)".into(),
            ),
        }
        out
    }
}

fn parse_any_http_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("`{value}` is not a URL ({e})"))?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(url),
        _ => Err(format!("`{value}` must be an http:// or https:// URL")),
    }
}

/// A base URL: http(s), a host, no query or fragment.
/// A problem of a brand's settings, named as its `[[brands]]` table spells the setting
/// (`primary_color`, not `branding.primary_color`), where the table has it.
fn as_brand_key(problem: &str) -> String {
    for (top, brand) in [
        ("branding.", ""),
        ("security.frame_ancestors", "frame_ancestors"),
        ("server.public_url", "public_url"),
        ("api.", "source."),
    ] {
        if let Some(rest) = problem.strip_prefix(top) {
            return format!("{brand}{rest}");
        }
    }
    problem.to_owned()
}

pub(super) fn parse_origin_url(value: &str) -> Result<Url, String> {
    let url = parse_any_http_url(value)?;
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(format!(
            "`{value}` must not carry a query, fragment or user name"
        ));
    }
    Ok(url)
}

fn is_hex_color(value: &str) -> bool {
    let Some(hex) = value.strip_prefix('#') else {
        return false;
    };
    matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit())
}

fn is_css_length(value: &str) -> bool {
    let number_end = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(number_end);
    !number.is_empty()
        && number.len() <= 8
        && number.parse::<f64>().is_ok()
        && matches!(unit, "px" | "%" | "vh" | "vw" | "dvh" | "em" | "rem")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_and_lengths_are_checked() {
        assert!(is_hex_color("#1f6feb"));
        assert!(is_hex_color("#abc"));
        assert!(!is_hex_color("red"));
        assert!(!is_hex_color("#12345g"));
        assert!(is_css_length("100%"));
        assert!(is_css_length("100vh"));
        assert!(is_css_length("640px"));
        assert!(!is_css_length("100"));
        assert!(!is_css_length("expression(alert(1))"));
        assert!(!is_css_length("1px;color:red"));
    }

    #[test]
    fn proxies_may_be_addresses_or_ranges() {
        assert!(parse_net("10.0.0.1").is_some());
        assert!(parse_net("10.0.0.0/8").is_some());
        assert!(parse_net("::1").is_some());
        assert!(parse_net("proxy.local").is_none());
    }
}

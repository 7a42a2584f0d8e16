//! Settings: `config/default.toml`, then `config/{ROOMGATE_ENV}.toml`, then
//! `ROOMGATE__SECTION__KEY` environment variables, validated as a whole at start-up.
//!
//! The module is called `configuration` so it does not shadow the `config` crate.

use std::{collections::HashMap, net::IpAddr, path::Path, path::PathBuf};

use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

/// Which overlay file is read on top of `default.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Local work: plain session cookie over http, a generated session key, pretty logs.
    Development,
    /// Real traffic: refuses to start without the secrets it needs.
    Production,
}

impl Environment {
    /// The name used in `ROOMGATE_ENV` and in the overlay file name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Production => "production",
        }
    }
}

impl TryFrom<String> for Environment {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.to_lowercase().as_str() {
            "development" => Ok(Environment::Development),
            "production" => Ok(Environment::Production),
            other => Err(format!(
                "ROOMGATE_ENV: `{other}` is not supported; use `development` or `production`"
            )),
        }
    }
}

/// The whole settings tree.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Filled in by the loader from `ROOMGATE_ENV`, not from the files.
    #[serde(skip, default = "default_environment")]
    pub environment: Environment,
    pub server: ServerSettings,
    pub rooms: RoomsSettings,
    pub catalog: CatalogSettings,
    pub embed: EmbedSettings,
    pub api: ApiSettings,
    pub cache: CacheSettings,
    pub admin: AdminSettings,
    pub sso: SsoSettings,
    pub session: SessionSettings,
    pub security: SecuritySettings,
    pub branding: BrandingSettings,
    pub log: LogSettings,
}

fn default_environment() -> Environment {
    Environment::Development
}

/// Where roomgate listens and how it is reached from outside.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Every link roomgate builds starts with this; never taken from `Host` headers.
    pub public_url: String,
    /// Peers whose `X-Forwarded-For` is believed (IP addresses or CIDR ranges).
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Worker threads; 0 means one per core.
    #[serde(default)]
    pub workers: usize,
}

/// Which source answers room lookups, and the rules for room URLs.
#[derive(Debug, Clone, Deserialize)]
pub struct RoomsSettings {
    pub source: RoomSourceKind,
    pub license_pattern: String,
    pub require_nickname: bool,
}

/// The room source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoomSourceKind {
    /// Rooms read from the TOML catalog file: no credentials, no network.
    Catalog,
    /// Rooms from the LiveWebinar REST API.
    Api,
}

/// The room catalog file.
#[derive(Debug, Clone, Deserialize)]
pub struct CatalogSettings {
    pub path: PathBuf,
}

/// The vendor's JavaScript embed.
#[derive(Debug, Clone, Deserialize)]
pub struct EmbedSettings {
    pub base_url: String,
    pub width: String,
    pub height: String,
    pub disable_target_top: bool,
}

/// The vendor's API and app hosts, and how roomgate signs in to the API.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiSettings {
    /// REST API base, e.g. `https://api.archiebot.com/api/`.
    pub base_url: String,
    /// Vendor app host: direct room links and the OAuth authorize page.
    pub app_url: String,
    pub auth: ApiAuth,
    #[serde(default)]
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    /// Sent as `identifier` at login, and as the `Identifier` header when enabled.
    pub identifier: String,
    pub send_identifier_header: bool,
    /// Connect and total timeout of each call.
    pub timeout_ms: u64,
    /// Log in again (or refresh) this long before the token runs out.
    pub refresh_skew_secs: u64,
    /// Longest pause between sign-in attempts after repeated failures.
    pub auth_backoff_max_secs: u64,
    /// Answers larger than this are refused.
    pub max_response_bytes: usize,
    /// OAuth redirect URI; empty means `{server.public_url}/oauth/callback`.
    #[serde(default)]
    pub redirect_uri: String,
    pub token_store: TokenStoreKind,
    /// The file of `token_store = "file"`.
    pub token_file: PathBuf,
}

/// How roomgate signs in to the vendor API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiAuth {
    /// Server-to-server: `POST auth/login` with client id and secret.
    Login,
    /// OAuth2 authorization code, connected once by the operator at `/oauth/connect`.
    Oauth,
}

/// Where OAuth tokens are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenStoreKind {
    /// A JSON file, written atomically, mode 0600.
    File,
}

/// The room cache in front of the API source.
#[derive(Debug, Clone, Deserialize)]
pub struct CacheSettings {
    /// How long an entry is fresh.
    pub ttl_secs: u64,
    /// How long a stale entry may still be served while the vendor fails.
    pub max_stale_secs: u64,
    /// How long "no such room" is remembered.
    pub negative_ttl_secs: u64,
    /// Least time between two listings of all rooms triggered by unknown keys.
    pub index_min_interval_secs: u64,
    /// Most rooms kept.
    pub capacity: u64,
    /// Most "no such room" answers kept, apart from the rooms so that unknown keys never
    /// push a real room out.
    pub negative_capacity: u64,
}

/// The operator's surface (`/oauth/connect`, the admin API).
#[derive(Debug, Clone, Deserialize)]
pub struct AdminSettings {
    /// Bearer token (and Basic password) of the operator; without it the surface is off.
    pub token: Option<SecretString>,
}

/// The sign-in handoff from the company's site (`/sso`).
#[derive(Debug, Clone, Deserialize)]
pub struct SsoSettings {
    /// HS256 key shared with the company's site, at least 32 bytes; without it `/sso` is off.
    pub secret: Option<SecretString>,
    /// Required `aud` of tokens; empty: `aud` is not checked.
    #[serde(default)]
    pub audience: String,
    /// Longest token lifetime accepted (`exp - iat`).
    pub max_age_secs: u64,
    /// How long a signed-in identity lasts in the visitor's session.
    pub session_max_age_secs: u64,
}

/// The visitor's session cookie.
#[derive(Debug, Clone, Deserialize)]
pub struct SessionSettings {
    /// Key for the encrypted cookie, at least 64 bytes. Required in production.
    pub key: Option<SecretString>,
    /// `false` only for plain-http development: drops `Secure` and the `__Host-` prefix.
    pub secure: bool,
    /// How many rooms' tokens the cookie remembers before dropping the oldest.
    pub max_rooms: usize,
}

/// Browser-facing security policy.
#[derive(Debug, Clone, Deserialize)]
pub struct SecuritySettings {
    /// Value of CSP `frame-ancestors`: who may frame roomgate's pages.
    pub frame_ancestors: String,
    /// Wrong role hashes per client per minute before answers turn into 429.
    pub role_guess_limit: u32,
    /// IPv6 clients are throttled by this prefix (64: one budget per /64), since a single
    /// subscriber is usually given a whole /64 and can send from any address in it.
    pub ipv6_prefix_len: u8,
}

/// The company's look.
#[derive(Debug, Clone, Deserialize)]
pub struct BrandingSettings {
    pub site_name: String,
    pub logo_url: String,
    /// The tab icon (`<link rel="icon">`, and where `/favicon.ico` redirects).
    pub favicon_url: String,
    pub primary_color: String,
    #[serde(default)]
    pub support_url: String,
    pub templates_dir: PathBuf,
    pub static_dir: PathBuf,
    /// Language when neither `?lang=`, the session nor `Accept-Language` pick one.
    pub default_language: String,
}

/// Log output.
#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
    /// Default filter when `RUST_LOG` is not set.
    pub level: String,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Why settings could not be used: one line per problem.
#[derive(Debug)]
pub struct SettingsError(pub Vec<String>);

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.join("\n"))
    }
}

impl std::error::Error for SettingsError {}

/// Loads settings from `./config` and the process environment.
pub fn get_configuration() -> Result<Settings, SettingsError> {
    let vars: HashMap<String, String> = std::env::vars().collect();
    let dir = std::env::current_dir()
        .map_err(|e| SettingsError(vec![format!("cannot read the working directory: {e}")]))?
        .join("config");
    load(&dir, &vars)
}

/// Loads and validates settings from `config_dir` with `vars` as the environment.
/// Tests pass their own map so they never touch the process environment.
pub fn load(config_dir: &Path, vars: &HashMap<String, String>) -> Result<Settings, SettingsError> {
    let environment = Environment::try_from(
        vars.get("ROOMGATE_ENV")
            .cloned()
            .unwrap_or_else(|| "development".into()),
    )
    .map_err(|e| SettingsError(vec![e]))?;

    let env_vars: HashMap<String, String> = vars
        .iter()
        .filter(|(k, _)| k.starts_with("ROOMGATE__"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();

    let built = config::Config::builder()
        .add_source(config::File::from(config_dir.join("default.toml")))
        .add_source(config::File::from(config_dir.join(environment.as_str())).required(false))
        .add_source(
            config::Environment::with_prefix("ROOMGATE")
                .prefix_separator("__")
                .separator("__")
                .list_separator(",")
                .with_list_parse_key("server.trusted_proxies")
                .try_parsing(true)
                .source(Some(env_vars)),
        )
        .build()
        .map_err(|e| SettingsError(vec![format!("settings: {e}")]))?;
    let mut settings: Settings = built
        .try_deserialize()
        .map_err(|e| SettingsError(vec![format!("settings: {e}")]))?;
    settings.environment = environment;
    settings.normalise();

    let problems = settings.problems();
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(SettingsError(problems))
    }
}

impl Settings {
    /// Trailing slashes off the base URLs, so links are built by plain joining.
    fn normalise(&mut self) {
        for url in [
            &mut self.server.public_url,
            &mut self.embed.base_url,
            &mut self.api.app_url,
        ] {
            while url.ends_with('/') {
                url.pop();
            }
        }
    }

    /// Every problem with these settings, one human line each.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let production = self.environment == Environment::Production;

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
        for proxy in &self.server.trusted_proxies {
            if parse_net(proxy).is_none() {
                out.push(format!(
                    "server.trusted_proxies: `{proxy}` is not an IP address or CIDR range"
                ));
            }
        }
        if let Err(e) = regex::Regex::new(&self.rooms.license_pattern) {
            out.push(format!("rooms.license_pattern: not a valid regex ({e})"));
        } else if !self.rooms.license_pattern.starts_with('^')
            || !self.rooms.license_pattern.ends_with('$')
        {
            out.push("rooms.license_pattern: must be anchored with ^ and $".into());
        }
        out.extend(self.api_problems());
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
        if crate::i18n::Language::from_code(&self.branding.default_language).is_none() {
            out.push(format!(
                "branding.default_language: `{}` is not one of {}",
                self.branding.default_language,
                crate::i18n::Language::codes().join(", ")
            ));
        }
        if let Some(token) = &self.admin.token
            && token.expose_secret().len() < 32
        {
            out.push(
                "admin.token: must be at least 32 bytes (try `openssl rand -base64 32`)".into(),
            );
        }
        out
    }

    /// The OAuth redirect URI: `api.redirect_uri`, or the callback on `server.public_url`.
    pub fn redirect_uri(&self) -> String {
        if self.api.redirect_uri.is_empty() {
            format!("{}/oauth/callback", self.server.public_url)
        } else {
            self.api.redirect_uri.clone()
        }
    }

    /// `host:port` to bind.
    pub fn bind_address(&self) -> String {
        format!("{}:{}", self.server.host, self.server.port)
    }

    /// Trusted proxy ranges, parsed (validation has already rejected bad ones).
    pub fn trusted_proxies(&self) -> Vec<IpNet> {
        self.server
            .trusted_proxies
            .iter()
            .filter_map(|p| parse_net(p))
            .collect()
    }
}

/// An IP address (as a one-address range) or a CIDR range.
fn parse_net(value: &str) -> Option<IpNet> {
    value
        .parse::<IpNet>()
        .ok()
        .or_else(|| value.parse::<IpAddr>().ok().map(IpNet::from))
}

fn parse_any_http_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("`{value}` is not a URL ({e})"))?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(url),
        _ => Err(format!("`{value}` must be an http:// or https:// URL")),
    }
}

/// A base URL: http(s), a host, no query or fragment.
fn parse_origin_url(value: &str) -> Result<Url, String> {
    let url = parse_any_http_url(value)?;
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(format!(
            "`{value}` must not carry a query, fragment or user name"
        ));
    }
    Ok(url)
}

/// The origin (`scheme://host[:port]`) of a validated base URL.
pub fn origin_of(value: &str) -> String {
    Url::parse(value)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
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

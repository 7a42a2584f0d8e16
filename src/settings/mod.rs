//! Settings: `config/default.toml`, then `config/{ROOMGATE_ENV}.toml`, then the file of
//! `ROOMGATE_CONFIG_FILE` (or `--config`; brands usually live there), then
//! `ROOMGATE__SECTION__KEY` environment variables, checked as a whole at start-up. Values
//! that need parsing (the room-key regex, proxy ranges, the default language) are parsed
//! once, by the checks, into [`Parsed`]; nothing parses them again.

mod api_auth;
mod brand_table;
mod brands;
mod checks;

pub use api_auth::ApiAuth;
pub use brand_table::{
    BrandSettings, BrandSource, BrandSso, DEFAULT_BRAND, ParsedBrand, normalise_host,
};

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    path::Path,
    path::PathBuf,
    sync::Arc,
};

use crate::domain::{Language, LicensePattern, RoomPatterns};

use ipnet::IpNet;
use secrecy::SecretString;
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
    pub metrics: MetricsSettings,
    pub log: LogSettings,
    pub shared: SharedSettings,
    /// Further brands, each chosen by the request's host name (`[[brands]]`). Shared, so
    /// that the settings of each of a thousand brands do not each copy all the others.
    #[serde(default)]
    pub brands: Arc<[BrandSettings]>,
    /// Which brand these settings serve: [`DEFAULT_BRAND`] unless made by
    /// [`Settings::for_brand`].
    #[serde(skip, default = "default_brand_id")]
    pub brand_id: String,
    /// Filled in by the loader's checks from the text above.
    #[serde(skip)]
    pub parsed: Parsed,
}

/// The settings that are text in the files, parsed once by the checks.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// `rooms.license_pattern`, compiled.
    pub license_pattern: LicensePattern,
    /// `server.trusted_proxies`, as ranges (an address is a range of one).
    pub trusted_proxies: Vec<IpNet>,
    /// `branding.default_language`.
    pub default_language: Language,
    /// `metrics.address`; `None` turns metrics off.
    pub metrics_address: Option<SocketAddr>,
    /// Each of `brands`, in order.
    pub brands: Arc<[ParsedBrand]>,
    /// The rooms the brand of these settings serves (every room but for a brand's own).
    pub rooms: RoomPatterns,
}

fn default_brand_id() -> String {
    DEFAULT_BRAND.to_owned()
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
    /// With brands: a host that no brand names gets 421 instead of the default brand.
    #[serde(default)]
    pub strict_hosts: bool,
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
    /// "Powered by roomgate" in the footer; off: a white-label page does not name us.
    #[serde(default)]
    pub show_powered_by: bool,
    /// A brand's templates, each replacing the base template of the same name.
    #[serde(skip)]
    pub templates_overlay: Option<PathBuf>,
    /// A brand's static files, each served before the base file of the same path.
    #[serde(skip)]
    pub static_overlay: Option<PathBuf>,
}

/// The Prometheus metrics listener.
#[derive(Debug, Clone, Deserialize)]
pub struct MetricsSettings {
    /// `ip:port` of the `/metrics` listener; empty turns metrics off.
    #[serde(default)]
    pub address: String,
}

/// Where the state several instances share is kept (fleet mode).
#[derive(Debug, Clone, Deserialize)]
pub struct SharedSettings {
    pub backend: SharedBackend,
    /// `redis://host:port/db` or `rediss://…` (TLS); may hold a password, so it is secret.
    pub redis_url: Option<SecretString>,
    /// Encrypts what roomgate stores in Redis, at least 32 bytes; the same on every instance.
    pub key: Option<SecretString>,
    /// Put before every Redis key, so several deployments can share one Redis.
    pub prefix: String,
}

/// Where shared state lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SharedBackend {
    /// In this process only: one instance.
    Local,
    /// In Redis: every instance with the same `redis_url` and `prefix` shares it.
    Redis,
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

/// Loads settings from `./config`, the process environment and `config_file` (the
/// `--config` option, which wins over `ROOMGATE_CONFIG_FILE`).
pub fn get_configuration(config_file: Option<&Path>) -> Result<Settings, SettingsError> {
    let mut vars: HashMap<String, String> = std::env::vars().collect();
    if let Some(path) = config_file {
        vars.insert(
            "ROOMGATE_CONFIG_FILE".to_owned(),
            path.display().to_string(),
        );
    }
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

    // The operator's own file (brands, mostly) comes after the overlay and before the
    // environment, so one variable can still change one value of it.
    let extra_file = vars
        .get("ROOMGATE_CONFIG_FILE")
        .filter(|path| !path.is_empty())
        .map(|path| {
            config::File::from(PathBuf::from(path))
                .format(config::FileFormat::Toml)
                .required(true)
        });
    let built = config::Config::builder()
        .add_source(config::File::from(config_dir.join("default.toml")))
        .add_source(config::File::from(config_dir.join(environment.as_str())).required(false))
        .add_source(extra_file.into_iter().collect::<Vec<_>>())
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
    settings.parsed = settings.check().map_err(SettingsError)?;
    Ok(settings)
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
}

/// An IP address (as a one-address range) or a CIDR range.
fn parse_net(value: &str) -> Option<IpNet> {
    value
        .parse::<IpNet>()
        .ok()
        .or_else(|| value.parse::<IpAddr>().ok().map(IpNet::from))
}

/// The origin (`scheme://host[:port]`) of a validated base URL.
pub fn origin_of(value: &str) -> String {
    Url::parse(value)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

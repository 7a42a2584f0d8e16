//! The `[[brands]]` tables as the settings files spell them, and what the checks parse
//! from each (see `brands.rs` for how a brand's settings are made from them).

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use super::api_auth::ApiAuth;
use crate::domain::{Language, RoomPatterns};

/// The id of the top-level `[branding]`, used for hosts no brand names.
pub const DEFAULT_BRAND: &str = "default";

/// One `[[brands]]` table. Unset look values are the top-level `[branding]`'s.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandSettings {
    /// Short name: letters, digits, `-` and `_`; used in `?brand=`, `--brand`, metrics, logs.
    pub id: String,
    /// Exact host names (lower case), each optionally with `:port`.
    pub hosts: Vec<String>,
    /// Every link of this brand starts with this.
    pub public_url: String,
    pub site_name: String,
    pub logo_url: Option<String>,
    pub favicon_url: Option<String>,
    pub primary_color: Option<String>,
    pub support_url: Option<String>,
    pub default_language: Option<String>,
    /// Templates that replace the base ones of the same name.
    pub templates_dir: Option<PathBuf>,
    /// Static files served before the base ones of the same path.
    pub static_dir: Option<PathBuf>,
    pub frame_ancestors: Option<String>,
    #[serde(default)]
    pub show_powered_by: bool,
    /// Room keys and key patterns (`123-*`) this brand serves; empty: every room.
    #[serde(default)]
    pub rooms: Vec<String>,
    /// The brand's own operator token (its admin API and OAuth connection only).
    pub admin_token: Option<SecretString>,
    /// The brand's own sign-in handoff; without it `/sso` is off on this brand's hosts.
    pub sso: Option<BrandSso>,
    /// The brand's own room source; without it the brand shares the top-level one.
    pub source: Option<BrandSource>,
}

/// A brand's `/sso` key and audience (lifetimes are the top-level `[sso]`'s).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandSso {
    pub secret: SecretString,
    #[serde(default)]
    pub audience: String,
}

/// A brand's own room source: its catalog file, or its own LiveWebinar account.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum BrandSource {
    Catalog {
        path: PathBuf,
    },
    Api {
        client_id: String,
        client_secret: SecretString,
        /// Unset: the top-level `api.auth`.
        auth: Option<ApiAuth>,
        /// Unset: the top-level `api.base_url` / `api.app_url` / `api.identifier`.
        base_url: Option<String>,
        app_url: Option<String>,
        identifier: Option<String>,
        /// Unset: `data/brands/{id}/tokens.json` (its room keys are kept beside it).
        token_file: Option<PathBuf>,
    },
}

/// What the checks parse once from a brand's table.
#[derive(Debug, Clone)]
pub struct ParsedBrand {
    pub id: String,
    /// Lower case, without a trailing dot.
    pub hosts: Vec<String>,
    pub language: Language,
    pub rooms: RoomPatterns,
}

/// A `Host` value as brands are matched: lower case, without a trailing dot; `None` for
/// anything that is not a host name with an optional port.
pub fn normalise_host(host: &str) -> Option<String> {
    let host = host.trim().to_ascii_lowercase();
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => (name, Some(port)),
        Some(_) => return None,
        None => (host.as_str(), None),
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    let name_ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok());
    (name_ok && port_ok).then(|| match port {
        Some(port) => format!("{name}:{port}"),
        None => name.to_owned(),
    })
}

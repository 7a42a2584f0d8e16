//! Several brands on one deployment: `[[brands]]` tables, each chosen by the request's
//! host name. A brand is served with settings of its own, made by [`Settings::for_brand`]
//! from the top-level ones and the brand's table, so every part that takes settings (links,
//! pages, headers, sign-in, room sources) serves a brand without knowing about brands.

use std::path::PathBuf;

use secrecy::ExposeSecret;

use super::{
    RoomSourceKind, Settings,
    brand_table::{BrandSource, DEFAULT_BRAND, ParsedBrand, normalise_host},
    checks,
};
use crate::domain::{Language, RoomPatterns};

impl Settings {
    /// The settings `brand` (an id of `brands`, or [`DEFAULT_BRAND`]) is served with, or
    /// `None` for an unknown id.
    pub fn for_brand(&self, brand: &str) -> Option<Settings> {
        if brand == DEFAULT_BRAND {
            let mut settings = self.clone();
            settings.brand_id = DEFAULT_BRAND.to_owned();
            return Some(settings);
        }
        let index = self.brands.iter().position(|b| b.id == brand)?;
        let b = &self.brands[index];
        let parsed = self.parsed.brands.get(index)?;
        let mut s = self.clone();
        s.brand_id = b.id.clone();
        s.server.public_url = b.public_url.trim_end_matches('/').to_owned();
        let look = &mut s.branding;
        look.site_name = b.site_name.clone();
        for (value, from) in [
            (&mut look.logo_url, &b.logo_url),
            (&mut look.favicon_url, &b.favicon_url),
            (&mut look.primary_color, &b.primary_color),
            (&mut look.support_url, &b.support_url),
            (&mut look.default_language, &b.default_language),
        ] {
            if let Some(from) = from {
                value.clone_from(from);
            }
        }
        look.show_powered_by = b.show_powered_by;
        look.templates_overlay.clone_from(&b.templates_dir);
        look.static_overlay.clone_from(&b.static_dir);
        s.parsed.default_language = parsed.language;
        s.parsed.rooms = parsed.rooms.clone();
        if let Some(fa) = &b.frame_ancestors {
            s.security.frame_ancestors.clone_from(fa);
        }
        // Nothing that signs people in or operates rooms is inherited: a token for the
        // default brand must not work on this one.
        s.admin.token.clone_from(&b.admin_token);
        s.sso.secret = b.sso.as_ref().map(|sso| sso.secret.clone());
        s.sso.audience = b
            .sso
            .as_ref()
            .map(|sso| sso.audience.clone())
            .unwrap_or_default();
        s.api.redirect_uri = String::new();
        if let Some(source) = &b.source {
            s.use_brand_source(&b.id, source);
        }
        Some(s)
    }

    /// Points the room source at the brand's own, with its own token record and shared
    /// keys, so two accounts never mix tokens, cached rooms or changes.
    fn use_brand_source(&mut self, id: &str, source: &BrandSource) {
        self.shared.prefix = format!("{}brand:{id}:", self.shared.prefix);
        match source {
            BrandSource::Catalog { path } => {
                self.rooms.source = RoomSourceKind::Catalog;
                self.catalog.path.clone_from(path);
            }
            BrandSource::Api {
                client_id,
                client_secret,
                auth,
                base_url,
                app_url,
                identifier,
                token_file,
            } => {
                self.rooms.source = RoomSourceKind::Api;
                let api = &mut self.api;
                api.client_id.clone_from(client_id);
                api.client_secret = Some(client_secret.clone());
                if let Some(auth) = auth {
                    api.auth = *auth;
                }
                for (value, from) in [
                    (&mut api.base_url, base_url),
                    (&mut api.app_url, app_url),
                    (&mut api.identifier, identifier),
                ] {
                    if let Some(from) = from {
                        value.clone_from(from);
                    }
                }
                api.app_url = api.app_url.trim_end_matches('/').to_owned();
                api.token_file = token_file
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(format!("data/brands/{id}/tokens.json")));
            }
        }
    }

    /// Every brand's id, the default first.
    pub fn brand_ids(&self) -> Vec<&str> {
        std::iter::once(DEFAULT_BRAND)
            .chain(self.brands.iter().map(|b| b.id.as_str()))
            .collect()
    }

    /// Checks every `[[brands]]` table, and the settings each brand is served with.
    pub(super) fn brand_problems(&self, out: &mut Vec<String>) -> Vec<ParsedBrand> {
        let mut parsed = Vec::new();
        // The default brand's own host: no brand may take it.
        let mut hosts_seen: Vec<(String, &str)> = url::Url::parse(&self.server.public_url)
            .ok()
            .and_then(|u| {
                let host = u.host_str()?.to_owned();
                normalise_host(&match u.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                })
            })
            .map(|h| (h, DEFAULT_BRAND))
            .into_iter()
            .collect();
        // (brand, secret, audience) of every sign-in key so far, the default's first.
        let mut sso_seen: Vec<(&str, &str, &str)> = Vec::new();
        if let Some(secret) = &self.sso.secret {
            sso_seen.push((DEFAULT_BRAND, secret.expose_secret(), &self.sso.audience));
        }
        for (i, b) in self.brands.iter().enumerate() {
            let at = format!("brands[{i}] ({})", b.id);
            let before = out.len();
            if b.id == DEFAULT_BRAND
                || b.id.is_empty()
                || b.id.len() > 40
                || !b
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                out.push(format!(
                    "{at}.id: 1 to 40 letters, digits, - or _, and not `{DEFAULT_BRAND}`"
                ));
            }
            if self.brands[..i].iter().any(|other| other.id == b.id) {
                out.push(format!("{at}.id: another brand has this id"));
            }
            if b.hosts.is_empty() {
                out.push(format!("{at}.hosts: name at least one host"));
            }
            let mut hosts = Vec::new();
            for host in &b.hosts {
                match normalise_host(host) {
                    Some(h) => {
                        if let Some((_, other)) = hosts_seen.iter().find(|(seen, _)| *seen == h) {
                            out.push(format!(
                                "{at}.hosts: `{h}` is also a host of {other} (the default brand's is the host of server.public_url)"
                            ));
                        }
                        hosts_seen.push((h.clone(), &b.id));
                        hosts.push(h);
                    }
                    None => out.push(format!(
                        "{at}.hosts: `{host}` is not a host name (lower case, optionally with :port)"
                    )),
                }
            }
            if let Err(e) = checks::parse_origin_url(&b.public_url) {
                out.push(format!("{at}.public_url: {e}"));
            }
            let language = match &b.default_language {
                None => self.parsed_default_language(),
                Some(code) => Language::from_code(code).or_else(|| {
                    out.push(format!(
                        "{at}.default_language: `{code}` is not one of {}",
                        Language::codes().join(", ")
                    ));
                    None
                }),
            };
            for (key, dir) in [
                ("templates_dir", &b.templates_dir),
                ("static_dir", &b.static_dir),
            ] {
                if let Some(dir) = dir
                    && std::fs::read_dir(dir).is_err()
                {
                    out.push(format!(
                        "{at}.{key}: `{}` is not a readable folder",
                        dir.display()
                    ));
                }
            }
            if let Some(sso) = &b.sso {
                if sso.secret.expose_secret().len() < 32 {
                    out.push(format!("{at}.sso.secret: must be at least 32 bytes"));
                }
                let (secret, audience) = (sso.secret.expose_secret(), sso.audience.as_str());
                if let Some((other, _, _)) = sso_seen.iter().find(|(_, s, a)| {
                    *s == secret && (a.is_empty() || audience.is_empty() || *a == audience)
                }) {
                    out.push(format!(
                        "{at}.sso: the same secret as brand {other} and not an audience of its own (none, or the same): a sign-in for one would work on the other; give each brand its own secret or its own audience"
                    ));
                }
                sso_seen.push((&b.id, secret, audience));
            }
            if let Some(token) = &b.admin_token
                && token.expose_secret().len() < 32
            {
                out.push(format!("{at}.admin_token: must be at least 32 bytes"));
            }
            if out.len() > before {
                continue;
            }
            // Each brand's settings go through the same checks as the top-level ones
            // (colours, URLs, frame-ancestors, the source's credentials).
            let brand = ParsedBrand {
                id: b.id.clone(),
                hosts,
                language: language.unwrap_or_default(),
                rooms: RoomPatterns::new(&b.rooms),
            };
            parsed.push(brand);
        }
        parsed
    }

    fn parsed_default_language(&self) -> Option<Language> {
        Language::from_code(&self.branding.default_language)
    }
}

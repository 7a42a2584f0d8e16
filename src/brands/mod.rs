//! The brands of a deployment: the default one (the top-level settings) and each
//! `[[brands]]` table, each with the settings it is served with and its room source, and
//! the choice of a brand by the request's host name.
//!
//! Brands without a source of their own share the default one (one cache, one vendor
//! account); a brand with its own catalog or account gets a source of its own, with its
//! own cache, token record and shared keys.

use std::collections::HashMap;

use crate::{
    domain::{Clock, RoomPatterns},
    ops::{LinkBuilder, Manager},
    rooms::{Source, SourceError, build_source},
    settings::{DEFAULT_BRAND, Settings, normalise_host},
};

/// One brand: its settings (made by `Settings::for_brand`) and its room source.
pub struct Brand {
    pub id: String,
    pub settings: Settings,
    pub source: Source,
    /// Whether the source is the brand's own rather than the default one.
    pub own_source: bool,
}

impl Brand {
    /// The rooms this brand serves.
    pub fn rooms(&self) -> &RoomPatterns {
        &self.settings.parsed.rooms
    }

    /// The operators' core for this brand: its rooms, its links, at `clock`'s times.
    pub fn manager(&self, clock: Clock) -> Manager {
        Manager::new(
            self.source.clone(),
            LinkBuilder::from_settings(&self.settings),
            clock,
        )
        .serving(self.rooms().clone())
    }
}

/// Which brand a request's host name selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostMatch {
    /// The brand at this index of [`Brands::all`] (0: the default).
    Brand(usize),
    /// No brand names the host and `server.strict_hosts` is on: 421.
    Misdirected,
}

/// Every brand, the default first, and the host table.
pub struct Brands {
    all: Vec<Brand>,
    hosts: HashMap<String, usize>,
    strict: bool,
}

impl Brands {
    /// The brands of `settings`; `default_source` serves the default brand and every
    /// brand without a source of its own.
    pub async fn build(
        settings: &Settings,
        default_source: Source,
        clock: Clock,
    ) -> Result<Self, SourceError> {
        let mut all = vec![Brand {
            id: DEFAULT_BRAND.to_owned(),
            settings: settings.clone(),
            source: default_source.clone(),
            own_source: false,
        }];
        // The default brand answers on its own public URL's host even with strict hosts.
        let mut hosts: HashMap<String, usize> = public_host(&settings.server.public_url)
            .map(|h| (h, 0))
            .into_iter()
            .collect();
        for (parsed, table) in settings.parsed.brands.iter().zip(settings.brands.iter()) {
            let Some(brand_settings) = settings.for_brand(&parsed.id) else {
                continue;
            };
            let own_source = table.source.is_some();
            let source = if own_source {
                build_source(&brand_settings, clock.clone())
                    .await
                    .map_err(|e| SourceError(prefixed(&parsed.id, e.0)))?
            } else {
                default_source.clone()
            };
            warn_of_unmatched_rooms(&parsed.id, &parsed.rooms, &source);
            for host in &parsed.hosts {
                hosts.insert(host.clone(), all.len());
            }
            all.push(Brand {
                id: parsed.id.clone(),
                settings: brand_settings,
                source,
                own_source,
            });
        }
        Ok(Brands {
            all,
            hosts,
            strict: settings.server.strict_hosts,
        })
    }

    /// Every brand, the default first.
    pub fn all(&self) -> &[Brand] {
        &self.all
    }

    /// The brand with `id`.
    pub fn get(&self, id: &str) -> Option<&Brand> {
        self.all.iter().find(|b| b.id == id)
    }

    /// The brand of a request to `host` (its `Host` header or URI authority). A name
    /// with a port matches a brand host with that port, then one without any port.
    pub fn for_host(&self, host: Option<&str>) -> HostMatch {
        // Without brands every host is the default's: nothing to look up on the hot path.
        if self.all.len() == 1 && !self.strict {
            return HostMatch::Brand(0);
        }
        // A host already written as brands are kept (lower case, no trailing dot) is
        // found without making a copy; the table's names are in that form, so any host
        // found this way is one `normalise_host` would have found too.
        if let Some(&index) = host.and_then(|h| self.hosts.get(h)) {
            return HostMatch::Brand(index);
        }
        let found = host.and_then(normalise_host).and_then(|host| {
            self.hosts.get(&host).copied().or_else(|| {
                let (name, _) = host.rsplit_once(':')?;
                self.hosts.get(name).copied()
            })
        });
        match found {
            Some(index) => HostMatch::Brand(index),
            None if self.strict => HostMatch::Misdirected,
            None => HostMatch::Brand(0),
        }
    }
}

/// `host[:port]` of a public URL, as a `Host` header to it would say it.
pub fn public_host(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let host = url.host_str()?;
    normalise_host(&match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

fn prefixed(id: &str, problems: Vec<String>) -> Vec<String> {
    problems
        .into_iter()
        .map(|p| format!("brand {id}: {p}"))
        .collect()
}

/// A start-up warning for each of a catalog brand's patterns that names no room of its
/// catalog (a typo would otherwise show only as 404s).
fn warn_of_unmatched_rooms(id: &str, rooms: &RoomPatterns, source: &Source) {
    let Source::Catalog(catalog) = source else {
        return;
    };
    let listed = catalog.rooms();
    let keys: Vec<&str> = listed.iter().map(|r| r.license.as_str()).collect();
    for pattern in rooms.unmatched(&keys) {
        tracing::warn!(
            brand = id,
            pattern,
            "a room pattern of this brand matches no room of its catalog"
        );
    }
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, path::Path, sync::Arc};

    use super::*;
    use crate::rooms::Catalog;

    /// The repo's settings with `brands` (a TOML text) as the extra settings file.
    async fn brands_of(brands: &str) -> Brands {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("brands.toml");
        std::fs::write(&file, brands).unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let vars: HashMap<String, String> = [
            ("ROOMGATE_CONFIG_FILE", file.display().to_string()),
            (
                "ROOMGATE__CATALOG__PATH",
                root.join("config/rooms.toml").display().to_string(),
            ),
            (
                "ROOMGATE__BRANDING__TEMPLATES_DIR",
                root.join("templates").display().to_string(),
            ),
            (
                "ROOMGATE__BRANDING__STATIC_DIR",
                root.join("static").display().to_string(),
            ),
            (
                "ROOMGATE__SERVER__PUBLIC_URL",
                "https://events.example.com".into(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let settings = crate::settings::load(&root.join("config"), &vars).expect("settings");
        let catalog = Catalog::load(
            &settings.catalog.path,
            settings.parsed.license_pattern.clone(),
        )
        .expect("catalog");
        let clock = crate::domain::system_clock();
        Brands::build(&settings, Source::Catalog(Arc::new(catalog)), clock)
            .await
            .expect("brands")
    }

    const ACME: &str = r#"
[server]
strict_hosts = true

[[brands]]
id = "acme"
hosts = ["events.acme.example", "acme.example:8443"]
public_url = "https://events.acme.example"
site_name = "Acme"
"#;

    #[tokio::test]
    async fn hosts_pick_their_brand_in_any_case_and_a_portless_host_on_any_port() {
        let brands = brands_of(ACME).await;
        for host in [
            "events.acme.example",
            "EVENTS.Acme.Example",
            "events.acme.example.",
            "events.acme.example:8080",
            "acme.example:8443",
        ] {
            assert_eq!(brands.for_host(Some(host)), HostMatch::Brand(1), "{host}");
        }
        // A host listed with a port is that port only.
        assert_eq!(
            brands.for_host(Some("acme.example")),
            HostMatch::Misdirected
        );
        assert_eq!(
            brands.for_host(Some("acme.example:443")),
            HostMatch::Misdirected
        );
    }

    #[tokio::test]
    async fn with_strict_hosts_the_default_brand_still_answers_on_its_public_host() {
        let brands = brands_of(ACME).await;
        assert_eq!(
            brands.for_host(Some("events.example.com")),
            HostMatch::Brand(0)
        );
        for host in [
            Some("other.example"),
            Some("127.0.0.1:8080"),
            Some("bad host"),
            None,
        ] {
            assert_eq!(brands.for_host(host), HostMatch::Misdirected, "{host:?}");
        }
    }

    #[tokio::test]
    async fn without_strict_hosts_any_other_host_gets_the_default_brand() {
        let brands = brands_of(&ACME.replace("strict_hosts = true", "strict_hosts = false")).await;
        for host in [Some("other.example"), Some("bad host"), None] {
            assert_eq!(brands.for_host(host), HostMatch::Brand(0), "{host:?}");
        }
    }
}

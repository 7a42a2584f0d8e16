//! What the server keeps per brand (a [`Site`]): its rooms, pages, header block, sign-in,
//! and operator surface, built once at start-up from the brand's settings; and the choice
//! of a site for each request by its host name.

use std::{collections::HashMap, path::PathBuf, sync::Arc};

use actix_web::{
    HttpMessage, HttpRequest,
    http::header::{HeaderName, HeaderValue},
};
use secrecy::SecretString;
use tera::Tera;

use super::{
    assets::{self, ThemeSheet},
    middleware::headers::header_block,
    sso_token::SsoVerifier,
    views::{
        Pages,
        pages::{Words, load_templates},
    },
};
use crate::{
    brands::{Brand, Brands, HostMatch},
    domain::{Clock, Language, RoomPatterns},
    ops::Manager,
    rooms::{RoomSource, Source},
    settings::{ApiAuth, origin_of},
    shared::{Backend, OneTime},
    vendor::Api,
};

/// Which site a request was made to: an index of [`Sites`], put in the request's
/// extensions by `middleware::brand`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteIndex(pub usize);

/// One brand as the server serves it.
pub struct Site {
    /// The brand's id (`default` for the top-level settings).
    pub id: String,
    /// Its place in [`Sites`] (part of the page cache's key).
    pub index: usize,
    /// Room lookups (the brand's own source, or the shared one).
    pub rooms: Arc<dyn RoomSource>,
    /// The rooms this brand serves; any other is answered exactly as an unknown one.
    pub allowed: RoomPatterns,
    /// Language when nothing else chooses one.
    pub default_language: Language,
    /// Tera and the page views, with this brand's look.
    pub views: Pages,
    /// `/theme.css`.
    pub theme: ThemeSheet,
    /// The security headers of every answer (CSP with this brand's `frame-ancestors`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The brand's own static files, served before the base ones.
    pub static_overlay: Option<PathBuf>,
    /// Vendor app host, for the direct links of `<noscript>`.
    pub app_url: String,
    /// Origin of the brand's `public_url`, for the forms' Origin check.
    pub public_origin: String,
    /// Checks sign-in tokens; `None` turns `/sso` off on this brand's hosts.
    pub sso: Option<SsoVerifier>,
    /// The brand's own operator token (good for this brand only).
    pub admin_token: Option<SecretString>,
    /// The operators' core over this brand's rooms, with its links.
    pub manager: Manager,
    /// Connecting the brand's vendor account, when its source is the API with OAuth.
    pub oauth: Option<OAuth>,
}

/// What the OAuth routes need.
pub struct OAuth {
    pub api: Api,
    pub client_id: String,
    pub client_secret: SecretString,
    pub redirect_uri: String,
    pub app_url: String,
    /// `state` values already brought back to `/oauth/callback` (to any instance, in
    /// fleet mode).
    pub used_states: OneTime,
}

/// Every brand's site, the default first, and the host table that picks one.
pub struct Sites {
    all: Vec<Site>,
    brands: Brands,
}

impl Sites {
    /// The sites of `brands`. Brands with the same templates share one Tera, and every
    /// brand shares the words of each language: a thousand brands cost little more than
    /// their settings.
    pub fn new(brands: Brands, shared: &Backend, clock: &Clock) -> Result<Self, String> {
        let words = Words::new();
        let mut templates: HashMap<Option<PathBuf>, Arc<Tera>> = HashMap::new();
        let base = &brands.all()[0].settings.branding;
        let base_static = assets::digest_of(&base.static_dir);
        let mut all = Vec::new();
        for (index, brand) in brands.all().iter().enumerate() {
            let branding = &brand.settings.branding;
            let overlay = branding.templates_overlay.clone();
            let tera = match templates.get(&overlay) {
                Some(tera) => tera.clone(),
                None => {
                    let tera = Arc::new(
                        load_templates(&branding.templates_dir, overlay.as_deref())
                            .map_err(|e| in_brand(brand, e))?,
                    );
                    templates.insert(overlay, tera.clone());
                    tera
                }
            };
            let version = assets::version(
                base_static,
                branding.static_overlay.as_deref().map(assets::digest_of),
                &branding.primary_color,
            );
            let views = Pages::new(tera, words.clone(), branding, version);
            all.push(Site::new(brand, index, views, shared, clock));
        }
        Ok(Sites { all, brands })
    }

    /// Every site, the default first.
    pub fn all(&self) -> &[Site] {
        &self.all
    }

    /// The site with brand id `id`.
    pub fn by_id(&self, id: &str) -> Option<&Site> {
        self.all.iter().find(|s| s.id == id)
    }

    /// The site for a request to `host`, or `None` when strict hosts refuse it.
    pub fn for_host(&self, host: Option<&str>) -> Option<SiteIndex> {
        match self.brands.for_host(host) {
            HostMatch::Brand(i) => Some(SiteIndex(i)),
            HostMatch::Misdirected => None,
        }
    }

    /// The site of `req`: the one `middleware::brand` chose, else the default.
    pub fn of_request(&self, req: &HttpRequest) -> &Site {
        let index = req.extensions().get::<SiteIndex>().map_or(0, |i| i.0);
        &self.all[index.min(self.all.len() - 1)]
    }

    /// The sites with static files of their own, for the route table.
    pub fn static_overlays(&self) -> Vec<(SiteIndex, PathBuf)> {
        self.all
            .iter()
            .filter_map(|s| Some((SiteIndex(s.index), s.static_overlay.clone()?)))
            .collect()
    }

    /// The brands behind the sites.
    pub fn brands(&self) -> &Brands {
        &self.brands
    }
}

impl Site {
    fn new(brand: &Brand, index: usize, views: Pages, shared: &Backend, clock: &Clock) -> Self {
        let settings = &brand.settings;
        // A new authorization replaces the tokens of every brand on the account: only the
        // brand that owns it connects it (the default, for the account brands share).
        let owns_account = brand.own_source || brand.id == crate::settings::DEFAULT_BRAND;
        let oauth = match (&brand.source, settings.api.auth) {
            (Source::Api(directory), ApiAuth::Oauth) if owns_account => Some(OAuth {
                api: directory.api().clone(),
                client_id: settings.api.client_id.clone(),
                client_secret: settings
                    .api
                    .client_secret
                    .clone()
                    .unwrap_or_else(|| SecretString::from(String::new())),
                redirect_uri: settings.redirect_uri(),
                app_url: settings.api.app_url.clone(),
                // Only the operator starts authorizations.
                used_states: OneTime::new(shared.redis(), "oauth", "used oauth states", 1_000),
            }),
            _ => None,
        };
        Site {
            id: brand.id.clone(),
            index,
            rooms: brand.source.as_room_source(),
            allowed: brand.rooms().clone(),
            default_language: settings.parsed.default_language,
            views,
            theme: ThemeSheet::new(&settings.branding.primary_color),
            headers: header_block(settings),
            static_overlay: settings.branding.static_overlay.clone(),
            app_url: settings.api.app_url.clone(),
            public_origin: origin_of(&settings.server.public_url),
            sso: SsoVerifier::new(&settings.sso, shared),
            admin_token: settings.admin.token.clone(),
            manager: brand.manager(clock.clone()),
            oauth,
        }
    }
}

fn in_brand(brand: &Brand, problem: String) -> String {
    if brand.id == crate::settings::DEFAULT_BRAND {
        problem
    } else {
        format!("brand {}: {problem}", brand.id)
    }
}

/// The host a request was sent to: the URI's authority (HTTP/2, absolute-form requests),
/// else the `Host` header. Never `X-Forwarded-Host` or `Forwarded`: anyone can send those.
pub fn request_host(uri: &actix_web::http::Uri, host: Option<&HeaderValue>) -> Option<String> {
    if let Some(authority) = uri.authority() {
        return Some(authority.as_str().to_owned());
    }
    host?.to_str().ok().map(str::to_owned)
}

/// Whether `path` is a probe of the load balancer, answered whatever the host.
pub fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

//! What every handler shares, built once at start-up, in a few named groups.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use secrecy::SecretString;

use super::{
    counters::Limit,
    sso_token::SsoVerifier,
    throttle::GuessThrottle,
    views::{PageCache, Pages},
};
use crate::{
    domain::{Clock, Language, LicensePattern},
    ops::{LinkBuilder, Manager},
    rooms::{RoomSource, Source},
    settings::{ApiAuth, EmbedSettings, Settings, origin_of},
    shared::{Backend, OneTime},
    vendor::Api,
};

/// What every handler shares.
pub struct AppState {
    /// The one time source: every handler asks it, never the wall clock.
    pub clock: Clock,
    /// Room lookups and the grammar of room keys.
    pub rooms: Rooms,
    /// The rules of a visit that come from the settings.
    pub visits: VisitRules,
    /// What room pages are made from.
    pub pages: PageParts,
    /// Who is asking, and what they may try.
    pub guards: Guards,
    /// The operator's surface: the admin token, the operators' core, the OAuth connection.
    pub operator: Operator,
    /// Where state shared with the other instances lives (fleet mode) or this process.
    pub shared: Backend,
}

/// Room lookups.
pub struct Rooms {
    pub source: Arc<dyn RoomSource>,
    /// `rooms.license_pattern`: a key that does not match is a 404 before any lookup.
    pub key_pattern: LicensePattern,
}

/// The settings a visit's decisions take.
pub struct VisitRules {
    pub require_nickname: bool,
    /// How many rooms' tokens the session cookie remembers.
    pub max_rooms: usize,
    /// Language when nothing else chooses one.
    pub default_language: Language,
}

/// What room pages are made from.
pub struct PageParts {
    /// Tera and the page views.
    pub views: Pages,
    /// Rendered pages of visitors without values of their own.
    pub cache: PageCache,
    pub embed: EmbedSettings,
    /// Vendor app host, for the direct links of `<noscript>`.
    pub app_url: String,
}

/// Who is asking, and what they may try.
pub struct Guards {
    pub trusted_proxies: Vec<IpNet>,
    /// Origin of `server.public_url`, for the forms' Origin check.
    pub public_origin: String,
    /// Wrong role hashes per client.
    pub role_guesses: GuessThrottle,
    /// Checks sign-in tokens; `None` turns `/sso` off.
    pub sso: Option<SsoVerifier>,
    /// Sign-ins that were signed out or replaced: their cookies no longer sign in (on any
    /// instance, in fleet mode).
    pub ended_sign_ins: OneTime,
}

/// The operator's surface.
pub struct Operator {
    /// The operator's token; `None` turns the operator surface off.
    pub token: Option<SecretString>,
    /// Wrong admin tokens per client.
    pub guesses: GuessThrottle,
    /// The operators' core over the configured rooms.
    pub manager: Manager,
    /// Connecting the vendor account, when `api.auth = "oauth"` with the API source.
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

impl AppState {
    /// The state of the settings, around `source`.
    pub fn new(
        settings: &Settings,
        source: Source,
        pages: Pages,
        shared: Backend,
        clock: Clock,
    ) -> Self {
        let throttle = |guards| {
            GuessThrottle::new(
                guards,
                settings.security.role_guess_limit,
                Duration::from_secs(60),
                settings.security.ipv6_prefix_len,
                &shared,
            )
        };
        let oauth = match (&source, settings.api.auth) {
            (Source::Api(directory), ApiAuth::Oauth) => Some(OAuth {
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
        AppState {
            rooms: Rooms {
                source: source.as_room_source(),
                key_pattern: settings.parsed.license_pattern.clone(),
            },
            visits: VisitRules {
                require_nickname: settings.rooms.require_nickname,
                max_rooms: settings.session.max_rooms,
                default_language: settings.parsed.default_language,
            },
            pages: PageParts {
                views: pages,
                cache: PageCache::new(10_000),
                embed: settings.embed.clone(),
                app_url: settings.api.app_url.clone(),
            },
            guards: Guards {
                trusted_proxies: settings.parsed.trusted_proxies.clone(),
                public_origin: origin_of(&settings.server.public_url),
                role_guesses: throttle(Limit::RoleHash),
                sso: SsoVerifier::new(&settings.sso, &shared),
                // One entry per sign-out, each after a sign-in signed with `sso.secret`.
                ended_sign_ins: OneTime::new(shared.redis(), "signout", "ended sign-ins", 100_000),
            },
            operator: Operator {
                token: settings.admin.token.clone(),
                guesses: throttle(Limit::AdminToken),
                manager: Manager::new(source, LinkBuilder::from_settings(settings), clock.clone()),
                oauth,
            },
            shared,
            clock,
        }
    }

    /// The current instant, from the configured clock.
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}

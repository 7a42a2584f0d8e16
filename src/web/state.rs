//! What every handler shares, built once at start-up, in a few named groups; what differs
//! per brand is in [`Site`]s (`web::sites`), one per brand.

use std::time::Duration;

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use secrecy::SecretString;

use super::{
    counters::Limit,
    sites::{Site, Sites},
    throttle::GuessThrottle,
    views::PageCache,
};
use crate::{
    brands::Brands,
    domain::{Clock, LicensePattern},
    settings::Settings,
    shared::{Backend, OneTime},
    visit::embed::EmbedFrame,
};

/// What every handler shares.
pub struct AppState {
    /// The one time source: every handler asks it, never the wall clock.
    pub clock: Clock,
    /// The grammar of room keys.
    pub rooms: Rooms,
    /// The brands: each one's rooms, pages, headers, sign-in and operator surface.
    pub sites: Sites,
    /// The rules of a visit that come from the settings.
    pub visits: VisitRules,
    /// What room pages are made from, for every brand.
    pub pages: PageParts,
    /// Who is asking, and what they may try.
    pub guards: Guards,
    /// The operator's surface of the whole deployment.
    pub operator: Operator,
    /// Where state shared with the other instances lives (fleet mode) or this process.
    pub shared: Backend,
}

/// The grammar of room keys.
pub struct Rooms {
    /// `rooms.license_pattern`: a key that does not match is a 404 before any lookup.
    pub key_pattern: LicensePattern,
}

/// The settings a visit's decisions take.
pub struct VisitRules {
    pub require_nickname: bool,
    /// How many rooms' tokens the session cookie remembers.
    pub max_rooms: usize,
}

/// What room pages are made from, for every brand.
pub struct PageParts {
    /// Rendered pages of visitors without values of their own (keyed by brand too).
    pub cache: PageCache,
    /// The embed data block's fixed parts, from `settings.embed`.
    pub embed: EmbedFrame,
}

/// Who is asking, and what they may try.
pub struct Guards {
    pub trusted_proxies: Vec<IpNet>,
    /// Wrong role hashes per client.
    pub role_guesses: GuessThrottle,
    /// Sign-ins that were signed out or replaced: their cookies no longer sign in (on any
    /// instance, in fleet mode).
    pub ended_sign_ins: OneTime,
}

/// The operator's surface of the whole deployment.
pub struct Operator {
    /// The top-level `admin.token`: good for every brand. A brand's own token is in its
    /// [`Site`] and good for that brand only.
    pub token: Option<SecretString>,
    /// Wrong admin tokens per client.
    pub guesses: GuessThrottle,
}

impl AppState {
    /// The state of the settings, around `brands`.
    pub fn new(
        settings: &Settings,
        brands: Brands,
        shared: Backend,
        clock: Clock,
    ) -> Result<Self, String> {
        let throttle = |guards| {
            GuessThrottle::new(
                guards,
                settings.security.role_guess_limit,
                Duration::from_secs(60),
                settings.security.ipv6_prefix_len,
                &shared,
            )
        };
        let sites = Sites::new(brands, &shared, &clock)?;
        Ok(AppState {
            rooms: Rooms {
                key_pattern: settings.parsed.license_pattern.clone(),
            },
            sites,
            visits: VisitRules {
                require_nickname: settings.rooms.require_nickname,
                max_rooms: settings.session.max_rooms,
            },
            pages: PageParts {
                cache: PageCache::new(10_000),
                embed: EmbedFrame::new(&settings.embed),
            },
            guards: Guards {
                trusted_proxies: settings.parsed.trusted_proxies.clone(),
                role_guesses: throttle(Limit::RoleHash),
                // One entry per sign-out, each after a sign-in signed with a brand's key.
                ended_sign_ins: OneTime::new(shared.redis(), "signout", "ended sign-ins", 100_000),
            },
            operator: Operator {
                token: settings.admin.token.clone(),
                guesses: throttle(Limit::AdminToken),
            },
            shared,
            clock,
        })
    }

    /// The current instant, from the configured clock.
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// The brand a request was made to (chosen by `middleware::brand` from its host).
    pub fn site(&self, req: &actix_web::HttpRequest) -> &Site {
        self.sites.of_request(req)
    }
}

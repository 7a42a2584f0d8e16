//! The LiveWebinar (ArchieBot) REST API: the HTTP client, the vendor's JSON, signing in
//! (server-to-server login or OAuth2), and where tokens are kept (a file, or the fleet's
//! shared record). Knows nothing of rooms sources, operators or the web.
//!
//! `../shared/livewebinar-api.md` in the project's shared folder is the wire contract.

mod answers;
pub mod api;
pub mod auth;
mod auth_state;
pub mod call_metrics;
pub mod client;
pub mod credentials;
pub mod error;
pub mod fleet_record;
pub mod fleet_tokens;
pub mod listing;
pub mod models;
pub mod token_store;
pub mod tolerant;

use std::{sync::Arc, time::Duration};

pub use api::Api;
pub use auth::Auth;
pub use client::{Client, install_crypto_provider};
pub use error::ApiError;

use crate::{
    domain::Clock,
    settings::{ApiAuth, Settings, TokenStoreKind},
    shared::{Backend, token_record::RedisTokenRecord},
};
use auth::Keep;
use fleet_record::Kind;
use fleet_tokens::FleetTokens;
use token_store::FileTokenStore;

/// The vendor API of the settings, signed in (login mode) or with the stored OAuth
/// tokens; used by the server and the command line alike. In fleet mode
/// (`shared.backend = "redis"`) the token is the fleet's shared record, whichever sign-in.
pub async fn build_api(settings: &Settings, clock: Clock) -> Result<Api, String> {
    let client = Client::new(&settings.api)?.for_brand(&settings.brand_id);
    let keep = match (Backend::from_settings(&settings.shared)?, settings.api.auth) {
        (Backend::Redis(link), auth) => {
            let kind = match auth {
                ApiAuth::Login => Kind::Login,
                ApiAuth::Oauth => Kind::OAuth,
            };
            let record = RedisTokenRecord::new(link, fleet_tokens::RECORD_NAME);
            Keep::Fleet(Arc::new(FleetTokens::new(
                Arc::new(record),
                kind,
                Duration::from_millis(settings.api.timeout_ms),
            )))
        }
        (Backend::Local, ApiAuth::Oauth) => match settings.api.token_store {
            TokenStoreKind::File => {
                Keep::Store(Arc::new(FileTokenStore::new(&settings.api.token_file)))
            }
        },
        (Backend::Local, ApiAuth::Login) => Keep::Nowhere,
    };
    let auth = Auth::new(client, &settings.api, keep, clock).await?;
    Ok(Api::new(Arc::new(auth)))
}

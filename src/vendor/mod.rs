//! The LiveWebinar (ArchieBot) REST API: the HTTP client, the vendor's JSON, signing in
//! (server-to-server login or OAuth2), and where OAuth tokens are kept. Knows nothing of
//! rooms sources, operators or the web.
//!
//! `../shared/livewebinar-api.md` in the project's shared folder is the wire contract.

mod answers;
pub mod auth;
pub mod call_metrics;
pub mod client;
pub mod error;
pub mod listing;
pub mod models;
pub mod token_store;
pub mod tolerant;

use std::sync::Arc;

pub use auth::{Api, Auth};
pub use client::{Client, install_crypto_provider};
pub use error::ApiError;

use crate::{
    domain::Clock,
    settings::{ApiAuth, Settings, TokenStoreKind},
};
use token_store::{FileTokenStore, TokenStore};

/// The vendor API of the settings, signed in (login mode) or with the stored OAuth
/// tokens; used by the server and the command line alike.
pub async fn build_api(settings: &Settings, clock: Clock) -> Result<Api, String> {
    let client = Client::new(&settings.api)?;
    let store: Option<Arc<dyn TokenStore>> = match (settings.api.auth, settings.api.token_store) {
        (ApiAuth::Oauth, TokenStoreKind::File) => {
            Some(Arc::new(FileTokenStore::new(&settings.api.token_file)))
        }
        (ApiAuth::Login, _) => None,
    };
    let auth = Auth::new(client, &settings.api, store, clock).await?;
    Ok(Api::new(Arc::new(auth)))
}

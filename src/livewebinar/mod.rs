//! The LiveWebinar (ArchieBot) REST API: the HTTP client, the vendor's JSON, signing in
//! (server-to-server login or OAuth2), and where OAuth tokens are kept.
//!
//! `../shared/livewebinar-api.md` in the project's shared folder is the wire contract.

mod answers;
pub mod auth;
pub mod client;
pub mod error;
pub mod models;
pub mod token_store;

pub use auth::{Api, Auth};
pub use client::{Client, install_crypto_provider};
pub use error::ApiError;

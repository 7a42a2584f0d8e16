//! How roomgate signs in to the vendor API (a leaf: the brands' tables name it too).

use serde::Deserialize;

/// How roomgate signs in to the vendor API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiAuth {
    /// Server-to-server: `POST auth/login` with client id and secret.
    Login,
    /// OAuth2 authorization code, connected once by the operator at `/oauth/connect`.
    Oauth,
}

//! The path part of a room URL: `/room/{license}` or `/room/{license}/{role_hash}`.

use crate::domain::grammar::{LicensePattern, is_token};

/// A syntactically valid room path. Anything else is answered 404 before any lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomPath {
    pub license: String,
    pub role_hash: Option<String>,
}

impl RoomPath {
    /// Checks both segments against their grammar.
    pub fn parse(pattern: &LicensePattern, license: &str, role_hash: Option<&str>) -> Option<Self> {
        if !pattern.matches(license) {
            return None;
        }
        if role_hash.is_some_and(|h| !is_token(h)) {
            return None;
        }
        Some(RoomPath {
            license: license.to_owned(),
            role_hash: role_hash.map(str::to_owned),
        })
    }

    /// The room's own path on this site, with the role hash when there is one.
    pub fn to_path(&self) -> String {
        match &self.role_hash {
            Some(h) => format!("/room/{}/{h}", self.license),
            None => format!("/room/{}", self.license),
        }
    }
}

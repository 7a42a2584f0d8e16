//! The two steps every room route starts with: the room path of the request, and the
//! active room it names.

use std::sync::Arc;

use actix_web::HttpRequest;

use super::{error::PageError, sites::Site, state::AppState};
use crate::{
    domain::{Room, RoomStatus},
    rooms::Lookup,
    visit::{path::RoomPath, room_route::RoomRoute},
};

/// The room path of a request (`{license}` and, on role links, `{role_hash}`), or the
/// 404 every malformed room URL gets before any lookup.
pub fn room_path(req: &HttpRequest, state: &AppState) -> Result<RoomPath, PageError> {
    let route = RoomRoute::parse(req.path()).ok_or(PageError::NotFound)?;
    let role_hash = match &route {
        RoomRoute::Role { role_hash, .. } => Some(role_hash.as_ref()),
        _ => None,
    };
    RoomPath::parse(&state.rooms.key_pattern, route.license(), role_hash).ok_or(PageError::NotFound)
}

/// The room with key `license` of `site`'s brand, if it exists and is active. A room the
/// brand does not serve is answered exactly as an unknown one, without any lookup.
pub async fn active_room(site: &Site, license: &str) -> Result<Arc<Room>, PageError> {
    if !site.allowed.allows(license) {
        return Err(PageError::NotFound);
    }
    match site
        .rooms
        .lookup(license)
        .await
        .map_err(PageError::Unavailable)?
    {
        Lookup::Found(room) if room.status == RoomStatus::Active => Ok(room),
        Lookup::Found(_) | Lookup::Gone => Err(PageError::Gone),
        Lookup::NotFound => Err(PageError::NotFound),
    }
}

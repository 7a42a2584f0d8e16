//! The two steps every room route starts with: the room path of the request, and the
//! active room it names.

use std::sync::Arc;

use actix_web::HttpRequest;

use super::{error::PageError, state::AppState};
use crate::{
    domain::{Room, RoomStatus},
    rooms::{Lookup, RoomSource},
    visit::path::RoomPath,
};

/// The room path of a request (`{license}` and, on role links, `{role_hash}`), or the
/// 404 every malformed room URL gets before any lookup.
pub fn room_path(req: &HttpRequest, state: &AppState) -> Result<RoomPath, PageError> {
    let info = req.match_info();
    RoomPath::parse(
        &state.rooms.key_pattern,
        info.get("license").unwrap_or_default(),
        info.get("role_hash"),
    )
    .ok_or(PageError::NotFound)
}

/// The room with key `license`, if it exists and is active.
pub async fn active_room(source: &dyn RoomSource, license: &str) -> Result<Arc<Room>, PageError> {
    match source
        .lookup(license)
        .await
        .map_err(PageError::Unavailable)?
    {
        Lookup::Found(room) if room.status == RoomStatus::Active => Ok(room),
        Lookup::Found(_) | Lookup::Gone => Err(PageError::Gone),
        Lookup::NotFound => Err(PageError::NotFound),
    }
}

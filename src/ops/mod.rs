//! The one operators' core, shared by the command line (`roomgate rooms …`) and the admin
//! API (`/admin/api/…`): rooms, links, invitations, calendar files. Knows no HTTP.

pub mod calendar;
pub mod error;
pub mod input;
pub mod invitation;
pub mod links;
pub mod manager;
pub mod readback;
pub mod start;

pub use error::OpsError;
pub use input::{FieldErrors, RoomInput};
pub use invitation::InvitationInput;
pub use links::{LinkBuilder, RoomLinks};
pub use manager::{InvitationOut, Manager, RoomListItem, RoomOut};
pub use readback::Warning;

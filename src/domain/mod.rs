//! The shared nouns every part may use: a room, the grammar of room keys and tokens, the
//! languages roomgate speaks, readiness, and the one clock. Imports nothing of ours.

pub mod clock;
pub mod grammar;
pub mod language;
pub mod readiness;
pub mod room;
pub mod room_patterns;

pub use clock::{Clock, system_clock};
pub use grammar::{LicensePattern, is_token};
pub use language::{LANGUAGES, Language};
pub use readiness::Readiness;
pub use room::{Frequency, Repeat, Room, RoomKind, RoomStatus, STRICT_MARGIN_MINUTES};
pub use room_patterns::RoomPatterns;

//! One visit to a room page, as plain functions tested without HTTP: what the path, the
//! query and the remembered state say, checked and combined into what the page and the
//! embed need. No HTTP framework, template or cookie types come in here.

pub mod embed;
pub mod language;
pub mod path;
pub mod phase;
pub mod query;
pub mod redirect;
pub mod remembered;
pub mod role;
pub mod room_route;
pub mod visitor;

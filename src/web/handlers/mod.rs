//! One file per group of routes, each handler thin: read the request, call the plain
//! functions of `visit`, `rooms` and `ops`, hand a view to `views`. A handler never calls
//! another handler's file; shared steps live in `web::lookup`, `web::language`,
//! `web::forms` and `web::ics`.

pub mod admin;
pub mod calendar;
pub mod health;
pub mod join;
pub mod oauth;
pub mod room;
pub mod sso;

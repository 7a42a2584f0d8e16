//! roomgate: branded LiveWebinar room pages on the company's own domain.

/// Static files and the brand colour sheet.
pub mod assets;
/// A deadline on reading request bodies: slow ones are answered 408.
pub mod body_deadline;
/// Turns a panic in a handler into the opaque 500 page.
pub mod catch_panic;
/// The command line.
pub mod cli;
/// Which address a request comes from.
pub mod client_ip;
/// The one time source.
pub mod clock;
/// Settings, layered and validated.
pub mod configuration;
/// Error statuses and the branded error page.
pub mod error;
/// Security headers.
pub mod headers;
/// Languages: words and dates.
pub mod i18n;
/// The LiveWebinar REST API: client, sign-in, token store.
pub mod livewebinar;
/// Operators' tools: rooms, links, invitations, calendar files.
pub mod manage;
/// Server-side records of one-time things: used SSO tokens and OAuth states, ended sign-ins.
pub mod one_time;
/// Is this request from the operator (admin token checks).
pub mod operator;
/// Rendered pages of visitors who bring nothing of their own.
pub mod page_cache;
/// Tera and the page views.
pub mod pages;
/// Same-site redirect targets.
pub mod redirect;
/// One room page request: path, query, session, role check, embed options.
pub mod room;
/// Room model and room sources (catalog file, vendor API).
pub mod rooms;
/// HTTP handlers and the route table.
pub mod routes;
/// What a visitor's session remembers, and the session cookie.
pub mod session;
/// The sign-in handoff from the company's site.
pub mod sso;
/// Building and running the server.
pub mod startup;
/// Logging setup and log redaction.
pub mod telemetry;
/// Rate limits on guessing secrets.
pub mod throttle;

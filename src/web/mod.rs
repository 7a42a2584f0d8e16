//! The HTTP server: its state, the route table and the thin handlers, the middleware, the
//! session cookie, the views and the error pages. Handlers share helpers through modules
//! of their own (`lookup`, `language`, `forms`, `ics`), never through another handler.

pub mod admin_errors;
pub mod assets;
pub mod client_ip;
pub mod counters;
pub mod error;
pub mod forms;
pub mod handlers;
pub mod ics;
pub mod language;
pub mod lookup;
pub mod metrics_endpoint;
pub mod middleware;
pub mod openapi;
pub mod operator;
pub mod room_routes;
pub mod routes;
pub mod server;
pub mod session;
pub mod session_cookie;
pub mod sites;
pub mod sso_token;
pub mod state;
pub mod throttle;
pub mod views;

pub use server::{Application, StartupError};

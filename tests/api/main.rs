//! roomgate's integration tests: the app on port 0, driven over HTTP.

mod catalog_reload;
mod configuration;
mod headers;
mod health;
mod helpers;
mod hostile_input;
mod name_prompt;
mod precedence;
mod room_pages;
mod session_cookie;
mod status_pages;
mod templates;
mod throttle;

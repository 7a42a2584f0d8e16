//! roomgate's integration tests: the app on port 0, driven over HTTP.

mod admin_api;
mod api_auth;
mod api_source;
mod calendar;
mod catalog_reload;
mod checklist;
mod cli;
mod configuration;
mod fake_vendor;
mod headers;
mod health;
mod helpers;
mod hostile_input;
mod languages;
mod logs;
mod name_prompt;
mod oauth;
mod precedence;
mod room_pages;
mod session_cookie;
mod sso;
mod status_pages;
mod templates;
mod throttle;
mod waiting;

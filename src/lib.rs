//! roomgate: branded LiveWebinar room pages on the company's own domain.
//!
//! One folder per part of the design, each importing only the parts below it (a test,
//! `tests/api/layering.rs`, keeps it so):
//!
//! | part | holds | may import |
//! |---|---|---|
//! | [`domain`] | the shared nouns: rooms, keys and tokens, languages, the clock | nothing of ours |
//! | [`settings`] | typed settings, parsed once | domain |
//! | [`visit`] | the pure decisions of one visit | domain, settings |
//! | [`shared`] | state shared by requests and, in fleet mode, by instances (Redis) | domain, settings |
//! | [`vendor`] | the LiveWebinar API client | shared, domain, settings |
//! | [`rooms`] | room sources: catalog, vendor directory + cache | vendor, shared, domain, settings |
//! | [`ops`] | the operators' core | rooms, vendor, shared, domain, settings |
//! | [`brands`] | the brands of a deployment and the choice of one by host name | ops, rooms, vendor, shared, domain, settings |
//! | [`observe`] | the metrics recorder of an application, the list of metrics | nothing of ours |
//! | [`web`] | the HTTP server | everything above |
//! | [`cli`] | the command line | brands, ops, rooms, vendor, shared, settings, domain |

/// The brands of a deployment, each with its settings and room source; host → brand.
pub mod brands;
/// The command line: serve, check, and the operators' tools.
pub mod cli;
/// The shared nouns: rooms, keys and tokens, languages, the clock.
pub mod domain;
/// Prometheus metrics: an application's recorder, and every metric's name and meaning.
pub mod observe;
/// The operators' core: rooms, links, invitations, calendar files.
pub mod ops;
/// Room sources: the catalog file, the vendor API behind the cache.
pub mod rooms;
/// Settings: layered, typed, checked and parsed once.
pub mod settings;
/// State shared by requests and, in fleet mode, by every instance through Redis.
pub mod shared;
/// Logging setup and log redaction.
pub mod telemetry;
/// The LiveWebinar REST API: client, sign-in, token store, wire models.
pub mod vendor;
/// One visit, as plain functions: path, query, remembered state, precedence, role check,
/// phase, embed options, redirect targets. No HTTP types.
pub mod visit;
/// The HTTP server: state, routes, handlers, middleware, session cookie, views.
pub mod web;

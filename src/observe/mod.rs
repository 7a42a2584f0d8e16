//! Prometheus metrics: the recorder of one application, and the name, kind and meaning of
//! every metric roomgate records.
//!
//! Each part records where the thing happens, with the `metrics` crate's macros
//! (`metrics::counter!("roomgate_…")`). The macros need no import of ours, so `vendor` and
//! `rooms` record without knowing where the figures go, and without this part.
//!
//! Where they go is decided per application, not per process: every [`AppRecorder`] is a
//! recorder of its own, set as the thread's recorder on each worker thread of its
//! application's servers (`web::server`). An actix worker runs every task it spawns on its
//! own thread (the directory's background refreshes included), so all that one
//! application records lands in its own recorder, and many applications can run in one
//! process (the test suite) without sharing a count. Anything recorded on a thread without
//! one (the command line, settings loading) goes to the `metrics` crate's global recorder,
//! which roomgate never installs: it is dropped.

mod catalogue;
mod recorder;

pub use catalogue::{BUILD_COMMIT, METRICS, Metric, MetricKind};
pub use recorder::AppRecorder;

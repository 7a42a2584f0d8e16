//! The one time source of the application. Every decision that depends on "now" (a
//! room's phase, a countdown, a calendar file's next occurrence, sign-in token lifetimes,
//! vendor token expiry) asks the clock it was given, so tests run at an instant of their
//! choosing and nothing depends on the day the suite runs.

use std::sync::Arc;

use chrono::{DateTime, Utc};

/// The time source; tests pass a clock they move by hand.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The real clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

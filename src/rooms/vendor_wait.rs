//! While the vendor asks us to wait (`Retry-After` on a 429 or 503), no lookup calls it:
//! listings and detail fetches fail fast with the vendor's answer, and the 503 page
//! passes the wait on. The wait is counted on the application's clock.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::answers::hold_until;
use crate::vendor::ApiError;

/// The vendor asked us to wait: until when, and what it answered.
#[derive(Debug)]
struct Hold {
    until: DateTime<Utc>,
    error: ApiError,
}

/// The vendor's current wait, if any.
#[derive(Debug, Default)]
pub(super) struct VendorWait {
    hold: Mutex<Option<Hold>>,
}

impl VendorWait {
    /// Starts (or lengthens) the wait when `error`, answered at `now`, asks for one.
    pub(super) fn note(&self, now: DateTime<Utc>, error: &ApiError) {
        let Some(until) = hold_until(now, error) else {
            return;
        };
        let mut hold = self.hold.lock().unwrap_or_else(|e| e.into_inner());
        if hold.as_ref().is_none_or(|h| h.until < until) {
            tracing::warn!(error = %error, %until, "the vendor asks us to wait; room lookups make no calls until then");
            *hold = Some(Hold {
                until,
                error: error.clone(),
            });
        }
    }

    /// The vendor's answer while its wait runs at `now`.
    pub(super) fn held(&self, now: DateTime<Utc>) -> Option<ApiError> {
        let hold = self.hold.lock().unwrap_or_else(|e| e.into_inner());
        hold.as_ref()
            .filter(|h| now < h.until)
            .map(|h| h.error.clone())
    }

    /// Whole seconds of the vendor's wait still to run at `now`, if one runs.
    pub(super) fn wait_secs(&self, now: DateTime<Utc>) -> Option<u64> {
        let hold = self.hold.lock().unwrap_or_else(|e| e.into_inner());
        let left = hold.as_ref()?.until - now;
        let millis = u64::try_from(left.num_milliseconds())
            .ok()
            .filter(|m| *m > 0)?;
        Some(millis.div_ceil(1000))
    }
}

//! Whether a room source can answer lookups right now (`/readyz`).

/// The answer of a room source (or of the vendor sign-in behind it) to "can you serve?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// `code` is a short fixed reason, the only one `/readyz` shows; `detail` (which may
    /// hold the vendor's own words: host names, account ids) goes only to the log.
    NotReady {
        code: &'static str,
        detail: String,
    },
}

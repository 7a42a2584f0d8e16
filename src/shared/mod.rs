//! Server-side records that requests share: used one-time values (SSO token ids, OAuth
//! states) and ended sign-ins. Kept in this process today; the seam where several
//! instances will share them.

pub mod used_once;

pub use used_once::UsedOnce;

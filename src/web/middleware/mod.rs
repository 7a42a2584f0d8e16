//! What wraps every request: security headers, the request-body deadline, and the
//! catcher that turns a handler's panic into the opaque 500 page.

pub mod body_deadline;
pub mod catch_panic;
pub mod headers;

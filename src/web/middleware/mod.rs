//! What wraps every request: the choice of brand and its security headers, the request-body deadline, the catcher
//! that turns a handler's panic into the opaque 500 page, and the request metrics.

pub mod body_deadline;
pub mod brand;
pub mod catch_panic;
pub mod headers;
pub mod request_metrics;

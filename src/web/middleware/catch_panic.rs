//! A panic in a handler must not drop the connection: it becomes the opaque 500 page
//! (rendered by the error-page layer) and one log line.

use std::{future::Future, panic::AssertUnwindSafe};

use actix_web::{
    Error, HttpRequest, HttpResponse,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
};
use futures_util::FutureExt;

/// `from_fn` middleware that catches panics of everything inside it.
pub async fn catch_panic(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let request = req.request().clone();
    catching(request, next.call(req)).await
}

/// Runs `answer`, the handling of `request`, and turns a panic in it into the 500 page.
/// `request` is a copy kept for that answer, which actix allows only once routing is done.
pub async fn catching<B: MessageBody + 'static>(
    request: HttpRequest,
    answer: impl Future<Output = Result<ServiceResponse<B>, Error>>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    match AssertUnwindSafe(answer).catch_unwind().await {
        Ok(result) => result.map(ServiceResponse::map_into_boxed_body),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            tracing::error!(panic = %message, "a request handler panicked");
            Ok(ServiceResponse::new(
                request,
                HttpResponse::InternalServerError().finish(),
            ))
        }
    }
}

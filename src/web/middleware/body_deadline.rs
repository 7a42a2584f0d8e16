//! A deadline on reading request bodies.
//!
//! actix-web bounds the time a client may take to send the request head
//! (`client_request_timeout`), but not the body: a client that announces
//! `Content-Length: 4000` and then sends one byte a second keeps a connection and a
//! handler waiting for over an hour, and a few hundred such clients tie up the server
//! (slowloris on the body). So every body is read through [`DeadlinePayload`], which ends
//! it with an error once [`BODY_READ_DEADLINE`] has passed since the request head
//! arrived; the request is then answered 408 Request Timeout and the connection closed.
//!
//! Only waiting for bytes counts: a body that has arrived can be read later without
//! limit, and a handler that never reads its body is not affected. The bodies roomgate
//! takes are small (forms of 4 KiB, admin API calls of 128 KiB), so ten seconds is far
//! more than any honest client on a slow line needs.

use std::{
    cell::Cell,
    future::Future,
    io,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
    time::Duration,
};

use actix_web::{
    Error, HttpResponse,
    body::{EitherBody, MessageBody},
    dev::{Payload, ServiceRequest, ServiceResponse},
    error::PayloadError,
    middleware::Next,
    web::Bytes,
};
use futures_util::Stream;

/// How long a request body may take to arrive, counted from the end of its head.
pub const BODY_READ_DEADLINE: Duration = Duration::from_secs(10);

/// `from_fn` middleware: puts [`BODY_READ_DEADLINE`] on the request's body, and answers
/// 408 when the body was cut off by it, whatever the handler made of the cut-off body
/// (a form or JSON extractor would call it a bad request).
pub async fn cut_off_slow_bodies<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    if matches!(req.parts().1, Payload::None) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let expired = Rc::new(Cell::new(false));
    let body = DeadlinePayload {
        inner: std::mem::replace(req.parts_mut().1, Payload::None),
        deadline: Box::pin(tokio::time::sleep(BODY_READ_DEADLINE)),
        expired: expired.clone(),
    };
    req.set_payload(Payload::Stream {
        payload: Box::pin(body),
    });
    let res = next.call(req).await;
    if !expired.get() {
        return Ok(res?.map_into_left_body());
    }
    tracing::info!(
        deadline_secs = BODY_READ_DEADLINE.as_secs(),
        "the request body did not arrive in time: answered 408"
    );
    let timeout = HttpResponse::RequestTimeout()
        // The rest of the body may still come: it must not be read as a next request.
        .force_close()
        .finish();
    match res {
        Ok(res) => Ok(res.into_response(timeout).map_into_right_body()),
        Err(_) => Err(actix_web::error::ErrorRequestTimeout(
            "the request body did not arrive in time",
        )),
    }
}

/// A request body that fails once its deadline passes while bytes are still awaited.
struct DeadlinePayload {
    inner: Payload,
    deadline: Pin<Box<tokio::time::Sleep>>,
    /// Set when the deadline cut the body off (read by the middleware afterwards).
    expired: Rc<Cell<bool>>,
}

impl Stream for DeadlinePayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if !this.expired.get() {
            if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
                return Poll::Ready(item);
            }
            if this.deadline.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.expired.set(true);
        }
        Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
            io::ErrorKind::TimedOut,
            "the request body did not arrive in time",
        )))))
    }
}

//! Chooses the brand of each request by its host name, before anything else reads the
//! request, and gives every answer that brand's security headers. Around the handlers it
//! also runs the session's two steps (`web::session`): the check for ended sign-ins, which
//! needs the brand, and the `Set-Cookie` the handlers' changes need. One layer rather than
//! two: each layer costs every request a boxed future.
//!
//! The choice is made once here and put in the request's extensions (`SiteIndex`), so
//! handlers, the error pages and the static files all serve the same brand. A host that
//! names no brand gets the default brand, or with `server.strict_hosts` a bare 421 and
//! nothing else (the probes `/healthz` and `/readyz` still answer, for load balancers
//! that ask by address).

use actix_web::{
    HttpMessage, HttpResponse,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{StatusCode, header::HOST},
    middleware::Next,
    web,
};

use crate::web::{
    session,
    sites::{SiteIndex, is_probe, request_host},
    state::AppState,
};

/// The middleware: see the module's text.
pub async fn choose_brand(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let host = request_host(req.uri(), req.headers().get(HOST));
    let chosen = state.sites.for_host(host.as_deref());
    let index = match chosen {
        Some(index) => index,
        None if is_probe(req.path()) => SiteIndex(0),
        None => {
            tracing::info!(
                security_event = "unknown_host",
                "a host no brand names: 421"
            );
            let mut res = HttpResponse::build(StatusCode::MISDIRECTED_REQUEST)
                .content_type("text/plain; charset=utf-8")
                .body("421 Misdirected Request\n");
            add_headers(&state, SiteIndex(0), res.headers_mut());
            return Ok(req.into_response(res).map_into_right_body());
        }
    };
    req.extensions_mut().insert(index);
    session::forget_ended_sign_ins(&req, &state).await;
    let mut res = next.call(req).await?;
    session::write_back(&mut res);
    add_headers(&state, index, res.headers_mut());
    Ok(res.map_into_left_body())
}

/// The site's header block, where the answer has not set a value of its own.
fn add_headers(
    state: &AppState,
    index: SiteIndex,
    headers: &mut actix_web::http::header::HeaderMap,
) {
    let site = &state.sites.all()[index.0];
    for (name, value) in &site.headers {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
}

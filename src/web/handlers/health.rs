//! `GET /healthz` (the process answers) and `GET /readyz` (the room source can answer).

use actix_web::{HttpResponse, web};

use crate::{
    domain::Readiness, vendor::auth::TOKEN_REFRESH_NEEDS_SHARED_STATE, web::state::AppState,
};

/// Always 200 while the process serves requests; calls nothing upstream.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok\n")
}

/// 200 when the room source is usable, else 503 with a short fixed reason code (JSON
/// either way). The source's own words go to the log only: they can name the vendor's
/// hosts and account ids, and `/readyz` is often reachable from outside.
///
/// In fleet mode it also says `"shared": "up"` or `"degraded"`: an instance whose Redis
/// is down still serves what it holds, so it stays ready (taking it out of the load
/// balancer would only move its visitors to instances with the same Redis). For the
/// same reason an OAuth token that ran out while Redis is down (it is not refreshed
/// without the fleet's lock) leaves the instance ready, serving its cache, with
/// `"reason": "token_refresh_needs_shared_state"` beside `"shared": "degraded"`.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let shared = state.shared.status().await;
    let mut body = match state.sites.all()[0].rooms.readiness().await {
        Readiness::Ready => serde_json::json!({ "ready": true }),
        Readiness::NotReady { code, detail }
            if code == TOKEN_REFRESH_NEEDS_SHARED_STATE && shared != Some("up") =>
        {
            tracing::warn!(reason = code, %detail, "degraded: serving the room cache");
            serde_json::json!({ "ready": true, "reason": code })
        }
        Readiness::NotReady { code, detail } => {
            tracing::warn!(reason = code, %detail, "not ready");
            serde_json::json!({ "ready": false, "reason": code })
        }
    };
    if let Some(shared) = shared {
        body["shared"] = shared.into();
    }
    // A brand's own vendor account being down leaves the instance ready (every instance
    // serves every brand, so taking it out helps no one) but is named, with its reason.
    let mut brands_not_ready = serde_json::Map::new();
    for brand in state.sites.brands().all().iter().filter(|b| b.own_source) {
        if let Readiness::NotReady { code, detail } =
            brand.source.as_room_source().readiness().await
        {
            tracing::warn!(brand = %brand.id, reason = code, %detail, "a brand's room source is not ready");
            brands_not_ready.insert(brand.id.clone(), code.into());
        }
    }
    if !brands_not_ready.is_empty() {
        body["brands_not_ready"] = brands_not_ready.into();
    }
    if body["ready"] == true {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

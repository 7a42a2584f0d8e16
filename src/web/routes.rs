//! The route table: every route roomgate answers, and the handler of each.

use actix_web::{
    HttpRequest,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    guard,
    middleware::{Next, from_fn},
    web,
};

use super::{
    assets,
    handlers::{admin, health, oauth, sso},
    middleware::catch_panic::catch_panic,
    openapi,
    room_routes::room_routes,
    sites::SiteIndex,
    state::AppState,
};

/// Every route roomgate answers; used by the server and by tests alike. `overlays` are the
/// brands' own static folders: a brand's file wins, the base folder fills the rest.
pub fn configure(
    cfg: &mut web::ServiceConfig,
    static_dir: &std::path::Path,
    overlays: &[(SiteIndex, std::path::PathBuf)],
) {
    for (index, dir) in overlays {
        let index = *index;
        cfg.service(
            web::scope("/static")
                .guard(guard::fn_guard(move |ctx| {
                    ctx.req_data().get::<SiteIndex>() == Some(&index)
                }))
                .wrap(from_fn(long_cache))
                .service(
                    assets::static_files(dir).default_handler(assets::static_files(static_dir)),
                ),
        );
    }
    // The room routes first: they are nearly all the traffic, and matched by hand.
    cfg.service(room_routes())
        .service(resource("/healthz").route(get_or_head().to(health::healthz)))
        .service(resource("/readyz").route(get_or_head().to(health::readyz)))
        .service(resource("/theme.css").route(get_or_head().to(theme_css)))
        .service(resource("/favicon.ico").route(get_or_head().to(favicon)))
        .service(resource("/sso").route(web::get().to(sso::sign_in)))
        .service(resource("/sso/logout").route(web::post().to(sso::sign_out)))
        .service(resource("/oauth/connect").route(web::get().to(oauth::connect)))
        .service(resource("/oauth/callback").route(web::get().to(oauth::callback)))
        .service(
            web::scope("/static")
                .wrap(from_fn(long_cache))
                .service(assets::static_files(static_dir)),
        )
        .service(
            web::scope("/admin/api")
                .wrap(from_fn(admin::hidden_when_off))
                .service(resource("/openapi.json").route(web::get().to(openapi::openapi_json)))
                .service(
                    resource("/rooms")
                        .route(web::get().to(admin::list))
                        .route(web::post().to(admin::create)),
                )
                .service(
                    resource("/rooms/{license}")
                        .route(web::get().to(admin::show))
                        .route(web::put().to(admin::update))
                        .route(web::delete().to(admin::delete)),
                )
                .service(
                    resource("/rooms/{license}/activate").route(web::post().to(admin::activate)),
                )
                .service(
                    resource("/rooms/{license}/deactivate")
                        .route(web::post().to(admin::deactivate)),
                )
                .service(resource("/rooms/{license}/links").route(web::get().to(admin::links)))
                .service(
                    resource("/rooms/{license}/invitations").route(web::post().to(admin::invite)),
                )
                .service(
                    resource("/rooms/{license}/calendar.ics").route(web::get().to(admin::calendar)),
                ),
        );
}

/// A resource whose handlers' panics become the opaque 500 page. The catcher sits on each
/// resource rather than on the app because it keeps a copy of the request, which actix
/// allows only once routing is done.
fn resource(
    path: &str,
) -> actix_web::Resource<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::resource(path).wrap(from_fn(catch_panic))
}

/// `/favicon.ico`: browsers and bookmarks ask for it whatever the page says; a redirect
/// to the brand's icon spares every page a 404 in the console.
async fn favicon(req: HttpRequest, state: web::Data<AppState>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::MovedPermanently()
        .insert_header((
            actix_web::http::header::LOCATION,
            state.site(&req).views.site().favicon_url.as_str(),
        ))
        .finish()
}

/// `GET /theme.css`: the colours of the request's brand.
async fn theme_css(req: HttpRequest, state: web::Data<AppState>) -> actix_web::HttpResponse {
    use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
    actix_web::HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((CACHE_CONTROL, assets::LONG_CACHE))
        .body(state.site(&req).theme.0.clone())
}

fn get_or_head() -> actix_web::Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

async fn long_cache(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    assets::set_long_cache(&mut res);
    Ok(res)
}

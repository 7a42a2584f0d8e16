//! `GET /metrics` in the Prometheus text format, on a listener of its own
//! (`metrics.address`), never on the public port: the figures are for the operator's
//! Prometheus. One worker thread answers it, which also folds the histograms' samples
//! every few seconds.

use std::{net::TcpListener, time::Duration};

use actix_web::{App, HttpResponse, HttpServer, dev::Server, http::header, web};

use crate::{domain::Clock, observe::AppRecorder, rooms::Source};

/// How often the histograms' samples are folded when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The media type of the Prometheus text format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a scrape reads besides the recorded counts: the figures that are states now.
struct Scrape {
    recorder: AppRecorder,
    /// The room source of each vendor account: the default brand's, then each brand's own.
    sources: Vec<Source>,
    clock: Clock,
}

/// The `/metrics` server of one application on `listener`, reading `recorder`, and the
/// room cache and vendor token of each of `sources` (labelled with its brand). Logs to
/// `log` when given (tests).
pub fn serve(
    listener: TcpListener,
    recorder: AppRecorder,
    sources: Vec<Source>,
    clock: Clock,
    log: Option<tracing::Dispatch>,
) -> std::io::Result<Server> {
    let scrape = web::Data::new(Scrape {
        recorder,
        sources,
        clock,
    });
    let server = HttpServer::new(move || {
        if let Some(log) = &log {
            std::mem::forget(tracing::dispatcher::set_default(log));
        }
        scrape.recorder.record_on_this_thread();
        let recorder = scrape.recorder.clone();
        // On this worker's own runtime: it ends with the server.
        actix_web::rt::spawn(async move {
            let mut every = tokio::time::interval(UPKEEP_EVERY);
            loop {
                every.tick().await;
                recorder.upkeep();
            }
        });
        App::new()
            .app_data(scrape.clone())
            .route("/metrics", web::get().to(metrics))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    Ok(server)
}

/// `GET /metrics`: the gauges of the moment set, then every figure.
async fn metrics(scrape: web::Data<Scrape>) -> HttpResponse {
    for source in &scrape.sources {
        let Source::Api(directory) = source else {
            continue;
        };
        let rooms = directory.cached_rooms().await;
        let now = (scrape.clock)().timestamp();
        let brand = directory.api().client().brand().value();
        // `None` while a sign-in runs: the gauges keep what they showed.
        let token = directory.api().auth().status();
        scrape.recorder.record(|| {
            metrics::gauge!("roomgate_room_cache_entries", "brand" => brand.clone())
                .set(rooms as f64);
            if let Some(token) = token {
                metrics::gauge!("roomgate_vendor_sign_in_failures", "brand" => brand.clone())
                    .set(f64::from(token.failed_sign_ins));
                if let Some(at) = token.expires_at {
                    metrics::gauge!("roomgate_vendor_token_expires_in_seconds", "brand" => brand)
                        .set(at.saturating_sub(now) as f64);
                }
            }
        });
    }
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, TEXT_FORMAT))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(scrape.recorder.render())
}

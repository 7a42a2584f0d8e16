//! Building the application from settings and running it.

use std::{net::TcpListener, sync::Arc};

use actix_web::{
    App, HttpServer,
    cookie::Key,
    dev::{Server, ServerHandle},
    middleware::{Condition, ErrorHandlers},
    web,
};
use secrecy::ExposeSecret;
use tracing::instrument::WithSubscriber;
use tracing_actix_web::TracingLogger;

use super::{
    error::{self, render_error_page},
    metrics_endpoint,
    middleware::{
        body_deadline::cut_off_slow_bodies, brand::choose_brand, request_metrics::record_requests,
    },
    routes,
    session_cookie::SessionCookie,
    state::AppState,
};
use crate::{
    brands::Brands,
    domain::{Clock, system_clock},
    observe::AppRecorder,
    rooms::{Catalog, Source, SourceError, build_source},
    settings::{DEFAULT_BRAND, Settings},
    shared::Backend,
    telemetry::RedactedSpans,
};

/// Why the application could not be built: one line per problem.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct StartupError(pub Vec<String>);

impl From<SourceError> for StartupError {
    fn from(e: SourceError) -> Self {
        StartupError(e.0)
    }
}

/// The server, bound to its port, and its metrics server when `metrics.address` is set.
pub struct Application {
    port: u16,
    server: Server,
    metrics: Option<MetricsServer>,
}

/// The `/metrics` server, bound to its own port.
struct MetricsServer {
    port: u16,
    server: Server,
}

impl Application {
    /// Builds the room source named by the settings, then the server.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let clock = system_clock();
        let source = build_source(&settings, clock.clone()).await?;
        Self::build_logging_to(settings, source, clock, None).await
    }

    /// Builds the server around `source`, the default brand's room source (tests use
    /// their own source and clock), and the sources of brands that have their own; with
    /// `log`, the server's threads log there instead of to the global subscriber, so
    /// that each test reads its own app's lines.
    ///
    /// With `metrics.address`, the application gets a metrics recorder of its own, set on
    /// every thread of both its servers: many applications in one process (tests) each
    /// count only their own requests.
    pub async fn build_logging_to(
        settings: Settings,
        source: Source,
        clock: Clock,
        log: Option<tracing::Dispatch>,
    ) -> Result<Self, StartupError> {
        let brands = Brands::build(&settings, source.clone(), clock.clone()).await?;
        // Each vendor account's cache and token, for the metrics: the default source and
        // every brand's own.
        let sources: Vec<Source> = brands
            .all()
            .iter()
            .filter(|b| b.own_source || b.id == DEFAULT_BRAND)
            .map(|b| b.source.clone())
            .collect();
        let (listener, port) = bind("server", &settings.bind_address())?;
        let metrics = match settings.parsed.metrics_address {
            Some(address) => {
                let (listener, port) = bind("metrics", &address.to_string())?;
                tracing::info!(port, "metrics are served at /metrics on their own port");
                Some((listener, port, AppRecorder::new()))
            }
            None => None,
        };
        let recorder = metrics.as_ref().map(|(_, _, recorder)| recorder.clone());
        let server = run(
            listener,
            settings,
            brands,
            clock.clone(),
            recorder,
            log.clone(),
        )?;
        let metrics = match metrics {
            Some((listener, port, recorder)) => Some(MetricsServer {
                port,
                server: metrics_endpoint::serve(listener, recorder, sources, clock, log)
                    .map_err(|e| StartupError(vec![format!("metrics: {e}")]))?,
            }),
            None => None,
        };
        Ok(Application {
            port,
            server,
            metrics,
        })
    }

    /// The port actually bound (settings may say 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of `/metrics`, when `metrics.address` is set (it may say port 0).
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|m| m.port)
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped through the handle; the metrics server stops with it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Some(metrics) = self.metrics else {
            return self.server.await;
        };
        let metrics_handle = metrics.server.handle();
        let server = async {
            let result = self.server.await;
            metrics_handle.stop(false).await;
            result
        };
        let (result, _) = futures_util::future::join(server, metrics.server).await;
        result
    }
}

/// A listener on `address` and the port it got, for the server called `what`.
fn bind(what: &str, address: &str) -> Result<(TcpListener, u16), StartupError> {
    let listener = TcpListener::bind(address)
        .map_err(|e| StartupError(vec![format!("{what}: cannot listen on {address} ({e})")]))?;
    let port = listener
        .local_addr()
        .map_err(|e| StartupError(vec![format!("{what}: {e}")]))?
        .port();
    Ok((listener, port))
}

/// Re-reads the catalog on SIGHUP. A bad new file keeps the old rooms and logs why;
/// requests are served throughout (the swap is one pointer under a lock). Logs to `log`
/// when given, else where the application is built.
fn reload_on_sighup(catalog: Arc<Catalog>, log: Option<tracing::Dispatch>) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP; the catalog will not reload");
            return;
        }
    };
    let reload = async move {
        while hangups.recv().await.is_some() {
            match catalog.reload() {
                Ok(rooms) => tracing::info!(rooms, "catalog reloaded"),
                Err(e) => tracing::error!(
                    problems = %e,
                    "catalog not reloaded: the new file has problems; the old rooms stay"
                ),
            }
        }
    };
    match log {
        Some(log) => tokio::spawn(reload.with_subscriber(log)),
        None => tokio::spawn(reload.with_current_subscriber()),
    };
}

fn session_key(settings: &Settings) -> Key {
    match &settings.session.key {
        Some(secret) => Key::derive_from(secret.expose_secret().as_bytes()),
        None => {
            // Only development gets here (production refuses to start without a key):
            // sessions then last until the next restart.
            tracing::warn!("session.key is not set: using a random key until the next restart");
            Key::generate()
        }
    }
}

fn run(
    listener: TcpListener,
    settings: Settings,
    brands: Brands,
    clock: Clock,
    recorder: Option<AppRecorder>,
    log: Option<tracing::Dispatch>,
) -> Result<Server, StartupError> {
    for brand in brands.all() {
        if let Source::Catalog(catalog) = &brand.source
            && (brand.own_source || brand.id == DEFAULT_BRAND)
        {
            reload_on_sighup(catalog.clone(), log.clone());
        }
    }
    let shared = Backend::from_settings(&settings.shared).map_err(|e| StartupError(vec![e]))?;
    let state =
        AppState::new(&settings, brands, shared, clock).map_err(|e| StartupError(vec![e]))?;
    let state = web::Data::new(state);
    let session_cookie = web::Data::new(SessionCookie::new(
        session_key(&settings),
        settings.session.secure,
    ));
    let static_dir = settings.branding.static_dir.clone();
    let overlays = state.sites.static_overlays();
    let workers = settings.server.workers;

    let mut server = HttpServer::new(move || {
        // The factory runs once on each worker thread: that thread (and every task it
        // runs) logs to `log` for as long as it lives.
        if let Some(log) = &log {
            std::mem::forget(tracing::dispatcher::set_default(log));
        }
        // Likewise its metrics, the tasks it spawns (the room cache's refreshes) included.
        if let Some(recorder) = &recorder {
            recorder.record_on_this_thread();
        }
        App::new()
            .wrap(actix_web::middleware::from_fn(cut_off_slow_bodies))
            .wrap(ErrorHandlers::new().default_handler(render_error_page))
            .wrap(actix_web::middleware::from_fn(choose_brand))
            .wrap(TracingLogger::<RedactedSpans>::new())
            // Outermost: it sees the status every other layer settled on. Without metrics
            // requests go straight past it.
            .wrap(Condition::new(
                recorder.is_some(),
                actix_web::middleware::from_fn(record_requests),
            ))
            .app_data(state.clone())
            .app_data(session_cookie.clone())
            .app_data(web::FormConfig::default().limit(4096))
            .configure(|cfg| routes::configure(cfg, &static_dir, &overlays))
            .default_service(web::to(error::not_found))
    })
    // main.rs handles SIGTERM/SIGINT itself, so that both shut down gracefully.
    .disable_signals()
    .shutdown_timeout(10);
    if workers > 0 {
        server = server.workers(workers);
    }
    let server = server
        .listen(listener)
        .map_err(|e| StartupError(vec![format!("server: {e}")]))?
        .run();
    Ok(server)
}

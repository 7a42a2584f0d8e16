//! Building the application from settings and running it.

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{
    App, HttpServer,
    cookie::Key,
    dev::{Server, ServerHandle},
    middleware::ErrorHandlers,
    web,
};
use chrono::{DateTime, Utc};
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use tracing_actix_web::TracingLogger;

pub use crate::clock::{Clock, system_clock};
use crate::{
    assets::{self, ThemeSheet},
    configuration::{ApiAuth, EmbedSettings, RoomSourceKind, Settings, TokenStoreKind, origin_of},
    error::render_error_page,
    headers::security_headers,
    i18n::Language,
    livewebinar::{
        Api, Auth, Client,
        token_store::{FileTokenStore, TokenStore},
    },
    manage::{Backend, Manager},
    one_time::UsedOnce,
    page_cache::PageCache,
    pages::Pages,
    room::validate::LicensePattern,
    rooms::{CachePolicy, Catalog, Directory, RoomSource},
    routes, session,
    sso::SsoVerifier,
    telemetry::RedactedSpans,
    throttle::GuessThrottle,
};

/// What every handler shares, built once at start-up.
pub struct AppState {
    pub source: Arc<dyn RoomSource>,
    pub pages: Pages,
    pub license_pattern: LicensePattern,
    pub embed: EmbedSettings,
    /// Vendor app host, for the direct links of `<noscript>`.
    pub app_url: String,
    /// Origin of `server.public_url`, for the forms' Origin check.
    pub public_origin: String,
    pub require_nickname: bool,
    pub max_rooms: usize,
    pub guesses: GuessThrottle,
    pub trusted_proxies: Vec<IpNet>,
    pub clock: Clock,
    /// The vendor API, when `rooms.source = "api"`.
    pub api: Option<Api>,
    /// The room cache, when `rooms.source = "api"` (operators' changes invalidate it).
    pub directory: Option<Directory>,
    /// OAuth settings, when `api.auth = "oauth"` and the API source is used.
    pub oauth: Option<OAuthConfig>,
    /// The operators' tools (catalog or API rooms).
    pub manager: Option<Manager>,
    /// `server.public_url`, the base of every link.
    pub public_url: String,
    /// Rendered pages of visitors without values of their own.
    pub page_cache: PageCache,
    /// Checks sign-in tokens; `None` turns `/sso` off.
    pub sso: Option<SsoVerifier>,
    /// Sign-ins that were signed out or replaced: their cookies no longer sign in.
    pub ended_sign_ins: UsedOnce,
    /// OAuth `state` values already brought back to `/oauth/callback`.
    pub used_oauth_states: UsedOnce,
    /// Language when nothing else chooses one.
    pub default_language: Language,
    /// The operator's token; `None` turns the operator surface off.
    pub admin_token: Option<SecretString>,
    pub admin_guesses: GuessThrottle,
}

/// What the OAuth routes need.
pub struct OAuthConfig {
    pub client_id: String,
    pub client_secret: SecretString,
    pub redirect_uri: String,
    pub app_url: String,
}

/// The room source chosen by the settings, with its parts the routes need.
pub enum Source {
    /// The catalog file.
    Catalog(Arc<Catalog>),
    /// The vendor API behind the cache.
    Api(Directory),
    /// Any other source (tests).
    Custom(Arc<dyn RoomSource>),
}

impl Source {
    fn as_room_source(&self) -> Arc<dyn RoomSource> {
        match self {
            Source::Catalog(c) => c.clone(),
            Source::Api(d) => Arc::new(d.clone()),
            Source::Custom(s) => s.clone(),
        }
    }
}

impl AppState {
    /// The current instant, from the configured clock.
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}

/// Why the application could not be built: one line per problem.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct StartupError(pub Vec<String>);

/// The server, bound to its port.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Builds the room source named by the settings, then the server.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let clock = system_clock();
        let source = build_source(&settings, clock.clone()).await?;
        Self::build_with(settings, source, clock)
    }

    /// Builds the server around `source` (tests use their own source and clock).
    pub fn build_with(
        settings: Settings,
        source: Source,
        clock: Clock,
    ) -> Result<Self, StartupError> {
        Self::build_logging_to(settings, source, clock, None)
    }

    /// Like [`Application::build_with`]; with `log`, the server's threads log there
    /// instead of to the global subscriber, so that each test reads its own app's lines.
    pub fn build_logging_to(
        settings: Settings,
        source: Source,
        clock: Clock,
        log: Option<tracing::Dispatch>,
    ) -> Result<Self, StartupError> {
        let listener = TcpListener::bind(settings.bind_address()).map_err(|e| {
            StartupError(vec![format!(
                "server: cannot listen on {} ({e})",
                settings.bind_address()
            )])
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| StartupError(vec![format!("server: {e}")]))?
            .port();
        let server = run(listener, settings, source, clock, log)?;
        Ok(Application { port, server })
    }

    /// The port actually bound (settings may say 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped through the handle.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The room source of `rooms.source`.
pub async fn build_source(settings: &Settings, clock: Clock) -> Result<Source, StartupError> {
    let pattern = license_pattern(settings)?;
    match settings.rooms.source {
        RoomSourceKind::Catalog => {
            let catalog = Arc::new(
                Catalog::load(&settings.catalog.path, pattern)
                    .map_err(|e| StartupError(e.problems))?,
            );
            tracing::info!(rooms = catalog.len(), path = %settings.catalog.path.display(), "catalog loaded");
            reload_on_sighup(catalog.clone());
            Ok(Source::Catalog(catalog))
        }
        RoomSourceKind::Api => {
            let api = build_api(settings, clock).await?;
            Ok(Source::Api(Directory::new(
                api,
                pattern,
                CachePolicy::from(&settings.cache),
            )))
        }
    }
}

/// The signed-in vendor API of the settings (also used by the command line).
pub async fn build_api(settings: &Settings, clock: Clock) -> Result<Api, StartupError> {
    let client = Client::new(&settings.api).map_err(|e| StartupError(vec![e]))?;
    let store: Option<Arc<dyn TokenStore>> = match (settings.api.auth, settings.api.token_store) {
        (ApiAuth::Oauth, TokenStoreKind::File) => {
            Some(Arc::new(FileTokenStore::new(&settings.api.token_file)))
        }
        (ApiAuth::Login, _) => None,
    };
    let auth = Auth::new(client, &settings.api, store, clock)
        .await
        .map_err(|e| StartupError(vec![e]))?;
    Ok(Api::new(Arc::new(auth)))
}

fn license_pattern(settings: &Settings) -> Result<LicensePattern, StartupError> {
    LicensePattern::new(&settings.rooms.license_pattern)
        .map_err(|e| StartupError(vec![format!("rooms.license_pattern: {e}")]))
}

/// Re-reads the catalog on SIGHUP. A bad new file keeps the old rooms and logs why;
/// requests are served throughout (the swap is one pointer under a lock).
fn reload_on_sighup(catalog: Arc<Catalog>) {
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
    // Logs where the application was built.
    tokio::spawn(tracing::instrument::WithSubscriber::with_current_subscriber(reload));
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
    source: Source,
    clock: Clock,
    log: Option<tracing::Dispatch>,
) -> Result<Server, StartupError> {
    let asset_version = assets::version_of(
        &settings.branding.static_dir,
        &settings.branding.primary_color,
    );
    let pages =
        Pages::load(&settings.branding, asset_version).map_err(|e| StartupError(vec![e]))?;
    let (api, directory) = match &source {
        Source::Api(d) => (Some(d.api().clone()), Some(d.clone())),
        _ => (None, None),
    };
    let oauth = match (&api, settings.api.auth) {
        (Some(_), ApiAuth::Oauth) => Some(OAuthConfig {
            client_id: settings.api.client_id.clone(),
            client_secret: settings
                .api
                .client_secret
                .clone()
                .unwrap_or_else(|| SecretString::from(String::new())),
            redirect_uri: settings.redirect_uri(),
            app_url: settings.api.app_url.clone(),
        }),
        _ => None,
    };
    let manager = match &source {
        Source::Catalog(c) => Some(Backend::Catalog(c.clone())),
        Source::Api(d) => Some(Backend::Api(d.clone())),
        Source::Custom(_) => None,
    }
    .map(|backend| {
        Manager::new(
            backend,
            &settings.server.public_url,
            &settings.api.app_url,
            clock.clone(),
        )
    });
    let state = web::Data::new(AppState {
        source: source.as_room_source(),
        manager,
        public_url: settings.server.public_url.clone(),
        pages,
        license_pattern: license_pattern(&settings)?,
        embed: settings.embed.clone(),
        app_url: settings.api.app_url.clone(),
        public_origin: origin_of(&settings.server.public_url),
        require_nickname: settings.rooms.require_nickname,
        max_rooms: settings.session.max_rooms,
        guesses: GuessThrottle::new(
            settings.security.role_guess_limit,
            Duration::from_secs(60),
            settings.security.ipv6_prefix_len,
        ),
        trusted_proxies: settings.trusted_proxies(),
        clock,
        api,
        directory,
        oauth,
        page_cache: PageCache::new(10_000),
        sso: SsoVerifier::new(&settings.sso),
        // One entry per sign-out, each after a sign-in signed with `sso.secret`.
        ended_sign_ins: UsedOnce::new("ended sign-ins", 100_000),
        // Only the operator starts authorizations.
        used_oauth_states: UsedOnce::new("used oauth states", 1_000),
        default_language: Language::from_code(&settings.branding.default_language)
            .unwrap_or(Language::En),
        admin_token: settings.admin.token.clone(),
        admin_guesses: GuessThrottle::new(
            settings.security.role_guess_limit,
            Duration::from_secs(60),
            settings.security.ipv6_prefix_len,
        ),
    });
    let theme = web::Data::new(ThemeSheet::new(&settings.branding.primary_color));
    let key = session_key(&settings);
    let secure = settings.session.secure;
    let static_dir = settings.branding.static_dir.clone();
    let workers = settings.server.workers;
    let settings = Arc::new(settings);

    let mut server = HttpServer::new(move || {
        // The factory runs once on each worker thread: that thread (and every task it
        // runs) logs to `log` for as long as it lives.
        if let Some(log) = &log {
            std::mem::forget(tracing::dispatcher::set_default(log));
        }
        App::new()
            .wrap(actix_web::middleware::from_fn(
                crate::body_deadline::cut_off_slow_bodies,
            ))
            .wrap(ErrorHandlers::new().default_handler(render_error_page))
            .wrap(actix_web::middleware::from_fn(
                session::forget_ended_sign_ins,
            ))
            .wrap(session::middleware(key.clone(), secure))
            .wrap(security_headers(&settings))
            .wrap(TracingLogger::<RedactedSpans>::new())
            .app_data(state.clone())
            .app_data(theme.clone())
            .app_data(web::FormConfig::default().limit(4096))
            .configure(|cfg| routes::configure(cfg, &static_dir))
            .default_service(web::to(routes::not_found))
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

//! The pages roomgate renders: Tera, loaded once at start-up, and one `Serialize` view
//! per page, so every template's context is a typed struct.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use actix_web::{
    HttpResponse,
    http::{
        StatusCode,
        header::{CONTENT_TYPE, HeaderValue},
    },
};
use serde::Serialize;
use tera::{Context, Tera};

use std::collections::HashMap;

use crate::{
    domain::{LANGUAGES, Language},
    settings::BrandingSettings,
};

/// Templates every templates folder must provide.
pub const TEMPLATES: [&str; 4] = ["base.html", "room.html", "error.html", "notice.html"];

/// Marks a response that is already a finished page, so the error-page layer leaves it be.
#[derive(Debug, Clone, Copy)]
pub struct FinishedPage;

/// What every page shows of the site.
#[derive(Debug, Clone, Serialize)]
pub struct SiteView {
    pub name: String,
    pub logo_url: String,
    pub favicon_url: String,
    pub support_url: Option<String>,
    /// Cache-buster for `/static/…` and `/theme.css` URLs.
    pub asset_version: String,
    /// "Powered by roomgate" in the footer (off unless the brand asks for it).
    pub show_powered_by: bool,
}

/// The room page (embed or name prompt).
#[derive(Debug, Clone, Serialize)]
pub struct RoomPage {
    pub room: RoomView,
    /// Role name when joining through a role link.
    pub role: Option<String>,
    /// "Joining as host", in the page's language.
    pub role_label: Option<String>,
    /// `live`, `upcoming`, `waiting` or `ended` (see `visit::phase::Phase`).
    pub phase: &'static str,
    /// The countdown of an upcoming or waiting room.
    pub countdown: Option<CountdownView>,
    /// Pre-escaped JSON for the embed data block (see `visit::embed`).
    pub embed_json: String,
    pub container_id: &'static str,
    /// The vendor's own link, for visitors without JavaScript.
    pub direct_link: String,
    /// When set, the page asks for a name instead of showing the room.
    pub prompt: Option<PromptView>,
    /// The signed-in person, with the sign-out form.
    pub signed_in: Option<SignedInView>,
}

/// "Signed in as …" and the sign-out form.
#[derive(Debug, Clone, Serialize)]
pub struct SignedInView {
    pub name: String,
    pub csrf: String,
    pub return_to: String,
}

/// The room as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RoomView {
    pub name: String,
    pub agenda: String,
    pub schedule: Option<ScheduleView>,
    /// The public calendar file, for rooms with a start.
    pub calendar_url: Option<String>,
}

/// A scheduled room's time, in the room's own timezone.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleView {
    pub start_iso: String,
    pub start_text: String,
    pub end_text: String,
    pub timezone: String,
    pub duration_minutes: u32,
}

/// A countdown the page script keeps ticking.
#[derive(Debug, Clone, Serialize)]
pub struct CountdownView {
    /// The instant counted down to (RFC 3339, UTC).
    pub to_iso: String,
    /// Seconds left by the server's clock; the script counts from this, not from the
    /// visitor's clock, which may be wrong.
    pub seconds_left: i64,
    /// Reload the page when it reaches zero (a waiting room opens).
    pub reload: bool,
    /// Text before the countdown ("Starts in").
    pub label: String,
}

/// The name prompt form.
#[derive(Debug, Clone, Serialize)]
pub struct PromptView {
    pub action: String,
    pub csrf: String,
    pub return_to: String,
    pub error: Option<String>,
    pub nickname: String,
}

/// A page that tells the operator something worked (e.g. the OAuth connection).
#[derive(Debug, Clone, Serialize)]
pub struct NoticePage {
    pub title: String,
    pub message: String,
    pub details: Vec<String>,
}

/// An error page.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorPage {
    pub status: u16,
    /// "Error 404", in the page's language.
    pub code_label: String,
    pub title: &'static str,
    pub message: &'static str,
}

impl ErrorPage {
    /// The page for `status` in `lang`: a title and one sentence, never any detail of the cause.
    pub fn for_status(status: StatusCode, lang: Language) -> Self {
        let key = match status.as_u16() {
            s @ (400 | 401 | 403 | 404 | 405 | 410 | 413 | 429 | 500 | 502 | 503) => s.to_string(),
            414 | 431 => "413".to_owned(),
            s if s >= 500 => "500".to_owned(),
            _ => "other".to_owned(),
        };
        ErrorPage {
            status: status.as_u16(),
            code_label: lang.fill("error_code", &[("status", status.as_str())]),
            title: lang.word(&format!("error_{key}_title")),
            message: lang.word(&format!("error_{key}_text")),
        }
    }

    /// The 503 of a sign-in (or an OAuth callback) refused because the fleet's record of
    /// used tokens cannot be reached: the visitor may simply try again.
    pub fn sign_in_unavailable(lang: Language) -> Self {
        ErrorPage {
            title: lang.word("error_sign_in_unavailable_title"),
            message: lang.word("error_sign_in_unavailable_text"),
            ..ErrorPage::for_status(StatusCode::SERVICE_UNAVAILABLE, lang)
        }
    }
}

/// Seconds a visitor is asked to wait before retrying a sign-in refused for want of the
/// shared record: a few breaker periods of the Redis link.
pub const SIGN_IN_RETRY_AFTER_SECS: u64 = 5;

/// Tera plus what every page shows of the site (one per brand).
pub struct Pages {
    /// Shared by every brand with the same templates.
    tera: Arc<Tera>,
    site: SiteView,
    /// Per language, the part of every page's context that never changes (`lang`, `t`),
    /// built once and shared by every brand: serialising the words on every render was a
    /// sixth of the time of a page.
    words: Arc<Words>,
    /// `site`, as a context, built once.
    site_context: Context,
}

/// Per language, `lang` and `t` as a template context.
pub struct Words(HashMap<Language, Context>);

impl Words {
    /// Every language's words, serialised once.
    pub fn new() -> Arc<Self> {
        Arc::new(Words(
            LANGUAGES
                .iter()
                .map(|lang| {
                    let mut ctx = Context::new();
                    ctx.insert("lang", lang.code());
                    ctx.insert("t", lang.words());
                    (*lang, ctx)
                })
                .collect(),
        ))
    }
}

impl Pages {
    /// Loads every template of `branding.templates_dir` (and of its overlay, which wins);
    /// a broken template stops start-up.
    pub fn load(branding: &BrandingSettings, asset_version: String) -> Result<Self, String> {
        let tera = load_templates(
            &branding.templates_dir,
            branding.templates_overlay.as_deref(),
        )?;
        Ok(Self::new(
            Arc::new(tera),
            Words::new(),
            branding,
            asset_version,
        ))
    }

    /// The pages of `branding` with templates and words already loaded (brands that share
    /// templates share one Tera).
    pub fn new(
        tera: Arc<Tera>,
        words: Arc<Words>,
        branding: &BrandingSettings,
        asset_version: String,
    ) -> Self {
        let site = SiteView {
            name: branding.site_name.clone(),
            logo_url: branding.logo_url.clone(),
            favicon_url: branding.favicon_url.clone(),
            support_url: Some(branding.support_url.clone()).filter(|s| !s.is_empty()),
            asset_version,
            show_powered_by: branding.show_powered_by,
        };
        let mut site_context = Context::new();
        site_context.insert("site", &site);
        Pages {
            tera,
            site,
            words,
            site_context,
        }
    }

    /// The site part of every page.
    pub fn site(&self) -> &SiteView {
        &self.site
    }

    /// Renders `template` in `lang` with `page` as its context.
    pub fn render<P: Serialize>(
        &self,
        template: &str,
        page: &P,
        lang: Language,
    ) -> Result<String, tera::Error> {
        let mut ctx = self.words.0.get(&lang).cloned().unwrap_or_default();
        ctx.extend(self.site_context.clone());
        ctx.extend(Context::from_serialize(page)?);
        self.tera.render(template, &ctx)
    }

    /// `template` rendered, or `None` (and a log line) if rendering fails.
    pub fn render_logged<P: Serialize>(
        &self,
        template: &str,
        page: &P,
        lang: Language,
    ) -> Option<String> {
        self.render(template, page, lang)
            .map_err(|e| tracing::error!(error = ?e, template, "template rendering failed"))
            .ok()
    }

    /// A finished HTML response; a rendering failure becomes the plain 500.
    pub fn respond<P: Serialize>(
        &self,
        status: StatusCode,
        template: &str,
        page: &P,
        lang: Language,
    ) -> HttpResponse {
        match self.render_logged(template, page, lang) {
            Some(html) => html_response(status, html),
            None => html_response(StatusCode::INTERNAL_SERVER_ERROR, PLAIN_500),
        }
    }

    /// The 503 page of [`ErrorPage::sign_in_unavailable`], with `Retry-After`.
    pub fn sign_in_unavailable(&self, lang: Language) -> HttpResponse {
        let mut res = self.respond(
            StatusCode::SERVICE_UNAVAILABLE,
            "error.html",
            &ErrorPage::sign_in_unavailable(lang),
            lang,
        );
        res.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from(SIGN_IN_RETRY_AFTER_SECS),
        );
        res
    }

    /// The error page body for `status` in `lang`; plain text if even that fails to render.
    pub fn error_html(&self, status: StatusCode, lang: Language) -> String {
        self.render("error.html", &ErrorPage::for_status(status, lang), lang)
            .unwrap_or_else(|e| {
                tracing::error!(error = ?e, "error page rendering failed");
                PLAIN_500.to_owned()
            })
    }
}

/// Shown only when the error template itself cannot be rendered.
pub const PLAIN_500: &str = "<!doctype html><title>Error</title><p>Something went wrong.</p>";

/// A finished HTML page answer.
pub fn html_response(status: StatusCode, html: impl Into<actix_web::web::Bytes>) -> HttpResponse {
    let html: actix_web::web::Bytes = html.into();
    let mut res = HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, HeaderValue::from_static(HTML)))
        .body(html);
    // Only error statuses pass the error-page layer that reads the mark: a room page (the
    // hot path) spares the allocation.
    if status.is_client_error() || status.is_server_error() {
        res.extensions_mut().insert(FinishedPage);
    }
    res
}

/// The `Content-Type` of every page (what `ContentType::html()` says, without building it
/// per answer).
const HTML: &str = "text/html; charset=utf-8";

/// Builds Tera from the `.html` files of `dir`, each replaced by the file of the same name
/// in `overlay` (a brand's), with autoescaping for `.html` (Tera's default), and checks
/// that every template roomgate renders is there.
pub fn load_templates(dir: &Path, overlay: Option<&Path>) -> Result<Tera, String> {
    let mut files: std::collections::BTreeMap<String, PathBuf> = Default::default();
    for folder in std::iter::once(dir).chain(overlay) {
        collect_templates(folder, folder, &mut files)
            .map_err(|e| format!("branding.templates_dir: `{}`: {e}", folder.display()))?;
    }
    let mut tera = Tera::default();
    tera.add_template_files(files.iter().map(|(name, path)| (path, Some(name.as_str()))))
        .map_err(|e| {
            let mut msg = format!("branding.templates_dir: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                msg.push_str(&format!(": {s}"));
                source = s.source();
            }
            msg
        })?;
    let names: Vec<&str> = tera.get_template_names().collect();
    let missing: Vec<&str> = TEMPLATES
        .iter()
        .copied()
        .filter(|t| !names.contains(t))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "branding.templates_dir: `{}` lacks {}",
            dir.display(),
            missing.join(", ")
        ));
    }
    Ok(tera)
}

/// Every `.html` file under `folder`, named by its path below `root` with `/`.
fn collect_templates(
    root: &Path,
    folder: &Path,
    out: &mut std::collections::BTreeMap<String, PathBuf>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_templates(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "html")
            && let Ok(relative) = path.strip_prefix(root)
        {
            let name = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.insert(name, path);
        }
    }
    Ok(())
}

//! The pages roomgate renders: Tera, loaded once at start-up, and one `Serialize` view
//! per page, so every template's context is a typed struct.

use std::path::Path;

use actix_web::{
    HttpResponse,
    http::{StatusCode, header::ContentType},
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

/// Tera plus what every page shows of the site.
pub struct Pages {
    tera: Tera,
    site: SiteView,
    /// Per language, the part of every page's context that never changes (`lang`, `t`,
    /// `site`), built once: serialising the words on every render was a sixth of the
    /// time of a page.
    base: HashMap<Language, Context>,
}

impl Pages {
    /// Loads every template of `branding.templates_dir`; a broken template stops start-up.
    pub fn load(branding: &BrandingSettings, asset_version: String) -> Result<Self, String> {
        let tera = load_templates(&branding.templates_dir)?;
        let site = SiteView {
            name: branding.site_name.clone(),
            logo_url: branding.logo_url.clone(),
            favicon_url: branding.favicon_url.clone(),
            support_url: Some(branding.support_url.clone()).filter(|s| !s.is_empty()),
            asset_version,
        };
        let base = LANGUAGES
            .iter()
            .map(|lang| {
                let mut ctx = Context::new();
                ctx.insert("lang", lang.code());
                ctx.insert("t", lang.words());
                ctx.insert("site", &site);
                (*lang, ctx)
            })
            .collect();
        Ok(Pages { tera, site, base })
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
        let mut ctx = self.base.get(&lang).cloned().unwrap_or_default();
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
        .content_type(ContentType::html())
        .body(html);
    res.extensions_mut().insert(FinishedPage);
    res
}

/// Builds Tera from `dir` with autoescaping for `.html` (Tera's default) and checks that
/// every template roomgate renders is there.
fn load_templates(dir: &Path) -> Result<Tera, String> {
    let glob = format!("{}/**/*.html", dir.display());
    let tera = Tera::new(&glob).map_err(|e| {
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

//! Static files and the brand colour sheet.
//!
//! Pages link assets as `/static/…?v={version}`, where the version is a hash of the whole
//! static folder taken at start-up, so the files can be cached for a year: a changed file
//! changes every link.

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    path::Path,
};

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};

/// `Cache-Control` for static files and the theme sheet.
pub const LONG_CACHE: &str = "public, max-age=31536000, immutable";

/// A hash of every file name and content under `dir` (taken once per folder at start-up).
pub fn digest_of(dir: &Path) -> u64 {
    let mut hasher = DefaultHasher::new();
    let mut files = Vec::new();
    collect_files(dir, &mut files);
    files.sort();
    for file in files {
        file.hash(&mut hasher);
        std::fs::read(&file).unwrap_or_default().hash(&mut hasher);
    }
    hasher.finish()
}

/// The asset version of a brand: a short hash of the base static folder's digest, the
/// brand's own folder's, and the brand colour (which `/theme.css` carries).
pub fn version(base: u64, overlay: Option<u64>, primary_color: &str) -> String {
    let mut hasher = DefaultHasher::new();
    primary_color.hash(&mut hasher);
    base.hash(&mut hasher);
    overlay.hash(&mut hasher);
    format!("{:010x}", hasher.finish() & 0xff_ffff_ffff)
}

/// The asset version of one static folder and colour.
pub fn version_of(dir: &Path, primary_color: &str) -> String {
    version(digest_of(dir), None, primary_color)
}

fn collect_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The static files of `dir` (mounted under `/static`), with long cache lifetimes and no directory listings.
pub fn static_files(dir: &Path) -> actix_files::Files {
    actix_files::Files::new("", dir)
        .use_etag(true)
        .use_last_modified(true)
        .prefer_utf8(true)
}

/// Adds the long cache header to a static answer that does not carry one yet.
pub fn set_long_cache<B>(res: &mut actix_web::dev::ServiceResponse<B>) {
    if res.status().is_success() || res.status() == actix_web::http::StatusCode::NOT_MODIFIED {
        res.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static(LONG_CACHE));
    }
}

/// The brand colours as CSS custom properties (`/theme.css`), from `branding.primary_color`.
#[derive(Clone)]
pub struct ThemeSheet(pub String);

impl ThemeSheet {
    /// Builds the sheet; the colour was validated as `#rgb` or `#rrggbb` at start-up.
    pub fn new(primary: &str) -> Self {
        let contrast = if is_dark(primary) {
            "#ffffff"
        } else {
            "#111111"
        };
        ThemeSheet(format!(
            ":root{{--brand:{primary};--brand-contrast:{contrast}}}\n"
        ))
    }
}

/// Whether white text reads better than black on `hex` (WCAG relative luminance).
fn is_dark(hex: &str) -> bool {
    let h = hex.trim_start_matches('#');
    let full: String = if h.len() == 3 {
        h.chars().flat_map(|c| [c, c]).collect()
    } else {
        h.to_owned()
    };
    let channel = |i: usize| {
        let v = f64::from(u8::from_str_radix(full.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0))
            / 255.0;
        if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
    // Contrast with white beats contrast with black below this luminance.
    luminance < 0.179
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_colour_follows_the_brand_colour() {
        assert!(
            ThemeSheet::new("#1f5fd6")
                .0
                .contains("--brand-contrast:#ffffff")
        );
        assert!(
            ThemeSheet::new("#ffd700")
                .0
                .contains("--brand-contrast:#111111")
        );
        assert!(
            ThemeSheet::new("#000")
                .0
                .contains("--brand-contrast:#ffffff")
        );
    }
}

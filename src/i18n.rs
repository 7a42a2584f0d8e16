//! Languages: every word of roomgate's own pages comes from `locales/{code}.toml`
//! (compiled in), English and Polish. The language is chosen by `?lang=` (remembered in
//! the session), then `Accept-Language`, then `branding.default_language`.

use std::{collections::HashMap, sync::LazyLock};

use actix_web::HttpRequest;
use chrono::{DateTime, Locale};
use chrono_tz::Tz;

use crate::room::query::pairs;

/// A language roomgate speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Language {
    En,
    Pl,
}

/// Every language, in the order offered.
pub const LANGUAGES: [Language; 2] = [Language::En, Language::Pl];

/// The words of each language, read once.
static WORDS: LazyLock<HashMap<Language, HashMap<String, String>>> = LazyLock::new(|| {
    LANGUAGES
        .iter()
        .map(|lang| {
            let words: HashMap<String, String> = toml::from_str(lang.source()).unwrap_or_default();
            (*lang, words)
        })
        .collect()
});

impl Language {
    /// `en`, `pl`: the code in URLs, the session and `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Pl => "pl",
        }
    }

    /// The language with `code` (case-insensitive, region ignored: `pl-PL` is `pl`).
    pub fn from_code(code: &str) -> Option<Self> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        LANGUAGES.into_iter().find(|l| l.code() == primary)
    }

    /// Every code, for messages.
    pub fn codes() -> Vec<&'static str> {
        LANGUAGES.iter().map(|l| l.code()).collect()
    }

    fn source(self) -> &'static str {
        match self {
            Language::En => include_str!("../locales/en.toml"),
            Language::Pl => include_str!("../locales/pl.toml"),
        }
    }

    /// Every word of this language, by key.
    pub fn words(self) -> &'static HashMap<String, String> {
        &WORDS[&self]
    }

    /// One word; the key itself when missing (a test makes sure none is).
    pub fn word(self, key: &str) -> &'static str {
        self.words().get(key).map(String::as_str).unwrap_or("")
    }

    /// A word with `{name}` placeholders filled in.
    pub fn fill(self, key: &str, values: &[(&str, &str)]) -> String {
        let mut text = self.word(key).to_owned();
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// Date and time in this language: "Tuesday, 1 December 2026, 16:00 CET".
    pub fn format_datetime(self, t: &DateTime<Tz>) -> String {
        t.format_localized("%A, %-d %B %Y, %H:%M %Z", self.locale())
            .to_string()
    }

    /// Time of day only: "17:30 CET".
    pub fn format_time(self, t: &DateTime<Tz>) -> String {
        t.format_localized("%H:%M %Z", self.locale()).to_string()
    }

    fn locale(self) -> Locale {
        match self {
            Language::En => Locale::en_GB,
            Language::Pl => Locale::pl_PL,
        }
    }

    /// The option to hand the vendor's embed for this language. The vendor documents none
    /// today, so nothing is sent; when it does, return it here and `room::embed` passes it on.
    pub fn embed_option(self) -> Option<(&'static str, String)> {
        None
    }
}

/// The language asked for in the query (`?lang=pl`), if it is one roomgate speaks.
pub fn from_query(query: &str) -> Option<Language> {
    pairs(query)
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Language::from_code(&v))
}

/// The best language of an `Accept-Language` header, by its q-values.
pub fn from_accept_language(header: &str) -> Option<Language> {
    let mut best: Option<(f32, Language)> = None;
    for part in header.split(',').take(20) {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or("").trim();
        let q = pieces
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if let Some(lang) = Language::from_code(tag)
            && q > 0.0
            && best.is_none_or(|(b, _)| q > b)
        {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l)
}

/// The language of a request: query, then the session's choice, then `Accept-Language`,
/// then the default.
pub fn choose(req: &HttpRequest, remembered: Option<&str>, default: Language) -> Language {
    from_query(req.query_string())
        .or_else(|| remembered.and_then(Language::from_code))
        .or_else(|| {
            req.headers()
                .get("accept-language")
                .and_then(|v| v.to_str().ok())
                .and_then(from_accept_language)
        })
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_word() {
        let english = Language::En.words();
        assert!(english.len() > 50);
        for lang in LANGUAGES {
            let words = lang.words();
            let mut missing: Vec<_> = english.keys().filter(|k| !words.contains_key(*k)).collect();
            let mut extra: Vec<_> = words.keys().filter(|k| !english.contains_key(*k)).collect();
            missing.sort();
            extra.sort();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{lang:?}: missing {missing:?}, extra {extra:?}"
            );
            assert!(
                words.values().all(|w| !w.trim().is_empty()),
                "{lang:?}: empty words"
            );
        }
    }

    #[test]
    fn accept_language_is_read_by_preference() {
        assert_eq!(
            from_accept_language("pl-PL,pl;q=0.9,en;q=0.8"),
            Some(Language::Pl)
        );
        assert_eq!(
            from_accept_language("de-DE, en;q=0.5, pl;q=0.7"),
            Some(Language::Pl)
        );
        assert_eq!(from_accept_language("de, fr"), None);
        assert_eq!(from_accept_language("pl;q=0, en;q=0.1"), Some(Language::En));
        assert_eq!(from_accept_language("*"), None);
    }

    #[test]
    fn dates_are_written_in_each_language() {
        let t = "2026-12-01T15:00:00Z"
            .parse::<DateTime<chrono::Utc>>()
            .unwrap()
            .with_timezone(&chrono_tz::Europe::Warsaw);
        assert_eq!(
            Language::En.format_datetime(&t),
            "Tuesday, 1 December 2026, 16:00 CET"
        );
        assert_eq!(
            Language::Pl.format_datetime(&t),
            "wtorek, 1 grudnia 2026, 16:00 CET"
        );
    }
}

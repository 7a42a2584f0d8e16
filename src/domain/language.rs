//! Languages: every word of roomgate's own pages comes from `locales/{code}.toml`
//! (compiled in), English and Polish. Which one a visit gets is decided in
//! `visit::language`.

use std::{collections::HashMap, sync::LazyLock};

use chrono::{DateTime, Locale};
use chrono_tz::Tz;

/// A language roomgate speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Language {
    #[default]
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
            Language::En => include_str!("../../locales/en.toml"),
            Language::Pl => include_str!("../../locales/pl.toml"),
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
    /// today, so nothing is sent; when it does, return it here and `visit::embed` passes it on.
    pub fn embed_option(self) -> Option<(&'static str, String)> {
        None
    }
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

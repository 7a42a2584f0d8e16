//! Which language a visit gets: `?lang=` (remembered in the session), then
//! `Accept-Language`, then `branding.default_language`.

use super::query::pairs;
use crate::domain::Language;

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

/// The language of a visit: the query's `?lang=`, then the session's choice, then the
/// `Accept-Language` header, then the default.
pub fn choose(
    query: &str,
    remembered: Option<&str>,
    accept_language: Option<&str>,
    default: Language,
) -> Language {
    from_query(query)
        .or_else(|| remembered.and_then(Language::from_code))
        .or_else(|| accept_language.and_then(from_accept_language))
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_query_wins_then_the_session_then_the_header_then_the_default() {
        let pl = Some("pl");
        assert_eq!(choose("lang=en", pl, pl, Language::Pl), Language::En);
        assert_eq!(choose("", pl, Some("en"), Language::En), Language::Pl);
        assert_eq!(choose("", None, pl, Language::En), Language::Pl);
        assert_eq!(choose("lang=xx", None, None, Language::Pl), Language::Pl);
    }
}

//! The grammar of every value a visitor can put in a room URL. Each check is a plain
//! function: a value either comes back cleaned, or is dropped (never echoed, never a 500).

use regex::Regex;

/// Longest nickname, in characters, after cleaning.
pub const NICKNAME_MAX_CHARS: usize = 100;
/// Longest avatar URL we pass on.
pub const AVATAR_URL_MAX_BYTES: usize = 2048;
/// Longest email address (RFC 5321 path limit).
pub const EMAIL_MAX_BYTES: usize = 254;

/// The grammar of LiveWebinar's own room keys: three groups of three digits.
pub const DEFAULT_LICENSE_PATTERN: &str = "^[0-9]{3}-[0-9]{3}-[0-9]{3}$";

/// The configured room-key grammar (`rooms.license_pattern`), compiled once by the
/// settings' checks.
#[derive(Debug, Clone)]
pub struct LicensePattern(Regex);

impl Default for LicensePattern {
    fn default() -> Self {
        Self::new(DEFAULT_LICENSE_PATTERN).expect("the default room-key pattern compiles")
    }
}

impl LicensePattern {
    /// Compiles the pattern.
    pub fn new(pattern: &str) -> Result<Self, regex::Error> {
        Regex::new(pattern).map(Self)
    }

    /// Whether `key` is a well-formed room key. Long input is refused before the regex.
    pub fn matches(&self, key: &str) -> bool {
        key.len() <= 128 && self.0.is_match(key)
    }
}

/// Role hashes and tokens: `^[A-Za-z0-9_-]{1,128}$`.
pub fn is_token(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Longest personal token: the page's hostile-input checks and the session cookie's
/// budget are sized for 128 bytes, like every other token.
pub const PERSONAL_TOKEN_MAX_BYTES: usize = 128;

/// Personal tokens (`widgets/{id}/personal`): 1 to 128 URL-unreserved characters,
/// `^[A-Za-z0-9._~-]{1,128}$`. The vendor documents no grammar for them, so this is
/// [`is_token`] widened by `.` and `~`, which are as harmless in a query string, a
/// JSON string and the loader URL; anything wider would need encoding somewhere.
pub fn is_personal_token(value: &str) -> bool {
    (1..=PERSONAL_TOKEN_MAX_BYTES).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Bidirectional formatting characters: they can make a name display as something else
/// (and reverse the text around it in the participant list).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A display name: control and bidi formatting characters removed, trimmed, 1 to 100
/// characters.
pub fn clean_nickname(raw: &str) -> Option<String> {
    // Refuse absurd input before doing any work on it.
    if raw.len() > NICKNAME_MAX_CHARS * 8 {
        return None;
    }
    let without_controls: String = raw
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .collect();
    let trimmed = without_controls.trim();
    let count = trimmed.chars().count();
    (1..=NICKNAME_MAX_CHARS)
        .contains(&count)
        .then(|| trimmed.to_owned())
}

/// An email address that parses (RFC 5322 addr-spec), at most 254 bytes.
pub fn clean_email(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    (trimmed.len() <= EMAIL_MAX_BYTES
        && !trimmed.contains(|c: char| c.is_control())
        && email_address::EmailAddress::is_valid(trimmed))
    .then(|| trimmed.to_owned())
}

/// An avatar URL: absolute `https:` with a host, no user info, at most 2048 bytes as
/// passed on (after percent-encoding, which can triple the length).
pub fn clean_avatar_url(raw: &str) -> Option<String> {
    // Refuse absurd input before parsing it; the limit itself applies to the result.
    if raw.len() > AVATAR_URL_MAX_BYTES {
        return None;
    }
    let url = url::Url::parse(raw.trim()).ok()?;
    (url.scheme() == "https"
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none()
        && url.as_str().len() <= AVATAR_URL_MAX_BYTES)
        .then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_license_pattern_accepts_only_three_groups_of_three_digits() {
        let p = LicensePattern::new("^[0-9]{3}-[0-9]{3}-[0-9]{3}$").unwrap();
        assert!(p.matches("123-123-123"));
        for bad in [
            "",
            "123-123-12",
            "123-123-1234",
            "abc-123-123",
            "123_123_123",
            "123-123-123\n",
            "../123-123",
            " 123-123-123",
        ] {
            assert!(!p.matches(bad), "{bad:?} must be refused");
        }
    }

    #[test]
    fn tokens_follow_their_grammar() {
        assert!(is_token("abcXYZ_09-"));
        assert!(is_token(&"a".repeat(128)));
        assert!(!is_token(&"a".repeat(129)));
        assert!(!is_token(""));
        for bad in ["a b", "a%20", "a/b", "a.b", "ą", "a\0"] {
            assert!(!is_token(bad), "{bad:?} must be refused");
        }
    }

    #[test]
    fn personal_tokens_may_also_hold_dots_and_tildes() {
        assert!(is_personal_token("v1.Ab~cd-9_Z"));
        assert!(is_personal_token(&"a".repeat(128)));
        assert!(!is_personal_token(&"a".repeat(129)));
        assert!(!is_personal_token(""));
        for bad in [
            "a b", "a%20", "a/b", "a+b", "a=b", "a&b", "a\"b", "<x>", "ą", "a\0",
        ] {
            assert!(!is_personal_token(bad), "{bad:?} must be refused");
        }
    }

    #[test]
    fn nicknames_are_cleaned_or_dropped() {
        assert_eq!(clean_nickname("  Ada  ").as_deref(), Some("Ada"));
        assert_eq!(clean_nickname("A\u{0}d\u{7}a\n").as_deref(), Some("Ada"));
        assert_eq!(clean_nickname("   "), None);
        assert_eq!(clean_nickname("\u{1}\u{2}"), None);
        assert_eq!(
            clean_nickname(&"é".repeat(100)).map(|n| n.chars().count()),
            Some(100)
        );
        assert_eq!(clean_nickname(&"é".repeat(101)), None);
        assert_eq!(clean_nickname(&"x".repeat(10_000)), None);
        assert_eq!(clean_nickname("Zoë 🎉").as_deref(), Some("Zoë 🎉"));
    }

    #[test]
    fn emails_must_parse() {
        assert_eq!(
            clean_email("ada@example.com").as_deref(),
            Some("ada@example.com")
        );
        assert_eq!(clean_email("not-an-email"), None);
        assert_eq!(clean_email("a@b@c"), None);
        assert_eq!(
            clean_email(&format!("{}@example.com", "a".repeat(250))),
            None
        );
    }

    #[test]
    fn avatars_must_be_https_urls() {
        assert_eq!(
            clean_avatar_url("https://cdn.example.com/a.png").as_deref(),
            Some("https://cdn.example.com/a.png")
        );
        for bad in [
            "http://cdn.example.com/a.png",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "//cdn.example.com/a.png",
            "https://user:pw@cdn.example.com/a.png",
            "/a.png",
        ] {
            assert_eq!(clean_avatar_url(bad), None, "{bad:?} must be refused");
        }
    }

    #[test]
    fn the_avatar_limit_applies_to_the_encoded_url() {
        let fits = format!("https://cdn.example.com/{}", "é".repeat(337));
        assert_eq!(clean_avatar_url(&fits).map(|u| u.len()), Some(2046));
        let grows_past = format!("https://cdn.example.com/{}", "é".repeat(338));
        assert!(grows_past.len() < AVATAR_URL_MAX_BYTES);
        assert_eq!(clean_avatar_url(&grows_past), None);
    }
}

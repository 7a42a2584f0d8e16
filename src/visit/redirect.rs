//! Redirect targets taken from a request: same-site paths only.

use percent_encoding::percent_decode_str;

/// `raw` if it is a path on this site, else `None`.
///
/// A single leading `/` (not `//`), no backslash, no control characters (nor raw spaces), no
/// scheme; checked on the raw value and on every decoding of it, so `%2F%2Fevil` or
/// `%5Cevil` cannot turn into another site in a browser that decodes once more.
pub fn safe_return_path(raw: &str) -> Option<String> {
    if raw.len() > 2048 || raw.contains(char::is_whitespace) {
        return None;
    }
    let mut current = raw.to_owned();
    for _ in 0..4 {
        if !is_plain_path(&current) {
            return None;
        }
        let decoded = percent_decode_str(&current)
            .decode_utf8()
            .ok()?
            .into_owned();
        if decoded == current {
            return Some(raw.to_owned());
        }
        current = decoded;
    }
    // Still changing after several decodings: nobody sends that in good faith.
    None
}

fn is_plain_path(p: &str) -> bool {
    p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.contains(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_site_paths_are_kept() {
        for ok in [
            "/",
            "/room/123-123-123",
            "/room/123-123-123/H0st?x=1",
            "/a%20b",
        ] {
            assert_eq!(safe_return_path(ok).as_deref(), Some(ok), "{ok}");
        }
    }

    #[test]
    fn anything_that_could_leave_the_site_is_refused() {
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "/%5Cevil.example",
            "%2F%2Fevil.example",
            "/%2F/evil.example",
            "/%252F/evil.example",
            "\t/evil",
            "/\t/evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
            "/%0a/evil",
        ] {
            assert_eq!(safe_return_path(bad), None, "{bad:?}");
        }
    }
}

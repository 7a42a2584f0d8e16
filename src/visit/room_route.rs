//! The room routes of a request path, matched by hand.
//!
//! Nearly all traffic is `/room/…`, and the framework's router finds it by trying regular
//! expressions in turn. This parser gives the same answer for the four room routes with a
//! prefix check and a split, so the hot routes can skip the regex router. "The same answer"
//! is exact: the router matches the path after its partial percent-decoding (every `%XX`
//! decoded except `%25`, `%2F` and `%2B`, invalid UTF-8 replaced), a dynamic segment is one
//! or more bytes other than `/`, the match spans the whole path, and `join` and
//! `calendar.ics` are tried before a role hash. Which methods a route takes is not decided
//! here.

use std::borrow::Cow;

/// One of the room routes, with its segments as the router would capture them (still
/// percent-encoded where the router keeps them encoded; their grammar is checked later, by
/// `visit::path::RoomPath::parse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomRoute<'a> {
    /// `/room/{license}`: the attendee page.
    Attendee { license: Cow<'a, str> },
    /// `/room/{license}/{role_hash}`: a role link.
    Role {
        license: Cow<'a, str>,
        role_hash: Cow<'a, str>,
    },
    /// `/room/{license}/join`: the name prompt's form.
    Join { license: Cow<'a, str> },
    /// `/room/{license}/calendar.ics`: the attendee calendar file.
    Calendar { license: Cow<'a, str> },
}

impl<'a> RoomRoute<'a> {
    /// The room route that `path` (the request URI's path, as received) names, or `None`
    /// for any other path, including extra, empty or trailing segments.
    pub fn parse(path: &'a str) -> Option<Self> {
        // Nearly every path has no escape at all: then nothing is copied.
        if !path.contains('%') {
            return split(path);
        }
        let decoded = requote(path);
        split(&decoded).map(RoomRoute::into_owned)
    }

    /// The room key segment, common to all four routes.
    pub fn license(&self) -> &str {
        match self {
            RoomRoute::Attendee { license }
            | RoomRoute::Role { license, .. }
            | RoomRoute::Join { license }
            | RoomRoute::Calendar { license } => license,
        }
    }

    fn into_owned(self) -> RoomRoute<'static> {
        let own = |s: Cow<'_, str>| Cow::Owned(s.into_owned());
        match self {
            RoomRoute::Attendee { license } => RoomRoute::Attendee {
                license: own(license),
            },
            RoomRoute::Role { license, role_hash } => RoomRoute::Role {
                license: own(license),
                role_hash: own(role_hash),
            },
            RoomRoute::Join { license } => RoomRoute::Join {
                license: own(license),
            },
            RoomRoute::Calendar { license } => RoomRoute::Calendar {
                license: own(license),
            },
        }
    }
}

/// The route of an already decoded path.
fn split(path: &str) -> Option<RoomRoute<'_>> {
    let rest = path.strip_prefix("/room/")?;
    let (license, second) = match rest.split_once('/') {
        None => (rest, None),
        Some((license, second)) => (license, Some(second)),
    };
    if license.is_empty() {
        return None;
    }
    let license = Cow::Borrowed(license);
    let Some(second) = second else {
        return Some(RoomRoute::Attendee { license });
    };
    // A second segment must be whole: not empty (a trailing slash) and not followed by more.
    if second.is_empty() || second.contains('/') {
        return None;
    }
    Some(match second {
        "join" => RoomRoute::Join { license },
        "calendar.ics" => RoomRoute::Calendar { license },
        hash => RoomRoute::Role {
            license,
            role_hash: Cow::Borrowed(hash),
        },
    })
}

/// The path with its escapes decoded as the router decodes them before matching: `%25`,
/// `%2F` and `%2B` stay as they are (so a decoded `/` never splits a segment), a `%` not
/// followed by two hex digits is kept, and bytes that are not UTF-8 after decoding become
/// U+FFFD.
fn requote(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            let byte = (hi << 4) | lo;
            if !matches!(byte, b'%' | b'/' | b'+') {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attendee(license: &str) -> Option<RoomRoute<'static>> {
        Some(RoomRoute::Attendee {
            license: Cow::Owned(license.to_owned()),
        })
    }

    fn role(license: &str, hash: &str) -> Option<RoomRoute<'static>> {
        Some(RoomRoute::Role {
            license: Cow::Owned(license.to_owned()),
            role_hash: Cow::Owned(hash.to_owned()),
        })
    }

    fn join(license: &str) -> Option<RoomRoute<'static>> {
        Some(RoomRoute::Join {
            license: Cow::Owned(license.to_owned()),
        })
    }

    fn calendar(license: &str) -> Option<RoomRoute<'static>> {
        Some(RoomRoute::Calendar {
            license: Cow::Owned(license.to_owned()),
        })
    }

    #[test]
    fn the_four_room_routes_are_recognised() {
        assert_eq!(
            RoomRoute::parse("/room/123-123-123"),
            attendee("123-123-123")
        );
        assert_eq!(
            RoomRoute::parse("/room/123-123-123/abcxyz123"),
            role("123-123-123", "abcxyz123")
        );
        assert_eq!(
            RoomRoute::parse("/room/123-123-123/join"),
            join("123-123-123")
        );
        assert_eq!(
            RoomRoute::parse("/room/123-123-123/calendar.ics"),
            calendar("123-123-123")
        );
    }

    #[test]
    fn a_plain_path_is_not_copied() {
        let route = RoomRoute::parse("/room/123-123-123/abc").unwrap();
        assert!(matches!(
            route,
            RoomRoute::Role {
                license: Cow::Borrowed(_),
                role_hash: Cow::Borrowed(_)
            }
        ));
        assert_eq!(route.license(), "123-123-123");
    }

    #[test]
    fn a_trailing_slash_matches_no_route() {
        assert_eq!(RoomRoute::parse("/room/123-123-123/"), None);
        assert_eq!(RoomRoute::parse("/room/123-123-123/abc/"), None);
        assert_eq!(RoomRoute::parse("/room/123-123-123/join/"), None);
        assert_eq!(RoomRoute::parse("/room/"), None);
    }

    #[test]
    fn an_empty_segment_matches_no_route() {
        assert_eq!(RoomRoute::parse("/room//abc"), None);
        assert_eq!(RoomRoute::parse("/room//"), None);
        assert_eq!(RoomRoute::parse("//room/123"), None);
        assert_eq!(RoomRoute::parse("/room/123//abc"), None);
    }

    #[test]
    fn an_extra_segment_matches_no_route() {
        assert_eq!(RoomRoute::parse("/room/123/abc/def"), None);
        assert_eq!(RoomRoute::parse("/room/123/join/x"), None);
        assert_eq!(RoomRoute::parse("/room/123/calendar.ics/x"), None);
    }

    #[test]
    fn other_paths_match_no_route() {
        for path in [
            "",
            "/",
            "/room",
            "/rooms/123",
            "/Room/123",
            "/room123",
            "/healthz",
            "room/123",
            "/static/room/123",
            "/admin/api/rooms/123",
        ] {
            assert_eq!(RoomRoute::parse(path), None, "{path}");
        }
    }

    #[test]
    fn join_and_calendar_are_exact_and_case_sensitive() {
        assert_eq!(RoomRoute::parse("/room/123/JOIN"), role("123", "JOIN"));
        assert_eq!(RoomRoute::parse("/room/123/joins"), role("123", "joins"));
        assert_eq!(
            RoomRoute::parse("/room/123/calendar"),
            role("123", "calendar")
        );
        assert_eq!(
            RoomRoute::parse("/room/123/calendarXics"),
            role("123", "calendarXics")
        );
        assert_eq!(RoomRoute::parse("/room/join"), attendee("join"));
        assert_eq!(RoomRoute::parse("/room/join/join"), join("join"));
    }

    #[test]
    fn escapes_are_decoded_before_matching() {
        assert_eq!(RoomRoute::parse("/r%6Fom/123"), attendee("123"));
        assert_eq!(RoomRoute::parse("/room/123/j%6Fin"), join("123"));
        assert_eq!(
            RoomRoute::parse("/room/123/calendar%2Eics"),
            calendar("123")
        );
        assert_eq!(RoomRoute::parse("/room/%31%32%33"), attendee("123"));
        assert_eq!(RoomRoute::parse("/room/caf%C3%A9"), attendee("café"));
        assert_eq!(RoomRoute::parse("/room/%e2%80%a8"), attendee("\u{2028}"));
    }

    #[test]
    fn an_escaped_slash_percent_or_plus_stays_escaped() {
        assert_eq!(RoomRoute::parse("/room/a%2Fb"), attendee("a%2Fb"));
        assert_eq!(RoomRoute::parse("/room%2F123"), None);
        assert_eq!(RoomRoute::parse("/room/a%2fb/c"), role("a%2fb", "c"));
        assert_eq!(RoomRoute::parse("/room/100%25"), attendee("100%25"));
        assert_eq!(RoomRoute::parse("/room/a%2Bb"), attendee("a%2Bb"));
        assert_eq!(RoomRoute::parse("/room/a+b"), attendee("a+b"));
    }

    #[test]
    fn a_broken_escape_is_kept_as_it_is() {
        assert_eq!(RoomRoute::parse("/room/a%"), attendee("a%"));
        assert_eq!(RoomRoute::parse("/room/a%4"), attendee("a%4"));
        assert_eq!(RoomRoute::parse("/room/a%zz"), attendee("a%zz"));
        assert_eq!(RoomRoute::parse("/room/%%41"), attendee("%A"));
    }

    #[test]
    fn bytes_that_are_not_utf8_after_decoding_become_replacement_characters() {
        assert_eq!(RoomRoute::parse("/room/a%FFb"), attendee("a\u{FFFD}b"));
        assert_eq!(RoomRoute::parse("/room/%C3"), attendee("\u{FFFD}"));
    }

    /// The framework's own matcher over the four room routes, in the route table's order.
    fn framework(path: &str) -> Option<RoomRoute<'static>> {
        use actix_web::dev::{Path, ResourceDef, Url};
        let uri: actix_web::http::Uri = path.parse().ok()?;
        let defs = [
            ResourceDef::new("/room/{license}"),
            ResourceDef::new("/room/{license}/join"),
            ResourceDef::new("/room/{license}/calendar.ics"),
            ResourceDef::new("/room/{license}/{role_hash}"),
        ];
        let mut info = Path::new(Url::new(uri));
        let which = defs.iter().position(|d| d.capture_match_info(&mut info))?;
        let license = info.get("license")?.to_owned();
        Some(match which {
            0 => RoomRoute::Attendee {
                license: license.into(),
            },
            1 => RoomRoute::Join {
                license: license.into(),
            },
            2 => RoomRoute::Calendar {
                license: license.into(),
            },
            _ => RoomRoute::Role {
                license: license.into(),
                role_hash: info.get("role_hash")?.to_owned().into(),
            },
        })
    }

    #[test]
    fn every_edge_case_here_is_matched_as_the_framework_matches_it() {
        for path in [
            "/room/123-123-123",
            "/room/123-123-123/abcxyz123",
            "/room/123-123-123/join",
            "/room/123-123-123/calendar.ics",
            "/room/123-123-123/",
            "/room/",
            "/room//abc",
            "/room/123//abc",
            "/room/123/abc/def",
            "/room/123/JOIN",
            "/room/123/calendarXics",
            "/r%6Fom/123",
            "/room/123/j%6Fin",
            "/room/a%2Fb",
            "/room%2F123",
            "/room/100%25",
            "/room/a%2Bb",
            "/room/a%",
            "/room/%%41",
            "/room/a%FFb",
            "/room/caf%C3%A9",
            "/room",
            "/",
        ] {
            assert_eq!(RoomRoute::parse(path), framework(path), "{path}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_path_is_matched_as_the_framework_matches_it(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "/", "room", "/room/", "join", "calendar.ics", "%", "%2F", "%2f", "%25",
                    "%2B", "%41", "%6F", "%C3", "%A9", "%FF", "4", "a", "-", "+", ".", "é",
                ]),
                0..10,
            )
        ) {
            let path = format!("/{}", parts.concat());
            // Only paths a request line can carry reach the router.
            if path.parse::<actix_web::http::Uri>().is_ok_and(|u| u.path() == path) {
                proptest::prop_assert_eq!(RoomRoute::parse(&path), framework(&path));
            }
        }
    }
}

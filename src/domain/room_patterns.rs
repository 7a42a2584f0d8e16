//! Which rooms a brand may serve: room keys and key patterns such as `123-*` (`*` any run
//! of characters, `?` exactly one). A brand without a list serves every room.

/// A brand's rooms: exact keys and simple wildcard patterns, or every room.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomPatterns(Vec<String>);

impl RoomPatterns {
    /// Every room.
    pub fn all() -> Self {
        RoomPatterns(Vec::new())
    }

    /// The rooms of `patterns`; an empty list means every room.
    pub fn new(patterns: &[String]) -> Self {
        RoomPatterns(patterns.to_vec())
    }

    /// Whether the brand serves every room.
    pub fn is_all(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the room with `key` is one of the brand's.
    pub fn allows(&self, key: &str) -> bool {
        self.is_all() || self.0.iter().any(|p| wildcard_match(p, key))
    }

    /// The patterns that match none of `keys` (the start-up warning of a brand whose
    /// list names rooms its catalog does not have).
    pub fn unmatched<'a>(&'a self, keys: &[&str]) -> Vec<&'a str> {
        self.0
            .iter()
            .filter(|p| !keys.iter().any(|k| wildcard_match(p, k)))
            .map(String::as_str)
            .collect()
    }
}

/// `*` matches any run of characters (also none), `?` exactly one; everything else itself.
/// Greedy with one backtrack point, so it is linear in practice and never explodes.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and where in the text it started matching.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                // Let the last `*` swallow one more character and try again.
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(list: &[&str]) -> RoomPatterns {
        RoomPatterns::new(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn no_list_serves_every_room() {
        assert!(RoomPatterns::all().allows("123-123-123"));
        assert!(patterns(&[]).allows("999-999-999"));
    }

    #[test]
    fn keys_and_wildcards_pick_rooms() {
        let p = patterns(&["111-111-111", "222-*", "3?3-333-333"]);
        assert!(p.allows("111-111-111"));
        assert!(!p.allows("111-111-112"));
        assert!(p.allows("222-000-000"));
        assert!(p.allows("222-"));
        assert!(!p.allows("2222-00"));
        assert!(p.allows("303-333-333"));
        assert!(!p.allows("33-333-333"));
    }

    #[test]
    fn wildcards_backtrack_and_anchor_both_ends() {
        assert!(wildcard_match("*-1*1", "1-1-21"));
        assert!(wildcard_match("*a*b", "xaxxab"));
        assert!(!wildcard_match("*a*b", "xaxxa"));
        assert!(wildcard_match("**", ""));
        assert!(!wildcard_match("a", "ab"));
        assert!(!wildcard_match("ab", "a"));
    }

    #[test]
    fn patterns_that_match_nothing_are_named() {
        let p = patterns(&["111-*", "999-999-999"]);
        assert_eq!(
            p.unmatched(&["111-000-000", "123-123-123"]),
            vec!["999-999-999"]
        );
    }
}

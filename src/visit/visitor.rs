//! Who is joining: the embed values resolved from the query, the session and a signed-in
//! identity, in the precedence order of the design (first source with a value wins).

use super::query::RoomQuery;
use super::remembered::{RoomTokens, VisitorState};

/// The visitor's values for one room page.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Visitor {
    pub nickname: Option<String>,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub personal_token: Option<String>,
    pub password_token: Option<String>,
    pub registrant_token: Option<String>,
    /// The name comes from a signed-in identity; the query cannot change it.
    pub name_locked: bool,
}

impl Visitor {
    /// Resolves the values for room `license` at `now` (Unix seconds).
    ///
    /// | value | sources, first wins |
    /// |---|---|
    /// | personal, password, registrant token | query; session (this room) |
    /// | nickname | identity; query; session |
    /// | email, avatar | identity; query; session |
    pub fn resolve(license: &str, query: &RoomQuery, state: &VisitorState, now: i64) -> Self {
        let identity = state.identity_at(now);
        let room = state.room(license);
        let from_room = |f: fn(&RoomTokens) -> &Option<String>| room.and_then(|r| f(r).as_ref());

        Visitor {
            nickname: first([
                identity.map(|i| &i.name),
                query.nickname.as_ref(),
                state.nickname.as_ref(),
            ]),
            email: first([
                identity.and_then(|i| i.email.as_ref()),
                query.email.as_ref(),
                state.email.as_ref(),
            ]),
            avatar_url: first([
                identity.and_then(|i| i.avatar_url.as_ref()),
                query.avatar_url.as_ref(),
                state.avatar_url.as_ref(),
            ]),
            personal_token: first([
                query.personal_token.as_ref(),
                from_room(|r| &r.personal_token),
            ]),
            password_token: first([
                query.password_token.as_ref(),
                from_room(|r| &r.password_token),
            ]),
            registrant_token: first([
                query.registrant_token.as_ref(),
                from_room(|r| &r.registrant_token),
            ]),
            name_locked: identity.is_some(),
        }
    }

    /// Whether the vendor will know this visitor's name: a nickname, or a personal token
    /// (the vendor stores the name with it).
    pub fn has_name(&self) -> bool {
        self.nickname.is_some() || self.personal_token.is_some()
    }
}

/// The first candidate present, copied (only the one chosen is).
fn first<const N: usize>(candidates: [Option<&String>; N]) -> Option<String> {
    candidates.into_iter().flatten().next().cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visit::remembered::Identity;

    const L: &str = "123-123-123";

    fn identity() -> Identity {
        Identity {
            name: "Signed In".into(),
            email: Some("signed@example.com".into()),
            avatar_url: Some("https://cdn.example.com/me.png".into()),
            expires_at: 1_000,
        }
    }

    fn query(nick: &str) -> RoomQuery {
        RoomQuery {
            nickname: Some(nick.into()),
            email: Some("query@example.com".into()),
            avatar_url: Some("https://cdn.example.com/q.png".into()),
            personal_token: Some("QueryToken".into()),
            ..RoomQuery::default()
        }
    }

    fn session() -> VisitorState {
        VisitorState {
            nickname: Some("Remembered".into()),
            email: Some("remembered@example.com".into()),
            rooms: vec![RoomTokens {
                license: L.into(),
                personal_token: Some("SessionToken".into()),
                ..RoomTokens::default()
            }],
            ..VisitorState::default()
        }
    }

    #[test]
    fn a_signed_in_identity_locks_the_name_against_the_query() {
        let state = VisitorState {
            identity: Some(identity()),
            ..session()
        };
        let v = Visitor::resolve(L, &query("Mallory"), &state, 10);
        assert_eq!(v.nickname.as_deref(), Some("Signed In"));
        assert_eq!(v.email.as_deref(), Some("signed@example.com"));
        assert_eq!(
            v.avatar_url.as_deref(),
            Some("https://cdn.example.com/me.png")
        );
        assert!(v.name_locked);
    }

    #[test]
    fn an_expired_identity_falls_back_to_the_query() {
        let state = VisitorState {
            identity: Some(identity()),
            ..session()
        };
        let v = Visitor::resolve(L, &query("Ada"), &state, 5_000);
        assert_eq!(v.nickname.as_deref(), Some("Ada"));
        assert!(!v.name_locked);
    }

    #[test]
    fn the_query_wins_over_the_session() {
        let v = Visitor::resolve(L, &query("Ada"), &session(), 10);
        assert_eq!(v.nickname.as_deref(), Some("Ada"));
        assert_eq!(v.email.as_deref(), Some("query@example.com"));
        assert_eq!(v.personal_token.as_deref(), Some("QueryToken"));
    }

    #[test]
    fn the_session_fills_what_the_query_lacks() {
        let v = Visitor::resolve(L, &RoomQuery::default(), &session(), 10);
        assert_eq!(v.nickname.as_deref(), Some("Remembered"));
        assert_eq!(v.email.as_deref(), Some("remembered@example.com"));
        assert_eq!(v.personal_token.as_deref(), Some("SessionToken"));
    }

    #[test]
    fn tokens_of_another_room_are_not_used() {
        let v = Visitor::resolve("999-999-999", &RoomQuery::default(), &session(), 10);
        assert_eq!(v.personal_token, None);
        assert_eq!(
            v.nickname.as_deref(),
            Some("Remembered"),
            "names are visitor-wide"
        );
    }
}

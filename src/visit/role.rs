//! Is this role hash one of this room's role tokens?

use subtle::ConstantTimeEq;

use crate::domain::Room;

/// The role a hash grants in `room`, if any.
///
/// The hash is compared with every role token of this room only (never other rooms), in
/// constant time per comparison and without stopping at the first match, so the answer
/// time does not tell how much of a guess was right.
pub fn role_for_hash<'r>(room: &'r Room, hash: &str) -> Option<&'r str> {
    let mut found = None;
    for (role, token) in &room.roles {
        if bool::from(token.as_bytes().ct_eq(hash.as_bytes())) && found.is_none() {
            found = Some(role.as_str());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::{RoomKind, RoomStatus};

    fn room(roles: &[(&str, &str)]) -> Room {
        Room {
            id: None,
            license: "123-123-123".into(),
            name: "Demo".into(),
            agenda: String::new(),
            kind: RoomKind::Permanent,
            status: RoomStatus::Active,
            start: None,
            repeat: None,
            duration_minutes: 0,
            timezone: chrono_tz::UTC,
            strict_event: false,
            password_protected: false,
            roles: roles
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn a_role_token_of_the_room_grants_that_role() {
        let r = room(&[("host", "H0st"), ("presenter", "Pres")]);
        assert_eq!(role_for_hash(&r, "H0st"), Some("host"));
        assert_eq!(role_for_hash(&r, "Pres"), Some("presenter"));
    }

    #[test]
    fn anything_else_grants_nothing() {
        let r = room(&[("host", "H0st")]);
        for guess in ["", "H0s", "H0stt", "h0st", "Pres"] {
            assert_eq!(role_for_hash(&r, guess), None, "{guess:?}");
        }
    }
}

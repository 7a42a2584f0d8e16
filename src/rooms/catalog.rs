//! The room catalog: rooms read from a TOML file, the embedded default source.
//!
//! The file is checked as a whole; every problem names the room and its line. On SIGHUP
//! the file is read again; a bad new file keeps the old rooms (see [`Catalog::reload`]).

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use super::lookup::{Lookup, RoomSource, Unavailable};
use crate::domain::{
    Frequency, LicensePattern, Readiness, Repeat, Room, RoomKind, RoomStatus, is_token,
};

/// Why a catalog file cannot be used: one line per problem.
#[derive(Debug, thiserror::Error)]
#[error("{}", .problems.join("\n"))]
pub struct CatalogError {
    pub problems: Vec<String>,
}

/// The catalog: its file, and the rooms last read from it successfully.
pub struct Catalog {
    path: PathBuf,
    pattern: LicensePattern,
    rooms: RwLock<Arc<HashMap<String, Arc<Room>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    rooms: Vec<Spanned<Entry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    license: String,
    id: Option<u64>,
    name: String,
    #[serde(default = "active")]
    status: RoomStatus,
    #[serde(rename = "type", default = "permanent")]
    kind: RoomKind,
    start: Option<String>,
    repeat: Option<Frequency>,
    until: Option<String>,
    duration_minutes: Option<u32>,
    timezone: Option<String>,
    #[serde(default)]
    strict_event: bool,
    #[serde(default)]
    password_protected: bool,
    #[serde(default)]
    agenda: String,
    #[serde(default)]
    roles: BTreeMap<String, String>,
}

fn active() -> RoomStatus {
    RoomStatus::Active
}

fn permanent() -> RoomKind {
    RoomKind::Permanent
}

impl Catalog {
    /// Reads and checks the catalog file.
    pub fn load(path: &Path, pattern: LicensePattern) -> Result<Self, CatalogError> {
        let rooms = read(path, &pattern)?;
        Ok(Catalog {
            path: path.to_owned(),
            pattern,
            rooms: RwLock::new(Arc::new(rooms)),
        })
    }

    /// Reads the file again. On success the new rooms replace the old ones at once and the
    /// count is returned; on failure the old rooms stay and the problems are returned.
    pub fn reload(&self) -> Result<usize, CatalogError> {
        let rooms = read(&self.path, &self.pattern)?;
        let count = rooms.len();
        *self.rooms.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(rooms);
        Ok(count)
    }

    /// Every room, ordered by key.
    pub fn rooms(&self) -> Vec<Arc<Room>> {
        let mut rooms: Vec<_> = self.snapshot().values().cloned().collect();
        rooms.sort_by(|a, b| a.license.cmp(&b.license));
        rooms
    }

    /// How many rooms the catalog holds.
    pub fn len(&self) -> usize {
        self.snapshot().len()
    }

    /// Whether the catalog holds no room.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn snapshot(&self) -> Arc<HashMap<String, Arc<Room>>> {
        self.rooms.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[async_trait::async_trait]
impl RoomSource for Catalog {
    async fn lookup(&self, license: &str) -> Result<Lookup, Unavailable> {
        Ok(match self.snapshot().get(license) {
            Some(room) => Lookup::Found(room.clone()),
            None => Lookup::NotFound,
        })
    }

    async fn readiness(&self) -> Readiness {
        Readiness::Ready
    }
}

fn read(path: &Path, pattern: &LicensePattern) -> Result<HashMap<String, Arc<Room>>, CatalogError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| CatalogError {
        problems: vec![format!("catalog {shown}: cannot read the file ({e})")],
    })?;
    parse(&text, pattern).map_err(|problems| CatalogError {
        problems: problems
            .into_iter()
            .map(|p| format!("catalog {shown}: {p}"))
            .collect(),
    })
}

/// Parses catalog text into rooms by key, or lists every problem found.
fn parse(text: &str, pattern: &LicensePattern) -> Result<HashMap<String, Arc<Room>>, Vec<String>> {
    let file: CatalogFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
        vec![format!("line {line}: {}", e.message())]
    })?;

    let mut problems = Vec::new();
    let mut rooms = HashMap::new();
    for entry in file.rooms {
        let line = line_of(text, entry.span().start);
        let entry = entry.into_inner();
        let label = format!("line {line}, room {:?}", entry.license);
        match to_room(entry, pattern) {
            Ok(room) => {
                if rooms.contains_key(&room.license) {
                    problems.push(format!("{label}: the room key is used twice"));
                } else {
                    rooms.insert(room.license.clone(), Arc::new(room));
                }
            }
            Err(errs) => problems.extend(errs.into_iter().map(|e| format!("{label}: {e}"))),
        }
    }
    if problems.is_empty() {
        Ok(rooms)
    } else {
        Err(problems)
    }
}

fn to_room(e: Entry, pattern: &LicensePattern) -> Result<Room, Vec<String>> {
    let mut problems = Vec::new();
    if !pattern.matches(&e.license) {
        problems.push("the room key does not match rooms.license_pattern".to_owned());
    }
    if e.name.trim().is_empty() {
        problems.push("name must not be empty".to_owned());
    }
    let timezone = match e.timezone.as_deref().unwrap_or("UTC").parse::<Tz>() {
        Ok(tz) => tz,
        Err(_) => {
            problems.push(format!(
                "timezone {:?} is not an IANA time zone name",
                e.timezone.unwrap_or_default()
            ));
            chrono_tz::UTC
        }
    };
    let start = match (e.kind, e.start.as_deref()) {
        (RoomKind::Scheduled, Some(s)) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(_) => {
                problems.push(format!(
                    "start {s:?} is not an RFC 3339 instant like 2026-12-01T15:00:00Z"
                ));
                None
            }
        },
        (RoomKind::Scheduled, None) => {
            problems.push("a scheduled room needs a start".to_owned());
            None
        }
        (RoomKind::Permanent, Some(_)) => {
            problems.push("start is only for scheduled rooms (type = \"scheduled\")".to_owned());
            None
        }
        (RoomKind::Permanent, None) => None,
    };
    let duration_minutes = e.duration_minutes.unwrap_or(60);
    if e.kind == RoomKind::Scheduled && !(1..=10_080).contains(&duration_minutes) {
        problems.push("duration_minutes must be between 1 and 10080 (a week)".to_owned());
    }
    let repeat = match (e.repeat, e.until.as_deref()) {
        (None, None) => None,
        (None, Some(_)) => {
            problems.push("until is only for repeating rooms (repeat = \"weekly\")".to_owned());
            None
        }
        (Some(_), _) if e.kind != RoomKind::Scheduled => {
            problems.push("repeat is only for scheduled rooms (type = \"scheduled\")".to_owned());
            None
        }
        (Some(every), until) => {
            if i64::from(duration_minutes) >= every.period().num_minutes() {
                problems.push(format!(
                    "duration_minutes must be shorter than the time between occurrences ({} minutes)",
                    every.period().num_minutes()
                ));
            }
            let until = until.and_then(|u| match parse_until(u, timezone) {
                Some(t) => Some(t),
                None => {
                    problems.push(format!(
                        "until {u:?} is not a date like 2027-06-30 or an RFC 3339 instant"
                    ));
                    None
                }
            });
            if let (Some(until), Some(start)) = (until, start)
                && until < start
            {
                problems.push("until is before the start".to_owned());
            }
            Some(Repeat { every, until })
        }
    };
    let mut seen_tokens = Vec::new();
    for (role, token) in &e.roles {
        let name_ok = !role.is_empty()
            && role.len() <= 32
            && role.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if !name_ok {
            problems.push(format!(
                "role name {role:?} must be lowercase letters and _ (like host, presenter)"
            ));
        }
        if !is_token(token) {
            problems.push(format!(
                "the token of role {role:?} must be 1-128 characters of A-Z a-z 0-9 _ -"
            ));
        }
        if seen_tokens.contains(&token) {
            problems.push(format!(
                "the token of role {role:?} is used by another role"
            ));
        }
        seen_tokens.push(token);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Room {
        id: e.id,
        license: e.license,
        name: e.name.trim().to_owned(),
        agenda: e.agenda,
        kind: e.kind,
        status: e.status,
        start,
        repeat,
        duration_minutes,
        timezone,
        strict_event: e.strict_event,
        password_protected: e.password_protected,
        roles: e.roles,
    })
}

/// The end of a series: an RFC 3339 instant, or a date meaning "through the end of that
/// day" in the room's timezone.
fn parse_until(text: &str, tz: Tz) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let last_second = day.and_hms_opt(23, 59, 59)?;
    last_second
        .and_local_timezone(tz)
        .latest()
        .map(|t| t.with_timezone(&Utc))
}

fn line_of(text: &str, byte: usize) -> usize {
    text.get(..byte).unwrap_or(text).matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern() -> LicensePattern {
        LicensePattern::new("^[0-9]{3}-[0-9]{3}-[0-9]{3}$").unwrap()
    }

    fn problems(text: &str) -> Vec<String> {
        parse(text, &pattern()).err().unwrap_or_default()
    }

    #[test]
    fn a_full_entry_becomes_a_room() {
        let rooms = parse(
            r#"
[[rooms]]
license = "123-123-123"
id = 7
name = "Demo"
type = "scheduled"
start = "2026-12-01T15:00:00+01:00"
duration_minutes = 90
timezone = "Europe/Warsaw"
strict_event = true
agenda = "Talk"
roles = { host = "H0st", presenter = "Pres" }
"#,
            &pattern(),
        )
        .unwrap();
        let room = &rooms["123-123-123"];
        assert_eq!(room.id, Some(7));
        assert_eq!(
            room.start.unwrap().to_rfc3339(),
            "2026-12-01T14:00:00+00:00"
        );
        assert_eq!(room.timezone, chrono_tz::Europe::Warsaw);
        assert_eq!(room.roles["host"], "H0st");
        assert!(room.strict_event);
    }

    #[test]
    fn duplicate_keys_are_named_with_their_line() {
        let p = problems(
            "[[rooms]]\nlicense = \"123-123-123\"\nname = \"A\"\n\n[[rooms]]\nlicense = \"123-123-123\"\nname = \"B\"\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("line 5"), "{p:?}");
        assert!(p[0].contains("used twice"), "{p:?}");
    }

    #[test]
    fn bad_keys_dates_zones_and_tokens_are_all_reported() {
        let p = problems(
            r#"
[[rooms]]
license = "12-34"
name = "A"
type = "scheduled"
start = "2026-13-01 15:00"
timezone = "Mars/Olympus"
roles = { host = "has space", Host = "x" }
"#,
        );
        let all = p.join("\n");
        for expected in [
            "room key",
            "RFC 3339",
            "Mars/Olympus",
            "role \"host\"",
            "role name \"Host\"",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in {all}");
        }
        assert!(all.contains("line 2"), "{all}");
    }

    #[test]
    fn repeating_rooms_read_their_rule_and_their_end() {
        let rooms = parse(
            r#"
[[rooms]]
license = "123-123-123"
name = "Stand-up"
type = "scheduled"
start = "2026-11-30T09:00:00Z"
duration_minutes = 15
timezone = "Europe/Warsaw"
repeat = "daily"
until = "2026-12-03"
"#,
            &pattern(),
        )
        .unwrap();
        let repeat = rooms["123-123-123"].repeat.unwrap();
        assert_eq!(repeat.every, Frequency::Daily);
        assert_eq!(
            repeat.until.unwrap().to_rfc3339(),
            "2026-12-03T22:59:59+00:00",
            "the end of that day in the room's zone"
        );
    }

    #[test]
    fn bad_repeat_rules_are_all_reported() {
        let p = problems(
            r#"
[[rooms]]
license = "123-123-123"
name = "A"
repeat = "weekly"

[[rooms]]
license = "222-222-222"
name = "B"
type = "scheduled"
start = "2026-12-01T15:00:00Z"
duration_minutes = 1500
repeat = "daily"
until = "soon"

[[rooms]]
license = "333-333-333"
name = "C"
type = "scheduled"
start = "2026-12-01T15:00:00Z"
until = "2026-12-31"

[[rooms]]
license = "444-444-444"
name = "D"
type = "scheduled"
start = "2026-12-01T15:00:00Z"
repeat = "weekly"
until = "2026-11-01"
"#,
        );
        let all = p.join("\n");
        for expected in [
            "repeat is only for scheduled rooms",
            "shorter than the time between occurrences (1440 minutes)",
            "until \"soon\" is not a date",
            "until is only for repeating rooms",
            "until is before the start",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in {all}");
        }
        assert!(
            problems("[[rooms]]\nlicense = \"123-123-123\"\nname = \"A\"\nrepeat = \"monthly\"\n")
                [0]
            .contains("monthly"),
            "an unknown frequency is named"
        );
    }

    #[test]
    fn toml_syntax_errors_name_the_line() {
        let p = problems("[[rooms]]\nlicense = \"123-123-123\"\nname = \n");
        assert!(p[0].starts_with("line 3"), "{p:?}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let p = problems("[[rooms]]\nlicense = \"123-123-123\"\nname = \"A\"\nnmae = \"typo\"\n");
        assert!(p[0].contains("nmae"), "{p:?}");
    }
}

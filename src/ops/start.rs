//! A room's start as an operator writes it: an RFC 3339 instant, or wall-clock time in
//! the room's time zone.

use chrono::{DateTime, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// A start given as an RFC 3339 instant, or as wall-clock time in `tz`.
pub fn parse_start(start: &str, tz: Tz) -> Result<DateTime<Tz>, String> {
    let start = start.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(start) {
        return Ok(instant.with_timezone(&tz));
    }
    let naive = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(start, f).ok())
        .ok_or_else(|| {
            "must be RFC 3339 (2026-12-01T15:00:00Z) or local time (2026-12-01 16:00) in the room's timezone"
                .to_owned()
        })?;
    tz.from_local_datetime(&naive).single().ok_or_else(|| {
        format!(
            "{start} does not exist or is ambiguous in {} (a clock change)",
            tz.name()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_is_read_in_the_given_zone() {
        let t = parse_start("2026-07-01 09:30", chrono_tz::America::New_York).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-07-01T09:30:00-04:00");
        assert!(
            parse_start("2026-03-08 02:30", chrono_tz::America::New_York).is_err(),
            "DST gap"
        );
        assert!(parse_start("next tuesday", chrono_tz::UTC).is_err());
    }
}

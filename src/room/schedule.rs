//! A scheduled room's time as people read it: in the room's own timezone.

use crate::{pages::ScheduleView, rooms::Room};

/// The schedule of `room`, or `None` for a room without a start.
pub fn schedule_view(room: &Room) -> Option<ScheduleView> {
    let start = room.start?;
    let end = room.end()?;
    let local_start = start.with_timezone(&room.timezone);
    let local_end = end.with_timezone(&room.timezone);
    let same_day = local_start.date_naive() == local_end.date_naive();
    Some(ScheduleView {
        start_iso: start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        start_text: local_start.format("%A, %-d %B %Y, %H:%M %Z").to_string(),
        end_text: if same_day {
            local_end.format("%H:%M %Z").to_string()
        } else {
            local_end.format("%A, %-d %B %Y, %H:%M %Z").to_string()
        },
        timezone: room.timezone.name().to_owned(),
        duration_minutes: room.duration_minutes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rooms::{RoomKind, RoomStatus};

    #[test]
    fn the_start_is_shown_in_the_rooms_timezone() {
        let room = Room {
            id: None,
            license: "123-123-123".into(),
            name: "Demo".into(),
            agenda: String::new(),
            kind: RoomKind::Scheduled,
            status: RoomStatus::Active,
            start: Some("2026-12-01T15:00:00Z".parse().unwrap()),
            duration_minutes: 90,
            timezone: chrono_tz::Europe::Warsaw,
            strict_event: false,
            password_protected: false,
            roles: Default::default(),
        };
        let v = schedule_view(&room).unwrap();
        assert_eq!(v.start_text, "Tuesday, 1 December 2026, 16:00 CET");
        assert_eq!(v.end_text, "17:30 CET");
        assert_eq!(v.start_iso, "2026-12-01T15:00:00Z");
        assert_eq!(v.timezone, "Europe/Warsaw");
    }
}

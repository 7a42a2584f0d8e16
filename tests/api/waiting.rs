//! Scheduled rooms at fixed clock instants: before, opening window, live, ended; strict
//! and not strict; hosts and attendees.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::helpers::{HandClock, embed_block, spawn_app_at};

const STRICT: &str = "456-456-456";
const STRICT_HOST: &str = "StrictHost1";
const OPEN: &str = "234-234-234";
const OPEN_HOST: &str = "SchedHost1";

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

struct Seen {
    embed: bool,
    waiting: bool,
    ended: bool,
    seconds_left: Option<i64>,
    reloads: bool,
}

async fn view(app: &crate::helpers::TestApp, path: &str) -> Seen {
    let (status, html) = app.get_html(path).await;
    assert_eq!(status, 200, "{path}");
    let seconds_left = html
        .split(r#"data-seconds-left=""#)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .and_then(|n| n.parse().ok());
    Seen {
        embed: embed_block(&html).is_some(),
        waiting: html.contains("The room is not open yet"),
        ended: html.contains("This event has ended"),
        seconds_left,
        reloads: html.contains(r#"data-reload="1""#),
    }
}

#[tokio::test]
async fn a_strict_room_waits_opens_runs_and_ends() {
    let clock: HandClock = Arc::new(Mutex::new(at("2026-12-01T12:00:00Z")));
    let app = spawn_app_at(clock.clone()).await;
    let attendee = format!("/room/{STRICT}");
    let host = format!("/room/{STRICT}/{STRICT_HOST}");

    let v = view(&app, &attendee).await;
    assert!(v.waiting && !v.embed, "before the window: no embed");
    assert_eq!(
        v.seconds_left,
        Some(7200),
        "counting down to 14:00, by the server's clock"
    );
    assert!(v.reloads, "the page takes the visitor in by itself");
    let v = view(&app, &host).await;
    assert!(v.embed && !v.waiting, "hosts always get the room");
    assert_eq!(
        v.seconds_left,
        Some(10_800),
        "hosts see the time to the start"
    );

    *clock.lock().unwrap() = at("2026-12-01T14:00:00Z");
    let v = view(&app, &attendee).await;
    assert!(v.embed && !v.waiting, "the opening window");
    assert_eq!(v.seconds_left, Some(3600));
    assert!(!v.reloads);

    *clock.lock().unwrap() = at("2026-12-01T15:30:00Z");
    let v = view(&app, &attendee).await;
    assert!(v.embed && v.seconds_left.is_none(), "live");

    *clock.lock().unwrap() = at("2026-12-01T16:59:59Z");
    assert!(
        view(&app, &attendee).await.embed,
        "60 minutes after the end the vendor still admits"
    );

    *clock.lock().unwrap() = at("2026-12-01T17:00:00Z");
    let v = view(&app, &attendee).await;
    assert!(v.ended && !v.embed, "ended");
    assert!(view(&app, &host).await.embed, "hosts still get the room");
}

#[tokio::test]
async fn a_room_that_is_not_strict_loads_early_and_ends_at_its_end() {
    let clock: HandClock = Arc::new(Mutex::new(at("2026-11-30T15:00:00Z")));
    let app = spawn_app_at(clock.clone()).await;
    let attendee = format!("/room/{OPEN}");
    let v = view(&app, &attendee).await;
    assert!(v.embed && !v.waiting, "not strict: the room loads at once");
    assert_eq!(
        v.seconds_left,
        Some(86_400),
        "with a countdown to the start"
    );

    *clock.lock().unwrap() = at("2026-12-01T16:29:59Z");
    assert!(view(&app, &attendee).await.embed);
    *clock.lock().unwrap() = at("2026-12-01T16:30:00Z");
    let v = view(&app, &attendee).await;
    assert!(v.ended && !v.embed);
    assert!(view(&app, &format!("/room/{OPEN}/{OPEN_HOST}")).await.embed);
    let (_, html) = app.get_html(&attendee).await;
    assert!(
        !html.contains("calendar.ics"),
        "no calendar file for an event that has ended"
    );
}

const WEEKLY: &str = "567-567-567";
const DAILY_STRICT: &str = "678-678-678";

/// The instant in the page's `<time datetime>` of the schedule.
fn shown_start(html: &str) -> Option<String> {
    html.split(r#"datetime=""#)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(str::to_owned)
}

#[tokio::test]
async fn a_weekly_room_counts_down_to_its_next_occurrence_after_each_one_ends() {
    let clock: HandClock = Arc::new(Mutex::new(at("2026-12-01T12:00:00Z")));
    let app = spawn_app_at(clock.clone()).await;
    let attendee = format!("/room/{WEEKLY}");

    let v = view(&app, &attendee).await;
    assert!(
        v.embed && !v.ended,
        "upcoming, four weeks after its first date"
    );
    assert_eq!(v.seconds_left, Some(3 * 3600), "to today's 15:00");
    let (_, html) = app.get_html(&attendee).await;
    assert_eq!(shown_start(&html).as_deref(), Some("2026-12-01T15:00:00Z"));
    assert!(html.contains("Tuesday, 1 December 2026, 16:00 CET"));

    *clock.lock().unwrap() = at("2026-12-01T16:29:59Z");
    let v = view(&app, &attendee).await;
    assert!(v.embed && v.seconds_left.is_none(), "live");

    *clock.lock().unwrap() = at("2026-12-01T16:30:00Z");
    let v = view(&app, &attendee).await;
    assert!(v.embed && !v.ended, "not ended: the next one is coming");
    assert_eq!(
        v.seconds_left,
        Some(7 * 86_400 - 90 * 60),
        "to next Tuesday's 15:00"
    );
    let (_, html) = app.get_html(&attendee).await;
    assert_eq!(shown_start(&html).as_deref(), Some("2026-12-08T15:00:00Z"));

    *clock.lock().unwrap() = at("2028-01-06T12:00:00Z");
    let (_, html) = app.get_html(&attendee).await;
    assert_eq!(
        shown_start(&html).as_deref(),
        Some("2028-01-11T15:00:00Z"),
        "years later, still the next Tuesday"
    );
}

#[tokio::test]
async fn a_daily_strict_room_waits_between_occurrences_and_ends_after_its_last() {
    let clock: HandClock = Arc::new(Mutex::new(at("2026-12-01T12:00:00Z")));
    let app = spawn_app_at(clock.clone()).await;
    let attendee = format!("/room/{DAILY_STRICT}");

    let v = view(&app, &attendee).await;
    assert!(
        v.waiting && !v.embed,
        "between occurrences: the waiting room"
    );
    assert_eq!(
        v.seconds_left,
        Some(20 * 3600),
        "to tomorrow's opening at 08:00, an hour before 09:00"
    );

    *clock.lock().unwrap() = at("2026-12-03T09:30:00Z");
    let v = view(&app, &attendee).await;
    assert!(
        v.embed && !v.waiting,
        "the last occurrence, within its hour after"
    );

    *clock.lock().unwrap() = at("2026-12-03T10:15:00Z");
    let v = view(&app, &attendee).await;
    assert!(v.ended && !v.embed, "the series is over");
    assert!(
        view(&app, &format!("/room/{DAILY_STRICT}/DailyHost1"))
            .await
            .embed,
        "hosts still get the room"
    );
}

/// The demo catalog a newcomer runs (`config/rooms.toml`) keeps every room in the state
/// its name promises, whatever the date: its scheduled rooms repeat.
#[tokio::test]
async fn the_demo_rooms_keep_their_promised_states_on_any_date() {
    let clock: HandClock = Arc::new(Mutex::new(at("2026-12-02T06:00:00Z")));
    let app = crate::helpers::spawn_app_with_clock(clock.clone(), |env| {
        env.insert(
            "ROOMGATE__CATALOG__PATH".into(),
            crate::helpers::repo_path("config/rooms.toml")
                .display()
                .to_string(),
        );
    })
    .await;
    let start = *clock.lock().unwrap();
    // Today, 60 and 400 days on, and a spread of hours across two weeks.
    let offsets = [0, 60 * 24, 400 * 24]
        .into_iter()
        .chain((0..14 * 24).step_by(7))
        .map(|hours| chrono::Duration::hours(hours) + chrono::Duration::minutes(hours * 13 % 60));
    for offset in offsets {
        *clock.lock().unwrap() = start + offset;
        let when = start + offset;
        let live = view(&app, "/room/123-123-123").await;
        assert!(
            live.embed && live.seconds_left.is_none(),
            "{when}: the permanent room is live"
        );
        let weekly = view(&app, "/room/234-234-234").await;
        assert!(
            weekly.embed && !weekly.ended,
            "{when}: the weekly webinar is upcoming with a countdown, or live"
        );
        let strict = view(&app, "/room/456-456-456").await;
        assert!(
            !strict.ended && (strict.waiting || strict.embed),
            "{when}: the strict onboarding waits or is open, never ended"
        );
        assert_eq!(
            app.get("/room/345-345-345").await.status(),
            410,
            "{when}: the closed room stays closed"
        );
    }
}

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

//! Calendar files, parsed back with an independent iCalendar parser.

use std::collections::HashMap;

use crate::helpers::{L, SCHEDULED, spawn_app, spawn_app_with};

const ADMIN: &str = "admin-token-0123456789-abcdefghijkl";

/// The first event's properties, unfolded and unescaped by the `ical` parser.
fn event_properties(ics: &str) -> HashMap<String, String> {
    let mut reader = ical::IcalParser::new(std::io::BufReader::new(ics.as_bytes()));
    let calendar = reader.next().expect("one calendar").expect("it parses");
    let event = calendar.events.first().expect("one event");
    event
        .properties
        .iter()
        .map(|p| (p.name.clone(), p.value.clone().unwrap_or_default()))
        .collect()
}

/// RFC 5545 TEXT unescaping (the parser leaves values as written).
fn unescape(text: &str) -> String {
    text.replace("\\n", "\n")
        .replace("\\N", "\n")
        .replace("\\,", ",")
        .replace("\\;", ";")
        .replace("\\\\", "\\")
}

#[tokio::test]
async fn the_public_calendar_file_invites_attendees_on_our_domain() {
    let app = spawn_app().await;
    let res = app.get(&format!("/room/{SCHEDULED}/calendar.ics")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("room-234-234-234.ics")
    );
    let ics = res.text().await.unwrap();
    assert!(ics.contains("\r\n"), "CRLF line ends");
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "folded at 75 octets: {line:?}");
    }
    let p = event_properties(&ics);
    let link = format!("http://rooms.test/room/{SCHEDULED}");
    assert_eq!(p["UID"], format!("{SCHEDULED}-attendee@rooms.test"));
    assert_eq!(p["DTSTART"], "20261201T150000Z");
    assert_eq!(p["DTEND"], "20261201T163000Z");
    assert_eq!(
        unescape(&p["SUMMARY"]),
        "Scheduled webinar; with, special \\ characters"
    );
    assert_eq!(p["URL"], link);
    assert_eq!(unescape(&p["LOCATION"]), link);
    assert_eq!(
        unescape(&p["DESCRIPTION"]),
        format!("First line\nSecond line, with a comma; and a semicolon\n\nJoin: {link}")
    );
    assert!(
        !ics.contains("SchedHost1"),
        "never a role token on the public route"
    );

    let again = app
        .get(&format!("/room/{SCHEDULED}/calendar.ics"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(event_properties(&again)["UID"], p["UID"], "stable UID");
}

#[tokio::test]
async fn rooms_without_a_start_have_no_calendar_file() {
    let app = spawn_app().await;
    assert_eq!(
        app.get(&format!("/room/{L}/calendar.ics")).await.status(),
        404
    );
    assert_eq!(
        app.get("/room/999-999-999/calendar.ics").await.status(),
        404
    );
    assert_eq!(
        app.get("/room/345-345-345/calendar.ics").await.status(),
        410
    );
}

#[tokio::test]
async fn the_room_page_of_a_scheduled_room_offers_the_calendar_file() {
    let app = spawn_app().await;
    let (_, html) = app.get_html(&format!("/room/{SCHEDULED}/SchedHost1")).await;
    assert!(
        crate::helpers::html_decode(&html).contains(r#"href="/room/234-234-234/calendar.ics""#)
    );
    let (_, html) = app.get_html(&format!("/room/{L}")).await;
    assert!(!html.contains("calendar.ics"), "permanent rooms have none");
}

#[tokio::test]
async fn hosts_get_their_calendar_file_from_the_admin_api_only() {
    let app = spawn_app_with(|e| {
        e.insert("ROOMGATE__ADMIN__TOKEN".into(), ADMIN.into());
    })
    .await;
    let res = app
        .client
        .get(app.url(&format!(
            "/admin/api/rooms/{SCHEDULED}/calendar.ics?role=host"
        )))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let p = event_properties(&res.text().await.unwrap());
    assert_eq!(
        p["URL"],
        format!("http://rooms.test/room/{SCHEDULED}/SchedHost1")
    );
    assert_eq!(p["UID"], format!("{SCHEDULED}-host@rooms.test"));
    assert!(unescape(&p["SUMMARY"]).ends_with("(host)"));

    let res = app
        .client
        .get(app.url(&format!(
            "/admin/api/rooms/{SCHEDULED}/calendar.ics?role=janitor"
        )))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let unauthenticated = app
        .get(&format!(
            "/admin/api/rooms/{SCHEDULED}/calendar.ics?role=host"
        ))
        .await;
    assert_eq!(unauthenticated.status(), 401);
    assert!(!unauthenticated.text().await.unwrap().contains("SchedHost1"));
}

#[tokio::test]
async fn a_repeating_room_invites_to_its_next_occurrence_with_a_repeat_rule() {
    let app = spawn_app().await;
    app.advance(chrono::Duration::hours(5)); // 17:00 UTC: today's occurrence is over
    let ics = app
        .get("/room/567-567-567/calendar.ics")
        .await
        .text()
        .await
        .unwrap();
    let p = event_properties(&ics);
    assert_eq!(p["DTSTART"], "20261208T150000Z", "next Tuesday");
    assert_eq!(p["DTEND"], "20261208T163000Z");
    assert_eq!(p["RRULE"], "FREQ=WEEKLY");
    assert_eq!(p["DTSTAMP"], "20261201T170000Z", "made at the app's time");

    let ics = app
        .get("/room/678-678-678/calendar.ics")
        .await
        .text()
        .await
        .unwrap();
    let p = event_properties(&ics);
    assert_eq!(p["DTSTART"], "20261202T090000Z");
    assert_eq!(
        p["RRULE"], "FREQ=DAILY;UNTIL=20261203T225959Z",
        "until the end of 3 December in Warsaw"
    );
}

/// The calendar's own properties (NAME, X-WR-CALNAME …), as written.
fn calendar_properties(ics: &str) -> HashMap<String, String> {
    let mut reader = ical::IcalParser::new(std::io::BufReader::new(ics.as_bytes()));
    let calendar = reader.next().expect("one calendar").expect("it parses");
    calendar
        .properties
        .iter()
        .map(|p| (p.name.clone(), p.value.clone().unwrap_or_default()))
        .collect()
}

#[tokio::test]
async fn h6_a_name_or_agenda_with_line_breaks_cannot_add_calendar_lines() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("rooms.toml");
    std::fs::write(
        &catalog,
        r#"[[rooms]]
license = "901-901-901"
name = "Name\nX-INJECTED:evil"
type = "scheduled"
start = "2026-12-01T15:00:00Z"
agenda = "First\rX-CR-INJECTED:evil\r\nX-AGENDA:evil; with, specials \\"
"#,
    )
    .unwrap();
    let app = spawn_app_with(|env| {
        env.insert(
            "ROOMGATE__CATALOG__PATH".into(),
            catalog.display().to_string(),
        );
    })
    .await;
    let ics = app
        .get("/room/901-901-901/calendar.ics")
        .await
        .text()
        .await
        .unwrap();
    for line in ics.split("\r\n") {
        assert!(
            !line.starts_with("X-INJECTED")
                && !line.starts_with("X-CR-INJECTED")
                && !line.starts_with("X-AGENDA"),
            "a line of its own: {line:?}\n{ics}"
        );
        assert!(
            !line.contains('\r') && !line.contains('\n'),
            "a raw break in {line:?}"
        );
    }
    let calendar = calendar_properties(&ics);
    assert_eq!(unescape(&calendar["NAME"]), "Name\nX-INJECTED:evil");
    assert_eq!(unescape(&calendar["X-WR-CALNAME"]), "Name\nX-INJECTED:evil");
    let event = event_properties(&ics);
    assert_eq!(unescape(&event["SUMMARY"]), "Name\nX-INJECTED:evil");
    assert!(
        unescape(&event["DESCRIPTION"])
            .starts_with("FirstX-CR-INJECTED:evil\nX-AGENDA:evil; with, specials \\\n\nJoin: "),
        "CR removed, the rest kept as text: {:?}",
        unescape(&event["DESCRIPTION"])
    );
}

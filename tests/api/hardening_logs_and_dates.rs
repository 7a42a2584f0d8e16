//! Hardening items about dates from the vendor, the log and small leftovers (items 5, 8,
//! 9 and 15 of the outside review).

use crate::fake_vendor::{Vendor, spawn_api_app, widget};

#[tokio::test]
async fn h5_a_far_future_start_date_serves_the_room_without_a_schedule() {
    let vendor = Vendor::start().await;
    vendor.login("JWT-H5", 3600, 1).await;
    vendor.list(&[(7, "557-557-557")], 1).await;
    let mut far = widget(7, "557-557-557", "Far away");
    far["type"] = "scheduled".into();
    far["start_date"] = 8_210_266_876_799_u64.into();
    vendor.detail(7, far, 1).await;
    let app = spawn_api_app(&vendor, |_| {}).await;

    let (status, html) = app.get_html("/room/557-557-557").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Far away"));
    assert_eq!(
        app.get("/room/557-557-557/calendar.ics").await.status(),
        404,
        "no schedule, so no calendar file"
    );
    assert_eq!(app.get("/room/557-557-557/Host7").await.status(), 200);
    let warnings = app
        .logs()
        .lines()
        .filter(|l| l.contains("start date cannot be used"))
        .count();
    assert_eq!(warnings, 1, "logged once, for the one fetch");
}

#[tokio::test]
async fn h15_pages_name_the_brands_icon_and_favicon_ico_leads_to_it() {
    let app = crate::helpers::spawn_app_with(|env| {
        env.insert(
            "ROOMGATE__BRANDING__FAVICON_URL".into(),
            "/static/img/logo.svg".into(),
        );
    })
    .await;
    let (_, html) = app.get_html(&format!("/room/{}", crate::helpers::L)).await;
    assert!(
        html.contains(r#"<link rel="icon" href="&#x2F;static&#x2F;img&#x2F;logo.svg">"#)
            || html.contains(r#"<link rel="icon" href="/static/img/logo.svg">"#),
        "{html}"
    );
    let res = app.get("/favicon.ico").await;
    assert_eq!(res.status(), 301);
    assert_eq!(res.headers()["location"], "/static/img/logo.svg");
    let icon = app.get("/static/img/logo.svg").await;
    assert_eq!(icon.status(), 200, "the icon itself is served");
}

/// The line that `telemetry` keeps out of the log below debug level is what actix-http
/// really writes for a TLS handshake on the plain port (this app logs at debug).
#[tokio::test]
async fn h15_a_tls_handshake_on_the_plain_port_is_the_line_kept_for_debug_logging() {
    let app = crate::helpers::spawn_app().await;
    // The start of a TLS 1.2 ClientHello record.
    let hello: &[u8] = &[
        0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03, 0x00, 0x01, 0x02, 0x03,
        0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12,
        0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x00, 0x00,
        0x02, 0x00, 0x2f, 0x01, 0x00,
    ];
    crate::helpers::raw_request(&app.address, hello).await;
    let mut found = None;
    for _ in 0..100 {
        found = app
            .logs()
            .lines()
            .find(|l| l.contains("stream error"))
            .map(str::to_owned);
        if found.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let line: serde_json::Value =
        serde_json::from_str(&found.expect("actix logs the broken stream")).unwrap();
    assert_eq!(line["target"], "actix_http::h1::dispatcher", "{line}");
    assert_eq!(line["level"], "ERROR", "{line}");
    assert!(
        line["message"]
            .as_str()
            .unwrap()
            .starts_with("stream error:"),
        "{line}"
    );
}

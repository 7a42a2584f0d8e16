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

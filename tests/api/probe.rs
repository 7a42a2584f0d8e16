//! `roomgate probe`, run as an operator runs it (the real binary, settings in the
//! environment) against the stateful fake account: as assumed, and with each quirk.

use std::collections::HashMap;

use serde_json::{Value, json};
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{method, path, path_regex},
};

use crate::{
    fake_account::{FakeAccount, Quirk, host_token, key_of},
    fake_vendor::CLIENT_SECRET,
    helpers::{roomgate, test_env, text},
};

/// The address the write runs ask a personal link for.
const EMAIL: &str = "probe@example.com";

fn env_of(fake: &FakeAccount) -> HashMap<String, String> {
    let mut env = test_env();
    env.extend(fake.env());
    env
}

/// Runs the probe with `args` and `--json`; its exit code and report.
async fn probe_json(fake: &FakeAccount, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["probe", "--json"];
    all.extend(args);
    let out = roomgate(&all, env_of(fake)).await;
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "the report is JSON ({e}): {}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    });
    (out.status.code(), report)
}

/// The checks of a JSON report whose result is not `ok` or `skipped`.
fn counted(report: &Value) -> Vec<(String, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] != "ok" && c["result"] != "skipped")
        .map(|c| {
            (
                c["check"].as_str().unwrap().to_owned(),
                c["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The `(check, result)` pairs of a text report: the lines between the title and the
/// first blank line.
fn text_lines(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| {
            let mut words = l.split_whitespace();
            (
                words.next().unwrap().to_owned(),
                words.next().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The names of every check, in the report's order, of a read and write run.
const ALL_CHECKS: [&str; 20] = [
    "sign_in",
    "account",
    "paging",
    "limit",
    "total",
    "unscoped_listing",
    "scopes",
    "room_key",
    "roles",
    "hosted_at",
    "status",
    "start_date",
    "timezone",
    "create",
    "create_read_back",
    "update",
    "close",
    "reopen",
    "personal_link",
    "delete",
];

#[tokio::test]
async fn the_read_only_probe_of_an_account_that_behaves_as_assumed_reports_everything_ok() {
    // Arrange
    let fake = FakeAccount::start(5, 2, &[]).await;

    // Act
    let (code, report) = probe_json(&fake, &[]).await;
    let out = roomgate(&["probe"], env_of(&fake)).await;

    // Assert
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["holds"], true);
    assert_eq!(report["write"], false);
    assert_eq!(report["differences"], json!([]));
    let results: Vec<(&str, &str)> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["check"].as_str().unwrap(), c["result"].as_str().unwrap()))
        .collect();
    let expected: Vec<(&str, &str)> = ALL_CHECKS[..13].iter().map(|c| (*c, "ok")).collect();
    assert_eq!(results, expected);
    assert!(
        fake.calls("POST", "/api/widgets").await.is_empty()
            && fake.calls("PUT", "/api/widgets/5").await.is_empty(),
        "read-only writes nothing"
    );

    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines = text_lines(&stdout);
    assert_eq!(lines.len(), 13, "{stdout}");
    assert!(lines.iter().all(|(_, r)| r == "ok"), "{stdout}");
    assert!(
        stdout.ends_with("every assumption roomgate relies on holds\n"),
        "{stdout}"
    );
}

#[tokio::test]
async fn the_write_probe_of_an_account_that_behaves_as_assumed_reports_everything_ok_and_leaves_no_room_or_secret()
 {
    // Arrange
    let fake = FakeAccount::start(5, 2, &[]).await;

    // Act
    let (code, report) = probe_json(&fake, &["--write", "--email", EMAIL]).await;
    let out = roomgate(&["probe", "--write", "--email", EMAIL], env_of(&fake)).await;

    // Assert
    assert_eq!(code, Some(0), "{report:#}");
    let results: Vec<(&str, &str)> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["check"].as_str().unwrap(), c["result"].as_str().unwrap()))
        .collect();
    let expected: Vec<(&str, &str)> = ALL_CHECKS.iter().map(|c| (*c, "ok")).collect();
    assert_eq!(results, expected, "{report:#}");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text_lines(&text(&out.stdout))
            .iter()
            .all(|(_, r)| r == "ok"),
        "{}",
        text(&out.stdout)
    );

    // The two temporary rooms (8 and 9) are gone, the account's own rooms are not.
    assert!(fake.room(8).is_none() && fake.room(9).is_none());
    assert!((1..=7).all(|id| fake.room(id).is_some()));

    // The update sent the name and the agenda only, as the check needs.
    let put = &fake.calls("PUT", "/api/widgets/8").await[0];
    let fields: Vec<String> = url::form_urlencoded::parse(&put.body)
        .map(|(k, _)| k.into_owned())
        .collect();
    assert_eq!(fields, ["name", "agenda"]);

    // No secret of any kind in either output.
    let created = fake.calls("POST", "/api/widgets").await;
    let passwords: Vec<String> = created
        .iter()
        .filter_map(|r| {
            url::form_urlencoded::parse(&r.body)
                .find(|(k, _)| k == "password")
                .map(|(_, v)| v.into_owned())
        })
        .collect();
    assert_eq!(passwords.len(), 2);
    let everything = format!("{report}{}{}", text(&out.stdout), text(&out.stderr));
    let mut secrets = vec![
        CLIENT_SECRET.to_owned(),
        host_token(5),
        "Pres5".to_owned(),
        host_token(8),
        host_token(9),
        "Personal8x1".to_owned(),
        "Personal9x2".to_owned(),
        key_of(5),
    ];
    secrets.extend(passwords);
    for secret in secrets {
        assert!(
            !everything.contains(&secret),
            "{secret} shown: {everything}"
        );
    }
}

/// Runs the probe (`--write --email`, JSON and text) on an account of `active` and
/// `closed` rooms with `quirk`, and checks that it exits 1 naming `check`, and nothing
/// else, as the difference; and that the temporary rooms are gone.
async fn only_difference(quirk: Quirk, active: u64, closed: u64, check: &str) -> Value {
    // Arrange
    let fake = FakeAccount::start(active, closed, &[quirk]).await;
    let rooms = active + closed;

    // Act
    let (code, report) = probe_json(&fake, &["--write", "--email", EMAIL]).await;
    let out = roomgate(&["probe", "--write", "--email", EMAIL], env_of(&fake)).await;

    // Assert
    assert_eq!(code, Some(1), "{quirk:?}: {report:#}");
    assert_eq!(report["holds"], false);
    assert_eq!(
        counted(&report),
        [(check.to_owned(), "differs".to_owned())],
        "{quirk:?}: {report:#}"
    );
    assert_eq!(report["differences"], json!([check]));
    let line = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == check)
        .unwrap();
    assert!(line["roomgate_does"].is_string(), "{line}");

    assert_eq!(out.status.code(), Some(1), "{quirk:?}");
    let stdout = text(&out.stdout);
    let not_fine: Vec<(String, String)> = text_lines(&stdout)
        .into_iter()
        .filter(|(_, r)| r != "ok" && r != "skipped")
        .collect();
    assert_eq!(
        not_fine,
        [(check.to_owned(), "differs".to_owned())],
        "{quirk:?}: {stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "what roomgate does about it:\n  {check}: {}",
            line["roomgate_does"].as_str().unwrap()
        )),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("1 differs, 0 failed"),
        "{}",
        text(&out.stderr)
    );

    assert!(
        fake.room(rooms + 1).is_none() && fake.room(rooms + 2).is_none(),
        "{quirk:?}: the temporary rooms are deleted"
    );
    assert!((1..=rooms).all(|id| fake.room(id).is_some()));
    line.clone()
}

#[tokio::test]
async fn a_vendor_that_ignores_page_is_reported_as_exactly_that_difference() {
    let line = only_difference(Quirk::PageIgnored, 5, 2, "paging").await;
    assert!(line["seen"].as_str().unwrap().contains("repeats"), "{line}");
}

#[tokio::test]
async fn a_vendor_that_caps_limit_at_100_is_reported_as_exactly_that_difference() {
    let line = only_difference(Quirk::LimitCappedAt100, 148, 2, "limit").await;
    assert!(
        line["seen"].as_str().unwrap().contains("capped at 100"),
        "{line}"
    );
}

#[tokio::test]
async fn a_vendor_whose_unscoped_listing_leaves_out_closed_rooms_is_reported_as_exactly_that_difference()
 {
    let line = only_difference(Quirk::UnscopedListsActiveOnly, 5, 2, "unscoped_listing").await;
    assert!(
        line["seen"].as_str().unwrap().contains("open rooms only"),
        "{line}"
    );
}

#[tokio::test]
async fn a_vendor_whose_put_replaces_the_record_is_reported_as_exactly_that_difference() {
    let line = only_difference(Quirk::PutReplacesRecord, 5, 2, "update").await;
    let seen = line["seen"].as_str().unwrap();
    for field in ["password", "start_date", "duration", "timezone", "type"] {
        assert!(seen.contains(field), "{field}: {seen}");
    }
}

#[tokio::test]
async fn a_vendor_that_answers_personal_links_with_a_url_only_is_reported_as_exactly_that_difference()
 {
    let line = only_difference(Quirk::PersonalUrlOnly, 5, 2, "personal_link").await;
    assert!(
        line["seen"].as_str().unwrap().contains("personal_url only"),
        "{line}"
    );
}

#[tokio::test]
async fn a_vendor_without_a_status_field_is_reported_as_exactly_that_difference() {
    let line = only_difference(Quirk::NoStatusField, 5, 2, "status").await;
    assert!(
        line["seen"].as_str().unwrap().contains("no status field"),
        "{line}"
    );
}

#[tokio::test]
async fn the_write_probe_deletes_its_temporary_room_even_when_steps_differ_or_fail() {
    // Arrange: PUT replaces the record and personal links have no token (differences),
    // and then every PUT fails outright (failures).
    let fake = FakeAccount::start(3, 1, &[Quirk::PutReplacesRecord, Quirk::PersonalUrlOnly]).await;

    // Act
    let (code, report) = probe_json(&fake, &["--write", "--email", EMAIL]).await;

    // Assert
    assert_eq!(code, Some(1));
    assert_eq!(report["differences"], json!(["update", "personal_link"]));
    assert!(fake.room(5).is_none(), "the temporary room is deleted");
    assert_eq!(fake.calls("DELETE", "/api/widgets/5").await.len(), 1);

    // Arrange
    Mock::given(method("PUT"))
        .and(path_regex(r"^/api/widgets/\d+$"))
        .respond_with(
            ResponseTemplate::new(500).set_body_json(json!({"error": {"message": "PUT is down"}})),
        )
        .with_priority(1)
        .mount(&fake.server)
        .await;

    // Act
    let (code, report) = probe_json(&fake, &["--write", "--email", EMAIL]).await;

    // Assert
    assert_eq!(code, Some(1));
    assert_eq!(
        counted(&report),
        [
            ("update".to_owned(), "failed".to_owned()),
            ("close".to_owned(), "failed".to_owned()),
            ("reopen".to_owned(), "failed".to_owned()),
            ("personal_link".to_owned(), "differs".to_owned()),
        ],
        "{report:#}"
    );
    let delete = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "delete")
        .unwrap();
    assert_eq!(delete["result"], "ok", "{delete}");
    assert!(fake.room(6).is_none(), "the temporary room is deleted");
    assert!((1..=4).all(|id| fake.room(id).is_some()));
}

#[tokio::test]
async fn a_vendor_that_refuses_the_sign_in_gives_exit_1_with_a_clear_line_and_no_secret() {
    // Arrange
    let fake = FakeAccount::start(3, 0, &[]).await;
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"message": "Invalid client credentials"}})),
        )
        .with_priority(1)
        .mount(&fake.server)
        .await;

    // Act
    let (code, report) = probe_json(&fake, &["--write"]).await;
    let out = roomgate(&["probe"], env_of(&fake)).await;

    // Assert
    assert_eq!(code, Some(1));
    assert_eq!(
        counted(&report),
        [("sign_in".to_owned(), "failed".to_owned())]
    );
    assert_eq!(
        report["checks"].as_array().unwrap().len(),
        1,
        "nothing else is tried"
    );
    assert!(fake.calls("POST", "/api/widgets").await.is_empty());

    assert_eq!(out.status.code(), Some(1));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        stderr.trim_end(),
        "roomgate: signing in (server-to-server login) failed: the vendor refused the \
         credentials (Invalid client credentials)"
    );
    assert!(stdout.contains("sign_in  failed"), "{stdout}");
    let everything = format!("{report}{stdout}{stderr}");
    assert!(!everything.contains(CLIENT_SECRET), "{everything}");
}

#[tokio::test]
async fn catalog_settings_make_the_probe_exit_2_and_say_it_needs_the_api_settings() {
    let out = roomgate(&["probe"], test_env()).await;

    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("the probe needs the API settings"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn an_email_without_write_or_that_is_no_address_makes_the_probe_exit_2() {
    let fake = FakeAccount::start(1, 0, &[]).await;

    let without_write = roomgate(&["probe", "--email", EMAIL], env_of(&fake)).await;
    let not_an_address = roomgate(&["probe", "--write", "--email", "nobody"], env_of(&fake)).await;

    assert_eq!(without_write.status.code(), Some(2));
    assert!(
        text(&without_write.stderr).contains("--write"),
        "{}",
        text(&without_write.stderr)
    );
    assert_eq!(not_an_address.status.code(), Some(2));
    assert!(fake.calls("POST", "/api/auth/login").await.is_empty());
}

//! The start-up checks of `[[brands]]` tables: each mistake is refused with one line that
//! names the brand and the setting; and the README's example loads and serves both brands.

use std::collections::HashMap;

use roomgate::{domain::Language, settings::Settings};

use crate::brands_setup::page_on;
use crate::helpers::{L, L2, load_settings, repo_path, spawn_app_with, test_env};

/// A valid pair of brands; each case below changes one thing of it.
fn two_brands(alpha_extra: &str, beta_extra: &str) -> String {
    format!(
        r#"
[[brands]]
id = "alpha"
hosts = ["alpha.test"]
public_url = "https://alpha.example"
site_name = "Alpha"
{alpha_extra}

[[brands]]
id = "beta"
hosts = ["beta.test"]
public_url = "https://beta.example"
site_name = "Beta"
{beta_extra}
"#
    )
}

/// The environment of the tests with `ROOMGATE_CONFIG_FILE` naming a file of `text`.
fn load_with_file(text: &str, extra: &[(&str, &str)]) -> Result<Settings, Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("brands.toml");
    std::fs::write(&file, text).unwrap();
    let mut env = test_env();
    env.insert("ROOMGATE_CONFIG_FILE".into(), file.display().to_string());
    for (k, v) in extra {
        env.insert((*k).into(), (*v).into());
    }
    load_settings(&env).map_err(|e| e.0)
}

/// Asserts that `text` is refused with exactly one line holding every one of `needles`.
fn refused_with_one_line(what: &str, text: &str, extra: &[(&str, &str)], needles: &[&str]) {
    let problems = load_with_file(text, extra)
        .err()
        .unwrap_or_else(|| panic!("{what}: accepted"));
    assert_eq!(problems.len(), 1, "{what}: {problems:#?}");
    for needle in needles {
        assert!(
            problems[0].contains(needle),
            "{what}: `{needle}` missing from {}",
            problems[0]
        );
    }
    assert!(!problems[0].contains('\n'), "{what}: one line");
}

#[test]
fn the_pair_every_case_changes_is_valid() {
    let settings = load_with_file(&two_brands("", ""), &[]).expect("valid brands");
    assert_eq!(settings.brand_ids(), ["default", "alpha", "beta"]);
}

#[test]
fn a_host_named_by_two_brands_is_refused() {
    refused_with_one_line(
        "duplicate host",
        &two_brands("", "").replace(
            r#"hosts = ["beta.test"]"#,
            r#"hosts = ["beta.test", "Alpha.Test"]"#,
        ),
        &[],
        &["(beta).hosts", "alpha.test", "alpha"],
    );
}

#[test]
fn a_host_that_is_not_a_host_name_is_refused() {
    for host in [
        "alpha.test/rooms",
        "https://alpha.test",
        "alpha test",
        "alpha.test:99999",
        "",
    ] {
        let text = two_brands("", "").replace(
            r#"hosts = ["alpha.test"]"#,
            &format!(r#"hosts = ["{host}"]"#),
        );
        refused_with_one_line(host, &text, &[], &["(alpha).hosts", host]);
    }
}

#[test]
fn an_unknown_default_language_of_a_brand_is_refused() {
    refused_with_one_line(
        "language",
        &two_brands(r#"default_language = "de""#, ""),
        &[],
        &["(alpha).default_language", "`de`"],
    );
}

#[test]
fn an_unreadable_templates_or_static_folder_of_a_brand_is_refused() {
    for key in ["templates_dir", "static_dir"] {
        refused_with_one_line(
            key,
            &two_brands(
                "",
                &format!(r#"{key} = "tests/fixtures/brands/no-such-folder""#),
            ),
            &[],
            &[&format!("(beta).{key}"), "no-such-folder"],
        );
    }
    // A file is not a folder.
    refused_with_one_line(
        "a file",
        &two_brands(r#"templates_dir = "tests/fixtures/brands/brands.toml""#, ""),
        &[],
        &["(alpha).templates_dir"],
    );
}

#[test]
fn a_brand_called_default_or_with_a_space_in_its_id_is_refused() {
    for id in ["default", "my brand", "", "a/b"] {
        let text = two_brands("", "").replace(r#"id = "alpha""#, &format!(r#"id = "{id}""#));
        refused_with_one_line(id, &text, &[], &[&format!("({id}).id")]);
    }
}

#[test]
fn two_brands_signing_in_with_one_key_and_no_audiences_of_their_own_are_refused() {
    const KEY: &str = "one-sso-secret-0123456789-0123456789-ab";
    let sso = |audience: &str| format!(r#"sso = {{ secret = "{KEY}", audience = "{audience}" }}"#);
    for (alpha, beta) in [("", ""), ("alpha", ""), ("", "beta"), ("same", "same")] {
        refused_with_one_line(
            &format!("audiences `{alpha}` and `{beta}`"),
            &two_brands(&sso(alpha), &sso(beta)),
            &[],
            &["(beta).sso", "brand alpha"],
        );
    }
    // The top-level key is a brand's too.
    refused_with_one_line(
        "the default's key",
        &two_brands(&sso(""), ""),
        &[("ROOMGATE__SSO__SECRET", KEY)],
        &["(alpha).sso", "brand default"],
    );
    // Distinct audiences tell the tokens apart.
    assert!(load_with_file(&two_brands(&sso("alpha"), &sso("beta")), &[]).is_ok());
}

#[test]
fn a_bad_colour_or_url_of_a_brand_is_refused() {
    refused_with_one_line(
        "colour",
        &two_brands(r##"primary_color = "red""##, ""),
        &[],
        &["brand alpha: primary_color: `red`"],
    );
    refused_with_one_line(
        "logo",
        &two_brands("", r#"logo_url = "javascript:alert(1)""#),
        &[],
        &["brand beta: logo_url:"],
    );
    refused_with_one_line(
        "public_url",
        &two_brands("", "").replace("https://beta.example", "beta.example"),
        &[],
        &["(beta).public_url"],
    );
}

#[test]
fn a_missing_config_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("brands.toml");
    let mut env: HashMap<String, String> = test_env();
    env.insert("ROOMGATE_CONFIG_FILE".into(), missing.display().to_string());
    let problems = load_settings(&env)
        .expect_err("a missing file is refused")
        .0;
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].contains(&missing.display().to_string()) && problems[0].contains("not found"),
        "{}",
        problems[0]
    );
}

fn example_env() -> HashMap<String, String> {
    let mut env = test_env();
    env.insert(
        "ROOMGATE_CONFIG_FILE".into(),
        repo_path("deploy/brands/brands.toml").display().to_string(),
    );
    env
}

#[test]
fn the_readmes_example_loads_and_each_brand_gets_its_settings() {
    let settings = load_settings(&example_env()).expect("the example is valid");
    assert_eq!(settings.brand_ids(), ["default", "acme", "globex"]);

    let acme = settings.for_brand("acme").unwrap();
    assert_eq!(acme.branding.site_name, "Acme Events");
    assert_eq!(acme.branding.primary_color, "#b4361c");
    assert_eq!(acme.branding.logo_url, "/static/img/acme-logo.svg");
    assert_eq!(acme.server.public_url, "http://acme.localhost:8080");
    assert_eq!(acme.parsed.default_language, Language::Pl);
    assert_eq!(
        acme.security.frame_ancestors,
        "'self' https://intranet.acme.example"
    );
    assert!(acme.branding.static_overlay.is_some());
    assert!(acme.catalog.path.ends_with("deploy/brands/acme/rooms.toml"));
    assert!(acme.parsed.rooms.is_all());

    let globex = settings.for_brand("globex").unwrap();
    assert_eq!(globex.branding.site_name, "Globex Webinars");
    assert_eq!(globex.branding.primary_color, "#0f766e");
    assert_eq!(globex.server.public_url, "http://globex.localhost:8080");
    assert_eq!(globex.parsed.default_language, Language::En);
    assert!(globex.branding.templates_overlay.is_some());
    assert!(globex.parsed.rooms.allows(L) && globex.parsed.rooms.allows("234-234-234"));
    assert!(!globex.parsed.rooms.allows(L2));

    // Neither takes the default's look.
    assert_eq!(settings.branding.site_name, "roomgate");
    assert_eq!(settings.server.public_url, crate::helpers::PUBLIC_URL);
}

#[tokio::test]
async fn the_readmes_example_serves_both_brands() {
    let app = spawn_app_with(|env| env.extend(example_env())).await;
    let (status, html) = page_on(&app, "acme.localhost:8080", "/room/700-700-700").await;
    assert_eq!(status, 200);
    assert!(html.contains("Acme Events") && html.contains(r#"<html lang="pl">"#));
    let (status, html) = page_on(&app, "acme.localhost:8080", "/static/img/acme-logo.svg").await;
    assert_eq!(status, 200, "{html}");

    let (status, html) = page_on(&app, "webinars.globex.example", &format!("/room/{L}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Globex Webinars"));
    for room in [L2, "700-700-700"] {
        let (status, html) = page_on(&app, "globex.localhost:8080", &format!("/room/{room}")).await;
        assert_eq!(status, 404, "{room}");
        assert!(
            html.contains("see your invitation e-mail"),
            "globex's error page"
        );
    }
}

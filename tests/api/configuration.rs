use roomgate::{domain::Language, settings::Environment, web::Application};

use crate::helpers::{load_settings, test_env};

fn problems(tweak: impl FnOnce(&mut std::collections::HashMap<String, String>)) -> Vec<String> {
    let mut env = test_env();
    tweak(&mut env);
    match load_settings(&env) {
        Ok(_) => vec![],
        Err(e) => e.0,
    }
}

#[test]
fn environment_variables_win_over_the_files() {
    let mut env = test_env();
    env.insert("ROOMGATE__SERVER__PORT".into(), "9123".into());
    env.insert("ROOMGATE__BRANDING__SITE_NAME".into(), "Acme Events".into());
    let s = load_settings(&env).unwrap();
    assert_eq!(s.server.port, 9123);
    assert_eq!(s.branding.site_name, "Acme Events");
    assert_eq!(s.environment, Environment::Development);
    assert!(!s.session.secure, "development.toml wins over default.toml");
    assert_eq!(s.server.host, "127.0.0.1", "default.toml fills the rest");
}

#[test]
fn production_reads_its_own_file_and_needs_a_session_key() {
    let p = problems(|env| {
        env.insert("ROOMGATE_ENV".into(), "production".into());
    });
    assert!(
        p.iter()
            .any(|l| l.starts_with("session.key: required in production")),
        "{p:?}"
    );

    let mut env = test_env();
    env.insert("ROOMGATE_ENV".into(), "production".into());
    env.insert("ROOMGATE__SESSION__KEY".into(), "k".repeat(64));
    let s = load_settings(&env).unwrap();
    assert_eq!(s.environment, Environment::Production);
    assert_eq!(s.server.host, "0.0.0.0");
    assert!(s.session.secure);
}

#[test]
fn a_short_session_key_is_refused() {
    let p = problems(|env| {
        env.insert("ROOMGATE__SESSION__KEY".into(), "short".into());
    });
    assert_eq!(
        p,
        ["session.key: must be at least 64 bytes (try `openssl rand -base64 64`)"]
    );
}

#[test]
fn every_bad_setting_gets_its_own_line() {
    let p = problems(|env| {
        env.insert("ROOMGATE__SERVER__PUBLIC_URL".into(), "ftp://x".into());
        env.insert("ROOMGATE__BRANDING__PRIMARY_COLOR".into(), "red".into());
        env.insert(
            "ROOMGATE__BRANDING__TEMPLATES_DIR".into(),
            "/nonexistent/templates".into(),
        );
        env.insert("ROOMGATE__ROOMS__LICENSE_PATTERN".into(), "^([0-9]$".into());
        env.insert("ROOMGATE__EMBED__WIDTH".into(), "100".into());
        env.insert(
            "ROOMGATE__SERVER__TRUSTED_PROXIES".into(),
            "10.0.0.1,proxy".into(),
        );
    });
    let joined = p.join("\n");
    for key in [
        "server.public_url",
        "branding.primary_color",
        "branding.templates_dir",
        "rooms.license_pattern",
        "embed.width",
        "server.trusted_proxies: `proxy`",
    ] {
        assert!(joined.contains(key), "{key} missing in:\n{joined}");
    }
    assert_eq!(p.len(), 6, "{joined}");
}

#[test]
fn a_bad_port_or_environment_is_one_clear_line() {
    let p = problems(|env| {
        env.insert("ROOMGATE__SERVER__PORT".into(), "70000".into());
    });
    assert_eq!(p.len(), 1);
    assert!(p[0].contains("port"), "{p:?}");
    let p = problems(|env| {
        env.insert("ROOMGATE_ENV".into(), "staging".into());
    });
    assert_eq!(
        p,
        ["ROOMGATE_ENV: `staging` is not supported; use `development` or `production`"]
    );
}

#[tokio::test]
async fn a_missing_catalog_stops_start_up_with_its_path() {
    let mut env = test_env();
    env.insert(
        "ROOMGATE__CATALOG__PATH".into(),
        "/nonexistent/rooms.toml".into(),
    );
    let settings = load_settings(&env).unwrap();
    let err = Application::build(settings)
        .await
        .err()
        .expect("start-up fails");
    assert_eq!(err.0.len(), 1);
    assert!(
        err.0[0].starts_with("catalog /nonexistent/rooms.toml: cannot read the file"),
        "{err}"
    );
}

#[tokio::test]
async fn a_broken_catalog_stops_start_up_naming_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rooms.toml");
    std::fs::write(
        &path,
        "[[rooms]]\nlicense = \"123-123-123\"\nname = \"A\"\n\n[[rooms]]\nlicense = \"123-123-123\"\nname = \"B\"\n\n[[rooms]]\nlicense = \"1\"\nname = \"C\"\ntype = \"scheduled\"\nstart = \"tomorrow\"\n",
    )
    .unwrap();
    let mut env = test_env();
    env.insert("ROOMGATE__CATALOG__PATH".into(), path.display().to_string());
    let err = Application::build(load_settings(&env).unwrap())
        .await
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(
        text.contains("line 5, room \"123-123-123\": the room key is used twice"),
        "{text}"
    );
    assert!(
        text.contains("line 9, room \"1\": the room key does not match"),
        "{text}"
    );
    assert!(
        text.contains("line 9, room \"1\": start \"tomorrow\" is not an RFC 3339 instant"),
        "{text}"
    );
}

#[tokio::test]
async fn a_templates_folder_without_the_needed_templates_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("base.html"),
        "<html>{% block main %}{% endblock %}</html>",
    )
    .unwrap();
    let mut env = test_env();
    env.insert(
        "ROOMGATE__BRANDING__TEMPLATES_DIR".into(),
        dir.path().display().to_string(),
    );
    let err = Application::build(load_settings(&env).unwrap())
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("lacks room.html, error.html, notice.html"),
        "{err}"
    );
}

#[test]
fn values_that_need_parsing_are_parsed_once_when_the_settings_load() {
    let mut env = test_env();
    env.insert(
        "ROOMGATE__SERVER__TRUSTED_PROXIES".into(),
        "10.0.0.1,192.168.0.0/16".into(),
    );
    env.insert(
        "ROOMGATE__BRANDING__DEFAULT_LANGUAGE".into(),
        "pl-PL".into(),
    );
    env.insert(
        "ROOMGATE__ROOMS__LICENSE_PATTERN".into(),
        "^[a-z]{4}$".into(),
    );
    let settings = load_settings(&env).unwrap();
    let parsed = &settings.parsed;
    assert_eq!(
        parsed
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["10.0.0.1/32", "192.168.0.0/16"]
    );
    assert_eq!(parsed.default_language, Language::Pl);
    assert!(parsed.license_pattern.matches("abcd"));
    assert!(!parsed.license_pattern.matches("123-123-123"));
}

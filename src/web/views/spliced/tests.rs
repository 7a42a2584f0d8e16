//! Spliced pages against Tera's own rendering, byte for byte.

use std::{collections::HashMap, path::Path};

use super::*;
use crate::{
    domain::LANGUAGES,
    web::views::{CountdownView, RoomView, ScheduleView},
};

/// Every variant: (prompt, error, signed in).
const ALL: [(bool, bool, bool); 6] = [
    (false, false, false),
    (false, false, true),
    (true, false, false),
    (true, true, false),
    (true, false, true),
    (true, true, true),
];
const EMBED: (bool, bool, bool) = ALL[0];
const SIGNED_IN: (bool, bool, bool) = ALL[1];
const PROMPT: (bool, bool, bool) = ALL[2];

/// Visitor values: what Tera escapes, empty strings, unicode, template syntax, line
/// separators, a long name.
fn awkward() -> Vec<String> {
    let long = "Ä<&>/\"' ".repeat(700);
    [
        "",
        "Ann",
        "<script>alert(\"x\")</script>",
        "O'Brien & Co / \"Ltd\"",
        "Zażółć gęślą jaźń 😀",
        "\u{2028}\u{2029}\0\t\r\n",
        "&amp;&lt;&#x2F;",
        "{{ site.name }}{% if prompt %}{# x #}",
        &long,
    ]
    .map(str::to_owned)
    .to_vec()
}

fn pages_from(templates: &Path) -> Pages {
    let vars = HashMap::from([
        (
            "ROOMGATE__BRANDING__TEMPLATES_DIR",
            templates.display().to_string(),
        ),
        (
            "ROOMGATE__BRANDING__SUPPORT_URL",
            "https://help.example/?a=1&b=2".into(),
        ),
    ])
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let settings = crate::settings::load(&config, &vars).expect("settings");
    Pages::load(&settings.branding, "v1".into()).expect("templates load")
}

fn shipped_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")
}

/// The shipped templates with `from` replaced by `to` in `room.html`.
fn edited(from: &str, to: &str) -> (tempfile::TempDir, Pages) {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(shipped_dir()).unwrap() {
        let path = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if path.ends_with(TEMPLATE) {
            assert!(text.contains(from), "room.html has no {from}");
            text = text.replace(from, to);
        }
        std::fs::write(dir.path().join(path.file_name().unwrap()), text).unwrap();
    }
    let pages = pages_from(dir.path());
    (dir, pages)
}

/// A live page of the variant `(prompt, error, signed_in)`, its visitor values taken
/// from `values` from the `n`th on; `full` adds a role, a schedule and an agenda.
fn page(variant: (bool, bool, bool), full: bool, values: &[String], n: usize) -> RoomPage {
    let (prompt, error, signed_in) = variant;
    let v = |k: usize| values[(n + k) % values.len()].clone();
    RoomPage {
        room: RoomView {
            name: "Room <name> & 'co'".into(),
            agenda: if full {
                "Line <one>\nTwo".into()
            } else {
                String::new()
            },
            schedule: full.then(|| ScheduleView {
                start_iso: "2026-12-01T15:00:00Z".into(),
                start_text: "Tuesday, 1 December 2026, 16:00 CET".into(),
                end_text: "17:30 CET".into(),
                timezone: "Europe/Warsaw".into(),
                duration_minutes: 90,
            }),
            calendar_url: full.then(|| "/room/123-123-123/calendar.ics".to_owned()),
        },
        role: full.then(|| "host".to_owned()),
        role_label: full.then(|| "Joining as host".to_owned()),
        phase: "live",
        countdown: None,
        embed_json: if prompt { String::new() } else { v(0) },
        container_id: "roomgate-room",
        direct_link: v(1),
        prompt: prompt.then(|| PromptView {
            action: v(2),
            csrf: v(3),
            return_to: v(4),
            error: error.then(|| v(5) + "!"),
            nickname: v(6),
        }),
        signed_in: signed_in.then(|| SignedInView {
            name: v(7),
            csrf: v(8),
            return_to: v(9),
        }),
    }
}

#[test]
fn spliced_pages_are_the_rendered_pages_byte_for_byte_in_every_variant_and_language() {
    let (pages, values) = (pages_from(&shipped_dir()), awkward());
    for (lang, variant, full) in LANGUAGES.iter().flat_map(|l| {
        ALL.iter()
            .flat_map(move |v| [(*l, *v, true), (*l, *v, false)])
    }) {
        let first = page(variant, full, &values, 1);
        let compiled = CompiledRoomPage::compile(&pages, &first, lang).expect("compiles");
        let lazily = CompiledRoomPages::new();
        for n in 0..values.len() {
            let page = page(variant, full, &values, n);
            let rendered = pages.render(TEMPLATE, &page, lang).unwrap();
            let spliced = compiled.fill(&Values::of(&page)).unwrap();
            let context = format!("{lang:?} {variant:?} full {full}, values from {n}");
            assert_eq!(
                std::str::from_utf8(&spliced).unwrap(),
                rendered,
                "{context}"
            );
            assert_eq!(lazily.render(&pages, &page, lang).unwrap(), spliced);
        }
        let shown: Vec<usize> = compiled.splices.iter().map(|(_, i)| *i).collect();
        let expected = compiled.variant.expected();
        assert_eq!(shown.len(), expected.iter().sum::<usize>(), "{variant:?}");
    }
}

/// `room.html` edited by `from` → `to` does not compile for `variant`, and its pages
/// are still Tera's.
fn rendered_in_full(from: &str, to: &str, variant: (bool, bool, bool)) {
    let (_dir, pages) = edited(from, to);
    let page = page(variant, true, &awkward(), 2);
    for lang in LANGUAGES {
        let compiled = CompiledRoomPage::compile(&pages, &page, lang);
        assert!(compiled.is_none(), "{to}: {variant:?} must not compile");
        let rendered = pages.render(TEMPLATE, &page, lang).unwrap();
        let lazily = CompiledRoomPages::new().render(&pages, &page, lang);
        assert_eq!(lazily.unwrap(), rendered.as_bytes());
    }
}

#[test]
fn a_template_that_drops_a_field_is_rendered_in_full() {
    rendered_in_full("{{ direct_link }}", "", EMBED);
    // The prompt does not show the link, so it still compiles.
    let (_dir, pages) = edited("{{ direct_link }}", "");
    let prompt = page(PROMPT, true, &awkward(), 0);
    assert!(CompiledRoomPage::compile(&pages, &prompt, Language::En).is_some());
}

#[test]
fn a_template_that_repeats_a_field_is_rendered_in_full() {
    let twice = "{{ signed_in.name }} ({{ signed_in.name }})";
    rendered_in_full("{{ signed_in.name }}", twice, SIGNED_IN);
}

#[test]
fn a_template_that_filters_a_field_or_tests_it_is_rendered_in_full() {
    for to in [
        "{{ signed_in.name | safe }}",
        "{{ signed_in.name | upper }}",
    ] {
        rendered_in_full("{{ signed_in.name }}", to, SIGNED_IN);
    }
    let nickname = r#"value="{{ prompt.nickname }}""#;
    for extra in [
        r#" data-n="{{ prompt.nickname | length }}""#,
        "{% if prompt.nickname %} data-named{% endif %}",
    ] {
        rendered_in_full(nickname, &format!("{nickname}{extra}"), PROMPT);
    }
}

#[test]
fn pages_with_a_countdown_or_an_empty_error_are_rendered_in_full() {
    let (pages, values) = (pages_from(&shipped_dir()), awkward());
    let mut waiting = page(EMBED, true, &values, 0);
    waiting.phase = "waiting";
    waiting.countdown = Some(CountdownView {
        to_iso: "2026-12-01T14:00:00Z".into(),
        seconds_left: 60,
        reload: true,
        label: "Opens in".into(),
    });
    let mut empty_error = page(ALL[3], true, &values, 0);
    empty_error.prompt.as_mut().unwrap().error = Some(String::new());
    for page in [waiting, empty_error] {
        assert!(CompiledRoomPage::compile(&pages, &page, Language::Pl).is_none());
        let rendered = pages.render(TEMPLATE, &page, Language::Pl).unwrap();
        let lazily = CompiledRoomPages::new().render(&pages, &page, Language::Pl);
        assert_eq!(lazily.unwrap(), rendered.as_bytes());
    }
}

#[test]
fn values_of_another_variant_are_not_filled() {
    let (pages, values) = (pages_from(&shipped_dir()), awkward());
    let plain = page(EMBED, true, &values, 0);
    let compiled = CompiledRoomPage::compile(&pages, &plain, Language::En).unwrap();
    for variant in &ALL[1..] {
        let other = page(*variant, true, &values, 0);
        assert!(compiled.fill(&Values::of(&other)).is_none(), "{variant:?}");
    }
}

#[test]
fn every_character_is_escaped_as_tera_escapes_it() {
    let all: String = (0..=u32::from(char::MAX))
        .filter_map(char::from_u32)
        .collect();
    let mut out = Vec::new();
    escape_html_into(&all, &mut out);
    assert_eq!(out, tera::escape_html(&all).into_bytes());
}

//! Property tests of the plain functions behind a room page: the embed data block, the
//! grammars of tokens, room keys and nicknames, the loader URL that `static/js/room.js`
//! builds (run in Node.js) and redirect targets. Each property runs on a few hundred
//! generated inputs, biased towards the characters that matter (markup, quotes,
//! separators, percent signs, line and paragraph separators).

use std::{io::Write, process::Command};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::{prelude::*, strategy::ValueTree, test_runner::TestRunner};
use regex::Regex;
use roomgate::{
    domain::grammar::{
        LicensePattern, clean_avatar_url, clean_email, clean_nickname, is_personal_token, is_token,
    },
    settings::EmbedSettings,
    visit::{
        embed::{EmbedBlock, escape_for_script},
        query::{RoomQuery, pairs},
        redirect::safe_return_path,
        remembered::VisitorState,
        visitor::Visitor,
    },
};

use crate::helpers::repo_path;

/// What JavaScript's `encodeURIComponent` leaves alone: `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// `encodeURIComponent(value)`, to write the queries a browser would send.
fn encode_uri_component(value: &str) -> String {
    utf8_percent_encode(value, URI_COMPONENT).to_string()
}

/// Any string, or one made mostly of the characters that break HTML, JSON, JS and URLs.
fn nasty_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[<>&\"'\\\\/=%+#?;: a-zA-Z0-9\\x{2028}\\x{2029}\\x{0}-\\x{1f}\\x{7f}\\x{85}\\x{a0}\\x{202e}\\x{feff}é🎉]{0,60}",
        "(</script>|<!--|<script>|\\]\\]>|&amp;|\\\\u003c|%3C|%26|&_role_token=X|\\x{2028}|\\x{2029}|[a-z ]){0,12}",
    ]
}

fn optional(s: impl Strategy<Value = String>) -> impl Strategy<Value = Option<String>> {
    prop::option::of(s)
}

prop_compose! {
    fn any_visitor()(
        nickname in optional(nasty_string()),
        email in optional(nasty_string()),
        avatar_url in optional(nasty_string()),
        personal_token in optional(nasty_string()),
        password_token in optional(nasty_string()),
        registrant_token in optional(nasty_string()),
        name_locked in any::<bool>(),
    ) -> Visitor {
        Visitor { nickname, email, avatar_url, personal_token, password_token, registrant_token, name_locked }
    }
}

prop_compose! {
    fn any_embed_settings()(
        base_url in nasty_string(),
        width in nasty_string(),
        height in nasty_string(),
        disable_target_top in any::<bool>(),
    ) -> EmbedSettings {
        EmbedSettings { base_url, width, height, disable_target_top }
    }
}

/// The characters that must never appear raw inside the `<script>` data block.
const RAW_FORBIDDEN: [char; 5] = ['<', '>', '&', '\u{2028}', '\u{2029}'];

fn config() -> ProptestConfig {
    ProptestConfig {
        // Failing inputs are reported in the test output and kept as named tests here;
        // no regression files are written into the work tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Whatever the values, the data block is JSON that reads back to the same block and
    /// carries none of `<`, `>`, `&`, U+2028, U+2029 raw.
    #[test]
    fn the_data_block_round_trips_and_has_no_raw_markup(
        settings in any_embed_settings(),
        license in nasty_string(),
        role_token in optional(nasty_string()),
        visitor in any_visitor(),
    ) {
        let block = EmbedBlock::new(&settings, &license, role_token.as_deref(), &visitor);
        let json = block.to_script_json();
        for c in RAW_FORBIDDEN {
            prop_assert!(!json.contains(c), "{:?} raw in {}", c, json);
        }
        prop_assert!(!json.contains("</"), "closing tag in {}", json);
        let back: EmbedBlock = serde_json::from_str(&json).expect("the block is valid JSON");
        prop_assert_eq!(&back, &block);
        prop_assert_eq!(back.options.nickname.as_deref(), visitor.nickname.as_deref());
    }

    /// A nickname typed into the link reaches the data block as the accepted (cleaned)
    /// value, or not at all.
    #[test]
    fn a_query_nickname_reaches_the_block_as_the_cleaned_value(nick in nasty_string()) {
        let query = RoomQuery::parse(&format!("_nickname={}", encode_uri_component(&nick)));
        let visitor = Visitor::resolve("123-123-123", &query, &VisitorState::default(), 0);
        let settings = EmbedSettings {
            base_url: "https://embed.example".into(),
            width: "100%".into(),
            height: "100%".into(),
            disable_target_top: true,
        };
        let json = EmbedBlock::new(&settings, "123-123-123", None, &visitor).to_script_json();
        let back: EmbedBlock = serde_json::from_str(&json).expect("the block is valid JSON");
        prop_assert_eq!(back.options.nickname, clean_nickname(&nick));
    }

    /// `escape_for_script` changes no JSON value: any JSON text escaped is the same value.
    #[test]
    fn escaping_keeps_any_json_string_value(s in nasty_string()) {
        let json = serde_json::to_string(&serde_json::json!({ "k": s })).unwrap();
        let escaped = escape_for_script(&json);
        for c in RAW_FORBIDDEN {
            prop_assert!(!escaped.contains(c));
        }
        let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
        prop_assert_eq!(back["k"].as_str(), Some(s.as_str()));
    }

    /// `encodeURIComponent` then `pairs()` gives any key and value back.
    #[test]
    fn percent_encoding_round_trips_through_pairs(
        list in prop::collection::vec((nasty_string(), nasty_string()), 0..8),
    ) {
        let query = list
            .iter()
            .map(|(k, v)| format!("{}={}", encode_uri_component(k), encode_uri_component(v)))
            .collect::<Vec<_>>()
            .join("&");
        let decoded: Vec<(String, String)> = pairs(&query).collect();
        prop_assert_eq!(decoded, list);
    }

    /// Any query, encoded or raw, parses without panicking, and every value it keeps
    /// passes its own check again unchanged.
    #[test]
    fn any_query_parses_to_checked_values(
        list in prop::collection::vec((
            prop_oneof![
                Just("_nickname".to_owned()), Just("_personal_token".to_owned()),
                Just("_email".to_owned()), Just("_avatar_url".to_owned()),
                Just("_password_token".to_owned()), Just("_registrant_token".to_owned()),
                nasty_string(),
            ],
            nasty_string(),
        ), 0..10),
        encoded in any::<bool>(),
    ) {
        let query = list
            .iter()
            .map(|(k, v)| if encoded {
                format!("{}={}", encode_uri_component(k), encode_uri_component(v))
            } else {
                format!("{k}={v}")
            })
            .collect::<Vec<_>>()
            .join("&");
        let q = RoomQuery::parse(&query);
        if let Some(n) = &q.nickname {
            prop_assert_eq!(clean_nickname(n), Some(n.clone()));
        }
        if let Some(e) = &q.email {
            prop_assert_eq!(clean_email(e), Some(e.clone()));
        }
        if let Some(a) = &q.avatar_url {
            prop_assert_eq!(clean_avatar_url(a), Some(a.clone()));
        }
        if let Some(t) = &q.personal_token {
            prop_assert!(is_personal_token(t), "{:?}", t);
        }
        for t in [&q.password_token, &q.registrant_token].into_iter().flatten() {
            prop_assert!(is_token(t), "{:?}", t);
        }
    }

    /// Any raw string as a query string: no panic.
    #[test]
    fn any_raw_query_string_parses(raw in nasty_string()) {
        let _ = RoomQuery::parse(&raw);
        let _ = pairs(&raw).count();
    }

    /// `is_token` is exactly `^[A-Za-z0-9_-]{1,128}$`.
    #[test]
    fn is_token_is_exactly_its_grammar(
        s in prop_oneof![
            any::<String>(),
            "[A-Za-z0-9_-]{1,128}",
            "[A-Za-z0-9_-]{126,130}",
            "[A-Za-z0-9_-]{0,10}[^A-Za-z0-9_-][A-Za-z0-9_-]{0,10}",
        ],
    ) {
        let grammar = Regex::new(r"^[A-Za-z0-9_-]{1,128}$").unwrap();
        prop_assert_eq!(is_token(&s), grammar.is_match(&s), "{:?}", s);
    }

    /// `is_personal_token` is exactly `^[A-Za-z0-9._~-]{1,128}$`.
    #[test]
    fn is_personal_token_is_exactly_its_grammar(
        s in prop_oneof![
            any::<String>(),
            "[A-Za-z0-9._~-]{1,128}",
            "[A-Za-z0-9._~-]{126,130}",
            "[A-Za-z0-9._~-]{0,10}[^A-Za-z0-9._~-][A-Za-z0-9._~-]{0,10}",
        ],
    ) {
        let grammar = Regex::new(r"^[A-Za-z0-9._~-]{1,128}$").unwrap();
        prop_assert_eq!(is_personal_token(&s), grammar.is_match(&s), "{:?}", s);
    }

    /// Generated-valid tokens are accepted; one foreign character anywhere refuses them.
    #[test]
    fn a_token_with_one_foreign_character_is_refused(
        valid in "[A-Za-z0-9_-]{1,127}",
        at in any::<prop::sample::Index>(),
        foreign in any::<char>().prop_filter("not a token character", |c| {
            !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        }),
    ) {
        prop_assert!(is_token(&valid));
        let mut chars: Vec<char> = valid.chars().collect();
        chars.insert(at.index(chars.len() + 1), foreign);
        let bad: String = chars.into_iter().collect();
        prop_assert!(!is_token(&bad), "{:?}", bad);
    }

    /// The default `rooms.license_pattern` accepts exactly `^[0-9]{3}-[0-9]{3}-[0-9]{3}$`.
    #[test]
    fn the_default_license_pattern_is_exactly_three_groups_of_three_digits(
        s in prop_oneof![
            any::<String>(),
            "[0-9]{3}-[0-9]{3}-[0-9]{3}",
            "[0-9٠-٩０-９]{2,4}[-‐_]?[0-9]{2,4}-[0-9]{3}\n?",
            "[0-9]{3}-[0-9]{3}-[0-9]{3}.{0,2}",
            ".{0,2}[0-9]{3}-[0-9]{3}-[0-9]{3}",
        ],
    ) {
        let pattern = default_license_pattern();
        let grammar = Regex::new(r"^[0-9]{3}-[0-9]{3}-[0-9]{3}$").unwrap();
        prop_assert_eq!(pattern.matches(&s), grammar.is_match(&s), "{:?}", s);
    }

    /// A cleaned nickname is 1–100 characters, trimmed, free of control characters, and
    /// cleaning it again changes nothing.
    #[test]
    fn clean_nickname_output_is_short_trimmed_printable_and_stable(raw in prop_oneof![
        nasty_string(),
        "[ \\t\\n\\x{0}-\\x{1f}\\x{85}\\x{a0}\\x{2000}-\\x{200b}\\x{3000}a-zé🎉]{0,140}",
        "[a-z]{95,105}",
        "\\PC{90,110}",
    ]) {
        if let Some(n) = clean_nickname(&raw) {
            let count = n.chars().count();
            prop_assert!((1..=100).contains(&count), "{} chars: {:?}", count, n);
            prop_assert_eq!(n.trim(), n.as_str());
            prop_assert!(!n.chars().any(char::is_control), "{:?}", n);
            prop_assert_eq!(clean_nickname(&n), Some(n.clone()));
        }
    }

    /// A return path is never another site, for any input nor any further decoding of it
    /// (a browser or proxy may decode once more): it starts with one `/`, has no `\`, no
    /// scheme, no control character, and resolves on our own origin.
    #[test]
    fn safe_return_path_never_leaves_the_site(raw in prop_oneof![
        any::<String>(),
        "[/\\\\%2FfCc5:.@a-z\\t\\n ]{0,16}",
        "(/|//|\\\\|%2F|%2f|%5C|%5c|%25|%252F|%09|%0a|%00|:|javascript:|https:|@|\\.|evil\\.example|[a-z]){0,8}",
        "/(/|\\\\|%2F|%2f|%5C|%5c|%25|%252F|%25252F|%09|%0a|%00|%E2%80%AE|:|javascript:|@|\\.|evil\\.example|[a-z]){0,8}",
    ]) {
        if let Some(p) = safe_return_path(&raw) {
            prop_assert_eq!(&p, &raw, "a kept path is kept verbatim");
            let base = url::Url::parse("http://rooms.test/").unwrap();
            let mut current = p.clone();
            for _ in 0..4 {
                prop_assert!(current.starts_with('/') && !current.starts_with("//"), "{:?} from {:?}", current, p);
                prop_assert!(!current.contains('\\'), "{:?} from {:?}", current, p);
                prop_assert!(!current.contains(char::is_control), "{:?} from {:?}", current, p);
                prop_assert!(url::Url::parse(&current).is_err(), "{:?} has a scheme", current);
                let joined = base.join(&current).unwrap();
                prop_assert_eq!(joined.origin(), base.origin(), "{:?} from {:?}", current, p);
                let Ok(next) = percent_encoding::percent_decode_str(&current).decode_utf8() else {
                    break;
                };
                if next == current {
                    break;
                }
                current = next.into_owned();
            }
        }
    }
}

/// `OPTION_NAMES` of `static/js/room.js`: the options in the order its loader URL lists
/// them. A copy, checked against the script's text by the test below.
const OPTION_NAMES: [&str; 12] = [
    "_license_key",
    "_role_token",
    "_personal_token",
    "_nickname",
    "_email",
    "_avatar_url",
    "_password_token",
    "_registrant_token",
    "_widget_containerID",
    "_widget_width",
    "_widget_height",
    "_disable_target_top",
];

/// The loader URL that the real `static/js/room.js` builds from a data block carries each
/// option as one value: for a few hundred generated blocks it is `{loader}?` and a query
/// that decodes to exactly `t=<license>` then the block's options in the script's order
/// (a nickname such as `a&_role_token=X` cannot add an option).
#[test]
fn the_loader_query_decodes_to_exactly_the_options() {
    assert_eq!(
        script_option_names(),
        OPTION_NAMES,
        "OPTION_NAMES in static/js/room.js and in this test differ"
    );

    let mut runner = TestRunner::new(config());
    let case = (
        any_embed_settings(),
        nasty_string(),
        optional(nasty_string()),
        any_visitor(),
    );
    let blocks: Vec<String> = (0..runner.config().cases)
        .map(|_| {
            let (settings, license, role_token, visitor) = case
                .new_tree(&mut runner)
                .expect("a generated case")
                .current();
            EmbedBlock::new(&settings, &license, role_token.as_deref(), &visitor).to_script_json()
        })
        .collect();
    let urls = run_room_js(&blocks);
    assert_eq!(urls.len(), blocks.len(), "one result per block");

    let mut failures: Vec<String> = blocks
        .iter()
        .zip(&urls)
        .filter_map(|(json, url)| {
            let why = check_loader_url(json, url.as_deref()).err()?;
            Some(format!("{why}\n  block: {json:?}\n  URL:   {url:?}"))
        })
        .collect();
    // No shrinking across one node run: show the shortest failures instead.
    failures.sort_by_key(String::len);
    assert!(
        failures.is_empty(),
        "{} of {} blocks give a wrong loader URL; the shortest:\n{}",
        failures.len(),
        blocks.len(),
        failures[..failures.len().min(3)].join("\n")
    );
}

/// `url` is the block's loader, `?`, then a query that decodes to exactly `t=<license>`
/// and the options present (not null) in the block, in `OPTION_NAMES` order.
fn check_loader_url(json: &str, url: Option<&str>) -> Result<(), String> {
    let block: serde_json::Value = serde_json::from_str(json).expect("the block is JSON");
    let loader = block["loader"].as_str().expect("the block has a loader");
    let url = url.ok_or("room.js loaded no script")?;
    let query = url
        .strip_prefix(loader)
        .and_then(|rest| rest.strip_prefix('?'))
        .ok_or("the URL is not the loader followed by `?`")?;
    let options = &block["options"];
    let license = options["_license_key"].as_str().expect("a license key");
    let present = OPTION_NAMES.iter().filter_map(|name| {
        let value = options.get(name).filter(|v| !v.is_null())?;
        Some((
            name.to_string(),
            value.as_str().expect("a string").to_owned(),
        ))
    });
    let expected: Vec<(String, String)> = [("t".to_owned(), license.to_owned())]
        .into_iter()
        .chain(present)
        .collect();
    let decoded: Vec<(String, String)> = pairs(query).collect();
    if decoded == expected {
        Ok(())
    } else {
        Err(format!(
            "the query decodes to {decoded:?}, expected {expected:?}"
        ))
    }
}

/// The names in `OPTION_NAMES = [...]` as `static/js/room.js` spells them.
fn script_option_names() -> Vec<String> {
    let script = std::fs::read_to_string(repo_path("static/js/room.js")).expect("room.js");
    let list = Regex::new(r"\bOPTION_NAMES\s*=\s*\[([^\]]*)\]")
        .unwrap()
        .captures(&script)
        .expect("room.js declares OPTION_NAMES = [...]");
    Regex::new(r#"['"]([^'"]*)['"]"#)
        .unwrap()
        .captures_iter(&list[1])
        .map(|name| name[1].to_owned())
        .collect()
}

/// Runs the unmodified `static/js/room.js` once per data block through
/// `tests/api/room_js_loader.mjs` (one `node` for all blocks) and returns, per block, the
/// URL of the script it appended.
fn run_room_js(blocks: &[String]) -> Vec<Option<String>> {
    let mut file = tempfile::NamedTempFile::new().expect("a temp file");
    serde_json::to_writer(&mut file, blocks).expect("blocks written");
    file.flush().expect("blocks written");

    let mut node = Command::new("node");
    node.arg(repo_path("tests/api/room_js_loader.mjs"))
        .arg(file.path());
    // CI runs these tests a second time under libfaketime (scripts/a-year-ahead), which
    // reaches this process through LD_PRELOAD and FAKETIME*: node, like cargo, must run
    // on the real clock without it.
    for (name, _) in std::env::vars_os() {
        let text = name.to_string_lossy();
        if text.starts_with("FAKETIME") || text.ends_with("FAKE_MONOTONIC") {
            node.env_remove(&name);
        }
    }
    node.env_remove("LD_PRELOAD")
        .env_remove("DYLD_INSERT_LIBRARIES")
        .env_remove("DYLD_FORCE_FLAT_NAMESPACE");
    let output = match node.output() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "Node.js 20 or newer is needed on PATH: this test runs static/js/room.js in it (`node` not found)"
        ),
        result => result.expect("node runs"),
    };
    assert!(
        output.status.success(),
        "node tests/api/room_js_loader.mjs failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the harness prints a JSON array")
}

fn default_license_pattern() -> LicensePattern {
    let settings = crate::helpers::load_settings(&crate::helpers::test_env())
        .expect("test settings are valid");
    LicensePattern::new(&settings.rooms.license_pattern).unwrap()
}

/// Security checklist V5.2.2: bidi overrides and isolates (U+202A–202E, U+2066–2069)
/// are removed from nicknames like control characters, so a name cannot reverse the text
/// around it in the room's participant list.
#[test]
fn nicknames_lose_bidi_overrides() {
    for (raw, expected) in [
        ("\u{202e}evil\u{0}", "evil"),
        ("Ada\u{2066}\u{2069}", "Ada"),
        ("\u{202a}\u{202b}\u{202c}\u{202d}Bob", "Bob"),
    ] {
        assert_eq!(clean_nickname(raw).as_deref(), Some(expected), "{raw:?}");
    }
}

//! Room pages compiled once and spliced per visitor.
//!
//! A live room page is the same for every visitor of one (room, role, language) but for a
//! few values: the embed data block, the `<noscript>` link (it carries the nickname), the
//! signed-in name and the name prompt's fields, with their CSRF tokens. Rendering the whole
//! template per visitor costs most of such a page's time, so the template is rendered once
//! with a random marker in place of each of those values, the output is cut at the markers,
//! and each visitor's page is the pieces with their values put back, escaped as Tera
//! escapes them. Tera stays the authoring format: a compiled page is made from whatever the
//! templates folder holds.
//!
//! Whether a prompt, an error or a signed-in person is shown changes the page's shape, so
//! each combination (a [`Variant`]) is compiled on its own, when first needed. A template
//! this cannot reproduce exactly is rendered in full instead; see
//! [`CompiledRoomPage::compile`] for the checks.

use std::sync::OnceLock;

use actix_web::web::Bytes;
use rand::{Rng, distr::Alphanumeric};

use super::pages::{Pages, PromptView, RoomPage, SignedInView};
use crate::domain::Language;

const TEMPLATE: &str = "room.html";

/// What differs between the visitors of one live room page.
#[derive(Debug, Clone, Copy)]
pub struct Values<'a> {
    /// Inserted as it is (`| safe`): already escaped JSON.
    pub embed_json: &'a str,
    pub direct_link: &'a str,
    pub prompt: Option<&'a PromptView>,
    pub signed_in: Option<&'a SignedInView>,
}

impl<'a> Values<'a> {
    /// The visitor's values of `page`.
    pub fn of(page: &'a RoomPage) -> Self {
        Values {
            embed_json: &page.embed_json,
            direct_link: &page.direct_link,
            prompt: page.prompt.as_ref(),
            signed_in: page.signed_in.as_ref(),
        }
    }

    /// Every value, absent ones empty, in the order markers are numbered in. The first
    /// is the only one inserted as it is; the others are escaped.
    fn all(&self) -> [&'a str; FIELDS] {
        let p = |f: for<'x> fn(&'x PromptView) -> &'x str| self.prompt.map_or("", f);
        let s = |f: for<'x> fn(&'x SignedInView) -> &'x str| self.signed_in.map_or("", f);
        [
            self.embed_json,
            self.direct_link,
            s(|s| &s.name),
            s(|s| &s.csrf),
            s(|s| &s.return_to),
            p(|p| &p.action),
            p(|p| &p.csrf),
            p(|p| &p.return_to),
            p(|p| &p.nickname),
            p(|p| p.error.as_deref().unwrap_or("")),
        ]
    }
}

/// How many values [`Values::all`] gives.
const FIELDS: usize = 10;

/// The shape of a room page: which of the optional parts it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    pub prompt: bool,
    pub error: bool,
    pub signed_in: bool,
}

impl Variant {
    /// The shape `values` give the page, or `None` for an empty prompt error: Tera takes it
    /// for no error in `{% if %}` yet would print it, so it has no shape of its own.
    pub fn of(values: &Values<'_>) -> Option<Self> {
        let error = values.prompt.and_then(|p| p.error.as_deref());
        if error == Some("") {
            return None;
        }
        Some(Variant {
            prompt: values.prompt.is_some(),
            error: error.is_some(),
            signed_in: values.signed_in.is_some(),
        })
    }

    fn index(self) -> usize {
        usize::from(self.prompt) | usize::from(self.error) << 1 | usize::from(self.signed_in) << 2
    }

    /// How often the shipped `room.html` shows each value (in [`Values::all`]'s order). A
    /// template that shows one another number of times is rendered in full: it may have
    /// changed what the value does.
    fn expected(self) -> [usize; FIELDS] {
        let (room, signed, prompt) = (!self.prompt, self.signed_in && !self.prompt, self.prompt);
        [
            room, room, signed, signed, signed, prompt, prompt, prompt, prompt, self.error,
        ]
        .map(usize::from)
    }
}

/// One variant of a live room page, cut at its visitor values.
#[derive(Debug)]
pub struct CompiledRoomPage {
    variant: Variant,
    /// The page without its values.
    text: String,
    /// Where in `text` each value goes (its index in [`Values::all`]), in order.
    splices: Vec<(usize, usize)>,
}

impl CompiledRoomPage {
    /// Compiles the variant of `page` in `lang`, or `None` when that would not give the
    /// bytes Tera gives: the page is not live (a countdown changes every second), the
    /// template shows a value another number of times than the shipped one does, or the
    /// page filled with two sets of test values (empty ones, and ones Tera must escape)
    /// differs from Tera's own rendering of them, as when a template uses a value in a
    /// condition or through a filter. Only `page`'s non-visitor parts are kept: the caller
    /// must use the result only for pages of the same room, role, phase and language.
    pub fn compile(pages: &Pages, page: &RoomPage, lang: Language) -> Option<Self> {
        if page.phase != "live" || page.countdown.is_some() {
            return None;
        }
        let variant = Variant::of(&Values::of(page))?;
        // Letters and digits only, so escaping leaves it as it is; about 130 random bits,
        // so no template or room text holds it by chance.
        let token: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(22)
            .map(char::from)
            .collect();
        let marked = with_values(page, std::array::from_fn(|i| format!("{token}{}", code(i))));
        let html = pages.render(TEMPLATE, &marked, lang).ok()?;
        let compiled = cut(variant, &html, &token)?;
        let mut counts = [0; FIELDS];
        compiled.splices.iter().for_each(|(_, i)| counts[*i] += 1);
        // Empty values (the error excepted: it must stay shown), then ones Tera escapes.
        let nasty = "Zoë <b>\"O'Brien\" & co</b> / \u{2028} 😀 &amp; {{ x }}";
        let probes = [
            std::array::from_fn(|i| if i == FIELDS - 1 { "!" } else { "" }),
            [nasty; FIELDS],
        ];
        let reproduced = counts == variant.expected()
            && probes.iter().all(|probe| {
                let probed = with_values(page, probe.map(str::to_owned));
                pages.render(TEMPLATE, &probed, lang).is_ok_and(|html| {
                    compiled.fill(&Values::of(&probed)).as_deref() == Some(html.as_bytes())
                })
            });
        if !reproduced {
            tracing::debug!(?variant, "room.html is rendered in full for this variant");
        }
        reproduced.then_some(compiled)
    }

    /// The page of `values`, or `None` if they have another variant than this page.
    pub fn fill(&self, values: &Values<'_>) -> Option<Bytes> {
        if Variant::of(values)? != self.variant {
            return None;
        }
        let all = values.all();
        let extra: usize = self.splices.iter().map(|(_, i)| all[*i].len()).sum();
        let mut out = Vec::with_capacity(self.text.len() + extra + extra / 4);
        let mut from = 0;
        for &(at, i) in &self.splices {
            out.extend_from_slice(&self.text.as_bytes()[from..at]);
            let value = all[i];
            if i == 0 {
                out.extend_from_slice(value.as_bytes());
            } else {
                escape_html_into(value, &mut out);
            }
            from = at;
        }
        out.extend_from_slice(&self.text.as_bytes()[from..]);
        Some(Bytes::from(out))
    }
}

/// Every variant of one live room page (one room, role and language), each compiled the
/// first time a visitor needs it. Keep one per cached room page and drop it with the room.
#[derive(Debug, Default)]
pub struct CompiledRoomPages {
    variants: [OnceLock<Option<CompiledRoomPage>>; 8],
}

impl CompiledRoomPages {
    /// Nothing compiled yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `page` in `lang`: spliced when its variant compiles, else rendered by Tera; `None`
    /// (and a log line) if Tera fails. The same bytes either way.
    pub fn render(&self, pages: &Pages, page: &RoomPage, lang: Language) -> Option<Bytes> {
        let values = Values::of(page);
        if page.phase == "live"
            && let Some(variant) = Variant::of(&values)
            && let Some(compiled) = self.variants[variant.index()]
                .get_or_init(|| CompiledRoomPage::compile(pages, page, lang))
            && let Some(html) = compiled.fill(&values)
        {
            return Some(html);
        }
        pages.render_logged(TEMPLATE, page, lang).map(Bytes::from)
    }
}

/// `page` with its visitor values replaced by `values` ([`Values::all`]'s order); absent
/// parts stay absent.
fn with_values(page: &RoomPage, values: [String; FIELDS]) -> RoomPage {
    let [
        embed,
        link,
        name,
        s_csrf,
        s_to,
        action,
        csrf,
        return_to,
        nickname,
        error,
    ] = values;
    let mut page = page.clone();
    (page.embed_json, page.direct_link) = (embed, link);
    if let Some(p) = &mut page.prompt {
        (p.action, p.csrf, p.return_to, p.nickname) = (action, csrf, return_to, nickname);
        p.error = p.error.as_ref().map(|_| error);
    }
    if let Some(s) = &mut page.signed_in {
        (s.name, s.csrf, s.return_to) = (name, s_csrf, s_to);
    }
    page
}

/// The letter after a marker's random part that names value `i`.
fn code(i: usize) -> char {
    char::from(b'a' + i as u8)
}

/// `html` cut at every `token` and the field letter after it.
fn cut(variant: Variant, html: &str, token: &str) -> Option<CompiledRoomPage> {
    let mut text = String::with_capacity(html.len());
    let mut splices = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(token) {
        text.push_str(&rest[..at]);
        let after = &rest[at + token.len()..];
        let i = usize::from(after.as_bytes().first()?.checked_sub(b'a')?);
        splices.push((text.len(), Some(i).filter(|i| *i < FIELDS)?));
        rest = &after[1..];
    }
    text.push_str(rest);
    Some(CompiledRoomPage {
        variant,
        text,
        splices,
    })
}

/// Appends `value` escaped as `tera::escape_html` escapes it (Tera 1.20: `& < > " ' /`);
/// every escaped character is ASCII, so UTF-8 bytes can be looked at one by one.
fn escape_html_into(value: &str, out: &mut Vec<u8>) {
    let mut from = 0;
    for (i, b) in value.bytes().enumerate() {
        let escaped: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' => b"&quot;",
            b'\'' => b"&#x27;",
            b'/' => b"&#x2F;",
            _ => continue,
        };
        out.extend_from_slice(&value.as_bytes()[from..i]);
        out.extend_from_slice(escaped);
        from = i + 1;
    }
    out.extend_from_slice(&value.as_bytes()[from..]);
}

#[cfg(test)]
mod tests {
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
}

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

    /// The page of `values` if their variant is compiled already, else `None` (then
    /// [`render`](Self::render) it).
    pub fn fill(&self, values: &Values<'_>) -> Option<Bytes> {
        let variant = Variant::of(values)?;
        self.variants[variant.index()].get()?.as_ref()?.fill(values)
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
mod tests;

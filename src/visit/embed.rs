//! The embed options for one page, and the JSON data block that carries them.
//!
//! The block sits in `<script type="application/json">`; the static script reads it with
//! `JSON.parse` and percent-encodes each value on its own when it builds the loader URL.

use serde::Serialize;

use super::visitor::Visitor;
use crate::settings::EmbedSettings;

/// Id of the element the vendor's embed fills.
pub const CONTAINER_ID: &str = "roomgate-room";

/// What `static/js/room.js` needs: the loader URL and the options, in the vendor's names.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct EmbedBlock {
    /// `{embed.base_url}/em`; the script appends `?t=…&…`.
    pub loader: String,
    pub options: EmbedOptions,
}

/// The vendor's embed options; absent values are left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct EmbedOptions {
    #[serde(rename = "_license_key")]
    pub license_key: String,
    #[serde(
        rename = "_role_token",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub role_token: Option<String>,
    #[serde(
        rename = "_personal_token",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub personal_token: Option<String>,
    #[serde(rename = "_nickname", skip_serializing_if = "Option::is_none", default)]
    pub nickname: Option<String>,
    #[serde(rename = "_email", skip_serializing_if = "Option::is_none", default)]
    pub email: Option<String>,
    #[serde(
        rename = "_avatar_url",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub avatar_url: Option<String>,
    #[serde(
        rename = "_password_token",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub password_token: Option<String>,
    #[serde(
        rename = "_registrant_token",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub registrant_token: Option<String>,
    #[serde(rename = "_widget_containerID")]
    pub container_id: String,
    #[serde(rename = "_widget_width")]
    pub width: String,
    #[serde(rename = "_widget_height")]
    pub height: String,
    #[serde(
        rename = "_disable_target_top",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub disable_target_top: Option<String>,
}

impl EmbedBlock {
    /// The block for room `license`, joined with `role_token` (already checked) by `visitor`.
    pub fn new(
        settings: &EmbedSettings,
        license: &str,
        role_token: Option<&str>,
        visitor: &Visitor,
    ) -> Self {
        EmbedBlock {
            loader: format!("{}/em", settings.base_url),
            options: EmbedOptions {
                license_key: license.to_owned(),
                role_token: role_token.map(str::to_owned),
                personal_token: visitor.personal_token.clone(),
                nickname: visitor.nickname.clone(),
                email: visitor.email.clone(),
                avatar_url: visitor.avatar_url.clone(),
                password_token: visitor.password_token.clone(),
                registrant_token: visitor.registrant_token.clone(),
                container_id: CONTAINER_ID.to_owned(),
                width: settings.width.clone(),
                height: settings.height.clone(),
                disable_target_top: settings.disable_target_top.then(|| "1".to_owned()),
            },
        }
    }

    /// The JSON text for the data block, safe inside `<script>`: `<`, `>`, `&`, U+2028
    /// and U+2029 are written as `\u` escapes (they can only occur inside JSON strings).
    pub fn to_script_json(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned());
        escape_for_script(&json)
    }
}

/// The parts of the data block that depend on the settings alone, escaped once when the
/// server starts: [`script_json`] then escapes only the room's and the visitor's values.
#[derive(Debug, Clone)]
pub struct EmbedFrame {
    /// From the opening brace to the license key's opening quote.
    head: String,
    /// The widget's fields and the closing braces.
    tail: String,
}

impl EmbedFrame {
    pub fn new(settings: &EmbedSettings) -> Self {
        let mut head = String::from("{\"loader\":\"");
        push_json_chars(&mut head, &settings.base_url);
        head.push_str("/em\",\"options\":{\"_license_key\":\"");
        let mut tail = String::new();
        let fields = [
            ("_widget_containerID", Some(CONTAINER_ID)),
            ("_widget_width", Some(settings.width.as_str())),
            ("_widget_height", Some(settings.height.as_str())),
            (
                "_disable_target_top",
                settings.disable_target_top.then_some("1"),
            ),
        ];
        for (key, value) in fields {
            if let Some(value) = value {
                push_field(&mut tail, key, value);
            }
        }
        tail.push_str("}}");
        EmbedFrame { head, tail }
    }
}

/// The data block's JSON text for room `license` joined with `role_token` by `visitor`:
/// exactly the bytes of `EmbedBlock::new(..).to_script_json()` (a property test holds it to
/// them). It is made on every page of a visitor with values of their own, so it is written
/// straight into one string, each value escaped for JSON and for `<script>` in one pass,
/// rather than through serde's map machinery and a second pass over the whole text.
pub fn script_json(
    frame: &EmbedFrame,
    license: &str,
    role_token: Option<&str>,
    visitor: &Visitor,
) -> String {
    let mut out = String::with_capacity(frame.head.len() + frame.tail.len() + 192);
    out.push_str(&frame.head);
    push_json_chars(&mut out, license);
    out.push('"');
    // In `EmbedOptions`' order, absent values left out as serde leaves them out.
    let fields = [
        ("_role_token", role_token),
        ("_personal_token", visitor.personal_token.as_deref()),
        ("_nickname", visitor.nickname.as_deref()),
        ("_email", visitor.email.as_deref()),
        ("_avatar_url", visitor.avatar_url.as_deref()),
        ("_password_token", visitor.password_token.as_deref()),
        ("_registrant_token", visitor.registrant_token.as_deref()),
    ];
    for (key, value) in fields {
        if let Some(value) = value {
            push_field(&mut out, key, value);
        }
    }
    out.push_str(&frame.tail);
    out
}

/// Appends `,"key":"value"`, the value escaped.
fn push_field(out: &mut String, key: &str, value: &str) {
    out.push_str(",\"");
    out.push_str(key);
    out.push_str("\":\"");
    push_json_chars(out, value);
    out.push('"');
}

/// Appends the characters of `value` as serde_json writes them inside a JSON string (`"`,
/// `\\` and control characters escaped, lowercase hex), then escaped for `<script>` as
/// [`escape_for_script`] escapes them. Runs between escaped characters are copied whole:
/// every escaped character starts with an ASCII byte or 0xE2, which never occur inside
/// another character's encoding, so the runs end on character boundaries.
fn push_json_chars(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = value.as_bytes();
    let mut from = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (escaped, len) = match b {
            b'"' => ("\\\"", 1),
            b'\\' => ("\\\\", 1),
            b'<' => ("\\u003c", 1),
            b'>' => ("\\u003e", 1),
            b'&' => ("\\u0026", 1),
            0x08 => ("\\b", 1),
            b'\t' => ("\\t", 1),
            b'\n' => ("\\n", 1),
            0x0C => ("\\f", 1),
            b'\r' => ("\\r", 1),
            0x00..=0x1F => {
                out.push_str(&value[from..i]);
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xF)]));
                i += 1;
                from = i;
                continue;
            }
            0xE2 if let Some(escaped) = line_separator_at(bytes, i) => (escaped, 3),
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&value[from..i]);
        out.push_str(escaped);
        i += len;
        from = i;
    }
    out.push_str(&value[from..]);
}

/// The escape of U+2028 or U+2029 if one starts at `bytes[i]` (JavaScript once took both
/// for line ends inside strings).
fn line_separator_at(bytes: &[u8], i: usize) -> Option<&'static str> {
    match bytes.get(i..i + 3)? {
        [0xE2, 0x80, 0xA8] => Some("\\u2028"),
        [0xE2, 0x80, 0xA9] => Some("\\u2029"),
        _ => None,
    }
}

/// Escapes HTML-significant characters and JS line terminators in JSON text.
///
/// On every page of a visitor with values of their own, so it copies the runs between
/// the few characters it escapes rather than going character by character. Every one of
/// them starts with a byte that never occurs inside another character's UTF-8 encoding
/// (`<`, `>`, `&`, and 0xE2 for U+2028 and U+2029), so the runs end on character
/// boundaries.
pub fn escape_for_script(json: &str) -> String {
    let bytes = json.as_bytes();
    let mut out = String::with_capacity(json.len() + 16);
    let mut from = 0;
    let mut i = 0;
    while i < bytes.len() {
        let (escaped, len) = match bytes[i] {
            b'<' => ("\\u003c", 1),
            b'>' => ("\\u003e", 1),
            b'&' => ("\\u0026", 1),
            0xE2 if let Some(escaped) = line_separator_at(bytes, i) => (escaped, 3),
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&json[from..i]);
        out.push_str(escaped);
        i += len;
        from = i;
    }
    out.push_str(&json[from..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule, one character at a time: what `escape_for_script` must give.
    fn escaped_char_by_char(json: &str) -> String {
        json.chars()
            .map(|c| match c {
                '<' => "\\u003c".to_owned(),
                '>' => "\\u003e".to_owned(),
                '&' => "\\u0026".to_owned(),
                '\u{2028}' => "\\u2028".to_owned(),
                '\u{2029}' => "\\u2029".to_owned(),
                c => c.to_string(),
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn escaping_copies_runs_exactly_as_the_rule_escapes_characters(
            text in "(\\PC|[<>&\u{2028}\u{2029}\u{2027}\u{202a}é😀])*"
        ) {
            proptest::prop_assert_eq!(escape_for_script(&text), escaped_char_by_char(&text));
        }
    }

    fn value() -> impl proptest::strategy::Strategy<Value = String> {
        "(\\PC|[<>&\"\\\\\u{0}-\u{1f}\u{7f}\u{2028}\u{2029}\u{2027}é😀])*"
    }

    fn maybe() -> impl proptest::strategy::Strategy<Value = Option<String>> {
        proptest::option::of(value())
    }

    proptest::proptest! {
        #[test]
        fn the_written_block_is_byte_for_byte_serdes_escaped_for_script(
            (base_url, width, height, license) in (value(), value(), value(), value()),
            disable_target_top: bool,
            (role_token, personal_token, nickname, email) in (maybe(), maybe(), maybe(), maybe()),
            (avatar_url, password_token, registrant_token) in (maybe(), maybe(), maybe()),
        ) {
            let settings = EmbedSettings { base_url, width, height, disable_target_top };
            let visitor = Visitor {
                nickname,
                email,
                avatar_url,
                personal_token,
                password_token,
                registrant_token,
                name_locked: false,
            };
            let role = role_token.as_deref();
            proptest::prop_assert_eq!(
                script_json(&EmbedFrame::new(&settings), &license, role, &visitor),
                EmbedBlock::new(&settings, &license, role, &visitor).to_script_json()
            );
        }
    }

    fn settings() -> EmbedSettings {
        EmbedSettings {
            base_url: "https://embed.example".into(),
            width: "100%".into(),
            height: "100vh".into(),
            disable_target_top: true,
        }
    }

    #[test]
    fn hostile_nicknames_round_trip_without_raw_markup() {
        for nick in [
            "</script><script>alert(1)</script>",
            "<!--",
            "\"quoted\" 'single'",
            "line\u{2028}sep\u{2029}para",
            "a&_role_token=X",
            "🎉 emoji",
        ] {
            let visitor = Visitor {
                nickname: Some(nick.into()),
                ..Visitor::default()
            };
            let json = EmbedBlock::new(&settings(), "123-123-123", None, &visitor).to_script_json();
            for raw in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
                assert!(!json.contains(raw), "{raw:?} raw in {json}");
            }
            let back: EmbedBlock = serde_json::from_str(&json).unwrap();
            assert_eq!(back.options.nickname.as_deref(), Some(nick));
        }
    }

    #[test]
    fn absent_values_are_left_out() {
        let json =
            EmbedBlock::new(&settings(), "123-123-123", None, &Visitor::default()).to_script_json();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let mut keys: Vec<_> = v["options"].as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "_disable_target_top",
                "_license_key",
                "_widget_containerID",
                "_widget_height",
                "_widget_width",
            ]
        );
        assert_eq!(v["loader"], "https://embed.example/em");
    }
}

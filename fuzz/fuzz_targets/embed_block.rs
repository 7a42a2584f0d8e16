//! The embed data block from arbitrary values: `EmbedBlock::to_script_json` must be JSON
//! that reads back to the same block, with no raw `<`, `>`, `&`, U+2028, U+2029; and the
//! loader query the page script builds from it (`encodeURIComponent` per value) must
//! decode to exactly the options. Panics if any of that is violated.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use roomgate::{
    settings::EmbedSettings,
    visit::{
        embed::{EmbedBlock, EmbedOptions},
        query::pairs,
        visitor::Visitor,
    },
};

#[derive(Debug, Arbitrary)]
struct Input {
    base_url: String,
    width: String,
    height: String,
    disable_target_top: bool,
    license: String,
    role_token: Option<String>,
    nickname: Option<String>,
    email: Option<String>,
    avatar_url: Option<String>,
    personal_token: Option<String>,
    password_token: Option<String>,
    registrant_token: Option<String>,
}

/// What JavaScript's `encodeURIComponent` leaves alone.
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

/// The present options in the order of `static/js/room.js`.
fn option_list(o: &EmbedOptions) -> Vec<(String, String)> {
    [
        ("_license_key", Some(&o.license_key)),
        ("_role_token", o.role_token.as_ref()),
        ("_personal_token", o.personal_token.as_ref()),
        ("_nickname", o.nickname.as_ref()),
        ("_email", o.email.as_ref()),
        ("_avatar_url", o.avatar_url.as_ref()),
        ("_password_token", o.password_token.as_ref()),
        ("_registrant_token", o.registrant_token.as_ref()),
        ("_widget_containerID", Some(&o.container_id)),
        ("_widget_width", Some(&o.width)),
        ("_widget_height", Some(&o.height)),
        ("_disable_target_top", o.disable_target_top.as_ref()),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name.to_owned(), value?.clone())))
    .collect()
}

fuzz_target!(|input: Input| {
    let settings = EmbedSettings {
        base_url: input.base_url,
        width: input.width,
        height: input.height,
        disable_target_top: input.disable_target_top,
    };
    let visitor = Visitor {
        nickname: input.nickname,
        email: input.email,
        avatar_url: input.avatar_url,
        personal_token: input.personal_token,
        password_token: input.password_token,
        registrant_token: input.registrant_token,
        name_locked: false,
    };
    let block = EmbedBlock::new(
        &settings,
        &input.license,
        input.role_token.as_deref(),
        &visitor,
    );
    let json = block.to_script_json();
    for c in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
        assert!(!json.contains(c), "{c:?} raw in {json}");
    }
    let back: EmbedBlock = serde_json::from_str(&json).expect("the block is JSON");
    assert_eq!(back, block);

    let mut parts = vec![format!(
        "t={}",
        utf8_percent_encode(&back.options.license_key, URI_COMPONENT)
    )];
    for (name, value) in option_list(&back.options) {
        parts.push(format!(
            "{name}={}",
            utf8_percent_encode(&value, URI_COMPONENT)
        ));
    }
    let query = parts.join("&");
    let decoded: Vec<(String, String)> = pairs(&query).collect();
    let mut expected = vec![("t".to_owned(), block.options.license_key.clone())];
    expected.extend(option_list(&block.options));
    assert_eq!(
        decoded, expected,
        "the loader query does not decode to the options"
    );
});

//! The layout is the architecture (`lib.rs` has the table): each folder under `src/` is a
//! part, and a part imports only the parts below it. This test reads every `crate::`,
//! `super::` and `self::` path of every file under `src/` (outside its unit tests) and
//! fails, naming the file and the path, on an import the rules forbid, on a handler that
//! imports another handler, on HTTP types in `visit`, and on any import circle, between
//! parts or between files.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use crate::helpers::repo_path;

/// Which parts each part may import (a top-level file such as `telemetry.rs` is a part
/// of its own). `lib.rs` declares the parts and `main.rs` starts them: both may use all.
const RULES: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("settings", &["domain"]),
    ("visit", &["domain", "settings"]),
    ("vendor", &["shared", "domain", "settings"]),
    ("rooms", &["vendor", "shared", "domain", "settings"]),
    ("ops", &["rooms", "vendor", "shared", "domain", "settings"]),
    ("shared", &["domain", "settings"]),
    (
        "brands",
        &["ops", "rooms", "vendor", "shared", "domain", "settings"],
    ),
    ("telemetry", &["settings"]),
    ("observe", &[]),
    (
        "web",
        &[
            "observe",
            "brands",
            "ops",
            "rooms",
            "vendor",
            "visit",
            "shared",
            "telemetry",
            "domain",
            "settings",
        ],
    ),
    (
        "cli",
        &[
            "brands", "ops", "rooms", "vendor", "shared", "settings", "domain",
        ],
    ),
];

/// Names that must not appear in the pure part: the HTTP framework (every `actix…`
/// crate), the templates, the session middleware.
fn is_http_name(word: &str) -> bool {
    let word = word.to_lowercase();
    word.starts_with("actix") || word == "tera" || word == "sessionmiddleware"
}

/// One file's imports, resolved to the files they name.
struct SourceFile {
    /// Relative to `src/`, with `/`.
    path: String,
    /// Every `crate::…` path it uses, written out in full.
    paths: Vec<String>,
    /// The files those paths name (itself left out).
    imports: BTreeSet<String>,
    /// The code outside its unit tests, comments removed.
    code: String,
}

/// Every rule the tree under `src` breaks, one line each.
fn problems(src: &Path) -> Vec<String> {
    let files = read_tree(src);
    let known: BTreeSet<String> = files.iter().map(|f| f.path.clone()).collect();
    let mut out = Vec::new();
    let rules: BTreeMap<&str, &[&str]> = RULES.iter().copied().collect();
    let mut part_arrows: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let part = part_of(&file.path);
        for path in &file.paths {
            let Some(target) = resolve(path, &known) else {
                continue;
            };
            let target_part = part_of(&target);
            if target_part == part || part == "lib" || part == "main" {
                continue;
            }
            part_arrows
                .entry(part.clone())
                .or_default()
                .insert(target_part.clone());
            match rules.get(part.as_str()) {
                Some(allowed) if allowed.contains(&target_part.as_str()) => {}
                Some(allowed) => out.push(format!(
                    "src/{}: imports crate::{path}, but {part} may import only {}",
                    file.path,
                    if allowed.is_empty() {
                        "nothing of ours".to_owned()
                    } else {
                        allowed.join(", ")
                    }
                )),
                None => {
                    let line = format!(
                        "src/{}: part {part} has no rule (add it to RULES and to lib.rs's table)",
                        file.path
                    );
                    if !out.contains(&line) {
                        out.push(line);
                    }
                }
            }
        }
        if file.path.starts_with("web/handlers/") && !file.path.ends_with("mod.rs") {
            for target in &file.imports {
                if target.starts_with("web/handlers/") {
                    out.push(format!(
                        "src/{}: imports the handler file src/{target}; share helpers through a module of their own",
                        file.path
                    ));
                }
            }
        }
        if part == "visit" {
            let words = file
                .code
                .split(|c: char| !(c.is_alphanumeric() || c == '_'));
            let named: BTreeSet<&str> = words.filter(|w| is_http_name(w)).collect();
            for word in named {
                out.push(format!(
                    "src/{}: mentions {word}; visit stays free of HTTP, templates and cookies",
                    file.path
                ));
            }
        }
    }
    for circle in circles(&part_arrows) {
        out.push(format!("parts import each other: {}", circle.join(" -> ")));
    }
    let file_arrows: BTreeMap<String, BTreeSet<String>> = files
        .iter()
        .map(|f| (f.path.clone(), f.imports.clone()))
        .collect();
    for circle in circles(&file_arrows) {
        out.push(format!("files import each other: {}", circle.join(" -> ")));
    }
    out
}

/// The part a file belongs to: its top folder under `src/`, or its own name.
fn part_of(path: &str) -> String {
    let first = path.split('/').next().unwrap_or(path);
    first.trim_end_matches(".rs").to_owned()
}

fn read_tree(src: &Path) -> Vec<SourceFile> {
    let mut paths = Vec::new();
    collect_rs(src, &mut paths);
    let relative = |p: &Path| {
        p.strip_prefix(src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/")
    };
    let known: BTreeSet<String> = paths.iter().map(|p| relative(p)).collect();
    let mut files: Vec<SourceFile> = paths
        .iter()
        .map(|p| {
            let rel = relative(p);
            let text = std::fs::read_to_string(p).unwrap();
            let code = without_comments(text.split("#[cfg(test)]").next().unwrap_or(""));
            let module = module_of(&rel);
            let paths = crate_paths(&code, &module, rel == "main.rs", &known);
            SourceFile {
                path: rel,
                paths,
                imports: BTreeSet::new(),
                code,
            }
        })
        .collect();
    for file in &mut files {
        file.imports = file
            .paths
            .iter()
            .filter_map(|p| resolve(p, &known))
            .filter(|t| *t != file.path)
            .collect();
    }
    files
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `web/handlers/room.rs` → `[web, handlers, room]`; `web/mod.rs` → `[web]`.
fn module_of(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel.split('/').map(str::to_owned).collect();
    let last = parts.pop().unwrap_or_default();
    match last.as_str() {
        "mod.rs" | "lib.rs" | "main.rs" => {}
        name => parts.push(name.trim_end_matches(".rs").to_owned()),
    }
    parts
}

/// Code without `//` comments (doc comments included) and `/* */` blocks.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |i| &after[i..]);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |i| &after[i + 2..]);
        } else if rest.starts_with('"') {
            // Strings are kept out: a path written in a message is no import.
            let end = string_end(rest);
            out.push_str("\"\"");
            rest = &rest[end..];
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The length of the string literal at the start of `text` (quotes included).
fn string_end(text: &str) -> usize {
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return i + 1,
            _ => escaped = false,
        }
    }
    text.len()
}

/// Every path into this crate, made absolute (without the leading `crate::`): those that
/// start at `crate`, `super` or `self`, and those that start at a child module (`use
/// catalog::Catalog;` in `rooms/mod.rs`); `use` trees expanded, and paths written inline.
fn crate_paths(
    code: &str,
    module: &[String],
    is_main: bool,
    known: &BTreeSet<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    let mut inline = String::new();
    while let Some(start) = find_use(rest) {
        inline.push_str(&rest[..start]);
        let after = &rest[start..];
        let body_start = after.find("use").unwrap() + 3;
        let end = after.find(';').unwrap_or(after.len());
        let mut tree = Vec::new();
        expand(after[body_start..end].trim(), "", &mut tree);
        out.extend(
            tree.iter()
                .filter_map(|p| absolute(p, module, is_main, known)),
        );
        rest = &after[end.min(after.len())..];
    }
    inline.push_str(rest);
    // Inline paths such as `crate::web::state::AppState` in a signature.
    let words: Vec<&str> = inline
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .collect();
    for word in words.into_iter().filter(|w| w.contains("::")) {
        if let Some(p) = absolute(word.trim_end_matches(':'), module, is_main, known) {
            out.push(p);
        }
    }
    out
}

/// Where the next `use` item starts (`use …;` or `pub use …;` or `pub(crate) use …;`).
fn find_use(code: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = code[from..].find("use ") {
        let at = from + i;
        let before = code[..at].trim_end();
        let starts_item = before.is_empty()
            || before.ends_with(';')
            || before.ends_with('}')
            || before.ends_with('{')
            || before.ends_with("pub")
            || before.ends_with(')')
            || before.ends_with(']');
        let word_start =
            at == 0 || !code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        if starts_item && word_start {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

/// Expands a `use` tree: `a::{b, c::{d, self}}` → `a::b`, `a::c::d`, `a::c`.
fn expand(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(tree).trim();
        if path == "self" {
            out.push(prefix.trim_end_matches("::").to_owned());
        } else if !path.is_empty() {
            out.push(format!("{prefix}{path}"));
        }
        return;
    };
    let head = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut depth = 0;
    let mut item_start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                expand(&inner[item_start..i], &format!("{prefix}{head}"), out);
                item_start = i + 1;
            }
            _ => {}
        }
    }
    expand(&inner[item_start..], &format!("{prefix}{head}"), out);
}

/// `crate::a::b`, `super::b`, `self::b`, `child::b` (and `roomgate::a` in `main.rs`) as
/// a path from the crate root; `None` for paths outside the crate.
fn absolute(
    path: &str,
    module: &[String],
    is_main: bool,
    known: &BTreeSet<String>,
) -> Option<String> {
    let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let (first, rest) = segments.split_first()?;
    let mut base: Vec<String> = match *first {
        "crate" => Vec::new(),
        "roomgate" if is_main => Vec::new(),
        "self" => module.to_vec(),
        "super" => {
            let mut m = module.to_vec();
            m.pop();
            m
        }
        child => {
            let mut m = module.to_vec();
            m.push(child.to_owned());
            let stem = m.join("/");
            if !known.contains(&format!("{stem}.rs")) && !known.contains(&format!("{stem}/mod.rs"))
            {
                return None;
            }
            let mut whole = module.to_vec();
            whole.extend(segments.iter().map(|s| s.to_string()));
            return Some(whole.join("::"));
        }
    };
    let mut rest = rest.iter().peekable();
    while rest.peek() == Some(&&"super") {
        base.pop();
        rest.next();
    }
    base.extend(rest.map(|s| s.to_string()));
    Some(base.join("::"))
}

/// The file a crate path names: the longest prefix that is a module file.
fn resolve(path: &str, known: &BTreeSet<String>) -> Option<String> {
    let segments: Vec<&str> = path.split("::").collect();
    for len in (1..=segments.len()).rev() {
        let stem = segments[..len].join("/");
        for candidate in [format!("{stem}.rs"), format!("{stem}/mod.rs")] {
            if known.contains(&candidate) {
                return Some(candidate);
            }
        }
    }
    None
}

/// Every circle of `arrows`, each once, as the nodes in order with the first repeated.
fn circles(arrows: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
    for start in arrows.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        while let Some((node, trail)) = stack.pop() {
            for next in arrows.get(&node).into_iter().flatten() {
                if next == start {
                    // Keep one rotation of each circle: the one starting at its least node.
                    let least = trail.iter().min().unwrap();
                    if least == start {
                        let mut circle = trail.clone();
                        circle.push(start.clone());
                        found.insert(circle);
                    }
                } else if !trail.contains(next) && trail.len() < 12 {
                    let mut longer = trail.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    found.into_iter().collect()
}

#[test]
fn every_import_under_src_follows_the_layering_rules() {
    let problems = problems(&repo_path("src"));
    assert!(
        problems.is_empty(),
        "the layout breaks its rules:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_check_finds_a_forbidden_import_a_handler_import_http_in_visit_and_circles() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "pub mod domain;\npub mod visit;\npub mod web;\n");
    write("domain/mod.rs", "pub mod room;\n");
    write("domain/room.rs", "pub struct Room;\n");
    write(
        "visit/mod.rs",
        "//! a comment that says crate::web is no import\npub mod phase;\npub mod path;\n",
    );
    write(
        "visit/phase.rs",
        "use crate::{domain::room::Room, web::state::AppState};\nuse actix_web::HttpRequest;\n",
    );
    write(
        "visit/path.rs",
        "pub fn f() { let _ = \"crate::web\"; }\n#[cfg(test)]\nmod tests { use crate::web::state; }\n",
    );
    write("web/mod.rs", "pub mod handlers;\npub mod state;\n");
    write(
        "web/state.rs",
        "pub struct AppState(crate::visit::phase::Phase);\n",
    );
    write(
        "web/handlers/mod.rs",
        "pub mod a;\npub mod b;\npub use a::thing;\n",
    );
    write("web/handlers/a.rs", "use super::b::helper;\n");
    write(
        "web/handlers/b.rs",
        "pub fn helper() { crate::web::handlers::a::x(); }\n",
    );
    write(
        "web/views/mod.rs",
        "pub mod page;\npub use page::Page;\npub struct View;\n",
    );
    write(
        "web/views/page.rs",
        "use super::View;\npub struct Page(View);\n",
    );
    let found = problems(dir.path());
    let expected = [
        "src/visit/phase.rs: imports crate::web::state::AppState, but visit may import only domain, settings",
        "src/visit/phase.rs: mentions actix_web",
        "src/web/handlers/a.rs: imports the handler file src/web/handlers/b.rs",
        "src/web/handlers/b.rs: imports the handler file src/web/handlers/a.rs",
        "parts import each other: visit -> web -> visit",
        "files import each other: visit/phase.rs -> web/state.rs -> visit/phase.rs",
        "files import each other: web/handlers/a.rs -> web/handlers/b.rs -> web/handlers/a.rs",
        "files import each other: web/views/mod.rs -> web/views/page.rs -> web/views/mod.rs",
    ];
    for line in expected {
        assert!(
            found.iter().any(|f| f.starts_with(line)),
            "{line:?} not reported in:\n{}",
            found.join("\n")
        );
    }
    assert_eq!(
        found.len(),
        expected.len(),
        "comments, strings and unit tests are no imports:\n{}",
        found.join("\n")
    );
}

//! `roomgate brands`: every brand of the settings, with its hosts, links base, room
//! source and how many rooms it serves.

use std::process::ExitCode;

use serde::Serialize;

use super::exit::{EXIT_USAGE, EXIT_VENDOR, fail};
use crate::{
    brands::{Brand, Brands},
    domain::system_clock,
    rooms::{Source, build_source},
    settings::{BrandSource, Settings},
};

/// One line of `roomgate brands`.
#[derive(Debug, Serialize)]
struct BrandLine {
    id: String,
    hosts: Vec<String>,
    public_url: String,
    /// `shared`, `catalog` or `api`: the default source, or the brand's own.
    source: &'static str,
    /// Rooms this brand serves; `null` when its source could not list them.
    rooms: Option<usize>,
}

/// Lists the brands; exit 1 when a brand's rooms could not be counted (its vendor account
/// failed), 2 when a source cannot be built at all.
pub async fn brands(settings: &Settings, json: bool) -> ExitCode {
    let clock = system_clock();
    let default_source = match build_source(settings, clock.clone()).await {
        Ok(source) => source,
        Err(e) => return fail(EXIT_USAGE, &e.to_string()),
    };
    let brands = match Brands::build(settings, default_source, clock.clone()).await {
        Ok(brands) => brands,
        Err(e) => return fail(EXIT_USAGE, &e.to_string()),
    };
    let mut lines = Vec::new();
    let mut failed = false;
    for brand in brands.all() {
        let rooms = match brand.manager(clock.clone()).list().await {
            Ok(rooms) => Some(rooms.len()),
            Err(e) => {
                failed = true;
                eprintln!("brand {}: cannot count its rooms: {e}", brand.id);
                None
            }
        };
        lines.push(BrandLine {
            id: brand.id.clone(),
            hosts: hosts_of(settings, brand),
            public_url: brand.settings.server.public_url.clone(),
            source: source_kind(settings, brand),
            rooms,
        });
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&lines).expect("plain data")
        );
    } else {
        print_table(&lines);
    }
    if failed {
        ExitCode::from(EXIT_VENDOR)
    } else {
        ExitCode::SUCCESS
    }
}

fn hosts_of(settings: &Settings, brand: &Brand) -> Vec<String> {
    settings
        .parsed
        .brands
        .iter()
        .find(|b| b.id == brand.id)
        .map(|b| b.hosts.clone())
        .unwrap_or_default()
}

fn source_kind(settings: &Settings, brand: &Brand) -> &'static str {
    let own = settings
        .brands
        .iter()
        .find(|b| b.id == brand.id)
        .and_then(|b| b.source.as_ref());
    match (own, &brand.source) {
        (Some(BrandSource::Catalog { .. }), _) => "catalog",
        (Some(BrandSource::Api { .. }), _) => "api",
        (None, Source::Catalog(_)) if brand.id == crate::settings::DEFAULT_BRAND => "catalog",
        (None, Source::Api(_)) if brand.id == crate::settings::DEFAULT_BRAND => "api",
        (None, _) => "shared",
    }
}

fn print_table(lines: &[BrandLine]) {
    println!(
        "{:<20} {:<8} {:>6}  {:<40} HOSTS",
        "BRAND", "SOURCE", "ROOMS", "PUBLIC URL"
    );
    for line in lines {
        let hosts = if line.hosts.is_empty() {
            "(every host no brand names)".to_owned()
        } else {
            line.hosts.join(", ")
        };
        let rooms = line.rooms.map_or_else(|| "?".to_owned(), |n| n.to_string());
        println!(
            "{:<20} {:<8} {:>6}  {:<40} {hosts}",
            line.id, line.source, rooms, line.public_url
        );
    }
}

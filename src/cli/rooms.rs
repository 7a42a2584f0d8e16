//! `roomgate rooms …`, `roomgate links`, `roomgate invite`, `roomgate ics`: the operators'
//! tools on the command line, over the same core as the admin API.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::exit::{EXIT_USAGE, EXIT_VENDOR, fail};
use crate::{
    domain::{RoomKind, system_clock},
    ops::{InvitationInput, LinkBuilder, Manager, OpsError, RoomInput, RoomLinks, RoomOut},
    rooms::build_source,
    settings::Settings,
};

/// Room lifecycle.
#[derive(Debug, Subcommand)]
pub enum RoomsCommand {
    /// List every room with its attendee link.
    List,
    /// Show one room with all its links.
    Show { license: String },
    /// Create a room at LiveWebinar.
    Create(RoomArgs),
    /// Change a room: the options given; the rest of its record is sent back as it is.
    Update {
        license: String,
        #[command(flatten)]
        args: RoomArgs,
    },
    /// Open a room again.
    Activate { license: String },
    /// Close a room: its pages answer 410.
    Deactivate { license: String },
    /// Delete a room at LiveWebinar.
    Delete { license: String },
}

/// A room's fields.
#[derive(Debug, Args)]
pub struct RoomArgs {
    #[arg(long)]
    pub name: Option<String>,
    /// scheduled or permanent.
    #[arg(long = "type", value_parser = ["scheduled", "permanent"])]
    pub kind: Option<String>,
    /// RFC 3339 (2026-12-01T15:00:00Z) or local time (2026-12-01 16:00) in --timezone.
    #[arg(long)]
    pub start: Option<String>,
    /// IANA time zone, e.g. Europe/Warsaw.
    #[arg(long)]
    pub timezone: Option<String>,
    /// Length in minutes.
    #[arg(long = "duration")]
    pub duration_minutes: Option<u32>,
    #[arg(long)]
    pub agenda: Option<String>,
    #[arg(long)]
    pub password: Option<String>,
    /// Visitors wait until a host lets them in.
    #[arg(long)]
    pub waiting_room: Option<bool>,
    /// No joining earlier than 60 minutes before the start.
    #[arg(long)]
    pub strict_event: Option<bool>,
    /// Id of a registration form.
    #[arg(long = "registration-form")]
    pub registration_form_id: Option<u64>,
}

impl From<RoomArgs> for RoomInput {
    fn from(a: RoomArgs) -> Self {
        RoomInput {
            name: a.name,
            kind: a.kind.as_deref().map(|k| {
                if k == "scheduled" {
                    RoomKind::Scheduled
                } else {
                    RoomKind::Permanent
                }
            }),
            start: a.start,
            timezone: a.timezone,
            duration_minutes: a.duration_minutes,
            agenda: a.agenda,
            password: a.password,
            waiting_room: a.waiting_room,
            strict_event: a.strict_event,
            registration_form_id: a.registration_form_id,
        }
    }
}

/// A personal invitation's fields.
#[derive(Debug, Args)]
pub struct InviteArgs {
    pub license: String,
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub first_name: Option<String>,
    #[arg(long)]
    pub last_name: Option<String>,
    /// attendee (default), presenter or moderator.
    #[arg(long)]
    pub role: Option<String>,
}

/// The manager over the configured room source.
async fn manager(settings: &Settings) -> Result<Manager, ExitCode> {
    let clock = system_clock();
    let source = build_source(settings, clock.clone())
        .await
        .map_err(|e| fail(EXIT_USAGE, &e.to_string()))?;
    // With --brand, the settings are the brand's: its links, and its rooms only.
    Ok(
        Manager::new(source, LinkBuilder::from_settings(settings), clock)
            .serving(settings.parsed.rooms.clone()),
    )
}

/// Exit status and message for a failed operation.
fn failed(e: OpsError) -> ExitCode {
    let mut message = e.to_string();
    if let Some(fields) = e.fields() {
        for (field, messages) in fields {
            message.push_str(&format!("\n{field}: {}", messages.join("; ")));
        }
    }
    fail(
        if e.is_vendor_failure() {
            EXIT_VENDOR
        } else {
            EXIT_USAGE
        },
        &message,
    )
}

fn print_json(value: &impl Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// `roomgate rooms …`.
pub async fn rooms(settings: &Settings, command: RoomsCommand, json: bool) -> ExitCode {
    let manager = match manager(settings).await {
        Ok(m) => m,
        Err(code) => return code,
    };
    let result = match command {
        RoomsCommand::List => match manager.list().await {
            Ok(rooms) if json => {
                print_json(&rooms);
                Ok(ExitCode::SUCCESS)
            }
            Ok(rooms) => {
                let rows: Vec<[String; 5]> = rooms
                    .iter()
                    .map(|r| {
                        [
                            r.license.clone(),
                            r.status
                                .map(|s| format!("{s:?}").to_lowercase())
                                .unwrap_or_else(|| "-".into()),
                            r.start.clone().unwrap_or_else(|| "permanent".into()),
                            r.name.clone(),
                            r.attendee_link.clone(),
                        ]
                    })
                    .collect();
                print_table(
                    ["ROOM", "STATUS", "START (UTC)", "NAME", "ATTENDEE LINK"],
                    &rows,
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Err(e),
        },
        RoomsCommand::Show { license } => {
            manager.show(&license).await.map(|r| print_room(&r, json))
        }
        RoomsCommand::Create(args) => manager
            .create(&args.into())
            .await
            .map(|r| print_room(&r, json)),
        RoomsCommand::Update { license, args } => manager
            .update(&license, &args.into())
            .await
            .map(|r| print_room(&r, json)),
        RoomsCommand::Activate { license } => manager
            .set_active(&license, true)
            .await
            .map(|r| print_room(&r, json)),
        RoomsCommand::Deactivate { license } => manager
            .set_active(&license, false)
            .await
            .map(|r| print_room(&r, json)),
        RoomsCommand::Delete { license } => manager.delete(&license).await.map(|()| {
            if json {
                print_json(&serde_json::json!({"deleted": license}));
            } else {
                println!("deleted {license}");
            }
            ExitCode::SUCCESS
        }),
    };
    result.unwrap_or_else(failed)
}

/// `roomgate links LICENSE`.
pub async fn links(settings: &Settings, license: &str, json: bool) -> ExitCode {
    let manager = match manager(settings).await {
        Ok(m) => m,
        Err(code) => return code,
    };
    match manager.links(license).await {
        Ok(links) if json => {
            print_json(&links);
            ExitCode::SUCCESS
        }
        Ok(links) => {
            print_links(&links);
            ExitCode::SUCCESS
        }
        Err(e) => failed(e),
    }
}

/// `roomgate invite LICENSE --email …`.
pub async fn invite(settings: &Settings, args: InviteArgs, json: bool) -> ExitCode {
    let manager = match manager(settings).await {
        Ok(m) => m,
        Err(code) => return code,
    };
    let input = InvitationInput {
        email: args.email,
        first_name: args.first_name,
        last_name: args.last_name,
        role: args.role,
    };
    match manager.invite(&args.license, &input).await {
        Ok(out) if json => {
            print_json(&out);
            ExitCode::SUCCESS
        }
        Ok(out) => {
            println!(
                "personal link for {} ({}): {}",
                out.email, out.role, out.link
            );
            ExitCode::SUCCESS
        }
        Err(e) => failed(e),
    }
}

/// `roomgate ics LICENSE [--role host]`: the calendar file on standard output.
pub async fn ics(settings: &Settings, license: &str, role: Option<&str>) -> ExitCode {
    let manager = match manager(settings).await {
        Ok(m) => m,
        Err(code) => return code,
    };
    match manager.calendar(license, role).await {
        Ok(ics) => {
            print!("{ics}");
            ExitCode::SUCCESS
        }
        Err(e) => failed(e),
    }
}

/// Prints `room`, then each field of a change that did not take as a warning on
/// standard error. A change the vendor did not store in full exits 1, like any other
/// vendor failure, so that scripts notice; the room is printed as it now is.
fn print_room(room: &RoomOut, json: bool) -> ExitCode {
    if json {
        print_json(room);
    } else {
        print_room_text(room);
    }
    if room.warnings.is_empty() {
        return ExitCode::SUCCESS;
    }
    let lines: Vec<String> = room
        .warnings
        .iter()
        .map(|w| format!("warning: {}: {}", w.field, w.message))
        .collect();
    fail(EXIT_VENDOR, &lines.join("\n"))
}

fn print_room_text(room: &RoomOut) {
    let rows = [
        ("room", room.license.clone()),
        ("name", room.name.clone()),
        ("status", format!("{:?}", room.status).to_lowercase()),
        ("type", format!("{:?}", room.kind).to_lowercase()),
        ("start", room.start.clone().unwrap_or_else(|| "-".into())),
        ("duration", format!("{} min", room.duration_minutes)),
        ("timezone", room.timezone.clone()),
    ];
    for (k, v) in rows {
        println!("{k:<10} {v}");
    }
    print_links(&room.links);
}

fn print_links(links: &RoomLinks) {
    println!("{:<10} {}", "attendee", links.attendee);
    for (role, url) in &links.roles {
        println!("{role:<10} {url}");
    }
    if let Some(ics) = &links.calendar.attendee {
        println!("{:<10} {ics}", "calendar");
    }
    println!("vendor links (reference only):");
    println!("  {:<8} {}", "attendee", links.vendor.attendee);
    for (role, url) in &links.vendor.roles {
        println!("  {role:<8} {url}");
    }
}

fn print_table<const N: usize>(header: [&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

//! The command line: `roomgate [serve]`, `roomgate check`, `roomgate register-client`, and
//! the operators' tools (`rooms`, `links`, `invite`, `ics`, `probe`, `openapi`). Commands
//! other than `serve` print their result and exit: 0 done, 1 the vendor failed or said no,
//! 2 the settings, the command line or the input are wrong (an unknown room, a bad field).

pub mod brands;
pub mod exit;
pub mod probe;
pub mod rooms;

pub use exit::{EXIT_USAGE, EXIT_VENDOR, fail};

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;

use crate::{
    domain::system_clock,
    rooms::{Source, build_source},
    settings::{ApiAuth, Settings},
    vendor::Client,
};

/// roomgate: branded LiveWebinar rooms on your own domain.
#[derive(Debug, Parser)]
#[command(name = "roomgate", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Print JSON instead of tables (for scripts).
    #[arg(long, global = true)]
    pub json: bool,
    /// A settings file read after config/{ROOMGATE_ENV}.toml (brands, usually); the same
    /// as ROOMGATE_CONFIG_FILE.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<std::path::PathBuf>,
    /// The brand whose rooms, links and calendar files to use (an id of [[brands]]);
    /// default: the top-level settings.
    #[arg(long, global = true, value_name = "ID")]
    pub brand: Option<String>,
}

/// What to do; serving is the default.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve room pages (the default).
    Serve,
    /// Check the settings and the vendor credentials, and print the connected account.
    Check,
    /// Register roomgate as an OAuth client of LiveWebinar and print its credentials.
    RegisterClient {
        /// The app name shown to people who authorize it.
        #[arg(long)]
        name: String,
        /// The redirect URI, e.g. https://events.example.com/oauth/callback.
        #[arg(long)]
        redirect: String,
    },
    /// Rooms: list, show, create, update, activate, deactivate, delete.
    #[command(subcommand)]
    Rooms(rooms::RoomsCommand),
    /// Print a room's attendee and role links (on server.public_url).
    Links { license: String },
    /// Create a personal invitation link for one participant.
    Invite(rooms::InviteArgs),
    /// Print a room's calendar file (the attendee's, or a role's with --role).
    Ics {
        license: String,
        #[arg(long)]
        role: Option<String>,
    },
    /// List the brands with their hosts, links base, room source and room counts.
    Brands,
    /// Check every assumption roomgate makes about the vendor's API against this account
    /// (read-only unless --write), and say what roomgate does about each difference.
    Probe(probe::ProbeArgs),
    /// Print the admin API's OpenAPI 3.1 document (as served at /admin/api/openapi.json);
    /// reads no settings.
    // Run by `main`: the document is the server's, and the command line may not use it.
    Openapi,
}

/// `roomgate check`.
pub async fn check(settings: &Settings) -> ExitCode {
    let source = match build_source(settings, system_clock()).await {
        Ok(source) => source,
        Err(e) => return fail(EXIT_USAGE, &e.to_string()),
    };
    match source {
        Source::Catalog(catalog) => {
            println!(
                "settings OK; catalog {} has {} rooms (rooms.source = \"catalog\": no vendor credentials needed)",
                settings.catalog.path.display(),
                catalog.len()
            );
            ExitCode::SUCCESS
        }
        Source::Custom(_) => ExitCode::SUCCESS,
        Source::Api(directory) => {
            let api = directory.api();
            match api.me().await {
                Ok(account) => {
                    println!(
                        "settings OK; signed in to LiveWebinar ({}) as {} (account id {})",
                        match settings.api.auth {
                            ApiAuth::Login => "server-to-server login",
                            ApiAuth::Oauth => "OAuth",
                        },
                        account
                            .email
                            .as_deref()
                            .unwrap_or("an account without email"),
                        account
                            .id
                            .map(|i| i.to_string())
                            .unwrap_or_else(|| "unknown".into()),
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(EXIT_VENDOR, &format!("the vendor check failed: {e}")),
            }
        }
    }
}

/// `roomgate register-client --name … --redirect …`.
pub async fn register_client(settings: &Settings, name: &str, redirect: &str) -> ExitCode {
    let client = match Client::new(&settings.api) {
        Ok(c) => c,
        Err(e) => return fail(EXIT_USAGE, &e),
    };
    // With server-to-server credentials, register as that account; otherwise unsigned.
    let bearer = match (&settings.api.client_secret, settings.api.auth) {
        (Some(secret), ApiAuth::Login) if !settings.api.client_id.is_empty() => {
            match client.login(&settings.api.client_id, secret).await {
                Ok(answer) => Some(answer.access_token),
                Err(e) => return fail(EXIT_VENDOR, &format!("login failed: {e}")),
            }
        }
        _ => None,
    };
    match client
        .register_client(name, redirect, bearer.as_ref())
        .await
    {
        Ok(registered) => {
            let (id, secret) = (
                registered.client_id,
                registered.client_secret.expose_secret().to_owned(),
            );
            println!("registered \"{name}\" with redirect {redirect}");
            println!(
                "put these in the settings (keep the secret out of files in version control):"
            );
            println!("ROOMGATE__API__AUTH=oauth");
            println!("ROOMGATE__API__CLIENT_ID={id}");
            println!("ROOMGATE__API__CLIENT_SECRET={secret}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(EXIT_VENDOR, &format!("registration refused: {e}")),
    }
}

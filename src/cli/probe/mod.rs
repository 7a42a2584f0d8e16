//! `roomgate probe`: puts every assumption roomgate makes about the vendor's API (see
//! "Unknowns" in the API contract) to the test against the operator's real account, and
//! says, for each one that does not hold, what roomgate does about it.
//!
//! Read-only by default. `--write` also creates a temporary room, changes, closes,
//! reopens and (with `--email`) invites to it, and deletes it again whatever happened.
//! Exit 0: every assumption holds; 1: one does not, or the vendor failed; 2: bad settings.

mod assumptions;
mod calls;
mod checks;
mod listing_checks;
mod report;
mod room_checks;
mod seen;
mod write_checks;

use std::process::ExitCode;

use clap::Args;
use secrecy::{ExposeSecret, SecretString};

use super::exit::{EXIT_USAGE, EXIT_VENDOR, fail};
use crate::{
    domain::{grammar::clean_email, system_clock},
    settings::{ApiAuth, RoomSourceKind, Settings},
    vendor::build_api,
};
use assumptions::Assumption;
use report::Report;
use seen::Sent;

/// `roomgate probe`'s options.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Also create, change, close, reopen and delete a temporary room.
    #[arg(long)]
    pub write: bool,
    /// With --write: ask the vendor for a personal link to this address (the vendor may
    /// email it).
    #[arg(long, requires = "write", value_name = "ADDRESS")]
    pub email: Option<String>,
}

/// `roomgate probe [--write [--email ADDRESS]]`.
pub async fn probe(settings: &Settings, args: ProbeArgs, json: bool) -> ExitCode {
    if settings.rooms.source != RoomSourceKind::Api {
        return fail(
            EXIT_USAGE,
            "the probe needs the API settings: set rooms.source = \"api\" and the api.* \
             credentials (rooms.source = \"catalog\" makes no vendor calls to probe)",
        );
    }
    let email = match args.email.as_deref().map(|e| (e, clean_email(e))) {
        None => None,
        Some((_, Some(clean))) => Some(clean),
        Some((raw, None)) => {
            return fail(
                EXIT_USAGE,
                &format!("--email: {raw:?} is not an email address"),
            );
        }
    };
    let api = match build_api(settings, system_clock()).await {
        Ok(api) => api,
        Err(e) => return fail(EXIT_USAGE, &e),
    };
    let how = match settings.api.auth {
        ApiAuth::Login => "server-to-server login",
        ApiAuth::Oauth => "OAuth",
    };

    let token = api.auth().bearer().await;
    let signed_in = token.as_ref().map(|_| ()).map_err(ToString::to_string);
    // The temporary room's password is made here, so it can be kept out of the output.
    let password = SecretString::from(format!("{:016x}", rand::random::<u64>()));
    let sent = Sent::new(chrono::Utc::now(), password.clone());
    let read = match signed_in {
        Ok(()) => Some(calls::read(&api).await),
        Err(_) => None,
    };
    let written = match (&read, args.write) {
        (Some(_), true) => Some(calls::write(&api, &sent, email.as_deref()).await),
        _ => None,
    };
    let checks = checks::verdicts(
        checks::sign_in(&signed_in, how),
        read.as_ref(),
        written.as_ref().map(|w| (w, &sent)),
        &settings.parsed.license_pattern,
    );

    let bearer = token.as_ref().map(|t| t.expose_secret()).unwrap_or("");
    let client_secret = settings
        .api
        .client_secret
        .as_ref()
        .map(|s| s.expose_secret())
        .unwrap_or("");
    let report = Report {
        api: without_user_info(&settings.api.base_url),
        write: args.write,
        checks,
    }
    .without(&[client_secret, bearer, password.expose_secret()]);

    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report.json()).unwrap_or_default()
        );
    } else {
        print!("{}", report.text());
    }
    if report.holds() {
        return ExitCode::SUCCESS;
    }
    let first = report.differences().next();
    match first {
        Some(c) if c.assumption == Assumption::SignIn => fail(EXIT_VENDOR, &c.seen),
        _ => fail(EXIT_VENDOR, &format!("probe: {}", report.verdict())),
    }
}

/// The API base as shown in the report: user info (a password in the URL) left out.
fn without_user_info(base: &str) -> String {
    match url::Url::parse(base) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        Err(_) => "the configured api.base_url".to_owned(),
    }
}

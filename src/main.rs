//! `roomgate`: read the settings, then serve (until SIGTERM or SIGINT) or run a command.

use std::process::ExitCode;

use clap::Parser;
use roomgate::{
    cli::{self, Cli, Command, EXIT_USAGE},
    settings::{Settings, get_configuration},
    telemetry,
    web::{self, Application},
};

/// mimalloc instead of the system allocator: a page answer makes some fifty small
/// allocations, and glibc's malloc and free were an eighth of a cookie page's
/// instructions (issue 16).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The document is the same whatever the settings, so it prints even without them.
    if let Some(Command::Openapi) = cli.command {
        println!("{}", web::openapi::document_json());
        return ExitCode::SUCCESS;
    }
    let settings = match get_configuration(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(e) => return cli::fail(EXIT_USAGE, &e.to_string()),
    };
    // With --brand, every command works as that brand: its rooms, links and source.
    let command = cli.command.unwrap_or(Command::Serve);
    if cli.brand.is_some() && matches!(command, Command::Serve | Command::Brands) {
        return cli::fail(
            EXIT_USAGE,
            "--brand is for the operators' commands: the server serves every brand, chosen by host",
        );
    }
    let settings = match &cli.brand {
        None => settings,
        Some(id) => match settings.for_brand(id) {
            Some(settings) => settings,
            None => {
                return cli::fail(
                    EXIT_USAGE,
                    &format!("--brand: no brand `{id}` (`roomgate brands` lists them)"),
                );
            }
        },
    };
    match command {
        Command::Serve => serve(settings).await,
        Command::Check => cli::check(&settings).await,
        Command::RegisterClient { name, redirect } => {
            cli::register_client(&settings, &name, &redirect).await
        }
        Command::Rooms(command) => cli::rooms::rooms(&settings, command, cli.json).await,
        Command::Links { license } => cli::rooms::links(&settings, &license, cli.json).await,
        Command::Invite(args) => cli::rooms::invite(&settings, args, cli.json).await,
        Command::Ics { license, role } => {
            cli::rooms::ics(&settings, &license, role.as_deref()).await
        }
        Command::Brands => cli::brands::brands(&settings, cli.json).await,
        Command::Probe(args) => cli::probe::probe(&settings, args, cli.json).await,
        Command::Openapi => unreachable!("printed before the settings are read"),
    }
}

async fn serve(settings: Settings) -> ExitCode {
    telemetry::init(&settings.log, std::io::stdout);
    let public_url = settings.server.public_url.clone();
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => return cli::fail(EXIT_USAGE, &e.to_string()),
    };
    tracing::info!(port = app.port(), %public_url, "roomgate is listening");
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());

    shutdown_signal().await;
    tracing::info!("shutting down: finishing the requests under way");
    handle.stop(true).await;
    match server.await {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => cli::fail(EXIT_USAGE, &format!("server error: {e}")),
        Err(e) => cli::fail(EXIT_USAGE, &format!("server task failed: {e}")),
    }
}

/// Waits for SIGTERM (containers, systemd) or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let terminate = async {
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = terminate => {},
        _ = tokio::signal::ctrl_c() => {},
    }
}

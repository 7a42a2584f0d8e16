//! `roomgate`: read the settings, start logging, serve until SIGTERM or SIGINT.

use std::process::ExitCode;

use roomgate::{configuration::get_configuration, startup::Application, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match get_configuration() {
        Ok(settings) => settings,
        Err(e) => return fail(&e.0),
    };
    telemetry::init(&settings.log, std::io::stdout);
    let public_url = settings.server.public_url.clone();

    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => return fail(&e.0),
    };
    tracing::info!(port = app.port(), %public_url, "roomgate is listening");
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());

    shutdown_signal().await;
    tracing::info!("shutting down: finishing the requests under way");
    handle.stop(true).await;
    match server.await {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => fail(&[format!("server error: {e}")]),
        Err(e) => fail(&[format!("server task failed: {e}")]),
    }
}

/// Prints one line per problem and exits non-zero.
fn fail(problems: &[String]) -> ExitCode {
    for line in problems {
        eprintln!("roomgate: {line}");
    }
    ExitCode::from(2)
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

//! How a command ends: its exit status, and its message on standard error.

use std::process::ExitCode;

/// Exit status when the vendor or the credentials refuse, or the vendor did not store
/// everything it was sent.
pub const EXIT_VENDOR: u8 = 1;
/// Exit status for bad settings or arguments.
pub const EXIT_USAGE: u8 = 2;

/// Prints `message` to stderr and returns `code`.
pub fn fail(code: u8, message: &str) -> ExitCode {
    for line in message.lines() {
        eprintln!("roomgate: {line}");
    }
    ExitCode::from(code)
}

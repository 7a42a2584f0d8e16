//! The probe's report: one line per check with what was seen, then what roomgate does
//! about each difference; as text for people, as JSON for scripts.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::assumptions::Assumption;

/// Secrets shorter than this are not looked for in the report.
const MIN_SECRET_CHARS: usize = 8;

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The vendor behaves as roomgate assumes.
    Ok,
    /// The vendor answered, otherwise than roomgate assumes.
    Differs,
    /// The call failed (or was interrupted): nothing could be learnt.
    Failed,
    /// Nothing to learn from on this account (too few rooms, no --email, …).
    Skipped,
}

impl Outcome {
    fn word(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Differs => "differs",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }

    /// Whether this outcome makes the probe exit 1.
    pub fn counts_against(self) -> bool {
        matches!(self, Outcome::Differs | Outcome::Failed)
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub assumption: Assumption,
    pub outcome: Outcome,
    /// What the vendor answered, in words; never a token or a password.
    pub seen: String,
}

impl Check {
    /// The assumption holds.
    pub fn ok(assumption: Assumption, seen: impl Into<String>) -> Self {
        Self::new(assumption, Outcome::Ok, seen)
    }

    /// The assumption does not hold.
    pub fn differs(assumption: Assumption, seen: impl Into<String>) -> Self {
        Self::new(assumption, Outcome::Differs, seen)
    }

    /// The call that would tell failed.
    pub fn failed(assumption: Assumption, seen: impl Into<String>) -> Self {
        Self::new(assumption, Outcome::Failed, seen)
    }

    /// Nothing to tell from.
    pub fn skipped(assumption: Assumption, seen: impl Into<String>) -> Self {
        Self::new(assumption, Outcome::Skipped, seen)
    }

    fn new(assumption: Assumption, outcome: Outcome, seen: impl Into<String>) -> Self {
        Check {
            assumption,
            outcome,
            seen: seen.into(),
        }
    }
}

/// The whole report of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The API base probed (without any user info).
    pub api: String,
    /// Whether the run created and changed a temporary room.
    pub write: bool,
    pub checks: Vec<Check>,
}

impl Report {
    /// Every assumption roomgate relies on holds (or could not be put to the test).
    pub fn holds(&self) -> bool {
        !self.checks.iter().any(|c| c.outcome.counts_against())
    }

    /// The checks that make the probe exit 1.
    pub fn differences(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.outcome.counts_against())
    }

    /// The report with every occurrence of each secret replaced. The checks never put a
    /// secret in, but vendor messages are quoted as they come, and those could echo one.
    pub fn without(mut self, secrets: &[&str]) -> Self {
        for check in &mut self.checks {
            // A secret of a few characters would hide words, not secrets: a real token or
            // client secret is longer, and a short one is no secret worth the name.
            for secret in secrets
                .iter()
                .filter(|s| s.chars().count() >= MIN_SECRET_CHARS)
            {
                if check.seen.contains(secret) {
                    check.seen = check.seen.replace(secret, "[hidden]");
                }
            }
        }
        self
    }

    /// The readable report: a title, one line per check, what roomgate does about each
    /// difference, and the verdict.
    pub fn text(&self) -> String {
        let mode = if self.write {
            "read and write"
        } else {
            "read-only"
        };
        let mut out = format!("roomgate probe ({mode}) of {}\n", self.api);
        let width = self
            .checks
            .iter()
            .map(|c| c.assumption.name().len())
            .max()
            .unwrap_or(0);
        for check in &self.checks {
            out.push_str(&format!(
                "{:<width$}  {:<7}  {}\n",
                check.assumption.name(),
                check.outcome.word(),
                check.seen
            ));
        }
        let differences: Vec<&Check> = self.differences().collect();
        if !differences.is_empty() {
            out.push_str("\nwhat roomgate does about it:\n");
            for check in &differences {
                out.push_str(&format!(
                    "  {}: {}\n",
                    check.assumption.name(),
                    check.assumption.what_roomgate_does()
                ));
            }
        }
        out.push('\n');
        out.push_str(&self.verdict());
        out.push('\n');
        out
    }

    /// The report for scripts: `holds`, every check with `result` and `seen` (and
    /// `roomgate_does` when it counts against), and the names of those that count.
    pub fn json(&self) -> Value {
        let checks: Vec<Value> = self
            .checks
            .iter()
            .map(|c| {
                let mut line = json!({
                    "check": c.assumption,
                    "result": c.outcome,
                    "seen": c.seen,
                });
                if c.outcome.counts_against() {
                    line["roomgate_does"] = json!(c.assumption.what_roomgate_does());
                }
                line
            })
            .collect();
        json!({
            "api": self.api,
            "write": self.write,
            "holds": self.holds(),
            "checks": checks,
            "differences": self.differences().map(|c| c.assumption).collect::<Vec<_>>(),
        })
    }

    /// The last line: does roomgate's picture of the API hold, and what was left untested.
    pub fn verdict(&self) -> String {
        let count = |o: Outcome| self.checks.iter().filter(|c| c.outcome == o).count();
        let (differs, failed, skipped) = (
            count(Outcome::Differs),
            count(Outcome::Failed),
            count(Outcome::Skipped),
        );
        let untested = match skipped {
            0 => String::new(),
            1 => " (1 check could not be made on this account)".to_owned(),
            n => format!(" ({n} checks could not be made on this account)"),
        };
        if differs + failed == 0 {
            format!("every assumption roomgate relies on holds{untested}")
        } else {
            format!(
                "{differs} differ{}, {failed} failed{untested}: keep this report for support",
                if differs == 1 { "s" } else { "" }
            )
        }
    }
}

/// A value as JSON, cut to 60 characters.
pub fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

/// Unix seconds as an RFC 3339 instant.
pub fn instant(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
        .map_or_else(
            || "out of range".to_owned(),
            |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(checks: Vec<Check>) -> Report {
        Report {
            api: "https://api.example/api/".into(),
            write: false,
            checks,
        }
    }

    #[test]
    fn a_report_holds_with_ok_and_skipped_lines_only() {
        let fine = report(vec![
            Check::ok(Assumption::SignIn, "signed in"),
            Check::skipped(Assumption::Paging, "too few rooms"),
        ]);
        assert!(fine.holds());
        assert_eq!(
            fine.verdict(),
            "every assumption roomgate relies on holds (1 check could not be made on this account)"
        );
        let off = report(vec![
            Check::ok(Assumption::SignIn, "signed in"),
            Check::differs(Assumption::Paging, "page 2 repeats page 1"),
        ]);
        assert!(!off.holds());
        assert_eq!(
            off.verdict(),
            "1 differs, 0 failed: keep this report for support"
        );
    }

    #[test]
    fn the_text_has_one_aligned_line_per_check_and_says_what_roomgate_does_about_differences() {
        let text = report(vec![
            Check::ok(Assumption::SignIn, "signed in"),
            Check::differs(Assumption::UnscopedListing, "no closed room"),
        ])
        .text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "sign_in           ok       signed in");
        assert_eq!(lines[2], "unscoped_listing  differs  no closed room");
        assert!(text.contains(&format!(
            "  unscoped_listing: {}",
            Assumption::UnscopedListing.what_roomgate_does()
        )));
        assert!(!text.contains("sign_in: "), "{text}");
    }

    #[test]
    fn the_json_names_each_check_its_result_and_the_differences() {
        let json = report(vec![
            Check::ok(Assumption::SignIn, "signed in"),
            Check::failed(Assumption::Account, "HTTP 500"),
        ])
        .json();
        assert_eq!(json["holds"], false);
        assert_eq!(json["differences"], json!(["account"]));
        assert_eq!(json["checks"][0]["check"], "sign_in");
        assert_eq!(json["checks"][0]["result"], "ok");
        assert!(json["checks"][0].get("roomgate_does").is_none());
        assert_eq!(json["checks"][1]["result"], "failed");
        assert!(json["checks"][1]["roomgate_does"].is_string());
    }

    #[test]
    fn secrets_quoted_by_the_vendor_are_hidden_but_not_single_letters() {
        let hidden = report(vec![Check::failed(
            Assumption::SignIn,
            "HTTP 401: the vendor refused the credentials (bad secret s3cretXYZ)",
        )])
        .without(&["s3cretXYZ", "T", ""]);
        assert_eq!(
            hidden.checks[0].seen,
            "HTTP 401: the vendor refused the credentials (bad secret [hidden])",
            "a secret of one letter would hide words"
        );
    }
}

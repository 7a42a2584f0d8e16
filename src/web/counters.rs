//! What the web part counts besides every answer (`middleware::request_metrics`): room
//! page views, name prompts, and refusals (throttled secrets, refused sign-in tokens and
//! forms). Recorded into the recorder of the worker thread (see `observe`), with fixed
//! labels only: never a room key, token, name or client address.

use std::cell::OnceCell;

use metrics::Counter;

use crate::visit::phase::Phase;

/// Which link a room page was opened with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// The plain room link.
    Attendee,
    /// A link with a role hash (host, presenter…).
    Role,
    /// A plain link with a personal token (from the query or remembered in the session).
    Personal,
}

impl PageKind {
    /// The kind of a page for a visitor with (or without) a role and a personal token.
    pub fn of(role: bool, personal_token: bool) -> Self {
        match (role, personal_token) {
            (true, _) => PageKind::Role,
            (false, true) => PageKind::Personal,
            (false, false) => PageKind::Attendee,
        }
    }
}

const KINDS: [&str; 3] = ["attendee", "role", "personal"];
const PHASES: [&str; 4] = ["live", "upcoming", "waiting", "ended"];

fn phase_index(phase: Phase) -> usize {
    match phase {
        Phase::Live => 0,
        Phase::Upcoming { .. } => 1,
        Phase::Waiting { .. } => 2,
        Phase::Ended => 3,
    }
}

thread_local! {
    /// This worker's page-view counters, each registered with the thread's recorder on
    /// first use: a page view costs one atomic add, as a page is the hottest path.
    static PAGE_VIEWS: [[OnceCell<Counter>; PHASES.len()]; KINDS.len()] = Default::default();
}

/// Counts one room page shown.
pub fn page_viewed(kind: PageKind, phase: Phase) {
    let (k, p) = (kind as usize, phase_index(phase));
    PAGE_VIEWS.with(|views| {
        views[k][p]
            .get_or_init(|| {
                metrics::counter!("roomgate_page_views_total", "kind" => KINDS[k], "phase" => PHASES[p])
            })
            .increment(1)
    });
}

/// Counts a name prompt shown instead of the room (first, or again after a refused name).
pub fn prompt_shown() {
    metrics::counter!("roomgate_name_prompts_total", "event" => "shown").increment(1);
}

/// Counts a name taken from the prompt.
pub fn prompt_submitted() {
    metrics::counter!("roomgate_name_prompts_total", "event" => "submitted").increment(1);
}

/// The limits on guessing secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Wrong role hashes per client.
    RoleHash,
    /// Wrong admin tokens per client.
    AdminToken,
}

/// Counts a request refused (429) by `limit`.
pub fn throttled(limit: Limit) {
    let counter = match limit {
        Limit::RoleHash => metrics::counter!("roomgate_throttled_total", "limit" => "role_hash"),
        Limit::AdminToken => {
            metrics::counter!("roomgate_throttled_total", "limit" => "admin_token")
        }
    };
    counter.increment(1);
}

/// Why a form was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormRefusal {
    /// Posted from another origin.
    Origin,
    /// Without this session's CSRF token.
    Csrf,
}

/// Counts a form refused (403).
pub fn form_refused(why: FormRefusal) {
    let counter = match why {
        FormRefusal::Origin => {
            metrics::counter!("roomgate_forms_refused_total", "reason" => "origin")
        }
        FormRefusal::Csrf => metrics::counter!("roomgate_forms_refused_total", "reason" => "csrf"),
    };
    counter.increment(1);
}

/// Counts a sign-in token refused at `/sso`, for `reason` (one of a fixed few, see
/// `SsoError::reason`).
pub fn sso_refused(reason: &'static str) {
    metrics::counter!("roomgate_sso_refused_total", "reason" => reason).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_link_is_a_role_view_whatever_the_visitor_brings() {
        assert_eq!(PageKind::of(true, true), PageKind::Role);
        assert_eq!(PageKind::of(false, true), PageKind::Personal);
        assert_eq!(PageKind::of(false, false), PageKind::Attendee);
        assert_eq!(KINDS[PageKind::Personal as usize], "personal");
    }

    #[test]
    fn phases_are_labelled_by_their_names() {
        let at = chrono::Utc::now();
        for phase in [
            Phase::Live,
            Phase::Upcoming { starts_at: at },
            Phase::Waiting { opens_at: at },
            Phase::Ended,
        ] {
            assert_eq!(PHASES[phase_index(phase)], phase.name());
        }
    }
}

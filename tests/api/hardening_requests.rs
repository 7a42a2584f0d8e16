//! Hardening (issue: outside security review): tests named after the review's items.

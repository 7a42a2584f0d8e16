//! The verdicts on the listings: paging, limit, total, what the unscoped listing holds,
//! and the scopes.

use std::collections::BTreeSet;

use super::{
    assumptions::Assumption,
    report::{Check, Outcome},
    seen::{FULL_LIMIT, Listing, Listings, SMALL_LIMIT, StatusSeen, Step},
};

/// `page=2` brings other rooms than `page=1` (with two rooms a page).
pub fn paging(listings: &Listings) -> Check {
    let (first, second) = match (&listings.small_page1, &listings.small_page2) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            return Check::failed(Assumption::Paging, format!("listing with limit=2: {e}"));
        }
    };
    let known = listings.known_rooms();
    let repeated = second
        .ids
        .iter()
        .filter(|id| first.ids.contains(id))
        .count();
    if repeated > 0 {
        return Check::differs(
            Assumption::Paging,
            format!(
                "page 2 (limit={SMALL_LIMIT}) repeats {repeated} of page 1's rooms: ids {} then {}",
                ids(&first.ids),
                ids(&second.ids)
            ),
        );
    }
    if known <= first.ids.len().max(SMALL_LIMIT) {
        return Check::skipped(
            Assumption::Paging,
            format!(
                "the account has {}: a second page of {SMALL_LIMIT} needs at least 3",
                rooms(known)
            ),
        );
    }
    if second.ids.is_empty() {
        return Check::differs(
            Assumption::Paging,
            format!("page 2 (limit={SMALL_LIMIT}) is empty although the account has {known} rooms"),
        );
    }
    Check::ok(
        Assumption::Paging,
        format!(
            "page 1 and page 2 (limit={SMALL_LIMIT}) hold different rooms: ids {} then {}",
            ids(&first.ids),
            ids(&second.ids)
        ),
    )
}

/// `limit` is honoured: two when two are asked, 500 (or every room) when 500 are.
/// A cap shows as a first page shorter than asked while a second page, or the total,
/// says there are more rooms.
pub fn limit(listings: &Listings) -> Check {
    let (small, first, second) = match (
        &listings.small_page1,
        &listings.full_page1,
        &listings.full_page2,
    ) {
        (Ok(s), Ok(f), Ok(n)) => (s, f, n),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            return Check::failed(Assumption::Limit, format!("listing: {e}"));
        }
    };
    if small.ids.len() > SMALL_LIMIT {
        return Check::differs(
            Assumption::Limit,
            format!(
                "asked for {SMALL_LIMIT}, got {}: limit is ignored",
                small.ids.len()
            ),
        );
    }
    let got = first.ids.len();
    if got >= FULL_LIMIT {
        return Check::ok(
            Assumption::Limit,
            format!("asked for {FULL_LIMIT}, got {got}"),
        );
    }
    let beyond = second
        .ids
        .iter()
        .filter(|id| !first.ids.contains(id))
        .count();
    if beyond > 0 {
        return Check::differs(
            Assumption::Limit,
            format!(
                "asked for {FULL_LIMIT}, got {got} while page 2 holds {beyond} more: limit capped at {got}"
            ),
        );
    }
    if let Some(total) = first.total.and_then(|t| usize::try_from(t).ok())
        && got < total.min(FULL_LIMIT)
    {
        return Check::differs(
            Assumption::Limit,
            format!(
                "asked for {FULL_LIMIT}, got {got} of the {total} the listing announces: limit capped at {got}"
            ),
        );
    }
    if second.ids.is_empty() || first.total.is_some() {
        return Check::ok(
            Assumption::Limit,
            format!(
                "asked for {SMALL_LIMIT}, got {}; asked for {FULL_LIMIT}, got {got}, every room",
                small.ids.len()
            ),
        );
    }
    Check::skipped(
        Assumption::Limit,
        format!(
            "asked for {FULL_LIMIT}, got {got}; whether that is every room cannot be told: page 2 repeats page 1 and no total is given"
        ),
    )
}

/// Whether listings announce a total (`meta.total`, `total` or `meta.pagination.total`).
/// Noted for support; roomgate does not rely on it either way.
pub fn total(listings: &Listings) -> Check {
    match &listings.full_page1 {
        Err(e) => Check::failed(Assumption::Total, format!("listing: {e}")),
        Ok(Listing {
            total: Some(total), ..
        }) => Check::ok(
            Assumption::Total,
            format!("listings announce a total ({total})"),
        ),
        Ok(_) => Check::ok(
            Assumption::Total,
            "listings announce no total (roomgate does not need one)",
        ),
    }
}

/// A listing without `scope` holds closed rooms too. Only the closed rooms that sort
/// within the unscoped listing's range (ids down to its smallest) are looked for, so a
/// listing cut short by a cap is not taken for one that leaves closed rooms out.
pub fn unscoped_listing(listings: &Listings) -> Check {
    let (unscoped, inactive) = match (&listings.full_page1, &listings.inactive) {
        (Ok(u), Ok(i)) => (u, i),
        (Err(e), _) | (_, Err(e)) => {
            return Check::failed(Assumption::UnscopedListing, format!("listing: {e}"));
        }
    };
    let lowest = unscoped.ids.iter().min().copied().unwrap_or(0);
    let expected: Vec<u64> = inactive
        .ids
        .iter()
        .copied()
        .filter(|id| *id >= lowest)
        .collect();
    if expected.is_empty() {
        return Check::skipped(
            Assumption::UnscopedListing,
            "no closed room to look for (scope=inactive lists none within the unscoped listing)",
        );
    }
    let found = expected
        .iter()
        .filter(|id| unscoped.ids.contains(id))
        .count();
    if found == 0 {
        Check::differs(
            Assumption::UnscopedListing,
            format!(
                "the unscoped listing holds none of the {} scope=inactive lists: it holds open rooms only",
                closed_rooms(expected.len())
            ),
        )
    } else {
        Check::ok(
            Assumption::UnscopedListing,
            format!(
                "the unscoped listing holds closed rooms too ({found} of the {} scope=inactive lists)",
                closed_rooms(expected.len())
            ),
        )
    }
}

/// The unscoped-listing verdict of the read-only part, or, when the account had no
/// closed room to tell by, the one the temporary room gives once closed.
pub fn unscoped_listing_with(read: Check, closed: &Step<StatusSeen>) -> Check {
    if read.outcome != Outcome::Skipped {
        return read;
    }
    match closed {
        Step::Ran(Ok(StatusSeen {
            in_unscoped: Some(true),
            ..
        })) => Check::ok(
            Assumption::UnscopedListing,
            "the unscoped listing holds the temporary room once closed",
        ),
        Step::Ran(Ok(StatusSeen {
            in_unscoped: Some(false),
            in_scope: Some(true),
            ..
        })) => Check::differs(
            Assumption::UnscopedListing,
            "the unscoped listing leaves out the temporary room once closed (scope=inactive lists it): it holds open rooms only",
        ),
        _ => read,
    }
}

/// `scope=active` and `scope=inactive` list different rooms.
pub fn scopes(listings: &Listings) -> Check {
    let (active, inactive) = match (&listings.active, &listings.inactive) {
        (Ok(a), Ok(i)) => (a, i),
        (Err(e), _) | (_, Err(e)) => {
            return Check::failed(Assumption::Scopes, format!("listing with scope: {e}"));
        }
    };
    let both = active.set().intersection(&inactive.set()).count();
    if both > 0 {
        return Check::differs(
            Assumption::Scopes,
            format!(
                "{} listed by scope=active and by scope=inactive alike: scope is ignored",
                rooms(both)
            ),
        );
    }
    let unscoped = listings.full_page1.as_ref().map_or(0, |l| l.ids.len());
    if active.ids.is_empty() && inactive.ids.is_empty() && unscoped > 0 {
        return Check::differs(
            Assumption::Scopes,
            format!(
                "scope=active and scope=inactive list nothing, the unscoped listing {}",
                rooms(unscoped)
            ),
        );
    }
    Check::ok(
        Assumption::Scopes,
        format!(
            "scope=active lists {}, scope=inactive {}, none in both",
            rooms(active.ids.len()),
            inactive.ids.len()
        ),
    )
}

/// `1 room`, `5 rooms`.
fn rooms(n: usize) -> String {
    if n == 1 {
        "1 room".to_owned()
    } else {
        format!("{n} rooms")
    }
}

/// `1 closed room`, `2 closed rooms`.
fn closed_rooms(n: usize) -> String {
    format!("{n} closed {}", if n == 1 { "room" } else { "rooms" })
}

/// Ids as `7, 6`.
fn ids(ids: &[u64]) -> String {
    if ids.is_empty() {
        return "none".to_owned();
    }
    let set: BTreeSet<u64> = ids.iter().copied().collect();
    let shown: Vec<String> = ids.iter().take(10).map(u64::to_string).collect();
    if set.len() > 10 {
        format!("{}, …", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::probe::seen::Seen;

    fn listing(ids: &[u64]) -> Seen<Listing> {
        Ok(Listing {
            ids: ids.to_vec(),
            total: None,
        })
    }

    /// An account of rooms 7…1, rooms 7 and 6 closed, behaving as assumed.
    fn plain() -> Listings {
        Listings {
            small_page1: listing(&[7, 6]),
            small_page2: listing(&[5, 4]),
            full_page1: listing(&[7, 6, 5, 4, 3, 2, 1]),
            full_page2: listing(&[]),
            active: listing(&[5, 4, 3, 2, 1]),
            inactive: listing(&[7, 6]),
        }
    }

    fn outcomes(listings: &Listings) -> Vec<(&'static str, Outcome)> {
        [
            paging(listings),
            limit(listings),
            total(listings),
            unscoped_listing(listings),
            scopes(listings),
        ]
        .into_iter()
        .map(|c| (c.assumption.name(), c.outcome))
        .collect()
    }

    fn not_ok(listings: &Listings) -> Vec<(&'static str, Outcome)> {
        outcomes(listings)
            .into_iter()
            .filter(|(_, o)| *o != Outcome::Ok)
            .collect()
    }

    #[test]
    fn listings_as_assumed_are_all_ok() {
        assert_eq!(not_ok(&plain()), []);
    }

    #[test]
    fn an_ignored_page_is_a_paging_difference_and_leaves_the_limit_untold() {
        let mut l = plain();
        l.small_page2 = listing(&[7, 6]);
        l.full_page2 = listing(&[7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(
            not_ok(&l),
            [("paging", Outcome::Differs), ("limit", Outcome::Skipped)]
        );
        l.full_page1.as_mut().unwrap().total = Some(7);
        assert_eq!(not_ok(&l), [("paging", Outcome::Differs)], "a total tells");
    }

    #[test]
    fn an_empty_second_page_on_a_large_account_is_a_paging_difference() {
        let mut l = plain();
        l.small_page2 = listing(&[]);
        assert_eq!(not_ok(&l), [("paging", Outcome::Differs)]);
    }

    #[test]
    fn too_few_rooms_leave_paging_untold() {
        let l = Listings {
            small_page1: listing(&[2, 1]),
            small_page2: listing(&[]),
            full_page1: listing(&[2, 1]),
            full_page2: listing(&[]),
            active: listing(&[2, 1]),
            inactive: listing(&[]),
        };
        assert_eq!(
            not_ok(&l),
            [
                ("paging", Outcome::Skipped),
                ("unscoped_listing", Outcome::Skipped)
            ]
        );
    }

    #[test]
    fn a_capped_limit_shows_by_a_second_page_or_by_the_total() {
        let first: Vec<u64> = (51..=150).rev().collect();
        let rest: Vec<u64> = (1..=50).rev().collect();
        let mut l = Listings {
            small_page1: listing(&[150, 149]),
            small_page2: listing(&[148, 147]),
            full_page1: listing(&first),
            full_page2: listing(&rest),
            active: listing(&first[2..]),
            inactive: listing(&[150, 149]),
        };
        let check = limit(&l);
        assert_eq!(check.outcome, Outcome::Differs);
        assert!(check.seen.contains("capped at 100"), "{}", check.seen);
        assert_eq!(not_ok(&l), [("limit", Outcome::Differs)]);

        l.full_page2 = listing(&first);
        l.full_page1.as_mut().unwrap().total = Some(150);
        assert_eq!(limit(&l).outcome, Outcome::Differs, "by the total");
        let asked_small = Listings {
            small_page1: listing(&[7, 6, 5]),
            ..plain()
        };
        assert_eq!(limit(&asked_small).outcome, Outcome::Differs);
    }

    #[test]
    fn an_unscoped_listing_of_open_rooms_only_is_a_difference_but_a_cut_listing_is_not() {
        let mut l = plain();
        l.full_page1 = listing(&[5, 4, 3, 2, 1]);
        l.full_page2 = listing(&[]);
        l.small_page1 = listing(&[5, 4]);
        l.small_page2 = listing(&[3, 2]);
        assert_eq!(not_ok(&l), [("unscoped_listing", Outcome::Differs)]);

        // Closed rooms older than everything a capped listing shows tell nothing.
        let cut = Listings {
            full_page1: listing(&[7, 6, 5]),
            full_page2: listing(&[4, 3, 2, 1]),
            inactive: listing(&[2, 1]),
            active: listing(&[7, 6, 5, 4, 3]),
            ..plain()
        };
        assert_eq!(unscoped_listing(&cut).outcome, Outcome::Skipped);
    }

    #[test]
    fn the_temporary_room_tells_when_the_account_has_no_closed_room() {
        let skipped = Check::skipped(Assumption::UnscopedListing, "none");
        let seen = |in_unscoped| {
            Step::Ran(Ok(StatusSeen {
                status: Some("inactive".into()),
                in_scope: Some(true),
                in_unscoped: Some(in_unscoped),
            }))
        };
        assert_eq!(
            unscoped_listing_with(skipped.clone(), &seen(false)).outcome,
            Outcome::Differs
        );
        assert_eq!(
            unscoped_listing_with(skipped.clone(), &seen(true)).outcome,
            Outcome::Ok
        );
        let told = Check::ok(Assumption::UnscopedListing, "yes");
        assert_eq!(unscoped_listing_with(told.clone(), &seen(false)), told);
    }

    #[test]
    fn scope_ignored_is_a_difference() {
        let mut l = plain();
        l.active = listing(&[7, 6, 5, 4, 3, 2, 1]);
        l.inactive = listing(&[7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(scopes(&l).outcome, Outcome::Differs);
    }

    #[test]
    fn a_failed_listing_fails_the_checks_that_need_it() {
        let mut l = plain();
        l.inactive = Err("the vendor answered HTTP 500: boom".into());
        assert_eq!(
            not_ok(&l),
            [
                ("unscoped_listing", Outcome::Failed),
                ("scopes", Outcome::Failed)
            ]
        );
    }
}

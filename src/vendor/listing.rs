//! Listing every widget when nothing shows how the vendor pages: whether `page` is
//! honoured, whether `limit` is capped lower than asked, whether a total comes back. The
//! decisions are plain functions over what the pages held, tested without HTTP.
//!
//! A listing pages on while the last page added ids not seen before and either a total
//! says more rooms exist or the page was as long as the longest page so far (a capped
//! `limit` makes every page "short" but equally long). It stops at once on an empty page
//! or one that adds nothing (`page` ignored: page 2 is page 1 again), and it is bounded:
//! `ceil(total / longest page) + 1` calls with a total, 3 once pages repeat without one.

use std::collections::HashSet;

use super::models::WidgetSummary;

/// The most calls of one listing without a total (1000 pages of 500 rooms).
const MAX_PAGES: usize = 1000;

/// The most calls of one listing without a total once a page repeated ids seen before.
const MAX_PAGES_WHEN_REPEATING: usize = 3;

/// One page of `GET widgets` as it came back.
#[derive(Debug, Default)]
pub struct WidgetsPage {
    /// The entries that could be read.
    pub widgets: Vec<WidgetSummary>,
    /// How many entries the page held, readable or not: what says whether it was full.
    pub entries: usize,
    /// The number of rooms the vendor says the account has, when it says.
    pub total: Option<u64>,
}

/// Something about the vendor's paging that differs from what was asked, worth one
/// warning per process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oddity {
    /// A page held only (or also) ids of earlier pages: `page` looks ignored.
    PagesRepeat = 1,
    /// Pages hold fewer rooms than asked, yet more rooms followed: `limit` is capped.
    LimitCapped = 2,
    /// The listing ended with another number of rooms than the total said.
    TotalMismatch = 4,
}

impl Oddity {
    /// Every oddity, in the order they are reported.
    pub const ALL: [Oddity; 3] = [
        Oddity::PagesRepeat,
        Oddity::LimitCapped,
        Oddity::TotalMismatch,
    ];

    /// A bit of its own, so that a set of oddities fits in one integer.
    pub fn bit(self) -> u8 {
        self as u8
    }

    /// What it means, for the log.
    pub fn describe(self) -> &'static str {
        match self {
            Oddity::PagesRepeat => "pages repeat rooms of earlier pages (page seems ignored)",
            Oddity::LimitCapped => "pages hold fewer rooms than asked (limit seems capped)",
            Oddity::TotalMismatch => "the rooms listed differ from the total the vendor gave",
        }
    }
}

/// One listing under way: what the pages held so far, and whether to ask for another.
#[derive(Debug)]
pub struct Paging {
    /// The `limit` asked for.
    limit: usize,
    seen: HashSet<u64>,
    widgets: Vec<WidgetSummary>,
    /// Entries per page, in order.
    sizes: Vec<usize>,
    /// Ids already seen on an earlier page, per page.
    repeats: Vec<usize>,
    /// Pages that added at least one new id.
    productive: usize,
    /// The longest page so far: the vendor's real page size when it caps `limit`.
    longest: usize,
    /// The last total the vendor gave.
    total: Option<u64>,
}

impl Paging {
    /// A listing that asks for `limit` rooms per page.
    pub fn new(limit: usize) -> Self {
        Paging {
            limit,
            seen: HashSet::new(),
            widgets: Vec::new(),
            sizes: Vec::new(),
            repeats: Vec::new(),
            productive: 0,
            longest: 0,
            total: None,
        }
    }

    /// Takes in the next page; answers the number (from 1) of the page to ask for next,
    /// or `None` when the listing is complete.
    pub fn add(&mut self, page: WidgetsPage) -> Option<u32> {
        self.longest = self.longest.max(page.entries);
        if page.total.is_some() {
            self.total = page.total;
        }
        let mut added = 0;
        let mut repeated = 0;
        for widget in page.widgets {
            if self.seen.insert(widget.id) {
                self.widgets.push(widget);
                added += 1;
            } else {
                repeated += 1;
            }
        }
        self.sizes.push(page.entries);
        self.repeats.push(repeated);
        if added == 0 {
            return None;
        }
        self.productive += 1;
        let calls = self.sizes.len();
        let bound = match self.total {
            Some(total) => calls_for_total(total, self.longest),
            None if self.repeats.iter().any(|r| *r > 0) => MAX_PAGES_WHEN_REPEATING,
            None => MAX_PAGES,
        };
        let more = match self.total {
            Some(total) => (self.seen.len() as u64) < total,
            None => page.entries >= self.longest,
        };
        (more && calls < bound).then(|| u32::try_from(calls + 1).unwrap_or(u32::MAX))
    }

    /// What differed from what was asked, once the listing is complete.
    pub fn oddities(&self) -> Vec<Oddity> {
        let mut found = Vec::new();
        if self.repeats.iter().any(|r| *r > 0) {
            found.push(Oddity::PagesRepeat);
        }
        let more_than_a_page = self.productive > 1
            || self
                .total
                .is_some_and(|t| t > self.longest as u64 && self.longest > 0);
        if self.longest < self.limit && more_than_a_page {
            found.push(Oddity::LimitCapped);
        }
        if self.total.is_some_and(|t| t != self.seen.len() as u64) {
            found.push(Oddity::TotalMismatch);
        }
        found
    }

    /// Entries per page, in order (for the log).
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Ids of earlier pages met again, per page (for the log).
    pub fn repeats(&self) -> &[usize] {
        &self.repeats
    }

    /// The last total the vendor gave (for the log).
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// Every room listed, each once, in the order the pages gave them.
    pub fn into_widgets(self) -> Vec<WidgetSummary> {
        self.widgets
    }
}

/// The most calls a listing of `total` rooms needs with pages of `page_len` rooms, plus
/// one to spare (a room created while listing shifts the pages by one).
fn calls_for_total(total: u64, page_len: usize) -> usize {
    let page_len = page_len.max(1) as u64;
    usize::try_from(total.div_ceil(page_len))
        .unwrap_or(usize::MAX)
        .saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: u64) -> WidgetSummary {
        WidgetSummary {
            id,
            token: Some(format!("{:03}-000-000", id % 1000)),
            name: None,
            kind: None,
            start_date: None,
        }
    }

    /// A vendor account of `rooms` rooms (newest first) answering `limit`/`page` as the
    /// closure says: it gets the page number and the limit asked, and returns the range
    /// of positions it hands out.
    fn list(
        rooms: u64,
        asked: usize,
        with_total: bool,
        serve: impl Fn(usize, usize) -> std::ops::Range<usize>,
    ) -> (Vec<u64>, Paging) {
        let ids: Vec<u64> = (1..=rooms).rev().collect();
        let mut paging = Paging::new(asked);
        let mut page = 1usize;
        loop {
            assert!(page <= MAX_PAGES + 1, "runaway listing");
            let range = serve(page, asked);
            let held: Vec<u64> = ids
                .get(range.start.min(ids.len())..range.end.min(ids.len()))
                .unwrap_or_default()
                .to_vec();
            let next = paging.add(WidgetsPage {
                entries: held.len(),
                widgets: held.into_iter().map(summary).collect(),
                total: with_total.then_some(rooms),
            });
            match next {
                Some(n) => page = n as usize,
                None => break,
            }
        }
        let listed = paging.widgets.iter().map(|w| w.id).collect();
        (listed, paging)
    }

    fn honoured(page: usize, limit: usize) -> std::ops::Range<usize> {
        (page - 1) * limit..page * limit
    }

    fn capped_at_100(page: usize, limit: usize) -> std::ops::Range<usize> {
        honoured(page, limit.min(100))
    }

    fn page_ignored(_: usize, limit: usize) -> std::ops::Range<usize> {
        0..limit
    }

    #[test]
    fn honoured_paging_walks_every_page_and_asks_once_more_only_without_a_total() {
        let (listed, paging) = list(1200, 500, false, honoured);
        assert_eq!(listed.len(), 1200);
        assert_eq!(paging.sizes(), [500, 500, 200]);
        assert!(paging.oddities().is_empty(), "{:?}", paging.oddities());

        let (listed, paging) = list(1000, 500, false, honoured);
        assert_eq!(listed.len(), 1000);
        assert_eq!(paging.sizes(), [500, 500, 0], "an empty page ends it");

        let (_, paging) = list(1000, 500, true, honoured);
        assert_eq!(paging.sizes(), [500, 500], "the total ends it");
        let (_, paging) = list(3, 500, true, honoured);
        assert_eq!(
            paging.sizes(),
            [3],
            "one call for a small account with a total"
        );
        let (_, paging) = list(3, 500, false, honoured);
        assert_eq!(
            paging.sizes(),
            [3, 0],
            "without a total a short first page may be a capped one: one more call says"
        );
        let (_, paging) = list(0, 500, false, honoured);
        assert_eq!(paging.sizes(), [0]);
    }

    #[test]
    fn an_ignored_page_ends_the_listing_at_the_first_repeat() {
        let (listed, paging) = list(600, 500, false, page_ignored);
        assert_eq!(listed.len(), 500);
        assert_eq!(paging.sizes(), [500, 500]);
        assert_eq!(paging.repeats(), [0, 500]);
        assert_eq!(paging.oddities(), [Oddity::PagesRepeat]);

        let (listed, paging) = list(600, 500, true, page_ignored);
        assert_eq!(listed.len(), 500);
        assert!(paging.sizes().len() <= 600usize.div_ceil(500) + 1);
        assert_eq!(
            paging.oddities(),
            [Oddity::PagesRepeat, Oddity::TotalMismatch]
        );
    }

    #[test]
    fn a_capped_limit_pages_on_while_pages_are_as_long_as_the_longest() {
        let (listed, paging) = list(250, 500, false, capped_at_100);
        assert_eq!(listed.len(), 250);
        assert_eq!(paging.sizes(), [100, 100, 50]);
        assert_eq!(paging.oddities(), [Oddity::LimitCapped]);

        let (listed, paging) = list(300, 500, false, capped_at_100);
        assert_eq!(listed.len(), 300);
        assert_eq!(paging.sizes(), [100, 100, 100, 0]);

        let (listed, paging) = list(250, 500, true, capped_at_100);
        assert_eq!(listed.len(), 250);
        assert_eq!(paging.sizes(), [100, 100, 50]);
        assert_eq!(paging.oddities(), [Oddity::LimitCapped]);
    }

    #[test]
    fn a_short_page_goes_on_only_when_the_total_says_more() {
        // Pages of varying length (a vendor that drops some rooms from a page).
        let uneven = |page: usize, _: usize| match page {
            1 => 0..500,
            2 => 500..800,
            3 => 800..1000,
            _ => 1000..1000,
        };
        let (listed, paging) = list(1000, 500, true, uneven);
        assert_eq!(listed.len(), 1000);
        assert_eq!(paging.sizes(), [500, 300, 200]);
        let (listed, paging) = list(1000, 500, false, uneven);
        assert_eq!(listed.len(), 800, "without a total a short page ends it");
        assert_eq!(paging.sizes(), [500, 300]);
    }

    #[test]
    fn a_total_bounds_the_calls_even_when_the_vendor_keeps_handing_out_new_rooms() {
        // A vendor that hands out 300 new rooms on every page, forever: its total ends it.
        let mut paging = Paging::new(500);
        let mut calls = 0;
        let mut next = Some(1u64);
        while let Some(page) = next {
            calls += 1;
            assert!(calls <= 10, "runaway");
            let start = (page - 1) * 300;
            next = paging
                .add(WidgetsPage {
                    entries: 300,
                    widgets: (start..start + 300).map(summary).collect(),
                    total: Some(900),
                })
                .map(u64::from);
        }
        assert_eq!(calls, 3, "900 rooms in pages of 300: the total is reached");

        let mut paging = Paging::new(500);
        let mut calls = 0;
        let mut next = Some(1u64);
        while let Some(page) = next {
            calls += 1;
            assert!(calls <= 10, "runaway");
            let start = (page - 1) * 300;
            // Pages shrink and repeat nothing: the total is never reached.
            let len = 300 / page;
            next = paging
                .add(WidgetsPage {
                    entries: len as usize,
                    widgets: (start..start + len).map(summary).collect(),
                    total: Some(900),
                })
                .map(u64::from);
        }
        assert_eq!(calls, 900usize.div_ceil(300) + 1, "ceil(total / page) + 1");
        assert_eq!(
            paging.oddities(),
            [Oddity::LimitCapped, Oddity::TotalMismatch]
        );
    }

    #[test]
    fn pages_that_keep_repeating_some_ids_stop_at_three_calls_without_a_total() {
        // Every page shares half its rooms with the one before.
        let overlapping = |page: usize, _: usize| (page - 1) * 250..(page - 1) * 250 + 500;
        let (_, paging) = list(5000, 500, false, overlapping);
        assert_eq!(paging.sizes().len(), 3);
        assert_eq!(paging.oddities(), [Oddity::PagesRepeat]);
    }

    #[test]
    fn a_total_smaller_than_the_rooms_listed_ends_the_listing_and_is_reported() {
        let mut paging = Paging::new(500);
        let next = paging.add(WidgetsPage {
            entries: 500,
            widgets: (0..500).map(summary).collect(),
            total: Some(10),
        });
        assert_eq!(next, None);
        assert_eq!(paging.oddities(), [Oddity::TotalMismatch]);
    }

    #[test]
    fn unreadable_entries_count_for_the_length_of_a_page_not_as_rooms() {
        let mut paging = Paging::new(500);
        let next = paging.add(WidgetsPage {
            entries: 500,
            widgets: (0..499).map(summary).collect(),
            total: None,
        });
        assert_eq!(next, Some(2), "500 entries: a full page");
        let next = paging.add(WidgetsPage {
            entries: 2,
            widgets: vec![summary(1000)],
            total: None,
        });
        assert_eq!(next, None);
        assert_eq!(paging.into_widgets().len(), 500);
    }
}

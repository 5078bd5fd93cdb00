//! Row numbers sorted by time and by amount, so that the rows that could fit
//! a counterpart are found by two binary searches instead of a look at
//! every row. Either order alone degrades on some histories — many rows in
//! a busy hour, or many of one round amount — so each question scans the
//! shorter of the two ranges; both hold every row that fits, and the caller
//! still applies the exact test to each.

use jiff::{SignedDuration, Timestamp};

use crate::ledger::Tx;

pub struct Index {
    by_time: Vec<(Timestamp, usize)>,
    by_amount: Vec<(i64, usize)>,
}

impl Index {
    /// `amount` is the key the amount ranges are asked about.
    pub fn new(rows: &[Tx], members: &[usize], amount: impl Fn(&Tx) -> i64) -> Index {
        let mut by_time: Vec<(Timestamp, usize)> =
            members.iter().map(|&i| (rows[i].time, i)).collect();
        let mut by_amount: Vec<(i64, usize)> =
            members.iter().map(|&i| (amount(&rows[i]), i)).collect();
        by_time.sort_unstable();
        by_amount.sort_unstable();
        Index { by_time, by_amount }
    }

    /// The rows timed within `around - before ..= around + after`, or those
    /// whose amount key is in the range the two tests describe, whichever are
    /// fewer. `below` is true for keys under the range and `not_above` for
    /// keys not over it; each must hold for a prefix of the ascending keys.
    pub fn near(
        &self,
        around: Timestamp,
        before: SignedDuration,
        after: SignedDuration,
        below: impl Fn(i64) -> bool,
        not_above: impl Fn(i64) -> bool,
    ) -> impl Iterator<Item = usize> + '_ {
        let from = around.checked_sub(before).unwrap_or(Timestamp::MIN);
        let to = around.checked_add(after).unwrap_or(Timestamp::MAX);
        let t0 = self.by_time.partition_point(|(t, _)| *t < from);
        let t1 = self.by_time.partition_point(|(t, _)| *t <= to).max(t0);
        let a0 = self.by_amount.partition_point(|(a, _)| below(*a));
        let a1 = self
            .by_amount
            .partition_point(|(a, _)| not_above(*a))
            .max(a0);
        let (times, amounts) = if t1 - t0 <= a1 - a0 {
            (&self.by_time[t0..t1], &self.by_amount[..0])
        } else {
            (&self.by_time[..0], &self.by_amount[a0..a1])
        };
        times
            .iter()
            .map(|(_, i)| *i)
            .chain(amounts.iter().map(|(_, i)| *i))
    }
}

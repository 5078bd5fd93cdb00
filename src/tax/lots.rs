//! Lots and how disposals draw on them. A lot's basis is kept as a total for
//! its remaining satoshis; taking part of a lot takes the proportional share
//! and leaves the exact remainder, so basis is conserved to the last digit.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// One optional queue per method, indexed by [`Method::index`].
type Queues = [Option<BinaryHeap<Entry>>; 3];
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::ledger::Sats;

/// Which lots a disposal uses first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Fifo,
    Lifo,
    /// Highest basis per bitcoin first (fees included in the basis).
    Hifo,
}

impl Method {
    const ALL: [Method; 3] = [Method::Fifo, Method::Lifo, Method::Hifo];

    fn index(self) -> usize {
        match self {
            Method::Fifo => 0,
            Method::Lifo => 1,
            Method::Hifo => 2,
        }
    }
}

impl std::str::FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "fifo" => Ok(Method::Fifo),
            "lifo" => Ok(Method::Lifo),
            "hifo" => Ok(Method::Hifo),
            other => Err(format!("unknown method {other:?}; use fifo, lifo or hifo")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    /// The ledger row that opened the lot.
    pub row: usize,
    /// Shared, not copied: a lot's account travels with every piece taken.
    pub account: Arc<str>,
    pub acquired: Timestamp,
    /// The acquisition date in the engine's time zone, worked out once.
    pub acquired_on: Date,
    pub sats: Sats,
    /// `None` when the basis is unknown (an unexplained deposit).
    pub basis: Option<Decimal>,
}

/// A piece of a lot taken by a disposal or a move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub row: usize,
    pub account: Arc<str>,
    pub acquired: Timestamp,
    pub acquired_on: Date,
    pub sats: Sats,
    pub basis: Option<Decimal>,
}

/// Open lots. With an account, a disposal draws only on that account's lots
/// (per-wallet basis); without, on all of them (universal basis).
///
/// Each (method, account) pair that is asked for gets a priority queue of
/// lot indices, built on first use and kept up to date as lots are added, so
/// choosing the next lot costs a logarithm, not a scan. Emptied lots are
/// dropped from a queue when they reach its top.
#[derive(Debug, Default, Clone)]
pub struct Pool {
    lots: Vec<Lot>,
    /// Bumped when a lot's basis changes, which can change its HIFO place.
    versions: Vec<u32>,
    /// Queues over all lots, by method.
    all: Queues,
    /// Queues over one account's lots, by account and method.
    by_account: HashMap<String, Queues>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Priority {
    /// Oldest first: the heap is a max-heap, so order is reversed.
    Fifo(Reverse<(Timestamp, usize, usize)>),
    Lifo((Timestamp, usize, usize)),
    /// Highest rate first; unknown basis last; then the older lot.
    Hifo(Option<Decimal>, Reverse<(Timestamp, usize, usize)>),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    priority: Priority,
    version: u32,
}

fn entry(method: Method, lot: &Lot, idx: usize, version: u32) -> Entry {
    let order = (lot.acquired, lot.row, idx);
    let priority = match method {
        Method::Fifo => Priority::Fifo(Reverse(order)),
        Method::Lifo => Priority::Lifo(order),
        Method::Hifo => Priority::Hifo(per_sat(lot), Reverse(order)),
    };
    Entry { priority, version }
}

fn index_of(e: &Entry) -> usize {
    match &e.priority {
        Priority::Fifo(Reverse((_, _, i)))
        | Priority::Lifo((_, _, i))
        | Priority::Hifo(_, Reverse((_, _, i))) => *i,
    }
}

impl Pool {
    pub fn add(&mut self, lot: Lot) {
        if lot.sats.0 <= 0 {
            return;
        }
        let idx = self.lots.len();
        self.push_entries(&lot, idx, 0);
        self.lots.push(lot);
        self.versions.push(0);
    }

    pub fn lots(&self) -> impl Iterator<Item = &Lot> {
        self.lots.iter().filter(|l| l.sats.0 > 0)
    }

    /// Adds a lot to every queue that covers it.
    fn push_entries(&mut self, lot: &Lot, idx: usize, version: u32) {
        let push = |queues: &mut Queues| {
            for method in Method::ALL {
                if let Some(queue) = queues[method.index()].as_mut() {
                    queue.push(entry(method, lot, idx, version));
                }
            }
        };
        push(&mut self.all);
        if !self.by_account.is_empty()
            && let Some(queues) = self.by_account.get_mut(&*lot.account)
        {
            push(queues);
        }
    }

    /// The queue for a method and scope, built from the open lots on first use.
    fn queue(&mut self, account: Option<&str>, method: Method) -> &mut BinaryHeap<Entry> {
        let (lots, versions) = (&self.lots, &self.versions);
        let build = || -> BinaryHeap<Entry> {
            lots.iter()
                .enumerate()
                .filter(|(_, l)| l.sats.0 > 0 && account.is_none_or(|a| &*l.account == a))
                .map(|(i, l)| entry(method, l, i, versions[i]))
                .collect()
        };
        match account {
            None => self.all[method.index()].get_or_insert_with(build),
            Some(a) => {
                if !self.by_account.contains_key(a) {
                    self.by_account.insert(a.to_string(), Queues::default());
                }
                let queues = self.by_account.get_mut(a).expect("just inserted");
                queues[method.index()].get_or_insert_with(build)
            }
        }
    }

    fn next(&mut self, account: Option<&str>, method: Method) -> Option<usize> {
        // Built on first use; then borrowed apart from the lots it indexes.
        self.queue(account, method);
        let (lots, versions) = (&self.lots, &self.versions);
        let queue = match account {
            None => self.all[method.index()].as_mut()?,
            Some(a) => self.by_account.get_mut(a)?[method.index()].as_mut()?,
        };
        while let Some(top) = queue.peek() {
            let i = index_of(top);
            if lots[i].sats.0 > 0 && versions[i] == top.version {
                return Some(i);
            }
            queue.pop();
        }
        None
    }

    /// Takes `amount` by `method`; returns the pieces and any shortfall
    /// (satoshis the pool did not have).
    pub fn take(
        &mut self,
        account: Option<&str>,
        amount: Sats,
        method: Method,
    ) -> (Vec<Taken>, Sats) {
        let mut taken = Vec::new();
        let short = self.take_into(account, amount, method, &mut taken);
        (taken, short)
    }

    /// As [`Pool::take`], appending the pieces to `taken` (a buffer the
    /// caller reuses: the engines take for every disposal); returns the
    /// shortfall.
    pub fn take_into(
        &mut self,
        account: Option<&str>,
        amount: Sats,
        method: Method,
        taken: &mut Vec<Taken>,
    ) -> Sats {
        let mut left = amount;
        while left.0 > 0 {
            let Some(i) = self.next(account, method) else {
                break;
            };
            let lot = &mut self.lots[i];
            let sats = left.min(lot.sats);
            let basis = lot.basis.map(|b| super::split(b, sats.0, lot.sats.0));
            if let (Some(total), Some(part)) = (lot.basis.as_mut(), basis) {
                *total -= part;
            }
            lot.sats = lot.sats - sats;
            left = left - sats;
            taken.push(Taken {
                row: lot.row,
                account: lot.account.clone(),
                acquired: lot.acquired,
                acquired_on: lot.acquired_on,
                sats,
                basis,
            });
        }
        left
    }

    /// Takes up to `amount` from the lots opened by ledger row `row` (one
    /// acquisition may have become several lots as coins moved), in the
    /// order they were added; for specific identification.
    pub fn take_from(&mut self, account: Option<&str>, row: usize, amount: Sats) -> Vec<Taken> {
        let mut left = amount;
        let mut taken = Vec::new();
        for lot in self.lots.iter_mut() {
            if left.0 <= 0 {
                break;
            }
            if lot.row != row || lot.sats.0 <= 0 || account.is_some_and(|a| &*lot.account != a) {
                continue;
            }
            let sats = left.min(lot.sats);
            let basis = lot.basis.map(|b| super::split(b, sats.0, lot.sats.0));
            if let (Some(total), Some(part)) = (lot.basis.as_mut(), basis) {
                *total -= part;
            }
            lot.sats = lot.sats - sats;
            left = left - sats;
            taken.push(Taken {
                row: lot.row,
                account: lot.account.clone(),
                acquired: lot.acquired,
                acquired_on: lot.acquired_on,
                sats,
                basis,
            });
        }
        taken
    }

    /// Adds `extra` basis to the lot `method` would take next from `account`.
    pub fn add_basis(&mut self, account: Option<&str>, method: Method, extra: Decimal) -> bool {
        let Some(i) = self.next(account, method) else {
            return false;
        };
        let Some(basis) = self.lots[i].basis.as_mut() else {
            return false;
        };
        *basis += extra;
        self.versions[i] += 1;
        let lot = self.lots[i].clone();
        self.push_entries(&lot, i, self.versions[i]);
        true
    }
}

/// Basis per satoshi; unknown basis sorts lowest, so HIFO uses it last.
fn per_sat(lot: &Lot) -> Option<Decimal> {
    lot.basis.map(|b| b / Decimal::from(lot.sats.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lot(row: usize, account: &str, day: i64, btc: i64, basis: i64) -> Lot {
        Lot {
            row,
            account: Arc::from(account),
            acquired: Timestamp::from_second(day * 86_400).expect("time"),
            acquired_on: Timestamp::from_second(day * 86_400)
                .expect("time")
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date(),
            sats: Sats(btc * 100_000_000),
            basis: Some(Decimal::from(basis)),
        }
    }

    fn pool() -> Pool {
        let mut p = Pool::default();
        p.add(lot(0, "a", 1, 1, 10_000));
        p.add(lot(1, "b", 2, 1, 30_000));
        p.add(lot(2, "a", 3, 1, 20_000));
        p
    }

    #[test]
    fn each_method_picks_its_lot() {
        let first = |method| pool().take(None, Sats(50_000_000), method).0[0].row;
        assert_eq!(first(Method::Fifo), 0);
        assert_eq!(first(Method::Lifo), 2);
        assert_eq!(
            first(Method::Hifo),
            1,
            "HIFO crosses wallets under universal basis"
        );
        let mut per_wallet = pool();
        assert_eq!(
            per_wallet.take(Some("a"), Sats(50_000_000), Method::Hifo).0[0].row,
            2
        );
    }

    #[test]
    fn a_partial_lot_keeps_the_exact_remainder_of_its_basis() {
        let mut p = Pool::default();
        p.add(lot(0, "a", 1, 3, 100));
        let (taken, short) = p.take(None, Sats(100_000_000), Method::Fifo);
        assert_eq!(short, Sats::ZERO);
        let third = taken[0].basis.expect("basis");
        let (rest, _) = p.take(None, Sats(200_000_000), Method::Fifo);
        assert_eq!(third + rest[0].basis.expect("basis"), Decimal::from(100));
    }

    #[test]
    fn taking_more_than_held_reports_the_shortfall() {
        let mut p = pool();
        let (taken, short) = p.take(Some("b"), Sats(150_000_000), Method::Fifo);
        assert_eq!(taken.len(), 1);
        assert_eq!(short, Sats(50_000_000));
    }
}

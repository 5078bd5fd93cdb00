//! Lots and how disposals draw on them. A lot's basis is kept as a total for
//! its remaining satoshis; taking part of a lot takes the proportional share
//! and leaves the exact remainder, so basis is conserved to the last digit.

use jiff::Timestamp;
use rust_decimal::Decimal;

use crate::ledger::Sats;

/// Which lots a disposal uses first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Fifo,
    Lifo,
    /// Highest basis per bitcoin first (fees included in the basis).
    Hifo,
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
    pub account: String,
    pub acquired: Timestamp,
    pub sats: Sats,
    /// `None` when the basis is unknown (an unexplained deposit).
    pub basis: Option<Decimal>,
}

/// A piece of a lot taken by a disposal or a move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub row: usize,
    pub account: String,
    pub acquired: Timestamp,
    pub sats: Sats,
    pub basis: Option<Decimal>,
}

/// Open lots. With `per_wallet`, a disposal draws only on its own account's
/// lots; otherwise on all of them (universal basis).
#[derive(Debug, Default, Clone)]
pub struct Pool {
    lots: Vec<Lot>,
}

impl Pool {
    pub fn add(&mut self, lot: Lot) {
        if lot.sats.0 > 0 {
            self.lots.push(lot);
        }
    }

    pub fn lots(&self) -> impl Iterator<Item = &Lot> {
        self.lots.iter().filter(|l| l.sats.0 > 0)
    }

    pub fn total(&self, account: Option<&str>) -> Sats {
        self.lots
            .iter()
            .filter(|l| account.is_none_or(|a| l.account == a))
            .map(|l| l.sats)
            .sum()
    }

    fn next(&self, account: Option<&str>, method: Method) -> Option<usize> {
        let candidates = self
            .lots
            .iter()
            .enumerate()
            .filter(|(_, l)| l.sats.0 > 0 && account.is_none_or(|a| l.account == a));
        // Moved lots keep their acquisition date, so order by it rather than
        // by position.
        match method {
            Method::Fifo => candidates
                .min_by_key(|(_, l)| (l.acquired, l.row))
                .map(|(i, _)| i),
            Method::Lifo => candidates
                .max_by_key(|(_, l)| (l.acquired, l.row))
                .map(|(i, _)| i),
            Method::Hifo => candidates
                .max_by(|(ia, a), (ib, b)| {
                    per_sat(a)
                        .cmp(&per_sat(b))
                        // Equal rates: the older lot first.
                        .then(ib.cmp(ia))
                })
                .map(|(i, _)| i),
        }
    }

    /// Takes `amount` by `method`; returns the pieces and any shortfall
    /// (satoshis the pool did not have).
    pub fn take(
        &mut self,
        account: Option<&str>,
        amount: Sats,
        method: Method,
    ) -> (Vec<Taken>, Sats) {
        let mut left = amount;
        let mut taken = Vec::new();
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
                sats,
                basis,
            });
        }
        if self.lots.len() > 64
            && self.lots.iter().filter(|l| l.sats.0 == 0).count() * 2 > self.lots.len()
        {
            self.lots.retain(|l| l.sats.0 > 0);
        }
        (taken, left)
    }

    /// Adds `extra` basis to the lot `method` would take next from `account`.
    pub fn add_basis(&mut self, account: Option<&str>, method: Method, extra: Decimal) -> bool {
        match self.next(account, method).map(|i| &mut self.lots[i]) {
            Some(Lot { basis: Some(b), .. }) => {
                *b += extra;
                true
            }
            _ => false,
        }
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
            account: account.into(),
            acquired: Timestamp::from_second(day * 86_400).expect("time"),
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

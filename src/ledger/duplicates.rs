//! One entry brought in twice: once with the source's own id (an exchange's
//! API, or an export that has ids) and once from an export without ids,
//! whose rows are known only by a hash of their content. Such rows cannot
//! meet on their ids, so they are recognised by what they are: the same
//! account, the same type, the same amount of bitcoin, and times no more
//! than [`WINDOW_SECONDS`] apart (exports round times to the second or the
//! minute), and, where both are valued in one currency, values within
//! [`VALUE_TOLERANCE_PERCENT`]. Pure.
//!
//! Only a match that leaves no doubt is taken: the id-less row has exactly
//! one such counterpart and that counterpart no other. Identical entries in
//! a run (two fills of the same size in the same second) are taken in time
//! order when both sides hold the same number of them. Anything else is a
//! suspected duplicate, for the user to decide; neither row is dropped
//! until then.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{Kind, Tx};

/// How far apart the two rows of one entry may be dated.
pub const WINDOW_SECONDS: i64 = 60;

/// How far apart two values of one entry may be, in percent: enough for a
/// fee counted in by one source and out by the other, not for another
/// trade at another price.
pub const VALUE_TOLERANCE_PERCENT: u32 = 3;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// (id-less row, the row with an id it is the same entry as), by index.
    pub same: Vec<(usize, usize)>,
    /// Id-less rows with more than one possible counterpart, or sharing
    /// one with another id-less row: (row, candidates), by index.
    pub suspected: Vec<(usize, Vec<usize>)>,
}

type Key<'a> = (&'a str, Kind, i64);

fn key(tx: &Tx) -> Key<'_> {
    (tx.account.as_str(), tx.kind, tx.btc.0)
}

/// Finds the rows of `rows` that are a second copy of an entry, leaving
/// out the rows `claimed` says are spoken for (by the user's decisions).
pub fn find(rows: &[Tx], claimed: impl Fn(usize) -> bool) -> Found {
    find_by(rows.len(), |i| &rows[i], claimed, |_| false)
}

/// [`find`] over rows held some other way (the stored rows, as imported).
/// Rows `copied` says already have a copy (the user said so) stay
/// candidates, but never for an automatic match: another row that may copy
/// them is for the user to judge too.
pub fn find_by<'a>(
    len: usize,
    row: impl Fn(usize) -> &'a Tx,
    claimed: impl Fn(usize) -> bool,
    copied: impl Fn(usize) -> bool,
) -> Found {
    let rows = Indexed { len, row };
    // Only accounts holding both kinds of row can hold such a duplicate;
    // most books have none, and this pass costs one lookup a row.
    let mut seen: HashMap<&str, (bool, bool)> = HashMap::new();
    for tx in rows.iter() {
        let flags = seen.entry(tx.account.as_str()).or_default();
        if tx.id.is_some() {
            flags.0 = true;
        } else {
            flags.1 = true;
        }
    }
    let mixed: HashSet<&str> = seen
        .into_iter()
        .filter(|(_, (with_id, without))| *with_id && *without)
        .map(|(account, _)| account)
        .collect();
    if mixed.is_empty() {
        return Found::default();
    }
    let eligible = |i: usize, tx: &Tx| {
        mixed.contains(tx.account.as_str()) && tx.kind != Kind::Transfer && !claimed(i)
    };
    let idless: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(i, tx)| tx.id.is_none() && eligible(*i, tx))
        .map(|(i, _)| i)
        .collect();
    let wanted: HashSet<Key> = idless.iter().map(|&i| key(rows.at(i))).collect();
    let mut with_id: HashMap<Key, Vec<usize>> = HashMap::new();
    for (i, tx) in rows.iter().enumerate() {
        if tx.id.is_some() && eligible(i, tx) && wanted.contains(&key(tx)) {
            with_id.entry(key(tx)).or_default().push(i);
        }
    }

    // Each id-less row's counterparts, and how many id-less rows want each.
    let mut wants: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut claimants: HashMap<usize, usize> = HashMap::new();
    for &i in &idless {
        let Some(pool) = with_id.get(&key(rows.at(i))) else {
            continue;
        };
        let at = rows.at(i).time.as_second();
        let mut near: Vec<usize> = pool
            .iter()
            .copied()
            .filter(|&j| (rows.at(j).time.as_second() - at).abs() <= WINDOW_SECONDS)
            .filter(|&j| values_agree(rows.at(i), rows.at(j)))
            .collect();
        if near.is_empty() {
            continue;
        }
        near.sort_unstable();
        for &j in &near {
            *claimants.entry(j).or_insert(usize::from(copied(j))) += 1;
        }
        wants.push((i, near));
    }

    // Id-less rows wanting exactly the same counterparts form a run; a run
    // as long as its counterparts, wanted by no one else, pairs off in time
    // order (the lone match is the run of one).
    let mut runs: BTreeMap<Vec<usize>, Vec<usize>> = BTreeMap::new();
    for (i, near) in wants {
        runs.entry(near).or_default().push(i);
    }
    let mut found = Found::default();
    for (near, mut run) in runs {
        let exclusive = near.iter().all(|j| claimants.get(j) == Some(&run.len()));
        if exclusive && near.len() == run.len() {
            run.sort_by_key(|&i| (rows.at(i).time, i));
            let mut counterparts = near;
            counterparts.sort_by_key(|&j| (rows.at(j).time, j));
            found.same.extend(run.into_iter().zip(counterparts));
        } else {
            found
                .suspected
                .extend(run.into_iter().map(|i| (i, near.clone())));
        }
    }
    found.same.sort_unstable();
    found.suspected.sort_unstable();
    found
}

/// Two rows valued in the same currency agree on the value within
/// [`VALUE_TOLERANCE_PERCENT`] (one source may leave the fee in, the other
/// out); a row without a value, or in another currency, does not object.
fn values_agree(a: &Tx, b: &Tx) -> bool {
    match (a.fiat_value, b.fiat_value, &a.currency, &b.currency) {
        (Some(x), Some(y), Some(c), Some(d)) if c == d => {
            let larger = x.abs().max(y.abs());
            (x - y).abs() * rust_decimal::Decimal::ONE_HUNDRED
                <= larger * rust_decimal::Decimal::from(VALUE_TOLERANCE_PERCENT)
        }
        _ => true,
    }
}

/// Rows by index, however they are held.
struct Indexed<F> {
    len: usize,
    row: F,
}

impl<'a, F: Fn(usize) -> &'a Tx> Indexed<F> {
    fn iter(&self) -> impl Iterator<Item = &'a Tx> + '_ {
        (0..self.len).map(|i| (self.row)(i))
    }

    fn at(&self, i: usize) -> &'a Tx {
        (self.row)(i)
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use rust_decimal::Decimal;

    use super::*;
    use crate::ledger::Sats;

    fn row(id: Option<&str>, kind: Kind, account: &str, second: i64, sats: i64) -> Tx {
        Tx {
            id: id.map(str::to_string),
            time: Timestamp::from_second(1_700_000_000 + second).expect("time"),
            kind,
            account: account.into(),
            btc: Sats(sats),
            fee_btc: Sats::ZERO,
            fiat_value: None,
            currency: None,
            fee_fiat: Decimal::ZERO,
            to_account: None,
            txid: None,
            note: None,
        }
    }

    #[test]
    fn an_idless_row_with_one_counterpart_is_the_same_entry() {
        let rows = vec![
            row(Some("api-1"), Kind::Buy, "Coinbase", 0, 100_000),
            row(Some("api-2"), Kind::Buy, "Coinbase", 3_600, 200_000),
            // The export's copies, its times rounded down to the minute.
            row(None, Kind::Buy, "Coinbase", -40, 100_000),
            row(None, Kind::Buy, "Coinbase", 3_600, 200_000),
        ];
        let found = find(&rows, |_| false);
        assert_eq!(found.same, vec![(2, 0), (3, 1)]);
        assert!(found.suspected.is_empty());
    }

    #[test]
    fn another_account_type_amount_or_time_is_another_entry() {
        let rows = vec![
            row(Some("api-1"), Kind::Buy, "Coinbase", 0, 100_000),
            row(None, Kind::Buy, "Kraken", 0, 100_000),
            row(None, Kind::Sell, "Coinbase", 0, 100_000),
            row(None, Kind::Buy, "Coinbase", 0, 100_001),
            row(None, Kind::Buy, "Coinbase", -WINDOW_SECONDS - 1, 100_000),
            row(Some("file-id"), Kind::Buy, "Coinbase", 1, 100_000),
        ];
        let found = find(&rows, |_| false);
        assert_eq!(
            found,
            Found::default(),
            "two rows with ids are never merged"
        );
    }

    #[test]
    fn values_in_one_currency_must_agree_within_the_tolerance() {
        let valued = |id: Option<&str>, value: i64, currency: &str| Tx {
            fiat_value: Some(Decimal::new(value, 2)),
            currency: Some(currency.into()),
            ..row(id, Kind::Buy, "Coinbase", 0, 100_000)
        };
        // 395.00 against 400.00: the fee in one and not the other.
        let rows = vec![
            valued(Some("a"), 40_000, "USD"),
            valued(None, 39_500, "USD"),
        ];
        assert_eq!(find(&rows, |_| false).same, vec![(1, 0)]);
        // Another trade at another price.
        let rows = vec![
            valued(Some("a"), 40_000, "USD"),
            valued(None, 38_000, "USD"),
        ];
        assert_eq!(find(&rows, |_| false), Found::default());
        // Another currency does not object.
        let rows = vec![
            valued(Some("a"), 40_000, "USD"),
            valued(None, 36_000, "EUR"),
        ];
        assert_eq!(find(&rows, |_| false).same, vec![(1, 0)]);
    }

    #[test]
    fn a_run_of_identical_entries_pairs_off_in_time_order() {
        let rows = vec![
            row(Some("fill-2"), Kind::Buy, "Binance", 1, 5_000),
            row(Some("fill-1"), Kind::Buy, "Binance", 0, 5_000),
            row(None, Kind::Buy, "Binance", 0, 5_000),
            row(None, Kind::Buy, "Binance", 0, 5_000),
        ];
        let found = find(&rows, |_| false);
        assert_eq!(found.same, vec![(2, 1), (3, 0)]);
        assert!(found.suspected.is_empty());
    }

    #[test]
    fn doubt_is_left_to_the_user_and_nothing_is_dropped() {
        // Two counterparts for one id-less row.
        let two = vec![
            row(Some("a"), Kind::Withdrawal, "Binance", 0, 7_000),
            row(Some("b"), Kind::Withdrawal, "Binance", 30, 7_000),
            row(None, Kind::Withdrawal, "Binance", 15, 7_000),
        ];
        let found = find(&two, |_| false);
        assert!(found.same.is_empty());
        assert_eq!(found.suspected, vec![(2, vec![0, 1])]);

        // One counterpart wanted by two id-less rows that see it differently.
        let shared = vec![
            row(Some("a"), Kind::Deposit, "Binance", 0, 7_000),
            row(Some("b"), Kind::Deposit, "Binance", 90, 7_000),
            row(None, Kind::Deposit, "Binance", -30, 7_000),
            row(None, Kind::Deposit, "Binance", 45, 7_000),
        ];
        let found = find(&shared, |_| false);
        assert!(found.same.is_empty());
        assert_eq!(found.suspected, vec![(2, vec![0]), (3, vec![0, 1])]);
    }

    #[test]
    fn a_row_the_user_paired_with_a_copy_is_judged_again_by_the_user() {
        let rows = [
            row(Some("a"), Kind::Sell, "Binance", 0, 1_000),
            row(None, Kind::Sell, "Binance", 20, 1_000),
        ];
        let found = find_by(rows.len(), |i| &rows[i], |_| false, |j| j == 0);
        assert!(found.same.is_empty());
        assert_eq!(found.suspected, vec![(1, vec![0])]);
    }

    #[test]
    fn claimed_rows_and_transfers_are_left_alone() {
        let rows = vec![
            row(Some("a"), Kind::Buy, "Coinbase", 0, 1_000),
            row(None, Kind::Buy, "Coinbase", 0, 1_000),
            row(Some("t"), Kind::Transfer, "Coinbase", 0, 2_000),
            row(None, Kind::Transfer, "Coinbase", 0, 2_000),
        ];
        assert!(find(&rows, |i| i == 1).same.is_empty());
        assert!(find(&rows, |i| i == 0).same.is_empty());
        assert_eq!(find(&rows, |_| false).same, vec![(1, 0)]);
    }
}

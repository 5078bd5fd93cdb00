//! Transfer matching: a withdrawal from one own account and a deposit into
//! another are one transfer when they share a txid, or when the amounts
//! agree after a plausible network fee within a time window and nothing else
//! fits as well. Unmatched and ambiguous rows are left for review. Pure; the
//! imported rows are never changed, the result is a layer on top.

use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;

use super::{Kind, Sats, Tx};

/// How far apart a withdrawal and its deposit may be.
pub const BEFORE: SignedDuration = SignedDuration::from_mins(10);
pub const AFTER: SignedDuration = SignedDuration::from_hours(72);
/// The largest network fee taken as plausible: 0.001 BTC, or 1% of the
/// amount when that is more.
pub const MIN_FEE_ALLOWANCE: Sats = Sats(100_000);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matching {
    /// (withdrawal row, deposit row), and whether the txid proved it.
    pub pairs: Vec<(usize, usize, bool)>,
    /// Withdrawals with more than one fitting deposit (or the reverse).
    pub ambiguous: Vec<(usize, Vec<usize>)>,
    /// Withdrawals and deposits with no counterpart.
    pub unmatched: Vec<usize>,
}

fn fits(w: &Tx, d: &Tx) -> bool {
    if w.account == d.account {
        return false;
    }
    let window = |t: Timestamp| t >= w.time - BEFORE && t <= w.time + AFTER;
    let sent = w.btc + w.fee_btc;
    let allowance = Sats((sent.0 / 100).max(MIN_FEE_ALLOWANCE.0));
    window(d.time) && d.btc <= sent && sent - d.btc <= allowance
}

pub fn find(rows: &[Tx]) -> Matching {
    let withdrawals: Vec<usize> = (0..rows.len())
        .filter(|i| rows[*i].kind == Kind::Withdrawal)
        .collect();
    let deposits: Vec<usize> = (0..rows.len())
        .filter(|i| rows[*i].kind == Kind::Deposit)
        .collect();
    let mut taken = vec![false; rows.len()];
    let mut out = Matching {
        pairs: Vec::new(),
        ambiguous: Vec::new(),
        unmatched: Vec::new(),
    };

    // A shared txid is proof.
    for &w in &withdrawals {
        let Some(txid) = rows[w].txid.as_deref().filter(|t| !t.is_empty()) else {
            continue;
        };
        let same: Vec<usize> = deposits
            .iter()
            .copied()
            .filter(|d| {
                !taken[*d]
                    && rows[*d].txid.as_deref() == Some(txid)
                    && rows[*d].account != rows[w].account
            })
            .collect();
        if let [d] = same[..] {
            taken[w] = true;
            taken[d] = true;
            out.pairs.push((w, d, true));
        }
    }
    // Otherwise amounts and times, when exactly one deposit fits a
    // withdrawal and that deposit fits no other withdrawal.
    let mut order = withdrawals.clone();
    order.sort_by(|a, b| rows[*a].order_key().cmp(&rows[*b].order_key()));
    for &w in &order {
        if taken[w] {
            continue;
        }
        let candidates: Vec<usize> = deposits
            .iter()
            .copied()
            .filter(|d| !taken[*d] && fits(&rows[w], &rows[*d]))
            .collect();
        match candidates[..] {
            [] => {}
            [d] => {
                let rivals = order
                    .iter()
                    .filter(|o| **o != w && !taken[**o] && fits(&rows[**o], &rows[d]))
                    .count();
                if rivals == 0 {
                    taken[w] = true;
                    taken[d] = true;
                    out.pairs.push((w, d, false));
                } else {
                    out.ambiguous.push((w, candidates));
                }
            }
            _ => out.ambiguous.push((w, candidates)),
        }
    }
    let in_review: Vec<usize> = out
        .ambiguous
        .iter()
        .flat_map(|(w, ds)| std::iter::once(*w).chain(ds.iter().copied()))
        .collect();
    out.unmatched = withdrawals
        .iter()
        .chain(&deposits)
        .copied()
        .filter(|i| !taken[*i] && !in_review.contains(i))
        .collect();
    out.unmatched.sort_unstable();
    out.pairs.sort_unstable();
    out
}

/// The rows with each matched pair replaced by one transfer: from the
/// withdrawal's account, of the amount received, the difference paid as the
/// network fee, at the withdrawal's time.
pub fn apply(rows: &[Tx], matching: &Matching) -> Vec<Tx> {
    apply_traced(rows, matching).0
}

/// As [`apply`], with the index of the row each result stands for (a
/// transfer stands for its withdrawal).
pub fn apply_traced(rows: &[Tx], matching: &Matching) -> (Vec<Tx>, Vec<usize>) {
    let mut replaced = vec![false; rows.len()];
    let mut out = Vec::with_capacity(rows.len());
    let mut origin = Vec::with_capacity(rows.len());
    for &(w, d, _) in &matching.pairs {
        origin.push(w);
        replaced[w] = true;
        replaced[d] = true;
        let (wd, dp) = (&rows[w], &rows[d]);
        let sent = wd.btc + wd.fee_btc;
        // The withdrawal's value, if any, scaled to the amount received.
        let fiat_value = wd
            .fiat_value
            .filter(|_| wd.btc.0 > 0)
            .map(|v| v * Decimal::from(dp.btc.0) / Decimal::from(wd.btc.0));
        out.push(Tx {
            id: wd.id.clone(),
            time: wd.time,
            kind: Kind::Transfer,
            account: wd.account.clone(),
            btc: dp.btc,
            fee_btc: sent - dp.btc,
            fiat_value,
            currency: wd.currency.clone(),
            fee_fiat: wd.fee_fiat,
            to_account: Some(dp.account.clone()),
            txid: wd.txid.clone().or_else(|| dp.txid.clone()),
            note: Some("matched transfer".into()),
        });
    }
    for (i, r) in rows.iter().enumerate().filter(|(i, _)| !replaced[*i]) {
        out.push(r.clone());
        origin.push(i);
    }
    (out, origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: Kind, account: &str, minute: i64, sats: i64, txid: Option<&str>) -> Tx {
        Tx {
            id: None,
            time: Timestamp::from_second(1_600_000_000 + minute * 60).expect("time"),
            kind,
            account: account.into(),
            btc: Sats(sats),
            fee_btc: Sats::ZERO,
            fiat_value: None,
            currency: None,
            fee_fiat: Decimal::ZERO,
            to_account: None,
            txid: txid.map(str::to_string),
            note: None,
        }
    }

    #[test]
    fn a_shared_txid_pairs_even_far_apart() {
        let rows = vec![
            row(Kind::Withdrawal, "exchange", 0, 100_000_000, Some("abc")),
            row(Kind::Deposit, "cold", 60 * 24 * 10, 99_990_000, Some("abc")),
        ];
        let m = find(&rows);
        assert_eq!(m.pairs, vec![(0, 1, true)]);
        let applied = apply(&rows, &m);
        assert_eq!(applied.len(), 1);
        assert_eq!(applied[0].kind, Kind::Transfer);
        assert_eq!(applied[0].to_account.as_deref(), Some("cold"));
        assert_eq!(
            (applied[0].btc, applied[0].fee_btc),
            (Sats(99_990_000), Sats(10_000))
        );
    }

    #[test]
    fn amounts_after_a_plausible_fee_within_the_window_pair() {
        let rows = vec![
            row(Kind::Withdrawal, "exchange", 0, 50_000_000, None),
            row(Kind::Deposit, "cold", 30, 49_995_000, None),
            // Too late, and too much missing: stay unmatched.
            row(Kind::Withdrawal, "exchange", 10_000, 10_000_000, None),
            row(Kind::Deposit, "phone", 10_000 + 60 * 73, 10_000_000, None),
            row(Kind::Deposit, "phone", 20_000, 5_000_000, None),
        ];
        let m = find(&rows);
        assert_eq!(m.pairs, vec![(0, 1, false)]);
        assert_eq!(m.unmatched, vec![2, 3, 4]);
    }

    #[test]
    fn two_fitting_deposits_go_to_review() {
        let rows = vec![
            row(Kind::Withdrawal, "exchange", 0, 10_000_000, None),
            row(Kind::Deposit, "cold", 5, 10_000_000, None),
            row(Kind::Deposit, "phone", 6, 10_000_000, None),
        ];
        let m = find(&rows);
        assert!(m.pairs.is_empty());
        assert_eq!(m.ambiguous, vec![(0, vec![1, 2])]);
        assert!(
            m.unmatched.is_empty(),
            "the candidates are in review, not unmatched"
        );
    }

    #[test]
    fn a_matched_transfer_keeps_the_lot_and_its_date() {
        use crate::tax::lots::Method;
        use crate::tax::us::{BasisMode, Settings, compute};
        let mut buy = row(Kind::Buy, "exchange", 0, 100_000_000, None);
        buy.fiat_value = Some(Decimal::from(10_000));
        buy.currency = Some("USD".into());
        let mut sell = row(Kind::Sell, "cold", 60 * 24 * 400, 99_990_000, None);
        sell.fiat_value = Some(Decimal::from(50_000));
        sell.currency = Some("USD".into());
        let rows = vec![
            buy,
            row(Kind::Withdrawal, "exchange", 60, 100_000_000, Some("t")),
            row(Kind::Deposit, "cold", 90, 99_990_000, Some("t")),
            sell,
        ];
        let settings = Settings {
            method: Method::Fifo,
            basis: BasisMode::PerWallet,
            transfer_fee: crate::tax::FeePolicy::NonTaxable,
            currency: "USD".into(),
            zone: jiff::tz::TimeZone::UTC,
        };
        let raw = compute(&rows, &settings);
        assert!(
            !raw.issues.is_empty(),
            "unmatched, the deposit has no basis"
        );
        let matched = compute(&apply(&rows, &find(&rows)), &settings);
        assert!(matched.issues.is_empty(), "{:?}", matched.issues);
        assert!(
            matched.disposals[0].parts[0].long_term,
            "the coins keep their acquisition date"
        );
    }
}

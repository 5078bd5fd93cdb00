//! Transfer matching: a withdrawal from one own account and a deposit into
//! another are one transfer when they share a txid, or when the amounts
//! agree after a plausible network fee within a time window and nothing else
//! fits as well. Unmatched and ambiguous rows are left for review. Pure; the
//! imported rows are never changed, the result is a layer on top.

mod index;

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;

use self::index::Index;
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

fn sent(w: &Tx) -> i64 {
    (w.btc + w.fee_btc).0
}

/// The least a deposit may be and still fit a withdrawal that sent `sent`
/// satoshis ([`fits`]). It never decreases as `sent` grows, which lets the
/// index find the withdrawals a deposit could fit by a binary search.
fn least_received(sent: i64) -> i64 {
    sent.saturating_sub((sent / 100).max(MIN_FEE_ALLOWANCE.0))
}

/// Pairs withdrawals with deposits. Every question — which deposits share a
/// txid, which fit a withdrawal, which other withdrawal a deposit fits — goes
/// through an index, so tens of thousands of unmatched rows stay fast; the
/// answers are those of comparing every withdrawal with every deposit.
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
    let mut by_txid: HashMap<&str, Vec<usize>> = HashMap::new();
    for &d in &deposits {
        if let Some(txid) = rows[d].txid.as_deref() {
            by_txid.entry(txid).or_default().push(d);
        }
    }
    for &w in &withdrawals {
        let Some(txid) = rows[w].txid.as_deref().filter(|t| !t.is_empty()) else {
            continue;
        };
        let mut same = by_txid
            .get(txid)
            .into_iter()
            .flatten()
            .copied()
            .filter(|d| !taken[*d] && rows[*d].account != rows[w].account);
        if let (Some(d), None) = (same.next(), same.next()) {
            taken[w] = true;
            taken[d] = true;
            out.pairs.push((w, d, true));
        }
    }
    // Otherwise amounts and times, when exactly one deposit fits a
    // withdrawal and that deposit fits no other withdrawal.
    let deposit_index = Index::new(rows, &deposits, |t| t.btc.0);
    let withdrawal_index = Index::new(rows, &withdrawals, sent);
    let mut order = withdrawals.clone();
    order.sort_by(|a, b| rows[*a].order_key().cmp(&rows[*b].order_key()));
    for &w in &order {
        if taken[w] {
            continue;
        }
        let (most, least) = (sent(&rows[w]), least_received(sent(&rows[w])));
        let mut candidates: Vec<usize> = deposit_index
            .near(rows[w].time, BEFORE, AFTER, |a| a < least, |a| a <= most)
            .filter(|d| !taken[*d] && fits(&rows[w], &rows[*d]))
            .collect();
        // Candidates are listed in row order.
        candidates.sort_unstable();
        match candidates[..] {
            [] => {}
            [d] => {
                let received = rows[d].btc.0;
                let rival = withdrawal_index
                    .near(
                        rows[d].time,
                        AFTER,
                        BEFORE,
                        |s| s < received,
                        |s| least_received(s) <= received,
                    )
                    .any(|o| o != w && !taken[o] && fits(&rows[o], &rows[d]));
                if rival {
                    out.ambiguous.push((w, candidates));
                } else {
                    taken[w] = true;
                    taken[d] = true;
                    out.pairs.push((w, d, false));
                }
            }
            _ => out.ambiguous.push((w, candidates)),
        }
    }
    let mut in_review = vec![false; rows.len()];
    for (w, ds) in &out.ambiguous {
        for &i in std::iter::once(w).chain(ds) {
            in_review[i] = true;
        }
    }
    out.unmatched = withdrawals
        .iter()
        .chain(&deposits)
        .copied()
        .filter(|i| !taken[*i] && !in_review[*i])
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
mod tests;

//! Hand-made cases, and a property test holding the indexed [`find`]
//! to a plain reference that compares every withdrawal with every deposit.

use proptest::prelude::*;

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

/// The straightforward matching: every withdrawal against every deposit.
fn reference(rows: &[Tx]) -> Matching {
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

/// A small history where windows overlap and amounts collide often: times
/// within a few days, a handful of amounts near one another (and some
/// exactly equal), fees, shared and empty txids, and a few rows that are
/// neither withdrawals nor deposits.
fn history() -> impl Strategy<Value = Vec<Tx>> {
    let one = (
        0u8..10,
        0usize..3,
        0i64..(60 * 24 * 8),
        0usize..6,
        0i64..3_000,
        0i64..3,
        0usize..5,
    );
    proptest::collection::vec(one, 0..40).prop_map(|steps| {
        let amounts = [10_000_000, 10_050_000, 9_900_000, 100_000, 250_000, 50_000];
        let txids = [None, None, Some(""), Some("t1"), Some("t2")];
        steps
            .into_iter()
            .map(|(kind, account, minute, amount, jitter, fee, txid)| {
                let kind = match kind {
                    0..=3 => Kind::Withdrawal,
                    4..=7 => Kind::Deposit,
                    8 => Kind::Buy,
                    _ => Kind::Transfer,
                };
                let mut tx = row(
                    kind,
                    ["a", "b", "c"][account],
                    // Whole tens of minutes, so that rows often share a time
                    // and fall exactly on the window's edges (10 minutes
                    // before, 72 hours after).
                    minute - minute % 10,
                    amounts[amount] - jitter * (jitter % 2) * 40,
                    txids[txid],
                );
                tx.fee_btc = Sats(fee * 1_000);
                tx
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn the_indexed_matching_gives_exactly_the_reference_answers(rows in history()) {
        prop_assert_eq!(find(&rows), reference(&rows));
    }
}

#[test]
fn the_generated_histories_exercise_every_outcome() {
    // A guard on the strategy itself: it must produce pairs by txid and by
    // amount, ambiguous rows and unmatched rows, or the property proves little.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut by_txid, mut by_amount, mut ambiguous, mut unmatched) = (0, 0, 0, 0);
    for _ in 0..300 {
        let rows = history().new_tree(&mut runner).expect("tree").current();
        let m = reference(&rows);
        by_txid += m.pairs.iter().filter(|p| p.2).count();
        by_amount += m.pairs.iter().filter(|p| !p.2).count();
        ambiguous += m.ambiguous.len();
        unmatched += m.unmatched.len();
    }
    assert!(
        by_txid > 0 && by_amount > 0 && ambiguous > 0 && unmatched > 0,
        "{by_txid} {by_amount} {ambiguous} {unmatched}"
    );
}

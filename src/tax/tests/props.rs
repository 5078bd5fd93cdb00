//! Invariants over random histories: satoshis are conserved, no disposal
//! exceeds holdings, every lot's basis is used exactly once, and the result
//! does not depend on the order of the rows.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::ledger::{Kind, Sats, Tx};
use crate::tax::lots::Method;
use crate::tax::us::{BasisMode, Settings, compute};
use crate::tax::{FeePolicy, uk};

/// A history that never spends more than an account holds.
fn history() -> impl Strategy<Value = Vec<Tx>> {
    proptest::collection::vec((0u8..4, 0usize..2, 1i64..500_000_000, 1i64..90_000), 1..60).prop_map(
        |steps| {
            let accounts = ["a", "b"];
            let mut held = [0i64; 2];
            let mut rows = Vec::new();
            for (n, (action, acct, amount, price)) in steps.into_iter().enumerate() {
                let time =
                    Timestamp::from_second(1_600_000_000 + n as i64 * 86_400 * 3).expect("time");
                let fiat = |sats: i64| {
                    Some(Decimal::from(price) * Decimal::from(sats) / Decimal::from(100_000_000))
                };
                let base = Tx {
                    id: Some(format!("r{n}")),
                    time,
                    kind: Kind::Buy,
                    account: accounts[acct].into(),
                    btc: Sats(amount),
                    fee_btc: Sats::ZERO,
                    fiat_value: fiat(amount),
                    currency: Some("USD".into()),
                    fee_fiat: Decimal::from(price % 7),
                    to_account: None,
                    txid: None,
                    note: None,
                };
                let tx = match action {
                    0 | 1 => {
                        held[acct] += amount;
                        base
                    }
                    2 if held[acct] > 1 => {
                        let sats = amount % held[acct] + 1;
                        held[acct] -= sats;
                        Tx {
                            kind: Kind::Sell,
                            btc: Sats(sats),
                            fiat_value: fiat(sats),
                            ..base
                        }
                    }
                    3 if held[acct] > 1_000 => {
                        let fee = 1_000.min(held[acct] / 10);
                        let sats = (amount % (held[acct] - fee)).max(1);
                        held[acct] -= sats + fee;
                        held[1 - acct] += sats;
                        Tx {
                            kind: Kind::Transfer,
                            btc: Sats(sats),
                            fee_btc: Sats(fee),
                            fiat_value: fiat(sats),
                            fee_fiat: Decimal::ZERO,
                            to_account: Some(accounts[1 - acct].into()),
                            ..base
                        }
                    }
                    _ => continue,
                };
                rows.push(tx);
            }
            rows
        },
    )
}

fn settings(method: Method, basis: BasisMode) -> Settings {
    Settings {
        method,
        basis,
        transfer_fee: FeePolicy::Disposal,
        currency: "USD".into(),
        zone: TimeZone::UTC,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn satoshis_and_basis_are_conserved(rows in history(), m in 0usize..3, per_wallet in any::<bool>()) {
        let method = [Method::Fifo, Method::Lifo, Method::Hifo][m];
        let basis = if per_wallet { BasisMode::PerWallet } else { BasisMode::Universal };
        let out = compute(&rows, &settings(method, basis));
        prop_assert!(out.issues.is_empty(), "{:?}", out.issues);
        let bought: i64 = rows.iter().filter(|r| r.kind == Kind::Buy).map(|r| r.btc.0).sum();
        let disposed: i64 = out.disposals.iter().map(|d| d.sats.0).sum();
        let left: i64 = out.pool.lots().map(|l| l.sats.0).sum();
        prop_assert_eq!(bought, disposed + left);
        for d in &out.disposals {
            prop_assert_eq!(d.parts.iter().map(|p| p.lot.sats.0).sum::<i64>(), d.sats.0, "no disposal exceeds holdings");
            if let Some(proceeds) = d.proceeds {
                prop_assert_eq!(d.parts.iter().filter_map(|p| p.proceeds).sum::<Decimal>(), proceeds);
            }
        }
        let cost: Decimal = rows.iter().filter(|r| r.kind == Kind::Buy).map(|r| r.fiat_value.unwrap_or_default() + r.fee_fiat).sum();
        let used: Decimal = out.disposals.iter().flat_map(|d| &d.parts).filter_map(|p| p.lot.basis).sum();
        let remaining: Decimal = out.pool.lots().filter_map(|l| l.basis).sum();
        prop_assert_eq!((used + remaining).round_dp(12), cost.round_dp(12), "every lot's basis is used exactly once");
    }

    #[test]
    fn uk_matching_uses_every_acquisition_exactly_once(rows in history()) {
        let s = uk::Settings { transfer_fee: FeePolicy::Disposal, currency: "USD".into() };
        let out = uk::compute(&rows, &s);
        prop_assert!(out.issues.is_empty(), "{:?}", out.issues);
        let bought: i64 = rows.iter().filter(|r| r.kind == Kind::Buy).map(|r| r.btc.0).sum();
        let disposed: i64 = out.disposals.iter().map(|d| d.sats.0).sum();
        prop_assert_eq!(bought, disposed + out.pool_sats.0);
        let cost: Decimal = rows.iter().filter(|r| r.kind == Kind::Buy).map(|r| r.fiat_value.unwrap_or_default() + r.fee_fiat).sum();
        let matched: Decimal = out.disposals.iter().flat_map(|d| &d.matches).map(|m| m.cost).sum();
        prop_assert_eq!(matched + out.pool_cost, cost);
    }

    #[test]
    fn the_order_of_rows_does_not_matter(rows in history(), seed in any::<u64>()) {
        let mut shuffled = rows.clone();
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let s = settings(Method::Hifo, BasisMode::PerWallet);
        let a = crate::tax::summary::us_years(&compute(&rows, &s), &TimeZone::UTC, "USD");
        let b = crate::tax::summary::us_years(&compute(&shuffled, &s), &TimeZone::UTC, "USD");
        prop_assert_eq!(a, b);
        let uk_settings = uk::Settings { transfer_fee: FeePolicy::Disposal, currency: "USD".into() };
        let a = crate::tax::summary::uk_years(&uk::compute(&rows, &uk_settings), "USD");
        let b = crate::tax::summary::uk_years(&uk::compute(&shuffled, &uk_settings), "USD");
        prop_assert_eq!(a, b);
    }
}

proptest! {
    /// The integer split agrees with decimal arithmetic wherever that is
    /// exact (a quotient of at most 28 digits needs no rounding before the
    /// final one), and its pieces always add back to the whole.
    #[test]
    fn the_fast_split_is_the_decimal_split(
        mantissa in 0i64..10_000_000_000_000,
        scale in 0u32..=12,
        whole in 1i64..2_100_000_000_000_000,
        share in 0u32..=1000,
    ) {
        let total = Decimal::new(mantissa, scale);
        let part = ((whole as i128) * i128::from(share) / 1000) as i64;
        let fast = crate::tax::split(total, part, whole);
        let slow = (total * Decimal::from(part) / Decimal::from(whole)).round_dp_with_strategy(
            crate::tax::SPLIT_PLACES,
            rust_decimal::RoundingStrategy::MidpointNearestEven,
        );
        prop_assert!((fast - slow).abs() <= Decimal::new(1, crate::tax::SPLIT_PLACES), "{fast} vs {slow}");
        let rest = crate::tax::split(total, whole - part, whole);
        prop_assert!((fast + rest - total).abs() <= Decimal::new(1, crate::tax::SPLIT_PLACES));
    }

    /// The holding-period test agrees with calendar arithmetic.
    #[test]
    fn the_fast_holding_period_is_the_calendar_one(a in 0i32..30_000, b in 0i32..30_000) {
        use jiff::ToSpan;
        let base = jiff::civil::date(2000, 1, 1);
        let (acquired, disposed) = (
            base.checked_add(a.days()).expect("date"),
            base.checked_add(b.days()).expect("date"),
        );
        let by_calendar = acquired
            .checked_add(1.year())
            .is_ok_and(|anniversary| disposed > anniversary);
        prop_assert_eq!(crate::tax::us::is_long_term(acquired, disposed), by_calendar);
    }
}

use jiff::civil::date;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use serde_json::Value;

use super::{d, rows};
use crate::tax::FeePolicy;
use crate::tax::lots::Method;
use crate::tax::summary::us_years;
use crate::tax::us::{BasisMode, Settings, compute, is_long_term};

fn settings(method: Method, basis: BasisMode, fee: FeePolicy) -> Settings {
    Settings {
        method,
        basis,
        transfer_fee: fee,
        currency: "USD".into(),
        zone: TimeZone::UTC,
    }
}

fn years(rows_: &[crate::ledger::Tx], s: &Settings) -> Vec<Value> {
    let out = compute(rows_, s);
    assert!(out.issues.is_empty(), "{:?}", out.issues);
    us_years(&out, &s.zone, "USD")
}

const TWO_BUYS_ONE_SALE: &str = "
    2020-01-01T12:00:00Z,buy,ex,1,10000,,10,
    2020-06-01T12:00:00Z,buy,ex,1,20000,,,
    2021-03-01T12:00:00Z,sell,ex,1.5,45000,,15,
";

#[test]
fn fifo_takes_the_oldest_lot_and_splits_a_partial_one() {
    // Lot 1: 1 BTC, basis 10,000 + 10 fee = 10,010, held 2020-01-01 -> 2021-03-01: long.
    // Lot 2: 0.5 of 1 BTC bought for 20,000 -> basis 10,000, held since 2020-06-01: short.
    // Proceeds net of the fee: 45,000 - 15 = 44,985, shared by satoshis:
    // 2/3 -> 29,990 to lot 1, 1/3 -> 14,995 to lot 2.
    // Long: 29,990 - 10,010 = 19,980. Short: 14,995 - 10,000 = 4,995.
    let y = years(
        &rows("USD", TWO_BUYS_ONE_SALE),
        &settings(Method::Fifo, BasisMode::Universal, FeePolicy::Disposal),
    );
    assert_eq!(y.len(), 1);
    assert_eq!(y[0]["year"], "2021");
    assert_eq!(y[0]["disposals"], 1);
    assert_eq!(y[0]["proceeds"], "44985.00");
    assert_eq!(y[0]["cost_basis"], "20010.00");
    assert_eq!(y[0]["short_term_gain"], "4995.00");
    assert_eq!(y[0]["long_term_gain"], "19980.00");
    assert_eq!(y[0]["gain"], "24975.00");
}

#[test]
fn lifo_takes_the_newest_lot_first() {
    // Lot 2 whole (20,000, short) gets 29,990: short gain 9,990.
    // Half of lot 1: basis 10,010 / 2 = 5,005 (long) gets 14,995: long gain 9,990.
    let y = years(
        &rows("USD", TWO_BUYS_ONE_SALE),
        &settings(Method::Lifo, BasisMode::Universal, FeePolicy::Disposal),
    );
    assert_eq!(y[0]["cost_basis"], "25005.00");
    assert_eq!(y[0]["short_term_gain"], "9990.00");
    assert_eq!(y[0]["long_term_gain"], "9990.00");
}

const THREE_WALLET_LOTS: &str = "
    2020-01-01T00:00:00Z,buy,a,1,10000,,,
    2020-02-01T00:00:00Z,buy,b,1,30000,,,
    2020-03-01T00:00:00Z,buy,a,1,20000,,,
    2020-04-01T00:00:00Z,sell,a,1,25000,,,
";

#[test]
fn hifo_picks_the_highest_basis_across_wallets_under_universal_basis() {
    // Universal: the dearest lot anywhere is b's at 30,000: 25,000 - 30,000 = -5,000.
    let y = years(
        &rows("USD", THREE_WALLET_LOTS),
        &settings(Method::Hifo, BasisMode::Universal, FeePolicy::Disposal),
    );
    assert_eq!(y[0]["gain"], "-5000.00");
    // Per wallet: only a's lots; the dearest is 20,000: gain 5,000.
    let y = years(
        &rows("USD", THREE_WALLET_LOTS),
        &settings(Method::Hifo, BasisMode::PerWallet, FeePolicy::Disposal),
    );
    assert_eq!(y[0]["gain"], "5000.00");
}

#[test]
fn hifo_counts_acquisition_fees_in_the_rate() {
    // 1 BTC for 10,000 + 5,000 fee (15,000/BTC) beats 1 BTC for 14,000.
    let r = rows(
        "USD",
        "
        2020-01-01T00:00:00Z,buy,a,1,10000,,5000,
        2020-01-02T00:00:00Z,buy,a,1,14000,,,
        2020-01-03T00:00:00Z,sell,a,1,16000,,,
    ",
    );
    let y = years(
        &r,
        &settings(Method::Hifo, BasisMode::Universal, FeePolicy::Disposal),
    );
    assert_eq!(y[0]["cost_basis"], "15000.00");
}

#[test]
fn more_than_one_year_is_long_term_including_the_leap_day() {
    // Acquired 2023-03-15: the anniversary 2024-03-15 is still short; the day after is long.
    assert!(!is_long_term(date(2023, 3, 15), date(2024, 3, 15)));
    assert!(is_long_term(date(2023, 3, 15), date(2024, 3, 16)));
    // Acquired 2024-02-29: the anniversary is 2025-02-28.
    assert!(!is_long_term(date(2024, 2, 29), date(2025, 2, 28)));
    assert!(is_long_term(date(2024, 2, 29), date(2025, 3, 1)));
    let r = rows(
        "USD",
        "
        2023-03-15T10:00:00Z,buy,a,2,20000,,,
        2024-03-15T10:00:00Z,sell,a,1,30000,,,
        2024-03-16T10:00:00Z,sell,a,1,30000,,,
    ",
    );
    let y = years(
        &r,
        &settings(Method::Fifo, BasisMode::Universal, FeePolicy::Disposal),
    );
    assert_eq!(y[0]["short_term_gain"], "20000.00");
    assert_eq!(y[0]["long_term_gain"], "20000.00");
}

#[test]
fn income_opens_a_lot_at_its_fair_value() {
    // Income 0.1 BTC worth 5,000 is income of 5,000 and a lot with basis 5,000;
    // selling it for 6,000 gains 1,000 short term.
    let r = rows(
        "USD",
        "
        2021-01-01T00:00:00Z,income,miner,0.1,5000,,,
        2021-06-01T00:00:00Z,sell,miner,0.1,6000,,,
    ",
    );
    let y = years(
        &r,
        &settings(Method::Fifo, BasisMode::Universal, FeePolicy::Disposal),
    );
    assert_eq!(y[0]["income"], "5000.00");
    assert_eq!(y[0]["short_term_gain"], "1000.00");
}

const TRANSFER_THEN_SALE: &str = "
    2020-01-01T00:00:00Z,buy,a,1,10000,,,
    2021-06-01T00:00:00Z,transfer,a,0.999,39960,0.001,,b
    2021-06-02T00:00:00Z,sell,b,0.999,50000,,,
";

#[test]
fn a_transfer_keeps_the_acquisition_date_and_the_fee_policy_decides_the_fee() {
    // The 0.999 BTC moved to b keep 2020-01-01: the sale is long term.
    // The fee: 0.001 BTC of a lot that cost 10,000/BTC -> basis 10.
    // Its market value: 39,960 / 0.999 = 40,000/BTC -> 40.
    let per_wallet = |fee| {
        years(
            &rows("USD", TRANSFER_THEN_SALE),
            &settings(Method::Fifo, BasisMode::PerWallet, fee),
        )
    };
    // Non-taxable: the fee leaves with its 10 of basis; sale basis 9,990.
    let y = per_wallet(FeePolicy::NonTaxable);
    assert_eq!(y[0]["long_term_gain"], "40010.00");
    assert_eq!(y[0]["disposals"], 1);
    // Disposal: a second disposal, 40 - 10 = 30, also long term.
    let y = per_wallet(FeePolicy::Disposal);
    assert_eq!(y[0]["disposals"], 2);
    assert_eq!(y[0]["long_term_gain"], Value::from("40040.00"));
    // Add to basis: the remaining coins carry the fee's 10: 50,000 - 10,000.
    let y = per_wallet(FeePolicy::AddToBasis);
    assert_eq!(y[0]["long_term_gain"], "40000.00");
}

#[test]
fn auto_basis_switches_to_wallets_in_2025_with_the_coins_where_they_are() {
    // Universal until 2024: lots stay where they were bought (a), but the
    // coin moved to b. From 2025 each wallet gets lots for what it holds:
    // a holds 1 (gets the oldest lot, 10,000), b holds 1 (gets 20,000).
    let r = rows(
        "USD",
        "
        2023-01-01T00:00:00Z,buy,a,1,10000,,,
        2023-02-01T00:00:00Z,buy,a,1,20000,,,
        2024-06-01T00:00:00Z,transfer,a,1,,,,b
        2025-03-01T00:00:00Z,sell,b,1,50000,,,
    ",
    );
    let y = years(
        &r,
        &settings(Method::Fifo, BasisMode::Auto, FeePolicy::NonTaxable),
    );
    assert_eq!(y[0]["year"], "2025");
    assert_eq!(y[0]["cost_basis"], "20000.00");
}

#[test]
fn missing_values_and_shortfalls_make_the_report_incomplete() {
    let r = rows(
        "USD",
        "
        2021-01-01T00:00:00Z,buy,a,1,10000,,,
        2021-02-01T00:00:00Z,income,a,0.1,,,,
        2021-03-01T00:00:00Z,sell,a,2,50000,,,
    ",
    );
    let out = compute(
        &r,
        &settings(Method::Fifo, BasisMode::Universal, FeePolicy::Disposal),
    );
    let messages: Vec<&str> = out.issues.iter().map(|i| i.message.as_str()).collect();
    assert!(
        messages.iter().any(|m| m.contains("missing price")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("more than")),
        "{messages:?}"
    );
    assert_eq!(
        out.disposals[0]
            .parts
            .iter()
            .map(|p| p.lot.basis.unwrap_or(Decimal::ZERO))
            .sum::<Decimal>(),
        d("10000")
    );
}

#[test]
fn specific_identification_draws_the_picked_lot_and_the_method_fills_the_rest() {
    use crate::ledger::Sats;
    use crate::tax::us::{Picks, compute_with_picks};
    // Rows 0 and 1 are lots of 1 BTC at 10,010 (fee included) and 20,000.
    // The sale of 1.5 BTC (row 2) picks 1 BTC of lot 1 (row 1); FIFO fills
    // the remaining 0.5 BTC from row 0: basis 10,010 / 2 = 5,005.
    // Proceeds 44,985 shared by satoshis: 2/3 = 29,990 to the picked lot
    // (short: 29,990 - 20,000 = 9,990), 1/3 = 14,995 to row 0 (long:
    // 14,995 - 5,005 = 9,990).
    let rows_ = rows("USD", TWO_BUYS_ONE_SALE);
    let s = settings(Method::Fifo, BasisMode::Universal, FeePolicy::Disposal);
    let picks: Picks = [(2, vec![(1, Sats(100_000_000))])].into_iter().collect();
    let out = compute_with_picks(&rows_, &s, &picks);
    assert!(out.issues.is_empty(), "{:?}", out.issues);
    let parts: Vec<(usize, i64)> = out.disposals[0]
        .parts
        .iter()
        .map(|p| (p.lot.row, p.lot.sats.0))
        .collect();
    assert_eq!(parts, vec![(1, 100_000_000), (0, 50_000_000)]);
    let y = us_years(&out, &s.zone, "USD");
    assert_eq!(y[0]["cost_basis"], "25005.00");
    assert_eq!(y[0]["short_term_gain"], "9990.00");
    assert_eq!(y[0]["long_term_gain"], "9990.00");

    // Picking more than the lot still holds is reported, and FIFO covers it.
    let greedy: Picks = [(2, vec![(1, Sats(100_000_000)), (1, Sats(10_000_000))])]
        .into_iter()
        .collect();
    let out = compute_with_picks(&rows_, &s, &greedy);
    assert_eq!(out.issues.len(), 1);
    assert!(
        out.issues[0].message.contains("only 0.00000000 BTC"),
        "{:?}",
        out.issues
    );
    assert_eq!(us_years(&out, &s.zone, "USD")[0]["cost_basis"], "25005.00");
}

#[test]
fn the_2025_allocation_to_wallets_follows_the_default_rule_or_the_users_own() {
    use crate::ledger::Sats;
    use crate::tax::us::{Picks, compute_with};
    // Universal basis in 2024: lots 0 (10,000) and 1 (30,000); a transfer
    // of 1 BTC to wallet b moves coins, not lots. On 1 January 2025 a and
    // b each hold 1 BTC. By default wallets take the oldest lots in name
    // order: a gets lot 0, b gets lot 1; b's 2025 sale for 50,000 then has
    // a basis of 30,000 (gain 20,000, long term: held since 2024-02-01).
    let rows_ = rows(
        "USD",
        "
        2024-01-01T12:00:00Z,buy,a,1,10000,,,
        2024-02-01T12:00:00Z,buy,a,1,30000,,,
        2024-06-01T12:00:00Z,transfer,a,1,,,,b
        2025-03-01T12:00:00Z,sell,b,1,50000,,,
    ",
    );
    let s = settings(Method::Fifo, BasisMode::Auto, FeePolicy::NonTaxable);
    let by_default = compute_with(&rows_, &s, &Picks::new(), &[]);
    assert!(by_default.issues.is_empty(), "{:?}", by_default.issues);
    let y = us_years(&by_default, &s.zone, "USD");
    assert_eq!(y[0]["cost_basis"], "30000.00");
    assert_eq!(y[0]["long_term_gain"], "20000.00");

    // The user's allocation gives lot 0 to b instead: basis 10,000, gain
    // 40,000; a gets what is left (lot 1) by the default rule.
    let own = [("b".to_string(), 0, Sats(100_000_000))];
    let chosen = compute_with(&rows_, &s, &Picks::new(), &own);
    assert!(chosen.issues.is_empty(), "{:?}", chosen.issues);
    let y = us_years(&chosen, &s.zone, "USD");
    assert_eq!(y[0]["cost_basis"], "10000.00");
    assert_eq!(y[0]["long_term_gain"], "40000.00");
    let a_lots: Vec<i64> = chosen
        .pool
        .lots()
        .filter(|l| &*l.account == "a")
        .map(|l| l.row as i64)
        .collect();
    assert_eq!(a_lots, vec![1]);

    // Giving b more than it holds is reported; b gets only what it holds.
    let greedy = [
        ("b".to_string(), 0, Sats(100_000_000)),
        ("b".to_string(), 1, Sats(1)),
    ];
    let out = compute_with(&rows_, &s, &Picks::new(), &greedy);
    assert_eq!(out.issues.len(), 1, "{:?}", out.issues);
    assert!(
        out.issues[0]
            .message
            .contains("only 0.00000000 BTC could go there")
    );
}

#[test]
fn the_input_hash_follows_the_content_of_the_rows_not_their_order_or_notation() {
    use crate::tax::summary::input_sha256;
    let a = rows("USD", TWO_BUYS_ONE_SALE);
    let mut reversed = a.clone();
    reversed.reverse();
    assert_eq!(input_sha256(&a, "s"), input_sha256(&reversed, "s"));
    // 10000 and 10000.00 are the same value.
    let mut scaled = a.clone();
    scaled[0].fiat_value = scaled[0].fiat_value.map(|v| v.round_dp(2) + d("0.00"));
    assert_eq!(input_sha256(&a, "s"), input_sha256(&scaled, "s"));
    // Any change of content or settings changes the hash.
    let mut changed = a.clone();
    changed[0].btc = crate::ledger::Sats(changed[0].btc.0 + 1);
    assert_ne!(input_sha256(&a, "s"), input_sha256(&changed, "s"));
    let mut moved = a.clone();
    moved[0].account = "ex2".into();
    assert_ne!(input_sha256(&a, "s"), input_sha256(&moved, "s"));
    let mut noted = a.clone();
    noted[0].note = Some(String::new());
    assert_ne!(
        input_sha256(&a, "s"),
        input_sha256(&noted, "s"),
        "no note and an empty note differ"
    );
    assert_ne!(input_sha256(&a, "s"), input_sha256(&a, "t"));
}

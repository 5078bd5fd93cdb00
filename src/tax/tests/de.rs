//! Germany: losses between years and the Freigrenze for other income, worked
//! by hand.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::Value;

use super::{d, rows};
use crate::tax::de::{CarryBack, LossYear, losses, settings, years_with};
use crate::tax::{FeePolicy, us};

fn nets(pairs: &[(i16, &str)]) -> BTreeMap<i16, Decimal> {
    pairs.iter().map(|(y, v)| (*y, d(v))).collect()
}

/// (taxable, loss used, carried back, taken from the following year,
/// carried forward) of one year.
fn flows(y: &LossYear) -> (Decimal, Decimal, Decimal, Decimal, Decimal) {
    (
        y.taxable_gain,
        y.loss_used,
        y.loss_carried_back,
        y.loss_from_following_year,
        y.loss_carried_forward,
    )
}

fn figures(body: &str, carry_back: CarryBack) -> Vec<Value> {
    let r = rows("EUR", body);
    let s = settings(FeePolicy::Disposal, "EUR".into(), us::BasisMode::PerWallet);
    let out = us::compute(&r, &s);
    assert!(out.issues.is_empty(), "{:?}", out.issues);
    years_with(&out, &s, carry_back)
}

/// The finance ministry's example of FIFO per wallet (BMF, 10 May 2022,
/// Rz. 61 f.): 1 BTC bought on the exchange on 10 January 2023 for 20,000
/// and moved to cold storage; 1 BTC bought there on 10 September 2023 for
/// 25,000; 1 BTC sold from the exchange on 15 February 2024 for 45,000.
const COLD_STORAGE: &str = "
    2023-01-10T10:00:00Z,buy,exchange,1,20000,,,
    2023-02-01T10:00:00Z,transfer,exchange,1,,,,cold
    2023-09-10T10:00:00Z,buy,exchange,1,25000,,,
    2024-02-15T10:00:00Z,sell,exchange,1,45000,,,
";

fn cold_storage_2024(basis: us::BasisMode) -> (String, String, String) {
    let r = rows("EUR", COLD_STORAGE);
    let s = settings(FeePolicy::Disposal, "EUR".into(), basis);
    let out = us::compute(&r, &s);
    assert!(out.issues.is_empty(), "{:?}", out.issues);
    let y = years_with(&out, &s, CarryBack::Statutory);
    let y = y.iter().find(|y| y["year"] == "2024").expect("2024");
    let text = |k: &str| y[k].as_str().unwrap_or_default().to_string();
    (
        text("short_term_gain"),
        text("long_term_gain"),
        text("taxable_gain"),
    )
}

#[test]
fn per_wallet_the_exchange_sale_draws_the_exchanges_september_lot() {
    // The January coin is in cold storage: the exchange's first coin in is
    // September's, held five months. 45,000 - 25,000 = 20,000, over the
    // 1,000 Freigrenze of 2024: all of it taxable.
    assert_eq!(
        cold_storage_2024(us::BasisMode::PerWallet),
        ("20000.00".into(), "0.00".into(), "20000.00".into())
    );
}

#[test]
fn universal_basis_draws_the_january_lot_wherever_it_is() {
    // Across all wallets the first coin in is January's, held more than a
    // year: 45,000 - 20,000 = 25,000, tax-free.
    assert_eq!(
        cold_storage_2024(us::BasisMode::Universal),
        ("0.00".into(), "25000.00".into(), "0.00".into())
    );
}

#[test]
fn a_loss_waits_through_a_year_under_the_freigrenze_and_is_used_above_it() {
    // 2022: loss 2,000; 2021 has no sales, so nothing goes back: 2,000 forward.
    // 2023: gain 500, under the 600 Freigrenze: tax-free, and it absorbs
    // none of the loss (the Freigrenze is judged before losses of other
    // years): still 2,000 forward.
    // 2024: gain 3,000, at least 1,000: the 2,000 is deducted, 1,000 taxable.
    let y = losses(
        &nets(&[(2022, "-2000"), (2023, "500"), (2024, "3000")]),
        CarryBack::Statutory,
    );
    let z = Decimal::ZERO;
    assert_eq!(y[0].loss, d("2000"));
    assert_eq!(flows(&y[0]), (z, z, z, z, d("2000")));
    assert!(y[1].freigrenze_applies);
    assert_eq!(flows(&y[1]), (z, z, z, z, d("2000")));
    assert!(!y[2].freigrenze_applies);
    assert_eq!(flows(&y[2]), (d("1000"), d("2000"), z, z, z));
}

#[test]
fn what_remains_after_a_carried_loss_is_taxable_even_under_the_freigrenze() {
    // 2023: loss 800 forward. 2024: gain 1,200 reaches the 1,000 Freigrenze;
    // 1,200 − 800 = 400 is taxable although 400 is under 1,000.
    let y = losses(
        &nets(&[(2023, "-800"), (2024, "1200")]),
        CarryBack::Statutory,
    );
    assert_eq!(y[1].taxable_gain, d("400"));
    assert_eq!(y[1].loss_used, d("800"));
    assert!(!y[1].freigrenze_applies);
}

#[test]
fn a_loss_goes_back_one_year_first_unless_that_is_waived() {
    // 2023: taxable gain 5,000. 2024: loss 3,000, carried back: 2023 keeps
    // 5,000 − 3,000 = 2,000 taxable; nothing is left to carry forward.
    let n = nets(&[(2023, "5000"), (2024, "-3000")]);
    let y = losses(&n, CarryBack::Statutory);
    let z = Decimal::ZERO;
    assert_eq!(flows(&y[0]), (d("2000"), z, z, d("3000"), z));
    assert_eq!(flows(&y[1]), (z, z, d("3000"), z, z));
    // Waived (§ 10d Abs. 1 Satz 5 EStG): 2023 stays at 5,000, the 3,000 goes forward.
    let y = losses(&n, CarryBack::Waived);
    assert_eq!(flows(&y[0]), (d("5000"), z, z, z, z));
    assert_eq!(flows(&y[1]), (z, z, z, z, d("3000")));
}

#[test]
fn a_loss_goes_back_only_into_a_taxed_gain_of_the_year_just_before() {
    // 2023: gain 500 under the Freigrenze, nothing taxed, so nothing to
    // reduce: the 2024 loss of 300 goes forward whole.
    let y = losses(
        &nets(&[(2023, "500"), (2024, "-300")]),
        CarryBack::Statutory,
    );
    assert_eq!(y[1].loss_carried_back, Decimal::ZERO);
    assert_eq!(y[1].loss_carried_forward, d("300"));
    // 2022 gain 5,000, no sales in 2023, 2024 loss 1,000: 2022 is not the
    // year just before, so the loss goes forward.
    let y = losses(
        &nets(&[(2022, "5000"), (2024, "-1000")]),
        CarryBack::Statutory,
    );
    assert_eq!(y[0].taxable_gain, d("5000"));
    assert_eq!(y[1].loss_carried_forward, d("1000"));
}

#[test]
fn carry_back_stops_at_one_million_and_the_rest_goes_forward() {
    // 2023 gain 3,000,000; 2024 loss 2,500,000: 1,000,000 back (2023 taxable
    // 2,000,000), 1,500,000 forward.
    let y = losses(
        &nets(&[(2023, "3000000"), (2024, "-2500000")]),
        CarryBack::Statutory,
    );
    assert_eq!(y[0].taxable_gain, d("2000000"));
    assert_eq!(y[1].loss_carried_back, d("1000000"));
    assert_eq!(y[1].loss_carried_forward, d("1500000"));
}

#[test]
fn carried_losses_offset_large_gains_only_up_to_the_minimum_taxation() {
    // 2023 loss 3,000,000 (2022 has no sales): all forward.
    // 2024 gain 2,000,000: at most 1,000,000 + 70% × 1,000,000 = 1,700,000
    // is offset; taxable 300,000; 1,300,000 forward.
    // 2028 gain 2,000,000 (the share is back to 60%): at most 1,000,000 +
    // 600,000 = 1,600,000, but only 1,300,000 is left: taxable 700,000.
    let y = losses(
        &nets(&[(2023, "-3000000"), (2024, "2000000"), (2028, "2000000")]),
        CarryBack::Statutory,
    );
    assert_eq!(y[1].loss_used, d("1700000"));
    assert_eq!(y[1].taxable_gain, d("300000"));
    assert_eq!(y[1].loss_carried_forward, d("1300000"));
    assert_eq!(y[2].loss_used, d("1300000"));
    assert_eq!(y[2].taxable_gain, d("700000"));
    // 2025 gain 1,500,000 with 2,000,000 carried: 1,000,000 + 70% × 500,000
    // = 1,350,000 offset, 150,000 taxable.
    let y = losses(
        &nets(&[(2024, "-2000000"), (2025, "1500000")]),
        CarryBack::Statutory,
    );
    assert_eq!(y[1].taxable_gain, d("150000"));
}

#[test]
fn from_rows_a_loss_offsets_a_later_gain_and_other_income_has_its_own_freigrenze() {
    // 2022: 1 BTC bought for 40,000 and sold within the year for 30,000: loss
    // 10,000, carried forward (no sales in 2021).
    // 2023: 1 BTC bought for 20,000, sold for 26,000: gain 6,000 reaches the
    // 600 Freigrenze; 6,000 of the loss is used, nothing taxable, 4,000 left.
    // 2024: staking income 255.99 (under 256: tax-free); no sales, the
    // 4,000 waits. 2025: income 256.00, at the Freigrenze: all taxable.
    // The income lots are received after every sale, so FIFO never sells them.
    let y = figures(
        "
        2022-01-10T10:00:00Z,buy,a,1,40000,,,
        2022-06-01T10:00:00Z,sell,a,1,30000,,,
        2023-01-10T10:00:00Z,buy,a,1,20000,,,
        2023-03-01T10:00:00Z,sell,a,1,26000,,,
        2024-12-01T10:00:00Z,income,a,0.001,255.99,,,
        2025-12-01T10:00:00Z,income,a,0.001,256.00,,,
        ",
        CarryBack::Statutory,
    );
    let year = |i: usize, k: &str| y[i][k].clone();
    assert_eq!(year(0, "year"), "2022");
    assert_eq!(year(0, "short_term_gain"), "-10000.00");
    assert_eq!(year(0, "loss"), "10000.00");
    assert_eq!(year(0, "loss_carried_forward"), "10000.00");
    assert_eq!(year(0, "taxable_gain"), "0.00");
    assert_eq!(year(1, "short_term_gain"), "6000.00");
    assert_eq!(year(1, "freigrenze_applies"), false);
    assert_eq!(year(1, "loss_used"), "6000.00");
    assert_eq!(year(1, "taxable_gain"), "0.00");
    assert_eq!(year(1, "loss_carried_forward"), "4000.00");
    assert_eq!(year(2, "other_income"), "255.99");
    assert_eq!(year(2, "other_income_freigrenze_applies"), true);
    assert_eq!(year(2, "other_income_taxable"), "0.00");
    assert_eq!(year(2, "loss_carried_forward"), "4000.00");
    assert_eq!(year(3, "other_income"), "256.00");
    assert_eq!(year(3, "other_income_freigrenze_applies"), false);
    assert_eq!(year(3, "other_income_taxable"), "256.00");
    assert_eq!(
        year(3, "income"),
        "256.00",
        "the existing field is unchanged"
    );
}

#[test]
fn from_rows_a_loss_is_carried_back_into_the_year_before() {
    // 2023: 1 BTC for 10,000 sold for 15,000 within the year: taxable 5,000.
    // 2024: 1 BTC for 20,000 sold for 18,000: loss 2,000, carried back:
    // 2023 taxable 3,000. Waived: 2023 stays 5,000 and 2,000 goes forward.
    let body = "
        2023-01-10T10:00:00Z,buy,a,1,10000,,,
        2023-05-01T10:00:00Z,sell,a,1,15000,,,
        2024-01-10T10:00:00Z,buy,a,1,20000,,,
        2024-05-01T10:00:00Z,sell,a,1,18000,,,
    ";
    let y = figures(body, CarryBack::Statutory);
    assert_eq!(y[0]["taxable_gain"], "3000.00");
    assert_eq!(y[0]["loss_from_following_year"], "2000.00");
    assert_eq!(y[1]["loss_carried_back"], "2000.00");
    assert_eq!(y[1]["loss_carried_forward"], "0.00");
    let y = figures(body, CarryBack::Waived);
    assert_eq!(y[0]["taxable_gain"], "5000.00");
    assert_eq!(y[1]["loss_carried_forward"], "2000.00");
}

#[test]
fn losses_on_coins_held_over_a_year_do_not_count() {
    // Coins held more than a year are outside § 23 both ways: a 5,000 loss
    // on them in 2023 is not carried anywhere; the 2023 short-term gain of
    // 700 (≥ 600) stays taxable.
    let y = figures(
        "
        2021-01-10T10:00:00Z,buy,a,1,30000,,,
        2023-01-05T10:00:00Z,buy,a,1,1000,,,
        2023-03-01T10:00:00Z,sell,a,1,25000,,,
        2023-04-01T10:00:00Z,sell,a,1,1700,,,
        ",
        CarryBack::Statutory,
    );
    assert_eq!(y[0]["long_term_gain"], "-5000.00");
    assert_eq!(y[0]["taxable_gain"], "700.00");
    assert_eq!(y[0]["loss"], "0.00");
    assert_eq!(y[0]["loss_carried_forward"], "0.00");
}

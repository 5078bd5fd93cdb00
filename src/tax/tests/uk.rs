use jiff::civil::date;
use serde_json::Value;

use super::{d, rows};
use crate::tax::FeePolicy;
use crate::tax::summary::uk_years;
use crate::tax::uk::{Rule, Settings, annual_exempt_amount, compute, tax_year};

fn settings() -> Settings {
    Settings {
        transfer_fee: FeePolicy::Disposal,
        currency: "GBP".into(),
    }
}

fn years(body: &str) -> Vec<Value> {
    let r = rows("GBP", body);
    let out = compute(&r, &settings());
    assert!(out.issues.is_empty(), "{:?}", out.issues);
    uk_years(&out, "GBP")
}

#[test]
fn a_same_day_acquisition_is_matched_first() {
    // The pool holds 1 BTC at 5,000. On 1 May 2021 1 BTC is bought for
    // 10,000 and 1 BTC sold for 12,000 with a 20 fee: the same-day rule
    // matches the sale with that day's purchase, not the pool.
    // Gain: 12,000 - (10,000 + 20) = 1,980.
    let r = rows(
        "GBP",
        "
        2021-01-01T10:00:00Z,buy,a,1,5000,,,
        2021-05-01T09:00:00Z,buy,a,1,10000,,,
        2021-05-01T15:00:00Z,sell,a,1,12000,,20,
    ",
    );
    let out = compute(&r, &settings());
    assert_eq!(out.disposals[0].matches[0].rule, Rule::SameDay);
    assert_eq!(out.disposals[0].gain(), d("1980"));
    assert_eq!((out.pool_sats.0, out.pool_cost), (100_000_000, d("5000")));
}

#[test]
fn a_buy_back_within_30_days_is_matched_before_the_pool() {
    // Pool: 2 BTC for 20,000. 1 June: sell 1 for 15,000. 20 June: buy 1 for
    // 14,000, within 30 days: the sale is matched with it (bed and
    // breakfast): gain 1,000. The pool keeps 2 BTC at 20,000, so selling
    // both on 1 September for 30,000 gains 10,000.
    let r = rows(
        "GBP",
        "
        2021-01-01T12:00:00Z,buy,a,2,20000,,,
        2021-06-01T12:00:00Z,sell,a,1,15000,,,
        2021-06-20T12:00:00Z,buy,a,1,14000,,,
        2021-09-01T12:00:00Z,sell,a,2,30000,,,
    ",
    );
    let out = compute(&r, &settings());
    assert_eq!(out.disposals[0].matches[0].rule, Rule::BedAndBreakfast);
    assert_eq!(
        out.disposals[0].matches[0].acquired_on,
        Some(date(2021, 6, 20))
    );
    assert_eq!(out.disposals[0].gain(), d("1000"));
    assert_eq!(out.disposals[1].matches[0].rule, Rule::Section104);
    assert_eq!(out.disposals[1].gain(), d("10000"));
    let y = uk_years(&out, "GBP");
    assert_eq!(y[0]["year"], "2021/22");
    assert_eq!(y[0]["gain"], "11000.00");
    assert_eq!(y[0]["annual_exempt_amount"], "12300.00");
}

#[test]
fn a_buy_after_30_days_goes_to_the_pool() {
    // 31 days later is outside the window: the sale uses the pool (10,000/BTC).
    let y = years(
        "
        2021-01-01T12:00:00Z,buy,a,1,10000,,,
        2021-06-01T12:00:00Z,sell,a,1,15000,,,
        2021-07-02T12:00:00Z,buy,a,1,14000,,,
    ",
    );
    assert_eq!(y[0]["gain"], "5000.00");
}

#[test]
fn a_pool_sale_uses_the_average_cost() {
    // Pool: 1 BTC at 10,000 + 1 BTC at 20,000 = 2 BTC at 30,000.
    // Selling 0.5 BTC costs 30,000 x 0.5 / 2 = 7,500; for 9,000: gain 1,500.
    let y = years(
        "
        2020-01-01T12:00:00Z,buy,a,1,10000,,,
        2020-02-01T12:00:00Z,buy,a,1,20000,,,
        2020-06-01T12:00:00Z,sell,a,0.5,9000,,,
    ",
    );
    assert_eq!(y[0]["year"], "2020/21");
    assert_eq!(y[0]["allowable_costs"], "7500.00");
    assert_eq!(y[0]["gain"], "1500.00");
}

#[test]
fn tax_years_run_from_6_april_and_days_are_uk_local() {
    assert_eq!(tax_year(date(2021, 4, 5)), "2020/21");
    assert_eq!(tax_year(date(2021, 4, 6)), "2021/22");
    assert_eq!(tax_year(date(1999, 12, 31)), "1999/00");
    // 23:30 UTC on 1 July is 00:30 on 2 July in London (BST): the same day
    // as a purchase at 10:00 UTC on 2 July.
    let out = compute(
        &rows(
            "GBP",
            "
            2021-01-01T12:00:00Z,buy,a,1,1000,,,
            2021-07-01T23:30:00Z,sell,a,1,30000,,,
            2021-07-02T10:00:00Z,buy,a,1,29000,,,
        ",
        ),
        &settings(),
    );
    assert_eq!(out.disposals[0].date, date(2021, 7, 2));
    assert_eq!(out.disposals[0].matches[0].rule, Rule::SameDay);
}

#[test]
fn the_2024_25_year_splits_gains_at_30_october() {
    let y = years(
        "
        2024-05-01T12:00:00Z,buy,a,2,20000,,,
        2024-10-29T12:00:00Z,sell,a,1,15000,,,
        2024-10-30T12:00:00Z,sell,a,1,11000,,,
    ",
    );
    assert_eq!(y[0]["year"], "2024/25");
    assert_eq!(y[0]["gain_before_2024_10_30"], "5000.00");
    assert_eq!(y[0]["gain_from_2024_10_30"], "1000.00");
    assert_eq!(y[0]["annual_exempt_amount"], "3000.00");
    assert_eq!(annual_exempt_amount("2023/24"), Some(d("6000")));
}

#[test]
fn income_is_an_acquisition_at_its_value_and_gains_and_losses_are_separate() {
    // Income 0.1 BTC at 4,000 (2022/23), sold for 5,000: gain 1,000.
    // A second day's sale at a loss: 1 BTC cost 30,000 sold for 25,000.
    let y = years(
        "
        2022-05-01T12:00:00Z,income,a,0.1,4000,,,
        2022-07-01T12:00:00Z,sell,a,0.1,5000,,,
        2022-08-01T12:00:00Z,buy,a,1,30000,,,
        2022-09-01T12:00:00Z,sell,a,1,25000,,,
    ",
    );
    assert_eq!(y[0]["income"], "4000.00");
    assert_eq!(y[0]["gains"], "1000.00");
    assert_eq!(y[0]["losses"], "5000.00");
    assert_eq!(y[0]["gain"], "-4000.00");
    assert_eq!(y[0]["disposals"], 2);
}

#[test]
fn a_gift_to_a_spouse_makes_no_gain_or_loss() {
    let y = years(
        "
        2022-05-01T12:00:00Z,buy,a,1,30000,,,
        2022-07-01T12:00:00Z,gift_spouse,a,0.5,,,,
    ",
    );
    assert_eq!(y[0]["gain"], "0.00");
    assert_eq!(y[0]["allowable_costs"], "15000.00");
}

#[test]
fn a_partly_matched_buy_back_leaves_the_rest_at_its_own_cost_in_the_pool() {
    // Pool: 1 BTC at 10,000. Sell 0.5 for 8,000 on 1 June; buy 1 BTC for
    // 12,000 on 10 June. The sale is matched with half of that buy: cost
    // 6,000, gain 2,000. The other half joins the pool at 6,000: the pool is
    // 1.5 BTC at 16,000.
    let out = compute(
        &rows(
            "GBP",
            "
            2021-01-01T12:00:00Z,buy,a,1,10000,,,
            2021-06-01T12:00:00Z,sell,a,0.5,8000,,,
            2021-06-10T12:00:00Z,buy,a,1,12000,,,
        ",
        ),
        &settings(),
    );
    assert_eq!(out.disposals[0].gain(), d("2000"));
    assert_eq!((out.pool_sats.0, out.pool_cost), (150_000_000, d("16000")));
}

//! Australia: income years from 1 July to 30 June (`2020-21`), Australian
//! (Sydney) dates, first in first out, and the 50% CGT discount for coins held
//! at least 12 months — counted excluding the days of acquisition and
//! disposal, which is the same "sold after the anniversary" test as the US
//! rule. Capital losses are applied first to gains that get no discount (the
//! order most favourable to the taxpayer, which the ATO allows), then net
//! capital losses carried in from earlier years, in the same order; only
//! then does the discount halve what remains of the discountable gains.
//! Built on the US lot machinery.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::lots::Method;
use super::{FeePolicy, us};
use crate::ledger::money;

pub fn settings(transfer_fee: FeePolicy, currency: String) -> us::Settings {
    us::Settings {
        method: Method::Fifo,
        basis: us::BasisMode::Universal,
        transfer_fee,
        currency,
        zone: TimeZone::get("Australia/Sydney").unwrap_or(TimeZone::UTC),
    }
}

/// The income year of a date: `2020-21` runs 1 July 2020 to 30 June 2021.
pub fn income_year(date: jiff::civil::Date) -> String {
    let start = if date.month() >= 7 {
        date.year()
    } else {
        date.year() - 1
    };
    format!("{start}-{:02}", (start + 1) % 100)
}

#[derive(Default)]
struct Year {
    disposals: usize,
    proceeds: Decimal,
    cost: Decimal,
    short_gains: Decimal,
    long_gains: Decimal,
    losses: Decimal,
    income: Decimal,
}

pub fn years(outcome: &us::Outcome, settings: &us::Settings) -> Vec<Value> {
    let currency = settings.currency.as_str();
    let year_of = |t: jiff::Timestamp| income_year(t.to_zoned(settings.zone.clone()).date());
    let mut years: BTreeMap<String, Year> = BTreeMap::new();
    for d in &outcome.disposals {
        let y = years.entry(year_of(d.time)).or_default();
        y.disposals += 1;
        y.proceeds += d.proceeds.unwrap_or_default();
        for part in &d.parts {
            let basis = part.lot.basis.unwrap_or_default();
            y.cost += basis;
            let gain = part.proceeds.unwrap_or_default() - basis;
            match (gain.is_sign_negative(), part.long_term) {
                (true, _) => y.losses -= gain,
                (false, true) => y.long_gains += gain,
                (false, false) => y.short_gains += gain,
            }
        }
    }
    for i in &outcome.incomes {
        years.entry(year_of(i.time)).or_default().income += i.value.unwrap_or_default();
    }
    // Net capital losses of earlier years, applied after the year's own
    // losses and before the discount (ATO method statement, steps 1 to 3).
    let mut brought = Decimal::ZERO;
    years
        .into_iter()
        .map(|(year, y)| {
            let against_short = y.losses.min(y.short_gains);
            let against_long = (y.losses - against_short).min(y.long_gains);
            let new_loss = y.losses - against_short - against_long;
            let (short, long) = (y.short_gains - against_short, y.long_gains - against_long);
            let prior_short = brought.min(short);
            let prior_long = (brought - prior_short).min(long);
            let prior_applied = prior_short + prior_long;
            let net = (short - prior_short) + (long - prior_long) / Decimal::from(2);
            let brought_in = brought;
            brought = brought - prior_applied + new_loss;
            json!({
                "year": year,
                "disposals": y.disposals,
                "proceeds": money(y.proceeds, currency),
                "cost_basis": money(y.cost, currency),
                "gain": money(y.short_gains + y.long_gains - y.losses, currency),
                "short_term_gain": money(y.short_gains, currency),
                "long_term_gain": money(y.long_gains, currency),
                "income": money(y.income, currency),
                "capital_losses": money(y.losses, currency),
                "prior_losses_brought_forward": money(brought_in, currency),
                "prior_losses_applied": money(prior_applied, currency),
                "discounted_gain": money(net, currency),
                "losses_carried_forward": money(brought, currency),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::tax::tests::rows;

    fn figures(body: &str) -> Vec<Value> {
        let r = rows("AUD", body);
        let s = settings(FeePolicy::Disposal, "AUD".into());
        let out = us::compute(&r, &s);
        assert!(out.issues.is_empty(), "{:?}", out.issues);
        years(&out, &s)
    }

    #[test]
    fn income_years_start_on_1_july() {
        assert_eq!(income_year(date(2021, 6, 30)), "2020-21");
        assert_eq!(income_year(date(2021, 7, 1)), "2021-22");
        assert_eq!(income_year(date(1999, 7, 1)), "1999-00");
    }

    #[test]
    fn losses_go_against_undiscounted_gains_first_then_the_discount_halves_the_rest() {
        // Lot A: 1 BTC for 10,000 (2020-01-10), held over a year, sold for
        // 30,000 on 2021-03-01: discountable gain 20,000.
        // Lot B: 1 BTC for 40,000 (2020-09-01), sold within a year for
        // 34,000 on 2021-03-02: loss 6,000.
        // Lot C: 1 BTC for 30,000 (2021-01-01), sold for 34,000 on
        // 2021-03-03: undiscounted gain 4,000.
        // The loss takes the 4,000 first, then 2,000 of the 20,000; the
        // remaining 18,000 is halved: net capital gain 9,000.
        let y = figures(
            "
            2020-01-10T00:00:00Z,buy,a,1,10000,,,
            2020-09-01T00:00:00Z,buy,a,1,40000,,,
            2021-01-01T00:00:00Z,buy,a,1,30000,,,
            2021-03-01T00:00:00Z,sell,a,1,30000,,,
            2021-03-02T00:00:00Z,sell,a,1,34000,,,
            2021-03-03T00:00:00Z,sell,a,1,34000,,,
        ",
        );
        assert_eq!(y[0]["year"], "2020-21");
        assert_eq!(y[0]["long_term_gain"], "20000.00");
        assert_eq!(y[0]["short_term_gain"], "4000.00");
        assert_eq!(y[0]["capital_losses"], "6000.00");
        assert_eq!(y[0]["gain"], "18000.00");
        assert_eq!(y[0]["discounted_gain"], "9000.00");
        assert_eq!(y[0]["losses_carried_forward"], "0.00");
    }

    #[test]
    fn a_larger_loss_is_carried_forward() {
        let y = figures(
            "
            2020-08-01T00:00:00Z,buy,a,1,50000,,,
            2020-09-01T00:00:00Z,sell,a,1,40000,,,
        ",
        );
        assert_eq!(y[0]["discounted_gain"], "0.00");
        assert_eq!(y[0]["losses_carried_forward"], "10000.00");
    }

    #[test]
    fn losses_carried_forward_reduce_later_gains_before_the_discount() {
        // 2020-21: 1 BTC for 50,000 sold within the year for 40,000: net
        // capital loss 10,000 carried forward.
        // 2021-22: no rows at all; the 10,000 waits.
        // 2022-23: lot A, bought 2021-08-01 for 10,000 and sold 2022-09-01
        // (after the anniversary) for 22,000: discountable gain 12,000;
        // lot B, bought 2022-08-01 for 20,000 and sold 2022-10-01 for
        // 23,000: undiscounted gain 3,000; lot C bought 2022-08-02 for
        // 21,000 and sold 2022-10-02 for 20,000: loss 1,000.
        // Step 1: the year's 1,000 loss goes against B: 2,000 left.
        // Step 2: the 10,000 brought forward takes B's 2,000, then 8,000 of
        // A's 12,000: 4,000 left. Step 3: the discount halves it: 2,000.
        // Nothing is carried further.
        let y = figures(
            "
            2020-08-01T00:00:00Z,buy,a,1,50000,,,
            2020-09-01T00:00:00Z,sell,a,1,40000,,,
            2021-08-01T00:00:00Z,buy,a,1,10000,,,
            2022-08-01T00:00:00Z,buy,a,1,20000,,,
            2022-08-02T00:00:00Z,buy,a,1,21000,,,
            2022-09-01T00:00:00Z,sell,a,1,22000,,,
            2022-10-01T00:00:00Z,sell,a,1,23000,,,
            2022-10-02T00:00:00Z,sell,a,1,20000,,,
        ",
        );
        assert_eq!(y[0]["losses_carried_forward"], "10000.00");
        assert_eq!(y[1]["year"], "2022-23");
        assert_eq!(y[1]["long_term_gain"], "12000.00");
        assert_eq!(y[1]["short_term_gain"], "3000.00");
        assert_eq!(y[1]["capital_losses"], "1000.00");
        assert_eq!(y[1]["prior_losses_brought_forward"], "10000.00");
        assert_eq!(y[1]["prior_losses_applied"], "10000.00");
        assert_eq!(y[1]["discounted_gain"], "2000.00");
        assert_eq!(y[1]["losses_carried_forward"], "0.00");
    }

    #[test]
    fn what_later_gains_do_not_absorb_keeps_going_forward() {
        // 2020-21: loss 10,000. 2021-22: 1 BTC for 30,000 sold within the
        // year for 34,000: gain 4,000, all absorbed by the 10,000 brought
        // forward: net capital gain 0, 6,000 carried on.
        let y = figures(
            "
            2020-08-01T00:00:00Z,buy,a,1,50000,,,
            2020-09-01T00:00:00Z,sell,a,1,40000,,,
            2021-08-01T00:00:00Z,buy,a,1,30000,,,
            2021-09-01T00:00:00Z,sell,a,1,34000,,,
        ",
        );
        assert_eq!(y[1]["prior_losses_brought_forward"], "10000.00");
        assert_eq!(y[1]["prior_losses_applied"], "4000.00");
        assert_eq!(y[1]["discounted_gain"], "0.00");
        assert_eq!(y[1]["losses_carried_forward"], "6000.00");
    }
}

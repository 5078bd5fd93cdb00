//! Germany: private sales of bitcoin (§ 23 EStG). Coins are used first in,
//! first out; a disposal of coins held for more than one year is tax-free;
//! the gains of a year from coins held a year or less are taxable only when
//! they reach the Freigrenze (600 euros until 2023, 1,000 euros from 2024),
//! and then in full. Dates are German local dates. Built on the US lot
//! machinery: the holding-period test is the same "more than one year".

use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::lots::Method;
use super::{FeePolicy, us};
use crate::ledger::money;

/// The Freigrenze for private sales in a calendar year, in euros.
pub fn freigrenze(year: i16) -> Decimal {
    if year >= 2024 {
        Decimal::from(1_000)
    } else {
        Decimal::from(600)
    }
}

pub fn settings(transfer_fee: FeePolicy, currency: String) -> us::Settings {
    us::Settings {
        method: Method::Fifo,
        basis: us::BasisMode::Universal,
        transfer_fee,
        currency,
        zone: TimeZone::get("Europe/Berlin").unwrap_or(TimeZone::UTC),
    }
}

/// The yearly figures: US-style totals plus `taxable_gain` and
/// `freigrenze_applies`.
pub fn years(outcome: &us::Outcome, settings: &us::Settings) -> Vec<Value> {
    let currency = settings.currency.as_str();
    let mut years = super::summary::us_years(outcome, &settings.zone, currency);
    for year in &mut years {
        let number: i16 = year["year"]
            .as_str()
            .and_then(|y| y.parse().ok())
            .unwrap_or(0);
        let short: Decimal = year["short_term_gain"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_default();
        let applies = short < freigrenze(number);
        year["taxable_gain"] = json!(money(if applies { Decimal::ZERO } else { short }, currency));
        year["freigrenze_applies"] = json!(applies);
    }
    years
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tax::tests::rows;

    fn figures(body: &str) -> Vec<Value> {
        let r = rows("EUR", body);
        let s = settings(FeePolicy::Disposal, "EUR".into());
        let out = us::compute(&r, &s);
        assert!(out.issues.is_empty(), "{:?}", out.issues);
        years(&out, &s)
    }

    #[test]
    fn gains_after_more_than_a_year_are_tax_free() {
        // Bought 1 BTC for 10,000 on 1 March 2021; half sold on 1 March 2022
        // (exactly a year: taxable) for 20,000, half on 2 March 2022 (more
        // than a year: free) for 20,000. Taxable 15,000, above the Freigrenze.
        let y = figures(
            "
            2021-03-01T10:00:00Z,buy,a,1,10000,,,
            2022-03-01T10:00:00Z,sell,a,0.5,20000,,,
            2022-03-02T10:00:00Z,sell,a,0.5,20000,,,
        ",
        );
        assert_eq!(y[0]["short_term_gain"], "15000.00");
        assert_eq!(y[0]["long_term_gain"], "15000.00");
        assert_eq!(y[0]["taxable_gain"], "15000.00");
        assert_eq!(y[0]["freigrenze_applies"], false);
    }

    #[test]
    fn gains_under_the_freigrenze_are_not_taxed_and_at_it_fully() {
        // 2023: 599 of short-term gain, under 600: nothing taxable.
        // 2024: exactly 1,000: the Freigrenze no longer applies; all of it is taxable.
        let y = figures(
            "
            2023-01-01T10:00:00Z,buy,a,1,1000,,,
            2023-06-01T10:00:00Z,sell,a,1,1599,,,
            2024-01-01T10:00:00Z,buy,a,1,1000,,,
            2024-06-01T10:00:00Z,sell,a,1,2000,,,
        ",
        );
        assert_eq!(
            (
                y[0]["year"].clone(),
                y[0]["taxable_gain"].clone(),
                y[0]["freigrenze_applies"].clone()
            ),
            (json!("2023"), json!("0.00"), json!(true))
        );
        assert_eq!(
            (
                y[1]["year"].clone(),
                y[1]["taxable_gain"].clone(),
                y[1]["freigrenze_applies"].clone()
            ),
            (json!("2024"), json!("1000.00"), json!(false))
        );
    }

    #[test]
    fn the_year_is_judged_on_german_dates() {
        // 23:30 UTC on 31 December 2023 is already 2024 in Berlin.
        let y = figures(
            "
            2023-01-01T10:00:00Z,buy,a,1,1000,,,
            2023-12-31T23:30:00Z,sell,a,1,5000,,,
        ",
        );
        assert_eq!(y[0]["year"], "2024");
    }
}

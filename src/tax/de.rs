//! Germany: private sales of bitcoin (§ 23 EStG). Coins are used first in,
//! first out; a disposal of coins held for more than one year is tax-free;
//! the gains of a year from coins held a year or less are taxable only when
//! they reach the Freigrenze (600 euros until 2023, 1,000 euros from 2024),
//! and then in full. A year's uncovered loss goes back one year, then
//! forward without end, against gains of private sales only. Other income
//! (staking, lending, hobby mining: § 22 Nr. 3 EStG) has its own 256-euro
//! Freigrenze. Dates are German local dates. Built on the US lot
//! machinery: the holding-period test is the same "more than one year",
//! and FIFO is applied per wallet unless universal basis is chosen.

use std::collections::BTreeMap;

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

/// FIFO per wallet is the default (BMF letter of 10 May 2022, Rz. 61 f.,
/// kept by the letter of 6 March 2025: "walletbezogene Betrachtung");
/// transfers between one's own wallets carry their lots and acquisition
/// dates. Universal FIFO across all wallets is the taxpayer's explicit choice.
pub fn settings(transfer_fee: FeePolicy, currency: String, basis: us::BasisMode) -> us::Settings {
    us::Settings {
        method: Method::Fifo,
        basis,
        transfer_fee,
        currency,
        zone: TimeZone::get("Europe/Berlin").unwrap_or(TimeZone::UTC),
    }
}

/// Whether a year's uncovered loss from private sales is first carried back
/// into the previous year (the statutory default) or only forward (the
/// taxpayer's application under § 10d Abs. 1 Satz 5 EStG).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarryBack {
    Statutory,
    Waived,
}

/// The most carried back into one year. § 10d Abs. 1 EStG allows 1 million
/// euros for a single assessment, temporarily more in some years; the lowest
/// figure is used so a carry-back shown here is always allowed, and what
/// cannot go back goes forward, never lost.
pub const CARRY_BACK_LIMIT: i64 = 1_000_000;

/// Carried-forward losses offset up to this much of a year's gain in full,
/// and only a share of the rest (§ 10d Abs. 2 EStG, the minimum taxation).
pub const CARRY_FORWARD_BASE: i64 = 1_000_000;

/// The share of a gain above [`CARRY_FORWARD_BASE`] that carried-forward
/// losses may offset: 70% for 2024 to 2027 (Wachstumschancengesetz), 60%
/// otherwise.
pub fn carry_forward_share(year: i16) -> Decimal {
    if (2024..=2027).contains(&year) {
        Decimal::new(7, 1)
    } else {
        Decimal::new(6, 1)
    }
}

/// The Freigrenze for other income (§ 22 Nr. 3 EStG): such income of less
/// than 256 euros in a calendar year is tax-free; from 256 euros all of it is
/// taxable.
pub const OTHER_INCOME_FREIGRENZE: i64 = 256;

/// One calendar year of private sales after losses have moved between years.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LossYear {
    pub year: i16,
    /// The year's net result from coins held a year or less (same-year
    /// losses already offset).
    pub net: Decimal,
    pub freigrenze_applies: bool,
    /// The year's loss that same-year gains did not cover.
    pub loss: Decimal,
    /// The part of `loss` deducted from the previous year's gain.
    pub loss_carried_back: Decimal,
    /// The following year's loss deducted from this year's gain.
    pub loss_from_following_year: Decimal,
    /// Losses of earlier years deducted from this year's gain.
    pub loss_used: Decimal,
    /// Losses still to carry into later years at the end of this year.
    pub loss_carried_forward: Decimal,
    pub taxable_gain: Decimal,
}

/// Moves uncovered losses between years (§ 23 Abs. 3 Sätze 7 to 9 EStG with
/// § 10d). The Freigrenze is judged on the year's own net gain, before any
/// loss from another year: a gain under it is tax-free and absorbs no
/// carried loss; a gain at or above it is reduced by carried losses and what
/// remains is taxable even when it is then under the Freigrenze (BFH,
/// 11 January 2005, IX R 27/04). Years are taken in order, so a year's own
/// carried-forward losses are deducted before a later year's loss is
/// carried back into what remains.
pub fn losses(nets: &BTreeMap<i16, Decimal>, carry_back: CarryBack) -> Vec<LossYear> {
    let mut out: Vec<LossYear> = Vec::with_capacity(nets.len());
    let mut carried = Decimal::ZERO;
    for (&year, &net) in nets {
        let mut y = LossYear {
            year,
            net,
            freigrenze_applies: net < freigrenze(year),
            ..LossYear::default()
        };
        if net.is_sign_negative() {
            y.loss = -net;
            let mut left = y.loss;
            if carry_back == CarryBack::Statutory
                && let Some(prev) = out.last_mut().filter(|p| p.year + 1 == year)
            {
                let back = left
                    .min(prev.taxable_gain)
                    .min(Decimal::from(CARRY_BACK_LIMIT));
                prev.taxable_gain -= back;
                prev.loss_from_following_year += back;
                y.loss_carried_back = back;
                left -= back;
            }
            carried += left;
        } else if !y.freigrenze_applies {
            let base = Decimal::from(CARRY_FORWARD_BASE);
            let cap = if net <= base {
                net
            } else {
                base + (net - base) * carry_forward_share(year)
            };
            y.loss_used = carried.min(cap);
            carried -= y.loss_used;
            y.taxable_gain = net - y.loss_used;
        }
        y.loss_carried_forward = carried;
        out.push(y);
    }
    out
}

#[derive(Default)]
struct Year {
    short: Decimal,
    income: Decimal,
}

/// The yearly figures with the statutory carry-back; see [`years_with`].
pub fn years(outcome: &us::Outcome, settings: &us::Settings) -> Vec<Value> {
    years_with(outcome, settings, CarryBack::Statutory)
}

/// The yearly figures: US-style totals, plus `taxable_gain` (private sales,
/// after the one-year exemption, the Freigrenze and losses from other
/// years), `freigrenze_applies`, the loss movements of [`LossYear`], and the
/// other income of § 22 Nr. 3 EStG with its own Freigrenze.
pub fn years_with(
    outcome: &us::Outcome,
    settings: &us::Settings,
    carry_back: CarryBack,
) -> Vec<Value> {
    let currency = settings.currency.as_str();
    let year_of = |t: jiff::Timestamp| t.to_zoned(settings.zone.clone()).year();
    // Exact per-year figures: the Freigrenze tests must not see rounded totals.
    let mut exact: BTreeMap<i16, Year> = BTreeMap::new();
    for d in &outcome.disposals {
        let y = exact.entry(year_of(d.time)).or_default();
        for part in d.parts.iter().filter(|p| !p.long_term) {
            y.short += part.proceeds.unwrap_or_default() - part.lot.basis.unwrap_or_default();
        }
    }
    for i in &outcome.incomes {
        exact.entry(year_of(i.time)).or_default().income += i.value.unwrap_or_default();
    }
    let nets: BTreeMap<i16, Decimal> = exact.iter().map(|(y, v)| (*y, v.short)).collect();
    let moved = losses(&nets, carry_back);
    let mut years = super::summary::us_years(outcome, &settings.zone, currency);
    for year in &mut years {
        let number: Option<i16> = year["year"].as_str().and_then(|y| y.parse().ok());
        let Some(l) = moved.iter().find(|l| Some(l.year) == number) else {
            continue;
        };
        let income = exact.get(&l.year).map(|y| y.income).unwrap_or_default();
        let income_free = income < Decimal::from(OTHER_INCOME_FREIGRENZE);
        let m = |v: Decimal| json!(money(v, currency));
        year["taxable_gain"] = m(l.taxable_gain);
        year["freigrenze_applies"] = json!(l.freigrenze_applies);
        year["loss"] = m(l.loss);
        year["loss_carried_back"] = m(l.loss_carried_back);
        year["loss_from_following_year"] = m(l.loss_from_following_year);
        year["loss_used"] = m(l.loss_used);
        year["loss_carried_forward"] = m(l.loss_carried_forward);
        year["other_income"] = m(income);
        year["other_income_freigrenze_applies"] = json!(income_free);
        year["other_income_taxable"] = m(if income_free { Decimal::ZERO } else { income });
    }
    years
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tax::tests::rows;

    fn figures(body: &str) -> Vec<Value> {
        let r = rows("EUR", body);
        let s = settings(FeePolicy::Disposal, "EUR".into(), us::BasisMode::PerWallet);
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

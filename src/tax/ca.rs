//! Canada: the adjusted cost base (ACB) is the average cost of all the
//! bitcoin held; a disposal's cost is its share of the ACB. A loss is a
//! superficial loss, and denied, when bitcoin was acquired in the 30 days
//! before or after the sale and is still held at the end of the 30th day
//! after it; the denied part is the loss times the smallest of the amount
//! sold, the amount so acquired and the amount then held, over the amount
//! sold, and it is added to the ACB of the bitcoin still held. Calendar
//! years on Toronto dates. Sources: Income Tax Act s. 54 ("superficial
//! loss", "adjusted cost base"), s. 53(1)(f); CRA guide T4037.

use std::collections::BTreeMap;

use jiff::ToSpan;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{FeePolicy, Issue};
use crate::ledger::{Kind, Sats, Tx, money};

#[derive(Debug, Clone)]
pub struct Settings {
    pub transfer_fee: FeePolicy,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disposal {
    pub row: usize,
    pub date: Date,
    pub sats: Sats,
    pub proceeds: Decimal,
    pub acb: Decimal,
    pub denied_loss: Decimal,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub disposals: Vec<Disposal>,
    pub incomes: Vec<(Date, Decimal)>,
    pub issues: Vec<Issue>,
    pub held: Sats,
    pub acb: Decimal,
}

enum Event {
    In { sats: Sats, cost: Decimal },
    Out { sats: Sats, proceeds: Decimal },
}

pub fn compute(rows: &[Tx], s: &Settings) -> Outcome {
    let toronto = TimeZone::get("America/Toronto").unwrap_or(TimeZone::UTC);
    let mut out = Outcome::default();
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|a, b| rows[*a].order_key().cmp(&rows[*b].order_key()));
    let mut events: Vec<(usize, Date, Event)> = Vec::new();
    for i in order {
        let tx = &rows[i];
        let date = tx.time.to_zoned(toronto.clone()).date();
        if tx.currency.as_deref().is_some_and(|c| c != s.currency) {
            out.issues.push(Issue {
                row: i,
                message: format!(
                    "valued in {}, not {}",
                    tx.currency.as_deref().unwrap_or(""),
                    s.currency
                ),
            });
            continue;
        }
        let value = tx.fiat_value.unwrap_or_default();
        match tx.kind {
            Kind::Buy | Kind::Income | Kind::GiftIn | Kind::Deposit => {
                if tx.kind == Kind::Income {
                    out.incomes.push((date, value));
                }
                if tx.fiat_value.is_none() {
                    out.issues.push(Issue {
                        row: i,
                        message: format!("{} has no fiat value (missing price)", tx.kind),
                    });
                }
                events.push((
                    i,
                    date,
                    Event::In {
                        sats: tx.btc,
                        cost: value + tx.fee_fiat,
                    },
                ));
            }
            Kind::Sell | Kind::Spend | Kind::GiftOut | Kind::Withdrawal | Kind::GiftSpouse => {
                if tx.fiat_value.is_none()
                    && matches!(tx.kind, Kind::Sell | Kind::Spend | Kind::GiftOut)
                {
                    out.issues.push(Issue {
                        row: i,
                        message: format!("{} has no fiat value (missing price)", tx.kind),
                    });
                }
                events.push((
                    i,
                    date,
                    Event::Out {
                        sats: tx.btc + tx.fee_btc,
                        proceeds: value - tx.fee_fiat,
                    },
                ));
            }
            Kind::Transfer | Kind::Fee
                if !tx.fee_btc.is_zero() && s.transfer_fee == FeePolicy::Disposal =>
            {
                let fee_value = tx
                    .fiat_value
                    .map(|v| super::split(v, tx.fee_btc.0, tx.btc.0))
                    .unwrap_or_default();
                events.push((
                    i,
                    date,
                    Event::Out {
                        sats: tx.fee_btc,
                        proceeds: fee_value,
                    },
                ));
            }
            Kind::Transfer | Kind::Fee => {}
        }
    }
    // What is acquired on each day, and what is held at the end of each day,
    // for the superficial-loss test.
    let mut acquired: BTreeMap<Date, Sats> = BTreeMap::new();
    let mut held_after: BTreeMap<Date, Sats> = BTreeMap::new();
    let mut running = Sats::ZERO;
    for (_, date, event) in &events {
        match event {
            Event::In { sats, .. } => {
                *acquired.entry(*date).or_default() =
                    acquired.get(date).copied().unwrap_or_default() + *sats;
                running = running + *sats;
            }
            Event::Out { sats, .. } => running = running - *sats,
        }
        held_after.insert(*date, running);
    }
    let held_at_end_of = |day: Date| {
        held_after
            .range(..=day)
            .next_back()
            .map(|(_, s)| *s)
            .unwrap_or_default()
    };

    let (mut held, mut acb) = (Sats::ZERO, Decimal::ZERO);
    for (row, date, event) in events {
        match event {
            Event::In { sats, cost } => {
                held = held + sats;
                acb += cost;
            }
            Event::Out { sats, proceeds } => {
                let taken = sats.min(held);
                if taken < sats {
                    out.issues.push(Issue {
                        row,
                        message: format!(
                            "{} BTC more than was held: its cost is unknown",
                            sats - taken
                        ),
                    });
                }
                let cost = super::split(acb, taken.0, held.0);
                held = held - taken;
                acb -= cost;
                let loss = cost - proceeds;
                let mut denied = Decimal::ZERO;
                if loss > Decimal::ZERO {
                    let (from, to) = (date.checked_sub(30.days()), date.checked_add(30.days()));
                    if let (Ok(from), Ok(to)) = (from, to) {
                        let bought: Sats = acquired.range(from..=to).map(|(_, s)| *s).sum();
                        let still = held_at_end_of(to);
                        let basis = sats.min(bought).min(still);
                        if basis.0 > 0 {
                            denied = super::split(loss, basis.0, sats.0);
                            // The denied loss is added to the cost of what is held.
                            acb += denied;
                        }
                    }
                }
                out.disposals.push(Disposal {
                    row,
                    date,
                    sats,
                    proceeds,
                    acb: cost,
                    denied_loss: denied,
                });
            }
        }
    }
    out.held = held;
    out.acb = acb;
    out
}

/// Yearly figures; half of the net gain is taxable (the inclusion rate).
/// A year's net loss, halved, is a net capital loss (an allowable capital
/// loss that no taxable capital gain of the year absorbed); it is carried
/// forward without end and deducted from the taxable capital gains of later
/// years, as much as they allow, oldest first (Income Tax Act s. 111(1)(b),
/// line 25300 of the return). The optional carry-back of up to three years
/// is not applied.
pub fn years(outcome: &Outcome, currency: &str) -> Vec<Value> {
    #[derive(Default)]
    struct Year {
        disposals: usize,
        proceeds: Decimal,
        cost: Decimal,
        denied: Decimal,
        income: Decimal,
    }
    let mut years: BTreeMap<i16, Year> = BTreeMap::new();
    for d in &outcome.disposals {
        let y = years.entry(d.date.year()).or_default();
        y.disposals += 1;
        y.proceeds += d.proceeds;
        y.cost += d.acb;
        y.denied += d.denied_loss;
    }
    for (date, value) in &outcome.incomes {
        years.entry(date.year()).or_default().income += *value;
    }
    let mut carried = Decimal::ZERO;
    years
        .into_iter()
        .map(|(year, y)| {
            let gain = y.proceeds - y.cost + y.denied;
            let taxable = gain / Decimal::from(2);
            let (new_loss, applied) = if taxable.is_sign_negative() {
                (-taxable, Decimal::ZERO)
            } else {
                (Decimal::ZERO, carried.min(taxable))
            };
            carried = carried - applied + new_loss;
            json!({
                "year": year.to_string(),
                "disposals": y.disposals,
                "proceeds": money(y.proceeds, currency),
                "cost_basis": money(y.cost, currency),
                "gain": money(gain, currency),
                "short_term_gain": Value::Null,
                "long_term_gain": Value::Null,
                "income": money(y.income, currency),
                "taxable_capital_gain": money(taxable, currency),
                "denied_superficial_losses": money(y.denied, currency),
                "net_capital_loss": money(new_loss, currency),
                "loss_applied": money(applied, currency),
                "taxable_capital_gain_after_losses": money((taxable - applied).max(Decimal::ZERO), currency),
                "net_capital_loss_carried_forward": money(carried, currency),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tax::tests::rows;

    fn run(body: &str) -> (Outcome, Vec<Value>) {
        let out = compute(
            &rows("CAD", body),
            &Settings {
                transfer_fee: FeePolicy::Disposal,
                currency: "CAD".into(),
            },
        );
        assert!(out.issues.is_empty(), "{:?}", out.issues);
        let y = years(&out, "CAD");
        (out, y)
    }

    #[test]
    fn the_cost_of_a_sale_is_its_share_of_the_average_cost() {
        // 1 BTC for 10,000 and 1 for 20,000: ACB 30,000 for 2. Selling 0.5
        // for 9,000 costs 7,500: gain 1,500; half is taxable.
        let (out, y) = run("
            2021-01-01T17:00:00Z,buy,a,1,10000,,,
            2021-02-01T17:00:00Z,buy,a,1,20000,,,
            2021-06-01T17:00:00Z,sell,a,0.5,9000,,,
        ");
        assert_eq!(y[0]["gain"], "1500.00");
        assert_eq!(y[0]["taxable_capital_gain"], "750.00");
        assert_eq!(out.acb, crate::tax::tests::d("22500"));
    }

    #[test]
    fn a_loss_with_a_buy_back_within_30_days_is_superficial_and_moves_into_the_cost() {
        // 1 BTC for 50,000; sold for 40,000 on 1 June (loss 10,000); 1 BTC
        // bought back for 41,000 on 15 June and still held on 1 July: the
        // whole loss is denied and added to the ACB, now 51,000.
        let (out, y) = run("
            2022-01-01T17:00:00Z,buy,a,1,50000,,,
            2022-06-01T17:00:00Z,sell,a,1,40000,,,
            2022-06-15T17:00:00Z,buy,a,1,41000,,,
        ");
        assert_eq!(y[0]["denied_superficial_losses"], "10000.00");
        assert_eq!(y[0]["gain"], "0.00");
        assert_eq!(out.acb, crate::tax::tests::d("51000"));
    }

    #[test]
    fn a_loss_is_allowed_when_nothing_is_held_30_days_later() {
        // The buy-back is sold again before the 30th day: not superficial.
        let (_, y) = run("
            2022-01-01T17:00:00Z,buy,a,1,50000,,,
            2022-06-01T17:00:00Z,sell,a,1,40000,,,
            2022-06-15T17:00:00Z,buy,a,1,41000,,,
            2022-06-20T17:00:00Z,sell,a,1,41000,,,
        ");
        assert_eq!(y[0]["denied_superficial_losses"], "0.00");
        assert_eq!(y[0]["gain"], "-10000.00");
    }

    #[test]
    fn a_net_capital_loss_is_carried_forward_against_later_taxable_gains() {
        // 2021: 1 BTC for 50,000 sold for 40,000 (nothing bought back): loss
        // 10,000, allowable capital loss 5,000, no gains to absorb it: net
        // capital loss 5,000 carried forward.
        // 2022: 1 BTC for 20,000 sold for 26,000: gain 6,000, taxable capital
        // gain 3,000; 3,000 of the 5,000 applied, nothing left taxable, 2,000
        // still carried. 2023: only income of 100; the 2,000 waits.
        // 2024: 0.999 BTC for 9,900 joins the 0.001 of income (ACB 100): 1 BTC
        // of ACB 10,000 sold for 20,000: taxable 5,000, the last
        // 2,000 applied, 3,000 left taxable.
        let (_, y) = run("
            2021-01-05T17:00:00Z,buy,a,1,50000,,,
            2021-03-01T17:00:00Z,sell,a,1,40000,,,
            2022-01-05T17:00:00Z,buy,a,1,20000,,,
            2022-03-01T17:00:00Z,sell,a,1,26000,,,
            2023-06-01T17:00:00Z,income,a,0.001,100,,,
            2024-01-05T17:00:00Z,buy,a,0.999,9900,,,
            2024-03-01T17:00:00Z,sell,a,1,20000,,,
        ");
        let row = |i: usize| {
            (
                y[i]["taxable_capital_gain"].clone(),
                y[i]["net_capital_loss"].clone(),
                y[i]["loss_applied"].clone(),
                y[i]["taxable_capital_gain_after_losses"].clone(),
                y[i]["net_capital_loss_carried_forward"].clone(),
            )
        };
        let v = |a: &str, b: &str, c: &str, d: &str, e: &str| {
            (json!(a), json!(b), json!(c), json!(d), json!(e))
        };
        assert_eq!(row(0), v("-5000.00", "5000.00", "0.00", "0.00", "5000.00"));
        assert_eq!(row(1), v("3000.00", "0.00", "3000.00", "0.00", "2000.00"));
        assert_eq!(y[2]["year"], "2023");
        assert_eq!(row(2), v("0.00", "0.00", "0.00", "0.00", "2000.00"));
        assert_eq!(row(3), v("5000.00", "0.00", "2000.00", "3000.00", "0.00"));
    }
}

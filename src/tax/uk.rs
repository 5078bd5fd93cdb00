//! United Kingdom: HMRC's share-matching rules for cryptoassets, on UK
//! local dates. Acquisitions and disposals on one day are each treated as a
//! single transaction; a day's disposal is matched first with that day's
//! acquisitions, then with acquisitions in the following 30 days (oldest
//! first), then with the Section 104 pool at its average cost. Rules and
//! sources are in docs/tax-rules.md.

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Included};

use jiff::ToSpan;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;

use super::{FeePolicy, Issue};
use crate::ledger::{Kind, Sats, Tx};

#[derive(Debug, Clone)]
pub struct Settings {
    pub transfer_fee: FeePolicy,
    pub currency: String,
}

/// Which rule matched part of a disposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    SameDay,
    BedAndBreakfast,
    Section104,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub rule: Rule,
    pub sats: Sats,
    pub cost: Decimal,
    /// The acquisition day, for same-day and 30-day matches.
    pub acquired_on: Option<Date>,
}

/// All disposals of one day, treated as a single disposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disposal {
    pub date: Date,
    pub rows: Vec<usize>,
    pub sats: Sats,
    /// Gross proceeds (HMRC practice); selling fees are in `allowable_costs`.
    pub proceeds: Decimal,
    pub allowable_costs: Decimal,
    pub matches: Vec<Match>,
}

impl Disposal {
    pub fn gain(&self) -> Decimal {
        self.proceeds - self.allowable_costs
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Income {
    pub row: usize,
    pub date: Date,
    pub value: Option<Decimal>,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub disposals: Vec<Disposal>,
    pub incomes: Vec<Income>,
    pub issues: Vec<Issue>,
    /// The Section 104 pool at the end: holding and its cost.
    pub pool_sats: Sats,
    pub pool_cost: Decimal,
}

#[derive(Debug, Default)]
struct Day {
    acq_sats: Sats,
    acq_cost: Decimal,
    acq_left: Sats,
    /// Cost of this day's acquisitions used by same-day and 30-day matches.
    acq_used_cost: Decimal,
    /// Network fees whose cost stays in the pool (add-to-basis).
    fees_keeping_cost: Sats,
    disposals: Vec<Out>,
}

impl Day {
    /// Uses `m` satoshis of the day's acquisitions; the last use takes the
    /// exact remainder of the cost.
    fn take(&mut self, m: Sats) -> Decimal {
        let cost = if m == self.acq_left {
            self.acq_cost - self.acq_used_cost
        } else {
            share(self.acq_cost, m, self.acq_sats)
        };
        self.acq_left = self.acq_left - m;
        self.acq_used_cost += cost;
        cost
    }
}

#[derive(Debug)]
struct Out {
    row: usize,
    sats: Sats,
    proceeds: Decimal,
    fees: Decimal,
    /// A gift to a spouse: proceeds are set to its cost (no gain, no loss).
    no_gain_no_loss: bool,
}

/// The UK tax year a date falls in: `2024/25` runs 6 April 2024 to 5 April 2025.
pub fn tax_year(date: Date) -> String {
    let start = if (date.month(), date.day()) >= (4, 6) {
        date.year()
    } else {
        date.year() - 1
    };
    format!("{start}/{:02}", (start + 1) % 100)
}

/// The annual exempt amount for a tax year, in pounds.
pub fn annual_exempt_amount(year: &str) -> Option<Decimal> {
    let amount = match year {
        "2010/11" => 10_100,
        "2011/12" | "2012/13" => 10_600,
        "2013/14" => 10_900,
        "2014/15" => 11_000,
        "2015/16" | "2016/17" => 11_100,
        "2017/18" => 11_300,
        "2018/19" => 11_700,
        "2019/20" | "2020/21" | "2021/22" | "2022/23" => 12_300,
        "2023/24" => 6_000,
        y if y >= "2024/25" && y.len() == 7 => 3_000,
        _ => return None,
    };
    Some(Decimal::from(amount))
}

pub fn compute(rows: &[Tx], s: &Settings) -> Outcome {
    let london = TimeZone::get("Europe/London").unwrap_or(TimeZone::UTC);
    let mut out = Outcome::default();
    let mut days: BTreeMap<Date, Day> = BTreeMap::new();
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|a, b| rows[*a].order_key().cmp(&rows[*b].order_key()));
    for i in order {
        let tx = &rows[i];
        let date = tx.time.to_zoned(london.clone()).date();
        let value = valued(&mut out, i, tx, &s.currency);
        let day = days.entry(date).or_default();
        let mut dispose = |sats: Sats, proceeds: Decimal, fees: Decimal, no_gain_no_loss: bool| {
            day.disposals.push(Out {
                row: i,
                sats,
                proceeds,
                fees,
                no_gain_no_loss,
            });
        };
        match tx.kind {
            Kind::Buy | Kind::Income | Kind::GiftIn | Kind::Deposit => {
                if tx.kind == Kind::Income {
                    out.incomes.push(Income {
                        row: i,
                        date,
                        value,
                    });
                }
                if tx.kind == Kind::Deposit {
                    out.issues.push(Issue {
                        row: i,
                        message: "an unexplained deposit: classify it to give it a cost".into(),
                    });
                }
                day.acq_sats = day.acq_sats + tx.btc;
                day.acq_left = day.acq_left + tx.btc;
                day.acq_cost += value.unwrap_or_default() + tx.fee_fiat;
            }
            Kind::Sell | Kind::Spend | Kind::GiftOut => {
                dispose(
                    tx.btc + tx.fee_btc,
                    value.unwrap_or_default(),
                    tx.fee_fiat,
                    false,
                );
            }
            Kind::GiftSpouse => dispose(tx.btc + tx.fee_btc, Decimal::ZERO, Decimal::ZERO, true),
            Kind::Withdrawal => {
                out.issues.push(Issue {
                    row: i,
                    message: "an unexplained withdrawal: classify it".into(),
                });
                dispose(tx.btc + tx.fee_btc, Decimal::ZERO, Decimal::ZERO, true);
            }
            Kind::Transfer | Kind::Fee if !tx.fee_btc.is_zero() => {
                let fee_value = tx.price_per_sat().map(|p| p * Decimal::from(tx.fee_btc.0));
                match s.transfer_fee {
                    FeePolicy::Disposal => {
                        if fee_value.is_none() {
                            out.issues.push(Issue {
                                row: i,
                                message: "the network fee has no fiat value (missing price)".into(),
                            });
                        }
                        dispose(
                            tx.fee_btc,
                            fee_value.unwrap_or_default(),
                            Decimal::ZERO,
                            false,
                        );
                    }
                    // The fee's cost stays with the remaining coins: the
                    // pool loses the satoshis but keeps their cost.
                    FeePolicy::AddToBasis => {
                        day.fees_keeping_cost = day.fees_keeping_cost + tx.fee_btc
                    }
                    FeePolicy::NonTaxable => {
                        dispose(tx.fee_btc, Decimal::ZERO, Decimal::ZERO, true)
                    }
                }
            }
            Kind::Transfer | Kind::Fee => {}
        }
    }
    match_days(&mut days, &mut out);
    out
}

fn valued(out: &mut Outcome, row: usize, tx: &Tx, currency: &str) -> Option<Decimal> {
    if tx.currency.as_deref().is_some_and(|c| c != currency) {
        out.issues.push(Issue {
            row,
            message: format!(
                "valued in {}, not {currency}",
                tx.currency.as_deref().unwrap_or("")
            ),
        });
        return None;
    }
    let needs = !matches!(
        tx.kind,
        Kind::Transfer | Kind::Fee | Kind::Deposit | Kind::Withdrawal | Kind::GiftSpouse
    );
    if needs && tx.fiat_value.is_none() {
        out.issues.push(Issue {
            row,
            message: format!("{} has no fiat value (missing price)", tx.kind),
        });
    }
    tx.fiat_value
}

/// The cost of `part` satoshis of an acquisition of `whole` for `cost`.
fn share(cost: Decimal, part: Sats, whole: Sats) -> Decimal {
    super::split(cost, part.0, whole.0)
}

fn match_days(days: &mut BTreeMap<Date, Day>, out: &mut Outcome) {
    let dates: Vec<Date> = days.keys().copied().collect();
    let mut matches: BTreeMap<Date, Vec<Match>> = BTreeMap::new();
    let mut left: BTreeMap<Date, Sats> = BTreeMap::new();

    // 1. Same day.
    for date in &dates {
        let day = days.get_mut(date).expect("day");
        let wanted: Sats = day.disposals.iter().map(|d| d.sats).sum();
        let m = wanted.min(day.acq_left);
        if m.0 > 0 {
            let cost = day.take(m);
            matches.entry(*date).or_default().push(Match {
                rule: super::uk::Rule::SameDay,
                sats: m,
                cost,
                acquired_on: Some(*date),
            });
        }
        left.insert(*date, wanted - m);
    }
    // 2. The following 30 days, oldest acquisition first.
    for date in &dates {
        let mut wanted = left[date];
        if wanted.0 == 0 {
            continue;
        }
        let Ok(last) = date.checked_add(30.days()) else {
            continue;
        };
        let later: Vec<Date> = days
            .range((Excluded(*date), Included(last)))
            .map(|(d, _)| *d)
            .collect();
        for acq_date in later {
            let acq = days.get_mut(&acq_date).expect("day");
            let m = wanted.min(acq.acq_left);
            if m.0 == 0 {
                continue;
            }
            let cost = acq.take(m);
            wanted = wanted - m;
            matches.entry(*date).or_default().push(Match {
                rule: Rule::BedAndBreakfast,
                sats: m,
                cost,
                acquired_on: Some(acq_date),
            });
        }
        left.insert(*date, wanted);
    }
    // 3. The Section 104 pool, in date order.
    let (mut pool_sats, mut pool_cost) = (Sats::ZERO, Decimal::ZERO);
    for date in &dates {
        let day = days.get_mut(date).expect("day");
        if day.acq_left.0 > 0 {
            // What same-day and 30-day matches did not use, by subtraction.
            pool_cost += day.acq_cost - day.acq_used_cost;
            pool_sats = pool_sats + day.acq_left;
        }
        pool_sats = pool_sats - day.fees_keeping_cost.min(pool_sats);
        let wanted = left[date];
        if wanted.0 > 0 {
            let m = wanted.min(pool_sats);
            let cost = share(pool_cost, m, pool_sats);
            pool_sats = pool_sats - m;
            pool_cost -= cost;
            if m.0 > 0 {
                matches.entry(*date).or_default().push(Match {
                    rule: Rule::Section104,
                    sats: m,
                    cost,
                    acquired_on: None,
                });
            }
            if m < wanted {
                let row = day.disposals.first().map(|d| d.row).unwrap_or(0);
                out.issues.push(Issue {
                    row,
                    message: format!("{} BTC more than was held: its cost is unknown", wanted - m),
                });
            }
        }
        if !day.disposals.is_empty() {
            out.disposals
                .push(settle(*date, day, matches.remove(date).unwrap_or_default()));
        }
    }
    out.pool_sats = pool_sats;
    out.pool_cost = pool_cost;
}

/// Totals a day's disposal; gifts to a spouse take their share of the cost
/// as proceeds, so they make no gain or loss.
fn settle(date: Date, day: &Day, matches: Vec<Match>) -> Disposal {
    let sats: Sats = day.disposals.iter().map(|d| d.sats).sum();
    let cost: Decimal = matches.iter().map(|m| m.cost).sum();
    let mut proceeds = Decimal::ZERO;
    for d in &day.disposals {
        proceeds += if d.no_gain_no_loss {
            share(cost, d.sats, sats)
        } else {
            d.proceeds
        };
    }
    let fees: Decimal = day.disposals.iter().map(|d| d.fees).sum();
    Disposal {
        date,
        rows: day.disposals.iter().map(|d| d.row).collect(),
        sats,
        proceeds,
        allowable_costs: cost + fees,
        matches,
    }
}

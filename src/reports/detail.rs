//! Detailed reports: one line per disposal (Form 8949 rows, or HMRC's
//! computation by matching rule), per income receipt, and holdings on a date.
//! Each line's money is rounded to the minor unit on its own; the yearly
//! summary rounds exact totals once, so the two may differ by cents.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::ledger::{Kind, Sats, Tx, money};
use crate::tax::lots::Lot;
use crate::tax::{uk, us};

fn us_date(t: &jiff::Timestamp, zone: &TimeZone) -> String {
    t.to_zoned(zone.clone()).strftime("%m/%d/%Y").to_string()
}

/// The Form 8949 box for bitcoin sold without a broker's statement: C or F
/// (not reported on Form 1099-B) until 2024; from tax year 2025 the form has
/// boxes for digital assets, and I or L are those not reported on Form
/// 1099-DA.
pub fn form_8949_box(sold_year: i16, long_term: bool) -> &'static str {
    match (sold_year >= 2025, long_term) {
        (false, false) => "C",
        (false, true) => "F",
        (true, false) => "I",
        (true, true) => "L",
    }
}

/// Form 8949 lines: one per lot piece, since each piece has its own
/// acquisition date and term. Dates are in the engine's time zone.
pub fn us_capital_gains(
    outcome: &us::Outcome,
    currency: &str,
    zone: &TimeZone,
    year: Option<&str>,
) -> Vec<Value> {
    let mut lines = Vec::new();
    for d in &outcome.disposals {
        let sold = d.time.to_zoned(zone.clone()).year();
        let sold_year = sold.to_string();
        if year.is_some_and(|y| y != sold_year) {
            continue;
        }
        for part in &d.parts {
            let basis = part.lot.basis.unwrap_or_default();
            let proceeds = part.proceeds.unwrap_or_default();
            lines.push(json!({
                "description": format!("{} BTC", part.lot.sats),
                "date_acquired": us_date(&part.lot.acquired, zone),
                "date_sold": us_date(&d.time, zone),
                "proceeds": money(proceeds, currency),
                "cost_basis": money(basis, currency),
                "gain": money(proceeds - basis, currency),
                "term": if part.long_term { "long" } else { "short" },
                "form_8949_part": if part.long_term { "II" } else { "I" },
                "box": form_8949_box(sold, part.long_term),
                "account": d.account,
                "type": d.kind.as_str(),
                "basis_known": part.lot.basis.is_some(),
            }));
        }
    }
    lines
}

/// HMRC computation lines: one per disposal day, with what each matching
/// rule contributed.
pub fn uk_capital_gains(outcome: &uk::Outcome, currency: &str, year: Option<&str>) -> Vec<Value> {
    outcome
        .disposals
        .iter()
        .filter(|d| year.is_none_or(|y| uk::tax_year(d.date).starts_with(&format!("{y}/"))))
        .map(|d| {
            let by_rule = |rule: uk::Rule| {
                let (sats, cost) = d
                    .matches
                    .iter()
                    .filter(|m| m.rule == rule)
                    .fold((0i64, Decimal::ZERO), |(s, c), m| {
                        (s + m.sats.0, c + m.cost)
                    });
                (Sats(sats).to_string(), money(cost, currency))
            };
            let (same_btc, same_cost) = by_rule(uk::Rule::SameDay);
            let (bnb_btc, bnb_cost) = by_rule(uk::Rule::BedAndBreakfast);
            let (pool_btc, pool_cost) = by_rule(uk::Rule::Section104);
            json!({
                "date": d.date.to_string(),
                "tax_year": uk::tax_year(d.date),
                "btc": d.sats.to_string(),
                "proceeds": money(d.proceeds, currency),
                "allowable_costs": money(d.allowable_costs, currency),
                "gain": money(d.gain(), currency),
                "same_day_btc": same_btc,
                "same_day_cost": same_cost,
                "thirty_day_btc": bnb_btc,
                "thirty_day_cost": bnb_cost,
                "pool_btc": pool_btc,
                "pool_cost": pool_cost,
            })
        })
        .collect()
}

/// Income receipts, labelled with the jurisdiction's year.
pub fn income(
    rows: &[Tx],
    jurisdiction: &str,
    currency: &str,
    zone: &TimeZone,
    year: Option<&str>,
) -> Vec<Value> {
    let london = TimeZone::get("Europe/London").unwrap_or(TimeZone::UTC);
    let mut lines: Vec<(jiff::Timestamp, Value)> = rows
        .iter()
        .filter(|r| r.kind == Kind::Income)
        .filter_map(|r| {
            let (label, date) = if jurisdiction == "uk" {
                let date = r.time.to_zoned(london.clone()).date();
                (uk::tax_year(date), date)
            } else {
                let date = r.time.to_zoned(zone.clone()).date();
                let label = if jurisdiction == "au" {
                    crate::tax::au::income_year(date)
                } else {
                    date.year().to_string()
                };
                (label, date)
            };
            let matches = |y: &str| {
                label == y
                    || label.starts_with(&format!("{y}/"))
                    || label.starts_with(&format!("{y}-"))
            };
            if year.is_some_and(|y| !matches(y)) {
                return None;
            }
            // A value in another currency is not the report's to convert:
            // the line names that currency, and the report raises an issue.
            let own = r.currency.as_deref().filter(|c| *c != currency);
            let line = json!({
                "date": date.to_string(),
                "year": label,
                "account": r.account,
                "btc": r.btc.to_string(),
                "value": r.fiat_value.map(|v| money(v, own.unwrap_or(currency))),
                "currency": own.unwrap_or(currency),
                "note": r.note,
            });
            Some((r.time, line))
        })
        .collect();
    lines.sort_by_key(|(t, _)| *t);
    lines.into_iter().map(|(_, l)| l).collect()
}

/// US lots held at the end of `date` (UTC).
/// Lots held at the end of `date` (in the engine's time zone), with the
/// user's picks and allocation as the report uses them.
pub fn us_holdings(
    rows: &[Tx],
    settings: &us::Settings,
    picks: &us::Picks,
    allocation: &us::Allocation,
    date: Date,
) -> Vec<Value> {
    let end = date
        .tomorrow()
        .ok()
        .and_then(|d| d.to_zoned(settings.zone.clone()).ok())
        .map(|z| z.timestamp());
    // Rows up to the date, and where each kept row now sits.
    let mut moved = vec![None; rows.len()];
    let mut upto: Vec<Tx> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if end.is_none_or(|e| r.time < e) {
            moved[i] = Some(upto.len());
            upto.push(r.clone());
        }
    }
    let picks: us::Picks = picks
        .iter()
        .filter_map(|(d, lots)| {
            let lots = lots
                .iter()
                .filter_map(|(l, s)| moved[*l].map(|l| (l, *s)))
                .collect();
            moved[*d].map(|d| (d, lots))
        })
        .collect();
    let allocation: Vec<(String, usize, Sats)> = allocation
        .iter()
        .filter_map(|(w, l, s)| moved[*l].map(|l| (w.clone(), l, *s)))
        .collect();
    let outcome = us::compute_with(&upto, settings, &picks, &allocation);
    let mut lots: Vec<&Lot> = outcome.pool.lots().collect();
    lots.sort_by(|a, b| (&a.account, a.acquired, a.row).cmp(&(&b.account, b.acquired, b.row)));
    lots.iter()
        .map(|l| {
            json!({
                "account": &*l.account,
                "acquired": l.acquired.to_string(),
                "btc": l.sats.to_string(),
                "cost_basis": l.basis.map(|b| money(b, &settings.currency)),
            })
        })
        .collect()
}

/// The UK Section 104 pool at the end of `date` (UK local).
pub fn uk_holdings(rows: &[Tx], settings: &uk::Settings, date: Date) -> Vec<Value> {
    let london = TimeZone::get("Europe/London").unwrap_or(TimeZone::UTC);
    let upto: Vec<Tx> = rows
        .iter()
        .filter(|r| r.time.to_zoned(london.clone()).date() <= date)
        .cloned()
        .collect();
    let outcome = uk::compute(&upto, settings);
    vec![json!({
        "pool": "section 104",
        "btc": outcome.pool_sats.to_string(),
        "cost": money(outcome.pool_cost, &settings.currency),
    })]
}

/// Canadian disposals: proceeds, their share of the ACB, and any denied
/// superficial loss.
pub fn ca_capital_gains(
    outcome: &crate::tax::ca::Outcome,
    currency: &str,
    year: Option<&str>,
) -> Vec<Value> {
    outcome
        .disposals
        .iter()
        .filter(|d| year.is_none_or(|y| d.date.year().to_string() == y))
        .map(|d| {
            json!({
                "date": d.date.to_string(),
                "btc": d.sats.to_string(),
                "proceeds": money(d.proceeds, currency),
                "adjusted_cost_base": money(d.acb, currency),
                "gain": money(d.proceeds - d.acb + d.denied_loss, currency),
                "denied_superficial_loss": money(d.denied_loss, currency),
            })
        })
        .collect()
}

/// What is held at the end of `date` (Toronto) and its adjusted cost base.
pub fn ca_holdings(rows: &[Tx], settings: &crate::tax::ca::Settings, date: Date) -> Vec<Value> {
    let toronto = TimeZone::get("America/Toronto").unwrap_or(TimeZone::UTC);
    let upto: Vec<Tx> = rows
        .iter()
        .filter(|r| r.time.to_zoned(toronto.clone()).date() <= date)
        .cloned()
        .collect();
    let outcome = crate::tax::ca::compute(&upto, settings);
    vec![json!({
        "btc": outcome.held.to_string(),
        "adjusted_cost_base": money(outcome.acb, &settings.currency),
    })]
}

/// Lines as CSV, with the columns of the first line in their order; text
/// cells neutralised, numbers kept (crate::csv_out).
pub fn to_csv(lines: &[Value], columns: &[&str]) -> String {
    use crate::csv_out::{Cell, CsvOut};
    let write = || -> Result<String, String> {
        let mut out = CsvOut::new(columns)?;
        for line in lines {
            let cells: Vec<String> = columns.iter().map(|c| Cell::from_json(&line[*c])).collect();
            out.rendered(&cells)?;
        }
        out.finish()
    };
    write().unwrap_or_default()
}

/// The capital-gains lines in the layout TurboTax imports for gains and
/// losses of digital assets (`Currency Name, Purchase Date, Cost Basis,
/// Date Sold, Proceeds`), one line per lot piece, amounts to the cent.
pub fn turbotax_csv(lines: &[Value]) -> String {
    use crate::csv_out::{Cell, CsvOut};
    let write = || -> Result<String, String> {
        let mut out = CsvOut::new(&[
            "Currency Name",
            "Purchase Date",
            "Cost Basis",
            "Date Sold",
            "Proceeds",
        ])?;
        for l in lines {
            let s = |k: &str| l[k].as_str().unwrap_or("");
            out.row(&[
                Cell::Text("BTC"),
                Cell::Text(s("date_acquired")),
                Cell::Number(s("cost_basis")),
                Cell::Text(s("date_sold")),
                Cell::Number(s("proceeds")),
            ])?;
        }
        out.finish()
    };
    write().unwrap_or_default()
}

//! The yearly summary of `ledgersys report summary` (docs/cli in
//! `cli-reports.md`): exact totals per tax year, rounded once here.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{uk, us};
use crate::ledger::{Tx, money};

/// SHA-256 of the rows (in their canonical order) and the settings: the
/// same inputs always give the same report.
///
/// Each row is encoded into one reused buffer and hashed at once: numbers as
/// fixed-width integers (a time as seconds and nanoseconds, a decimal as its
/// normalised mantissa and scale), text with its length in front, so no two
/// different rows encode alike and no field is formatted as text.
pub fn input_sha256(rows: &[Tx], settings: &str) -> String {
    let mut sorted: Vec<&Tx> = rows.iter().collect();
    sorted.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    let mut hasher = Sha256::new();
    let mut buf: Vec<u8> = Vec::with_capacity(256);
    let text = |buf: &mut Vec<u8>, t: Option<&str>| match t {
        None => buf.push(0),
        Some(t) => {
            buf.push(1);
            buf.extend_from_slice(&(t.len() as u64).to_le_bytes());
            buf.extend_from_slice(t.as_bytes());
        }
    };
    let decimal = |buf: &mut Vec<u8>, d: Option<Decimal>| match d {
        None => buf.push(0),
        Some(d) => {
            let d = d.normalize();
            buf.push(1);
            buf.extend_from_slice(&d.mantissa().to_le_bytes());
            buf.extend_from_slice(&d.scale().to_le_bytes());
        }
    };
    for tx in sorted {
        buf.clear();
        text(&mut buf, tx.id.as_deref());
        buf.extend_from_slice(&tx.time.as_second().to_le_bytes());
        buf.extend_from_slice(&tx.time.subsec_nanosecond().to_le_bytes());
        text(&mut buf, Some(tx.kind.as_str()));
        text(&mut buf, Some(&tx.account));
        buf.extend_from_slice(&tx.btc.0.to_le_bytes());
        decimal(&mut buf, tx.fiat_value);
        text(&mut buf, tx.currency.as_deref());
        buf.extend_from_slice(&tx.fee_btc.0.to_le_bytes());
        decimal(&mut buf, Some(tx.fee_fiat));
        text(&mut buf, tx.to_account.as_deref());
        text(&mut buf, tx.txid.as_deref());
        text(&mut buf, tx.note.as_deref());
        hasher.update(&buf);
    }
    hasher.update(b"\n--settings--\n");
    hasher.update(settings.as_bytes());
    hex::encode(hasher.finalize())
}

#[derive(Default)]
struct UsYear {
    disposals: usize,
    proceeds: Decimal,
    cost_basis: Decimal,
    short: Decimal,
    long: Decimal,
    income: Decimal,
}

pub fn us_years(outcome: &us::Outcome, zone: &TimeZone, currency: &str) -> Vec<Value> {
    let year_of = |t: jiff::Timestamp| t.to_zoned(zone.clone()).year();
    let mut years: BTreeMap<i16, UsYear> = BTreeMap::new();
    for d in &outcome.disposals {
        let y = years.entry(year_of(d.time)).or_default();
        y.disposals += 1;
        y.proceeds += d.proceeds.unwrap_or_default();
        for part in &d.parts {
            let basis = part.lot.basis.unwrap_or_default();
            y.cost_basis += basis;
            let gain = part.proceeds.unwrap_or_default() - basis;
            if part.long_term {
                y.long += gain
            } else {
                y.short += gain
            }
        }
    }
    for i in &outcome.incomes {
        years.entry(year_of(i.time)).or_default().income += i.value.unwrap_or_default();
    }
    years
        .into_iter()
        .map(|(year, y)| {
            json!({
                "year": year.to_string(),
                "disposals": y.disposals,
                "proceeds": money(y.proceeds, currency),
                "cost_basis": money(y.cost_basis, currency),
                "gain": money(y.short + y.long, currency),
                "short_term_gain": money(y.short, currency),
                "long_term_gain": money(y.long, currency),
                "income": money(y.income, currency),
            })
        })
        .collect()
}

#[derive(Default)]
struct UkYear {
    disposals: usize,
    proceeds: Decimal,
    cost: Decimal,
    allowable: Decimal,
    gains: Decimal,
    losses: Decimal,
    before_split: Decimal,
    after_split: Decimal,
    income: Decimal,
}

pub fn uk_years(outcome: &uk::Outcome, currency: &str) -> Vec<Value> {
    let split = Date::new(2024, 10, 30).ok();
    let mut years: BTreeMap<String, UkYear> = BTreeMap::new();
    for d in &outcome.disposals {
        let y = years.entry(uk::tax_year(d.date)).or_default();
        let gain = d.gain();
        y.disposals += 1;
        y.proceeds += d.proceeds;
        y.allowable += d.allowable_costs;
        y.cost += d.matches.iter().map(|m| m.cost).sum::<Decimal>();
        if gain > Decimal::ZERO {
            y.gains += gain
        } else {
            y.losses -= gain
        }
        if split.is_some_and(|s| d.date < s) {
            y.before_split += gain
        } else {
            y.after_split += gain
        }
    }
    for i in &outcome.incomes {
        years.entry(uk::tax_year(i.date)).or_default().income += i.value.unwrap_or_default();
    }
    years
        .into_iter()
        .map(|(year, y)| {
            let mut v = json!({
                "year": year,
                "disposals": y.disposals,
                "proceeds": money(y.proceeds, currency),
                "cost_basis": money(y.cost, currency),
                "gain": money(y.proceeds - y.allowable, currency),
                "short_term_gain": Value::Null,
                "long_term_gain": Value::Null,
                "income": money(y.income, currency),
                "allowable_costs": money(y.allowable, currency),
                "gains": money(y.gains, currency),
                "losses": money(y.losses, currency),
                "annual_exempt_amount": uk::annual_exempt_amount(&year).map(|a| money(a, currency)),
            });
            if year == "2024/25" {
                v["gain_before_2024_10_30"] = json!(money(y.before_split, currency));
                v["gain_from_2024_10_30"] = json!(money(y.after_split, currency));
            }
            v
        })
        .collect()
}

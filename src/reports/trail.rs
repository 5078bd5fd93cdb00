//! The audit trail of how each disposal was matched: which lots (named by
//! the stored rows that opened them) or which HMRC rule supplied its cost,
//! with the amounts, so every figure of a report can be followed back to
//! the rows it came from. Money is rounded to the minor unit per line.

use serde_json::{Value, json};

use super::{Engine, Options, picks};
use crate::ledger::money;
use crate::ledger::review::Book;
use crate::tax::{ca, uk, us};

pub fn trail(book: &Book, o: &Options) -> Result<Vec<Value>, String> {
    let rows = &book.rows[..];
    let origin = |i: usize| book.origin.get(i).copied();
    Ok(match Engine::from_options(o)? {
        Engine::Us {
            settings, method, ..
        } => us_trail(
            book,
            &us::compute_with(rows, &settings, &picks(book, &method), &book.allocation),
            &settings,
            &method,
        ),
        Engine::De(settings) | Engine::Au(settings) => {
            us_trail(book, &us::compute(rows, &settings), &settings, "fifo")
        }
        Engine::Uk(settings) => {
            let outcome = uk::compute(rows, &settings);
            let c = settings.currency.as_str();
            outcome
                .disposals
                .iter()
                .map(|d| {
                    json!({
                        "date": d.date.to_string(),
                        "row_ids": d.rows.iter().filter_map(|r| origin(*r)).collect::<Vec<_>>(),
                        "btc": d.sats.to_string(),
                        "proceeds": money(d.proceeds, c),
                        "allowable_costs": money(d.allowable_costs, c),
                        "gain": money(d.gain(), c),
                        "matches": d.matches.iter().map(|m| json!({
                            "rule": match m.rule {
                                uk::Rule::SameDay => "same-day",
                                uk::Rule::BedAndBreakfast => "30-day",
                                uk::Rule::Section104 => "section-104-pool",
                            },
                            "acquired_on": m.acquired_on.map(|d| d.to_string()),
                            "btc": m.sats.to_string(),
                            "cost": money(m.cost, c),
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect()
        }
        Engine::Ca(settings) => {
            let outcome = ca::compute(rows, &settings);
            let c = settings.currency.as_str();
            outcome
                .disposals
                .iter()
                .map(|d| {
                    json!({
                        "date": d.date.to_string(),
                        "row_ids": origin(d.row).into_iter().collect::<Vec<_>>(),
                        "btc": d.sats.to_string(),
                        "proceeds": money(d.proceeds, c),
                        "allowable_costs": money(d.acb, c),
                        "gain": money(d.proceeds - d.acb, c),
                        "matches": [{
                            "rule": "average-cost",
                            "acquired_on": null,
                            "btc": d.sats.to_string(),
                            "cost": money(d.acb, c),
                        }],
                    })
                })
                .collect()
        }
    })
}

fn us_trail(book: &Book, outcome: &us::Outcome, s: &us::Settings, method: &str) -> Vec<Value> {
    let c = s.currency.as_str();
    let origin = |i: usize| book.origin.get(i).copied();
    let picks = picks(book, method);
    outcome
        .disposals
        .iter()
        .map(|d| {
            let picked = picks.get(&d.row).map(Vec::as_slice).unwrap_or_default();
            let proceeds = d.proceeds.unwrap_or_default();
            let cost: rust_decimal::Decimal = d.parts.iter().filter_map(|p| p.lot.basis).sum();
            json!({
                "date": d.time.to_zoned(s.zone.clone()).date().to_string(),
                "row_ids": origin(d.row).into_iter().collect::<Vec<_>>(),
                "type": d.kind.as_str(),
                "btc": d.sats.to_string(),
                "proceeds": money(proceeds, c),
                "allowable_costs": money(cost, c),
                "gain": money(proceeds - cost, c),
                "matches": d.parts.iter().map(|p| json!({
                    "rule": if picked.iter().any(|(lot, _)| *lot == p.lot.row) { "picked" } else { method },
                    "lot_row_id": origin(p.lot.row),
                    "acquired_on": p.lot.acquired_on.to_string(),
                    "account": &*p.lot.account,
                    "btc": p.lot.sats.to_string(),
                    "cost": p.lot.basis.map(|b| money(b, c)),
                    "proceeds": p.proceeds.map(|v| money(v, c)),
                    "term": if p.long_term { "long" } else { "short" },
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

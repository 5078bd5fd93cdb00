//! Reports over a workspace's rows: load them, run the engine, shape the
//! result (`ledgersys report ...`, and later the API and UI).

use jiff::tz::TimeZone;
use serde_json::{Value, json};

use crate::ledger::Tx;
use crate::tax::summary::{input_sha256, uk_years, us_years};
use crate::tax::{FeePolicy, Issue, uk, us};

#[derive(Debug, Clone)]
pub struct Options {
    pub jurisdiction: String,
    pub method: Option<String>,
    pub basis: Option<String>,
    pub transfer_fee: Option<String>,
    pub currency: Option<String>,
    pub year: Option<String>,
}

pub struct Summary {
    pub json: Value,
    pub issues: Vec<Issue>,
}

/// The yearly summary; an error is bad usage (an unknown option).
pub fn summary(rows: &[Tx], o: &Options) -> Result<Summary, String> {
    let fee: FeePolicy = o.transfer_fee.as_deref().unwrap_or("disposal").parse()?;
    let (json, issues) = match o.jurisdiction.as_str() {
        "us" => {
            let currency = o.currency.clone().unwrap_or_else(|| "USD".into());
            let method_name = o.method.clone().unwrap_or_else(|| "fifo".into());
            if method_name == "specific" {
                return Err(
                    "specific identification needs lots picked in the UI or API; not available yet"
                        .into(),
                );
            }
            let basis_name = o.basis.clone().unwrap_or_else(|| "auto".into());
            let settings = us::Settings {
                method: method_name.parse()?,
                basis: basis_name.parse()?,
                transfer_fee: fee,
                currency: currency.clone(),
                zone: TimeZone::UTC,
            };
            let described = format!("us|{method_name}|{basis_name}|{fee:?}|{currency}");
            let outcome = us::compute(rows, &settings);
            let years = us_years(&outcome, rows, &settings.zone, &currency);
            (
                head(
                    "us",
                    &currency,
                    &method_name,
                    &basis_name,
                    rows,
                    &described,
                    years,
                ),
                outcome.issues,
            )
        }
        "uk" => {
            let currency = o.currency.clone().unwrap_or_else(|| "GBP".into());
            let settings = uk::Settings {
                transfer_fee: fee,
                currency: currency.clone(),
            };
            let described = format!("uk|{fee:?}|{currency}");
            let outcome = uk::compute(rows, &settings);
            let years = uk_years(&outcome, &currency);
            (
                head(
                    "uk",
                    &currency,
                    "share-matching",
                    "section-104",
                    rows,
                    &described,
                    years,
                ),
                outcome.issues,
            )
        }
        "de" | "ca" | "au" => {
            return Err(format!(
                "the {} engine is not available in this build yet; use us or uk",
                o.jurisdiction
            ));
        }
        other => {
            return Err(format!(
                "unknown jurisdiction {other:?}; use us, uk, de, ca or au"
            ));
        }
    };
    let mut json = json;
    if let (Some(year), Some(years)) = (&o.year, json["years"].as_array_mut()) {
        years.retain(|y| {
            y["year"]
                .as_str()
                .is_some_and(|v| v == year || v.starts_with(&format!("{year}/")))
        });
    }
    json["complete"] = json!(issues.is_empty());
    Ok(Summary { json, issues })
}

fn head(
    jurisdiction: &str,
    currency: &str,
    method: &str,
    basis: &str,
    rows: &[Tx],
    described: &str,
    years: Vec<Value>,
) -> Value {
    json!({
        "jurisdiction": jurisdiction,
        "currency": currency,
        "method": method,
        "basis": basis,
        "input_sha256": input_sha256(rows, described),
        "complete": true,
        "years": years,
    })
}

/// The summary as CSV: one line per year.
pub fn summary_csv(json: &Value) -> String {
    let columns = [
        "year",
        "disposals",
        "proceeds",
        "cost_basis",
        "gain",
        "short_term_gain",
        "long_term_gain",
        "income",
        "allowable_costs",
        "gains",
        "losses",
        "annual_exempt_amount",
    ];
    let mut out = columns.join(",");
    out.push('\n');
    for year in json["years"].as_array().into_iter().flatten() {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match &year[*c] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// The summary for a person at a terminal.
pub fn summary_text(json: &Value) -> String {
    let currency = json["currency"].as_str().unwrap_or("");
    let mut out = format!(
        "{} report in {currency} ({}, {}){}\n",
        json["jurisdiction"].as_str().unwrap_or("").to_uppercase(),
        json["method"].as_str().unwrap_or(""),
        json["basis"].as_str().unwrap_or(""),
        if json["complete"] == true {
            ""
        } else {
            " — INCOMPLETE, see the problems listed"
        },
    );
    out.push_str(&format!(
        "{:<9} {:>9} {:>16} {:>16} {:>16} {:>14}\n",
        "year", "disposals", "proceeds", "cost", "gain", "income"
    ));
    for y in json["years"].as_array().into_iter().flatten() {
        let s = |k: &str| y[k].as_str().unwrap_or("").to_string();
        out.push_str(&format!(
            "{:<9} {:>9} {:>16} {:>16} {:>16} {:>14}\n",
            s("year"),
            y["disposals"],
            s("proceeds"),
            s("cost_basis"),
            s("gain"),
            s("income")
        ));
    }
    out
}

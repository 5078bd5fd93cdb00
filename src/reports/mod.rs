//! Reports over a workspace's rows: load them, run the engine, shape the
//! result (`ledgersys report ...`, the API and the pages).

pub mod detail;
pub mod priced;

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
    pub issues: Vec<Problem>,
}

/// Something missing from a report, described by the row it concerns.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub timestamp: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub account: String,
    pub btc: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {} BTC on {}: {}",
            self.timestamp, self.kind, self.btc, self.account, self.message
        )
    }
}

fn problems(rows: &[Tx], issues: Vec<Issue>) -> Vec<Problem> {
    issues
        .into_iter()
        .map(|i| {
            let r = &rows[i.row];
            Problem {
                timestamp: r.time.to_string(),
                kind: r.kind.to_string(),
                account: r.account.clone(),
                btc: r.btc.to_string(),
                message: i.message,
            }
        })
        .collect()
}

/// The rows an engine sees: imported rows with matched withdrawals and
/// deposits turned into transfers between own accounts.
pub fn effective_rows(rows: &[Tx]) -> Vec<Tx> {
    crate::ledger::matching::apply(rows, &crate::ledger::matching::find(rows))
}

/// An engine with its settings, resolved from the options.
pub enum Engine {
    Us {
        settings: us::Settings,
        method: String,
        basis: String,
    },
    Uk(uk::Settings),
    /// Germany: the US lot machinery, FIFO, on German dates.
    De(us::Settings),
    /// Australia: the US lot machinery, FIFO, on Australian dates.
    Au(us::Settings),
    Ca(crate::tax::ca::Settings),
}

impl Engine {
    /// Resolves the options; an error is bad usage (an unknown option).
    pub fn from_options(o: &Options) -> Result<Engine, String> {
        let fee: FeePolicy = o.transfer_fee.as_deref().unwrap_or("disposal").parse()?;
        match o.jurisdiction.as_str() {
            "us" => {
                let method = o.method.clone().unwrap_or_else(|| "fifo".into());
                if method == "specific" {
                    return Err(
                        "specific identification needs lots picked in the UI or API; not available yet".into(),
                    );
                }
                let basis = o.basis.clone().unwrap_or_else(|| "auto".into());
                let settings = us::Settings {
                    method: method.parse()?,
                    basis: basis.parse()?,
                    transfer_fee: fee,
                    currency: o.currency.clone().unwrap_or_else(|| "USD".into()),
                    zone: TimeZone::UTC,
                };
                Ok(Engine::Us {
                    settings,
                    method,
                    basis,
                })
            }
            "uk" => Ok(Engine::Uk(uk::Settings {
                transfer_fee: fee,
                currency: o.currency.clone().unwrap_or_else(|| "GBP".into()),
            })),
            "de" => Ok(Engine::De(crate::tax::de::settings(
                fee,
                o.currency.clone().unwrap_or_else(|| "EUR".into()),
            ))),
            "au" => Ok(Engine::Au(crate::tax::au::settings(
                fee,
                o.currency.clone().unwrap_or_else(|| "AUD".into()),
            ))),
            "ca" => Ok(Engine::Ca(crate::tax::ca::Settings {
                transfer_fee: fee,
                currency: o.currency.clone().unwrap_or_else(|| "CAD".into()),
            })),
            other => Err(format!(
                "unknown jurisdiction {other:?}; use us, uk, de, ca or au"
            )),
        }
    }

    pub fn currency(&self) -> &str {
        match self {
            Engine::Us { settings, .. } => &settings.currency,
            Engine::Uk(settings) => &settings.currency,
            Engine::Ca(settings) => &settings.currency,
            Engine::De(settings) | Engine::Au(settings) => &settings.currency,
        }
    }
}

/// The yearly summary; an error is bad usage (an unknown option).
pub fn summary(imported: &[Tx], o: &Options) -> Result<Summary, String> {
    let effective = effective_rows(imported);
    let rows = &effective[..];
    let (json, issues) = match Engine::from_options(o)? {
        Engine::Us {
            settings,
            method,
            basis,
        } => {
            let currency = settings.currency.clone();
            let described = format!("us|{method}|{basis}|{:?}|{currency}", settings.transfer_fee);
            let outcome = us::compute(rows, &settings);
            let years = us_years(&outcome, &settings.zone, &currency);
            (
                head("us", &currency, &method, &basis, rows, &described, years),
                outcome.issues,
            )
        }
        Engine::De(settings) => {
            let currency = settings.currency.clone();
            let described = format!("de|{:?}|{currency}", settings.transfer_fee);
            let outcome = us::compute(rows, &settings);
            let years = crate::tax::de::years(&outcome, &settings);
            (
                head(
                    "de",
                    &currency,
                    "fifo",
                    "universal",
                    rows,
                    &described,
                    years,
                ),
                outcome.issues,
            )
        }
        Engine::Au(settings) => {
            let currency = settings.currency.clone();
            let described = format!("au|{:?}|{currency}", settings.transfer_fee);
            let outcome = us::compute(rows, &settings);
            let years = crate::tax::au::years(&outcome, &settings);
            (
                head(
                    "au",
                    &currency,
                    "fifo",
                    "universal",
                    rows,
                    &described,
                    years,
                ),
                outcome.issues,
            )
        }
        Engine::Ca(settings) => {
            let currency = settings.currency.clone();
            let described = format!("ca|{:?}|{currency}", settings.transfer_fee);
            let outcome = crate::tax::ca::compute(rows, &settings);
            let years = crate::tax::ca::years(&outcome, &currency);
            (
                head(
                    "ca",
                    &currency,
                    "average-cost",
                    "acb",
                    rows,
                    &described,
                    years,
                ),
                outcome.issues,
            )
        }
        Engine::Uk(settings) => {
            let currency = settings.currency.clone();
            let described = format!("uk|{:?}|{currency}", settings.transfer_fee);
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
    };
    let mut json = json;
    if let (Some(year), Some(years)) = (&o.year, json["years"].as_array_mut()) {
        years.retain(|y| {
            y["year"].as_str().is_some_and(|v| {
                v == year
                    || v.starts_with(&format!("{year}/"))
                    || v.starts_with(&format!("{year}-"))
            })
        });
    }
    json["complete"] = json!(issues.is_empty());
    Ok(Summary {
        json,
        issues: problems(rows, issues),
    })
}

/// Which detailed report.
pub enum Detail {
    CapitalGains,
    Income,
    Holdings(jiff::civil::Date),
}

/// A detailed report: its lines, their columns, and what is missing.
pub struct Lines {
    pub lines: Vec<Value>,
    pub columns: Vec<&'static str>,
    pub issues: Vec<Problem>,
}

pub fn detail(imported: &[Tx], o: &Options, which: Detail) -> Result<Lines, String> {
    let effective = effective_rows(imported);
    let rows = &effective[..];
    let engine = Engine::from_options(o)?;
    let year = o.year.as_deref();
    let us_columns = vec![
        "description",
        "date_acquired",
        "date_sold",
        "proceeds",
        "cost_basis",
        "gain",
        "term",
        "form_8949_part",
        "box",
        "account",
        "type",
        "basis_known",
    ];
    let uk_columns = vec![
        "date",
        "tax_year",
        "btc",
        "proceeds",
        "allowable_costs",
        "gain",
        "same_day_btc",
        "same_day_cost",
        "thirty_day_btc",
        "thirty_day_cost",
        "pool_btc",
        "pool_cost",
    ];
    let (lines, columns, issues) = match (which, &engine) {
        (
            Detail::CapitalGains,
            Engine::Us { settings, .. } | Engine::De(settings) | Engine::Au(settings),
        ) => {
            let outcome = us::compute(rows, settings);
            (
                detail::us_capital_gains(&outcome, &settings.currency, year),
                us_columns,
                outcome.issues,
            )
        }
        (Detail::CapitalGains, Engine::Uk(settings)) => {
            let outcome = uk::compute(rows, settings);
            (
                detail::uk_capital_gains(&outcome, &settings.currency, year),
                uk_columns,
                outcome.issues,
            )
        }
        (Detail::Income, _) => {
            let lines = detail::income(rows, &o.jurisdiction, engine.currency(), year);
            let missing = rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.kind == crate::ledger::Kind::Income && r.fiat_value.is_none())
                .map(|(row, _)| Issue {
                    row,
                    message: "income has no fiat value (missing price)".into(),
                })
                .collect();
            (
                lines,
                vec![
                    "date", "year", "account", "btc", "value", "currency", "note",
                ],
                missing,
            )
        }
        (
            Detail::Holdings(date),
            Engine::Us { settings, .. } | Engine::De(settings) | Engine::Au(settings),
        ) => (
            detail::us_holdings(rows, settings, date),
            vec!["account", "acquired", "btc", "cost_basis"],
            Vec::new(),
        ),
        (Detail::Holdings(date), Engine::Uk(settings)) => (
            detail::uk_holdings(rows, settings, date),
            vec!["pool", "btc", "cost"],
            Vec::new(),
        ),
        (Detail::CapitalGains, Engine::Ca(settings)) => {
            let outcome = crate::tax::ca::compute(rows, settings);
            (
                detail::ca_capital_gains(&outcome, &settings.currency, year),
                vec![
                    "date",
                    "btc",
                    "proceeds",
                    "adjusted_cost_base",
                    "gain",
                    "denied_superficial_loss",
                ],
                outcome.issues,
            )
        }
        (Detail::Holdings(date), Engine::Ca(settings)) => (
            detail::ca_holdings(rows, settings, date),
            vec!["btc", "adjusted_cost_base"],
            Vec::new(),
        ),
    };
    Ok(Lines {
        lines,
        columns,
        issues: problems(rows, issues),
    })
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

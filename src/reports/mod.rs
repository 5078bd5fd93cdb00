//! Reports over a workspace's rows: load them, run the engine, shape the
//! result (`ledgersys report ...`, the API and the pages).

pub mod detail;
pub mod priced;
pub mod trail;

use jiff::tz::TimeZone;
use serde_json::{Value, json};

use crate::ledger::Tx;
use crate::ledger::review::Book;
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
    /// Days are judged in this zone (IANA name); UK rules always use UK
    /// time, and without it the US uses UTC and the others their own.
    pub timezone: Option<String>,
}

pub struct Summary {
    pub json: Value,
    pub issues: Vec<Problem>,
    /// Choices the reader should know about; they leave the report complete.
    pub notes: Vec<String>,
}

/// Said whenever a German report uses universal basis, which departs from
/// the finance ministry's per-wallet reading.
pub const DE_UNIVERSAL_NOTE: &str = "universal basis: FIFO across all wallets, by your choice; the finance ministry (BMF letter of 10 May 2022, Rz. 61 f.) applies FIFO per wallet";

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

/// What a report says of an exchange account whose first sync has not
/// finished.
pub const PARTIAL_ACCOUNT: &str = "the first sync of this exchange account has not finished: part of its history is not in the books yet (sync it again to finish)";

impl Problem {
    /// A whole account is missing part of its history: no one row is at
    /// fault, so the row fields stay empty and `type` is `account`.
    pub fn partial_account(account: &str) -> Problem {
        Problem {
            timestamp: String::new(),
            kind: "account".into(),
            account: account.to_string(),
            btc: String::new(),
            message: PARTIAL_ACCOUNT.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.kind == "account" {
            return write!(f, "{}: {}", self.account, self.message);
        }
        write!(
            f,
            "{} {} {} BTC on {}: {}",
            self.timestamp, self.kind, self.btc, self.account, self.message
        )
    }
}

/// The engines' issues by row, then each account only partly synced.
fn problems(book: &Book, issues: Vec<Issue>) -> Vec<Problem> {
    let rows = &book.rows;
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
        .chain(suspected_duplicates(book))
        .chain(
            book.partial_accounts
                .iter()
                .map(|a| Problem::partial_account(a)),
        )
        .collect()
}

/// What a report says of a row that may be a second copy of another.
pub const SUSPECTED_DUPLICATE: &str = "this row may be a second copy of another row of its account (an export without ids and the exchange's API): say on the Review page whether it is";

fn suspected_duplicates(book: &Book) -> impl Iterator<Item = Problem> + '_ {
    let suspected: std::collections::HashSet<i64> = book
        .queue
        .iter()
        .filter(|item| item.reason == crate::ledger::review::Reason::Duplicate)
        .map(|item| item.row)
        .collect();
    let rows = if suspected.is_empty() {
        0
    } else {
        book.rows.len()
    };
    book.origin
        .iter()
        .zip(&book.rows)
        .take(rows)
        .filter(move |(origin, _)| suspected.contains(origin))
        .map(|(_, r)| Problem {
            timestamp: r.time.to_string(),
            kind: r.kind.to_string(),
            account: r.account.clone(),
            btc: r.btc.to_string(),
            message: SUSPECTED_DUPLICATE.into(),
        })
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
        let zone = o
            .timezone
            .as_deref()
            .map(|name| {
                TimeZone::get(name).map_err(|_| {
                    format!(
                        "unknown time zone {name:?}; use an IANA name such as Europe/Berlin or UTC"
                    )
                })
            })
            .transpose()?;
        let national = |mut settings: us::Settings| {
            if let Some(zone) = &zone {
                settings.zone = zone.clone();
            }
            settings
        };
        match o.jurisdiction.as_str() {
            "us" => {
                let method = o.method.clone().unwrap_or_else(|| "fifo".into());
                // Specific identification: picked lots first, FIFO for the
                // rest (the IRS default without adequate identification).
                let fill = if method == "specific" {
                    "fifo"
                } else {
                    &method
                };
                let basis = o.basis.clone().unwrap_or_else(|| "auto".into());
                let settings = us::Settings {
                    method: fill.parse().map_err(|_| {
                        format!("unknown method {method:?}; use fifo, lifo, hifo or specific")
                    })?,
                    basis: basis.parse()?,
                    transfer_fee: fee,
                    currency: o.currency.clone().unwrap_or_else(|| "USD".into()),
                    zone: zone.unwrap_or(TimeZone::UTC),
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
            "de" => {
                let basis = match o.basis.as_deref().unwrap_or("per-wallet") {
                    "per-wallet" => us::BasisMode::PerWallet,
                    "universal" => us::BasisMode::Universal,
                    other => {
                        return Err(format!(
                            "unknown basis {other:?} for de; use per-wallet (the default) or universal"
                        ));
                    }
                };
                Ok(Engine::De(national(crate::tax::de::settings(
                    fee,
                    o.currency.clone().unwrap_or_else(|| "EUR".into()),
                    basis,
                ))))
            }
            "au" => Ok(Engine::Au(national(crate::tax::au::settings(
                fee,
                o.currency.clone().unwrap_or_else(|| "AUD".into()),
            )))),
            "ca" => Ok(Engine::Ca(crate::tax::ca::Settings {
                transfer_fee: fee,
                currency: o.currency.clone().unwrap_or_else(|| "CAD".into()),
            })),
            other => Err(format!(
                "unknown jurisdiction {other:?}; use us, uk, de, ca or au"
            )),
        }
    }

    /// The zone the engine judges days in.
    pub fn zone(&self) -> TimeZone {
        let named = |name: &str| TimeZone::get(name).unwrap_or(TimeZone::UTC);
        match self {
            Engine::Us { settings, .. } | Engine::De(settings) | Engine::Au(settings) => {
                settings.zone.clone()
            }
            Engine::Uk(_) => named("Europe/London"),
            Engine::Ca(_) => named("America/Toronto"),
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
pub fn summary(book: &Book, o: &Options) -> Result<Summary, String> {
    let rows = &book.rows[..];
    let engine = Engine::from_options(o)?;
    let described = describe(&engine, book);
    let mut notes = Vec::new();
    let (json, issues) = match engine {
        Engine::Us {
            settings,
            method,
            basis,
        } => {
            let currency = settings.currency.clone();
            let picks = picks(book, &method);
            let outcome = us::compute_with(rows, &settings, &picks, &book.allocation);
            let years = us_years(&outcome, &settings.zone, &currency);
            (
                head("us", &currency, &method, &basis, rows, &described, years),
                outcome.issues,
            )
        }
        Engine::De(settings) => {
            let currency = settings.currency.clone();
            let outcome = us::compute(rows, &settings);
            let years = crate::tax::de::years(&outcome, &settings);
            let basis = if settings.basis == us::BasisMode::Universal {
                notes.push(DE_UNIVERSAL_NOTE.to_string());
                "universal"
            } else {
                "per-wallet"
            };
            (
                head("de", &currency, "fifo", basis, rows, &described, years),
                outcome.issues,
            )
        }
        Engine::Au(settings) => {
            let currency = settings.currency.clone();
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
    let issues = problems(book, issues);
    json["complete"] = json!(issues.is_empty());
    Ok(Summary {
        json,
        issues,
        notes,
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
    /// SHA-256 of the rows and settings, as in the summary.
    pub input_sha256: String,
}

pub fn detail(book: &Book, o: &Options, which: Detail) -> Result<Lines, String> {
    let rows = &book.rows[..];
    let engine = Engine::from_options(o)?;
    let fingerprint = input_sha256(rows, &describe(&engine, book));
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
            Engine::Us {
                settings, method, ..
            },
        ) => {
            let outcome = us::compute_with(rows, settings, &picks(book, method), &book.allocation);
            (
                detail::us_capital_gains(&outcome, &settings.currency, &settings.zone, year),
                us_columns,
                outcome.issues,
            )
        }
        (Detail::CapitalGains, Engine::De(settings) | Engine::Au(settings)) => {
            let outcome = us::compute(rows, settings);
            (
                detail::us_capital_gains(&outcome, &settings.currency, &settings.zone, year),
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
            let lines = detail::income(
                rows,
                &o.jurisdiction,
                engine.currency(),
                &engine.zone(),
                year,
            );
            let currency = engine.currency();
            let missing = rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.kind == crate::ledger::Kind::Income)
                .filter_map(|(row, r)| {
                    let message = match (&r.fiat_value, r.currency.as_deref()) {
                        (None, _) => "income has no fiat value (missing price)".into(),
                        (Some(_), Some(other)) if other != currency => format!(
                            "income is valued in {other}, not {currency}; give its {currency} value in Review"
                        ),
                        _ => return None,
                    };
                    Some(Issue { row, message })
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
            Engine::Us {
                settings, method, ..
            },
        ) => (
            detail::us_holdings(rows, settings, &picks(book, method), &book.allocation, date),
            vec!["account", "acquired", "btc", "cost_basis"],
            Vec::new(),
        ),
        (Detail::Holdings(date), Engine::De(settings) | Engine::Au(settings)) => (
            detail::us_holdings(rows, settings, &us::Picks::new(), &[], date),
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
        issues: problems(book, issues),
        input_sha256: fingerprint,
    })
}

/// The picked lots, when the method is specific identification.
fn picks(book: &Book, method: &str) -> us::Picks {
    if method == "specific" {
        book.picks.clone()
    } else {
        us::Picks::new()
    }
}

/// Everything besides the rows that the figures depend on, for the
/// report's input hash.
fn describe(engine: &Engine, book: &Book) -> String {
    match engine {
        Engine::Us {
            settings,
            method,
            basis,
        } => format!(
            "us|{method}|{basis}|{:?}|{}|{}|{}|{:?}",
            settings.transfer_fee,
            settings.currency,
            settings.zone.iana_name().unwrap_or("UTC"),
            described_picks(&picks(book, method)),
            book.allocation
        ),
        // The basis is part of a German report's inputs: it changes the lots.
        Engine::De(s) => format!(
            "de|{:?}|{}|{}|{:?}",
            s.transfer_fee,
            s.currency,
            s.zone.iana_name().unwrap_or("UTC"),
            s.basis
        ),
        Engine::Au(s) => format!(
            "{}|{:?}|{}|{}",
            "au",
            s.transfer_fee,
            s.currency,
            s.zone.iana_name().unwrap_or("UTC")
        ),
        Engine::Ca(s) => format!("ca|{:?}|{}", s.transfer_fee, s.currency),
        Engine::Uk(s) => format!("uk|{:?}|{}", s.transfer_fee, s.currency),
    }
}

/// The picks in a stable order, for the report's input hash.
fn described_picks(picks: &us::Picks) -> String {
    let mut sorted: Vec<_> = picks.iter().collect();
    sorted.sort();
    format!("{sorted:?}")
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
    let write = || -> Result<String, String> {
        let mut out = crate::csv_out::CsvOut::new(&columns)?;
        for year in json["years"].as_array().into_iter().flatten() {
            let cells: Vec<String> = columns
                .iter()
                .map(|c| crate::csv_out::Cell::from_json(&year[*c]))
                .collect();
            out.rendered(&cells)?;
        }
        out.finish()
    };
    write().unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Kind, Sats};
    use rust_decimal::Decimal;

    fn bought() -> Tx {
        Tx {
            id: Some("k-1".into()),
            time: "2024-01-01T00:00:00Z".parse().expect("time"),
            kind: Kind::Buy,
            account: "Kraken".into(),
            btc: Sats(1_000_000),
            fee_btc: Sats::ZERO,
            fiat_value: Some(Decimal::new(400, 0)),
            currency: Some("USD".into()),
            fee_fiat: Decimal::ZERO,
            to_account: None,
            txid: None,
            note: None,
        }
    }

    fn us() -> Options {
        Options {
            jurisdiction: "us".into(),
            method: None,
            basis: None,
            transfer_fee: None,
            currency: None,
            year: None,
            timezone: None,
        }
    }

    #[test]
    fn an_account_still_in_its_first_sync_makes_every_report_incomplete() {
        let mut book = crate::ledger::review::plain(&[bought()]);
        let whole = summary(&book, &us()).expect("summary");
        assert_eq!(whole.json["complete"], true);
        assert!(whole.issues.is_empty());

        book.partial_accounts = vec!["Kraken".into()];
        let partial = summary(&book, &us()).expect("summary");
        assert_eq!(partial.json["complete"], false);
        assert_eq!(partial.issues, vec![Problem::partial_account("Kraken")]);
        assert_eq!(
            partial.issues[0].to_string(),
            format!("Kraken: {PARTIAL_ACCOUNT}")
        );
        // The numbers themselves are those of the rows that are here.
        assert_eq!(partial.json["years"], whole.json["years"]);
        let gains = detail(&book, &us(), Detail::CapitalGains).expect("detail");
        assert_eq!(gains.issues, vec![Problem::partial_account("Kraken")]);
    }

    #[test]
    fn a_suspected_copy_makes_the_report_incomplete_until_decided() {
        let mut again = bought();
        again.id = Some("k-2".into());
        let mut copy = bought();
        copy.id = None;
        let stored = vec![(1, bought()), (2, again), (3, copy)];
        let book = crate::ledger::review::resolve(&stored, &[]);
        let report = summary(&book, &us()).expect("summary");
        assert_eq!(report.json["complete"], false);
        assert_eq!(report.issues.len(), 1);
        assert_eq!(report.issues[0].message, SUSPECTED_DUPLICATE);
        assert_eq!(report.issues[0].btc, "0.01000000");

        let decided = crate::ledger::review::resolve(
            &stored,
            &[crate::ledger::review::Adjustment::Duplicate { row: 3, of: 2 }],
        );
        let report = summary(&decided, &us()).expect("summary");
        assert_eq!(report.json["complete"], true);
        assert_eq!(decided.rows.len(), 2);
    }
}

//! The Transactions and Reports pages: the ledger as imported, with what
//! needs review, and the yearly summary.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::context::ui;
use super::{layout, notice, render};
use crate::http::AppState;
use crate::ledger::Tx;
use crate::reports::{self, Options};

pub(super) fn rows_table_upto(rows: &[Tx], limit: usize) -> Markup {
    html! {
        div.table-wrap {
            table {
                thead { tr { th { "Time (UTC)" } th { "Type" } th { "Account" } th.num { "BTC" } th.num { "Value" } th.num { "Fee BTC" } th { "To" } } }
                tbody {
                    @for tx in rows.iter().take(limit) {
                        tr {
                            td { (tx.time) } td { (tx.kind) } td { (tx.account) } td.num { (tx.btc) }
                            td.num { @if let Some(v) = tx.fiat_value { (v) " " (tx.currency.clone().unwrap_or_default()) } }
                            td.num { @if !tx.fee_btc.is_zero() { (tx.fee_btc) } }
                            td { (tx.to_account.clone().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
        @if rows.len() > limit { p.muted { "… and " (rows.len() - limit) " more rows." } }
    }
}

#[derive(Deserialize, Default)]
pub struct ReportForm {
    jurisdiction: Option<String>,
    method: Option<String>,
    basis: Option<String>,
    transfer_fee: Option<String>,
    year: Option<String>,
}

impl ReportForm {
    pub fn options(&self) -> Options {
        let given = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        Options {
            jurisdiction: given(&self.jurisdiction).unwrap_or_else(|| "us".into()),
            method: given(&self.method),
            basis: given(&self.basis),
            transfer_fee: given(&self.transfer_fee),
            currency: None,
            year: given(&self.year),
            timezone: None,
        }
    }
}

fn select(name: &str, label: &str, current: &str, choices: &[(&str, &str)]) -> Markup {
    html! {
        label { (label)
            select name=(name) {
                @for (value, text) in choices {
                    option value=(value) selected[*value == current] { (text) }
                }
            }
        }
    }
}

#[handler]
pub async fn reports_page(
    state: Data<&AppState>,
    req: &Request,
    Query(form): Query<ReportForm>,
) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let Some((ws, _, _)) = ui.workspace.clone() else {
        return render(layout::page(
            "Reports",
            Some("/reports"),
            &ui,
            html! { h1 { "Reports" } },
        ))
        .into_response();
    };
    let mut options = form.options();
    options.year = None;
    options.timezone = state.store.workspace_timezone(ws).await.ok().flatten();
    let book = match reports::priced::book(&state.store, ws, &options).await {
        Ok(book) => book,
        Err(err) => {
            tracing::error!(error = %err, "cannot load the book");
            return super::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The transactions could not be read.",
            )
            .into_response();
        }
    };
    let rows = &book.rows;
    let jurisdiction = options.jurisdiction.clone();
    let summary = reports::summary(&book, &options);
    let query = format!(
        "jurisdiction={}&method={}&basis={}&transfer_fee={}",
        jurisdiction,
        options.method.clone().unwrap_or_default(),
        options.basis.clone().unwrap_or_default(),
        options.transfer_fee.clone().unwrap_or_default()
    );
    let content = html! {
        h1 { "Reports" }
        p.lead { "Capital gains and income per tax year, exact to the cent." }
        form.card.report-form method="get" action="/reports" {
            (select("jurisdiction", "Jurisdiction", &jurisdiction, &[("us", "United States"), ("uk", "United Kingdom"), ("de", "Germany"), ("au", "Australia"), ("ca", "Canada")]))
            @if jurisdiction == "us" {
                (select("method", "Method", options.method.as_deref().unwrap_or("fifo"), &[("fifo", "FIFO"), ("lifo", "LIFO"), ("hifo", "HIFO"), ("specific", "specific identification")]))
                (select("basis", "Basis", options.basis.as_deref().unwrap_or("auto"), &[("auto", "universal before 2025, per wallet after"), ("universal", "universal"), ("per-wallet", "per wallet")]))
            }
            (select("transfer_fee", "Network fees on transfers", options.transfer_fee.as_deref().unwrap_or("disposal"), &[("disposal", "a disposal"), ("non-taxable", "not taxable"), ("add-to-basis", "added to basis")]))
            button type="submit" { "Show" }
        }
        @match &summary {
            Err(message) => { (notice("error", Some(message))) }
            Ok(_) if rows.is_empty() => { section.empty { h2 { "No transactions" } p { "Import a file first." } } }
            Ok(s) => {
                @if !s.issues.is_empty() {
                    section.card {
                        h2 { "Incomplete: " (s.issues.len()) " problem(s)" }
                        ul.problems { @for i in s.issues.iter().take(50) {
                            li { (i) }
                        } }
                    }
                }
                div.table-wrap {
                    table {
                        thead { tr { th { "Year" } th.num { "Disposals" } th.num { "Proceeds" } th.num { "Cost" } th.num { "Gain" } th.num { "Income" } } }
                        tbody {
                            @for y in s.json["years"].as_array().into_iter().flatten() {
                                tr {
                                    td { (y["year"].as_str().unwrap_or("")) }
                                    td.num { (y["disposals"]) }
                                    td.num { (y["proceeds"].as_str().unwrap_or("")) }
                                    td.num { (y["cost_basis"].as_str().unwrap_or("")) }
                                    td.num { (y["gain"].as_str().unwrap_or("")) }
                                    td.num { (y["income"].as_str().unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
                p.downloads {
                    a href=(format!("/reports/print?{query}")) { "Print-ready report" } " · "
                    a href=(format!("/reports/trail?{query}")) { "How each disposal was matched" } " · "
                    a href=(format!("/api/v1/workspaces/{ws}/reports/csv/capital-gains?{query}")) download { "Capital gains CSV" } " · "
                    @if jurisdiction == "us" {
                        a href=(format!("/api/v1/workspaces/{ws}/reports/csv/capital-gains?{query}&layout=turbotax")) download { "TurboTax CSV" } " · "
                    }
                    a href=(format!("/api/v1/workspaces/{ws}/reports/csv/income?{query}")) download { "Income CSV" }
                    @if let Some(end) = s.json["years"].as_array().and_then(|y| y.last()).and_then(|y| y["year"].as_str()).and_then(|label| year_end(&jurisdiction, label)) {
                        " · " a href=(format!("/api/v1/workspaces/{ws}/reports/csv/holdings?{query}&date={end}")) download { "Holdings on " (end) " (lot by lot)" }
                    }
                }
                p { a href=(format!("/api/v1/workspaces/{ws}/reports/summary.csv?{query}")) download { "Download as CSV" }
                    " · currency " (s.json["currency"].as_str().unwrap_or("")) " · inputs SHA-256 " code { (s.json["input_sha256"].as_str().unwrap_or("").get(..16).unwrap_or("")) "…" } }
            }
        }
    };
    render(layout::page("Reports", Some("/reports"), &ui, content)).into_response()
}

/// The last day of a tax year, from its label: `2024` (calendar),
/// `2023/24` (UK, to 5 April) or `2023-24` (Australia, to 30 June).
fn year_end(jurisdiction: &str, label: &str) -> Option<String> {
    let first: i32 = label.get(..4)?.parse().ok()?;
    Some(match jurisdiction {
        "uk" => format!("{}-04-05", first + 1),
        "au" => format!("{}-06-30", first + 1),
        _ => format!("{first}-12-31"),
    })
}

const LISTED_ROWS: usize = 200;

#[handler]
pub async fn transactions_page(state: Data<&AppState>, req: &Request) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let rows = match &ui.workspace {
        Some((ws, _, _)) => state.store.transactions(*ws).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let review = match &ui.workspace {
        Some((ws, _, _)) => match crate::review::load(&state.store, *ws).await {
            Ok(loaded) => {
                let missing = reports::priced::missing_prices(&state.store, *ws, &loaded.book)
                    .await
                    .map(|m| m.len())
                    .unwrap_or_default();
                loaded.book.queue.len() + missing
            }
            Err(_) => 0,
        },
        None => 0,
    };
    let mut newest: Vec<Tx> = rows.iter().rev().take(LISTED_ROWS).cloned().collect();
    newest.reverse();
    let content = html! {
        h1 { "Transactions" }
        p.lead { "Every receive, send, trade and transfer, as imported. " (rows.len()) " rows." }
        @if let Some((ws, _, _)) = &ui.workspace {
            @if !rows.is_empty() {
                p { a href=(format!("/api/v1/workspaces/{ws}/transactions.csv")) download { "Download the whole ledger as generic CSV" }
                    " — with your decisions applied (pairs as transfers, new types, manual prices), so it imports into a fresh workspace with the same reports." }
            }
        }
        @if rows.is_empty() {
            section.empty { h2 { "No transactions" } p { "Import a file on the Imports page." } }
        } @else {
            @if review > 0 {
                p.notice.warning role="status" {
                    (review) " row(s) need review (withdrawals and deposits to explain, or prices missing); until then, reports are incomplete. "
                    a href="/review" { "Review them" }
                }
            }
            @if rows.len() > LISTED_ROWS { p.muted { "The newest " (LISTED_ROWS) " rows:" } }
            (rows_table_upto(&newest, LISTED_ROWS))
        }
    };
    render(layout::page(
        "Transactions",
        Some("/transactions"),
        &ui,
        content,
    ))
    .into_response()
}

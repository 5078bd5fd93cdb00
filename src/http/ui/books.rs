//! The Transactions and Reports pages: the ledger as imported, with what
//! needs review, and the yearly summary.

use maud::{Markup, html};
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
    let rows = state.store.transactions(ws).await.unwrap_or_default();
    let jurisdiction = form.jurisdiction.clone().unwrap_or_else(|| "us".into());
    let options = Options {
        jurisdiction: jurisdiction.clone(),
        method: form.method.clone().filter(|m| !m.is_empty()),
        basis: form.basis.clone().filter(|b| !b.is_empty()),
        transfer_fee: form.transfer_fee.clone().filter(|f| !f.is_empty()),
        currency: None,
        year: None,
    };
    let summary = reports::summary(&rows, &options);
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
                (select("method", "Method", options.method.as_deref().unwrap_or("fifo"), &[("fifo", "FIFO"), ("lifo", "LIFO"), ("hifo", "HIFO")]))
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
                p { a href=(format!("/api/v1/workspaces/{ws}/reports/summary.csv?{query}")) download { "Download as CSV" }
                    " · currency " (s.json["currency"].as_str().unwrap_or("")) " · inputs SHA-256 " code { (s.json["input_sha256"].as_str().unwrap_or("").get(..16).unwrap_or("")) "…" } }
            }
        }
    };
    render(layout::page("Reports", Some("/reports"), &ui, content)).into_response()
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
    let review = crate::http::api::books::review_items(&rows);
    let mut newest: Vec<Tx> = rows.iter().rev().take(LISTED_ROWS).cloned().collect();
    newest.reverse();
    let content = html! {
        h1 { "Transactions" }
        p.lead { "Every receive, send, trade and transfer, as imported. " (rows.len()) " rows." }
        @if let Some((ws, _, _)) = &ui.workspace {
            @if !rows.is_empty() {
                p { a href=(format!("/api/v1/workspaces/{ws}/transactions.csv")) download { "Download the whole ledger as generic CSV" }
                    " — it imports back unchanged." }
            }
        }
        @if rows.is_empty() {
            section.empty { h2 { "No transactions" } p { "Import a file on the Imports page." } }
        } @else {
            @if !review.is_empty() {
                section.card {
                    h2 { "Needs review: " (review.len()) }
                    p.muted { "Withdrawals and deposits with no counterpart among your own accounts, or more than one. Until they are explained, reports are incomplete." }
                    ul.problems {
                        @for item in review.iter().take(50) {
                            li {
                                (item.row.timestamp) " " (item.row.kind) " " (item.row.btc) " BTC on " (item.row.account)
                                @if item.reason == "ambiguous" { " — " (item.candidates.len()) " deposits could match" } @else { " — no counterpart found" }
                            }
                        }
                    }
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

//! The Imports and Reports pages: upload a file, see exactly what it holds
//! (or every problem with its line), confirm, and read the yearly summary.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Form, Multipart, Query, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::context::{Ui, ui};
use super::{layout, notice, render};
use crate::auth::Role;
use crate::http::AppState;
use crate::ledger::Tx;
use crate::reports::{self, Options};
use crate::sources::generic::LineError;
use crate::sources::import::{self, ImportError, Target};
use crate::store::{UserId, WorkspaceId};

const PREVIEW_ROWS: usize = 100;
/// An uploaded file waits this long for its confirmation.
const PENDING_SECONDS: i64 = 3600;

/// Files checked and waiting for the user to confirm the import.
#[derive(Clone, Default)]
pub struct PendingImports(Arc<Mutex<HashMap<String, Pending>>>);

struct Pending {
    user: UserId,
    workspace: WorkspaceId,
    file_name: String,
    timezone: String,
    /// The format the preview read the file as, so the import reads it the
    /// same way.
    format: String,
    bytes: Vec<u8>,
    created: i64,
}

impl PendingImports {
    fn put(&self, pending: Pending) -> Option<String> {
        let token = crate::crypto::random_token().ok()?;
        let mut map = self.0.lock().ok()?;
        map.retain(|_, p| pending.created - p.created < PENDING_SECONDS);
        map.insert(token.clone(), pending);
        Some(token)
    }

    fn take(&self, token: &str, user: UserId, workspace: WorkspaceId, now: i64) -> Option<Pending> {
        let mut map = self.0.lock().ok()?;
        let ok = map.get(token).is_some_and(|p| {
            p.user == user && p.workspace == workspace && now - p.created < PENDING_SECONDS
        });
        if ok { map.remove(token) } else { None }
    }
}

fn page(ui: &Ui, content: Markup) -> Response {
    render(layout::page("Imports", Some("/imports"), ui, content)).into_response()
}

fn rows_table(rows: &[Tx]) -> Markup {
    rows_table_upto(rows, PREVIEW_ROWS)
}

fn rows_table_upto(rows: &[Tx], limit: usize) -> Markup {
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

fn upload_form(ui: &Ui, format: &str) -> Markup {
    html! {
        form.card method="post" action="/imports/preview" enctype="multipart/form-data" {
            input type="hidden" name="csrf_token" value=(ui.csrf_token);
            label { "File: an exchange or wallet export, or the generic CSV format" input type="file" name="file" accept=".csv,text/csv,text/plain" required; }
            label { "Format"
                select name="format" {
                    option value="auto" selected[format == "auto"] { "Recognise it from the header" }
                    @for f in crate::sources::format::FORMATS {
                        option value=(f.name) selected[format == f.name] { (f.label) }
                    }
                }
            }
            label { "Time zone of timestamps without an offset" input name="timezone" value="UTC"; }
            button type="submit" { "Check the file" }
        }
    }
}

#[derive(Deserialize, Default)]
pub struct Done {
    added: Option<u64>,
    present: Option<u64>,
}

#[handler]
pub async fn imports(state: Data<&AppState>, req: &Request, Query(done): Query<Done>) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let Some((ws, _, _)) = ui.workspace.clone() else {
        return page(
            &ui,
            html! { h1 { "Imports" } p { "You belong to no workspace." } },
        );
    };
    let history = state.store.recent_imports(ws, 20).await.unwrap_or_default();
    let message = match (done.added, done.present) {
        (Some(a), Some(p)) => Some(format!("Imported {a} new rows; {p} were already present.")),
        _ => None,
    };
    page(
        &ui,
        html! {
            h1 { "Imports" }
            p.lead { "Files are checked first: you see every row, or every problem with its line, before anything is stored." }
            (notice("ok", message.as_deref()))
            @if ui.can(Role::Accountant) { (upload_form(&ui, "auto")) } @else { p.muted { "Your role can read, not import." } }
            section.card {
                h2 { "Recent imports" }
                @if history.is_empty() { p.muted { "None yet." } } @else {
                    table {
                        thead { tr { th { "When (UTC)" } th { "File" } th { "Added" } th { "Already present" } th { "By" } } }
                        tbody {
                            @for i in &history {
                                tr { td { (crate::clock::rfc3339(i.imported_at)) } td { (i.file_name) } td.num { (i.rows_added) } td.num { (i.rows_present) } td { (i.actor) } }
                            }
                        }
                    }
                }
            }
        },
    )
}

fn refused(ui: &Ui, file_name: &str, errors: &[LineError]) -> Response {
    let content = html! {
        h1 { "Imports" }
        section.card {
            h2 { "The file " (file_name) " was not imported" }
            p { "Fix these lines and try again; nothing was stored." }
            ul.problems { @for e in errors { li { "Line " (e.line) ": " (e.message) } } }
        }
        (upload_form(ui, "auto"))
    };
    let mut resp = page(ui, content);
    resp.set_status(StatusCode::UNPROCESSABLE_ENTITY);
    resp
}

#[handler]
pub async fn preview(state: Data<&AppState>, req: &Request, mut form: Multipart) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let (Some((ws, _, _)), true) = (ui.workspace.clone(), ui.can(Role::Accountant)) else {
        return super::error_page(StatusCode::FORBIDDEN, "Your role does not allow importing.")
            .with_status(StatusCode::FORBIDDEN)
            .into_response();
    };
    let (mut file_name, mut bytes, mut timezone, mut format) = (
        String::from("upload.csv"),
        Vec::new(),
        String::from("UTC"),
        String::from("auto"),
    );
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("file") => {
                file_name = field.file_name().unwrap_or("upload.csv").to_string();
                bytes = field.bytes().await.unwrap_or_default();
            }
            Some("timezone") => {
                timezone = field.text().await.unwrap_or_default().trim().to_string()
            }
            Some("format") => format = field.text().await.unwrap_or_default().trim().to_string(),
            _ => {}
        }
    }
    let request = import::Request {
        file_name: &file_name,
        bytes: &bytes,
        workspace: Target::Id(ws),
        account: None,
        format: &format,
        timezone: &timezone,
        dry_run: true,
        actor: &ui.username,
        actor_id: Some(ui.user_id),
        now: crate::clock::now(),
    };
    let report = match import::import(&state.store, &request).await {
        Ok(report) => report,
        Err(ImportError::Refused(errors)) => return refused(&ui, &file_name, &errors),
        Err(err) => {
            return refused(
                &ui,
                &file_name,
                &[LineError {
                    line: 0,
                    message: err.to_string(),
                }],
            );
        }
    };
    let pending = Pending {
        user: ui.user_id,
        workspace: ws,
        file_name: file_name.clone(),
        timezone: timezone.clone(),
        format: report.format.name.to_string(),
        bytes,
        created: crate::clock::now(),
    };
    let rows = report.rows;
    let Some(token) = state.pending_imports.put(pending) else {
        return super::error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            .into_response();
    };
    page(
        &ui,
        html! {
            h1 { "Imports" }
            section.card {
                h2 { (file_name) ": " (rows.len()) " rows" }
                p { "Read as " strong { (report.format.label) }
                    @if format == "auto" { " (recognised from its header)" }
                    ". Times without an offset are read in " (timezone) "." }
                p { "Check the rows below. "
                    @if report.present > 0 { (report.present) " of them were imported before and will be left alone. " }
                    @if !report.skipped.is_empty() { (report.skipped.len()) " lines are skipped, listed below." } }
                form method="post" action="/imports/commit" {
                    input type="hidden" name="csrf_token" value=(ui.csrf_token);
                    input type="hidden" name="token" value=(token);
                    button type="submit" { "Import " (rows.len()) " rows" }
                }
            }
            (rows_table(&rows))
            @if !report.skipped.is_empty() {
                section.card {
                    h2 { "Skipped: " (report.skipped.len()) }
                    ul.problems { @for s in report.skipped.iter().take(PREVIEW_ROWS) { li { "Line " (s.line) ": " (s.reason) } } }
                }
            }
            section.card {
                h2 { "Not the right format?" }
                p.muted { "Choose the format and check the file again." }
            }
            (upload_form(&ui, report.format.name))
        },
    )
}

#[derive(Deserialize)]
pub struct Commit {
    token: String,
}

#[handler]
pub async fn commit(state: Data<&AppState>, req: &Request, Form(form): Form<Commit>) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let (Some((ws, _, _)), true) = (ui.workspace.clone(), ui.can(Role::Accountant)) else {
        return super::error_page(StatusCode::FORBIDDEN, "Your role does not allow importing.")
            .with_status(StatusCode::FORBIDDEN)
            .into_response();
    };
    let now = crate::clock::now();
    let Some(pending) = state.pending_imports.take(&form.token, ui.user_id, ws, now) else {
        return super::error_page(
            StatusCode::GONE,
            "This check has expired or was already used; upload the file again.",
        )
        .with_status(StatusCode::GONE)
        .into_response();
    };
    let request = import::Request {
        file_name: &pending.file_name,
        bytes: &pending.bytes,
        workspace: Target::Id(ws),
        account: None,
        format: &pending.format,
        timezone: &pending.timezone,
        dry_run: false,
        actor: &ui.username,
        actor_id: Some(ui.user_id),
        now,
    };
    match import::import(&state.store, &request).await {
        Ok(report) => {
            let done = report
                .imported
                .map(|i| (i.added, i.present))
                .unwrap_or_default();
            Redirect::see_other(format!("/imports?added={}&present={}", done.0, done.1))
                .into_response()
        }
        Err(ImportError::Refused(errors)) => refused(&ui, &pending.file_name, &errors),
        Err(err) => {
            tracing::error!(error = %err, "import failed");
            super::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The import failed; nothing was stored.",
            )
            .into_response()
        }
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

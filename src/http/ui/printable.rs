//! Reports for paper and for checking: a print-ready page with the yearly
//! summary, every disposal and every income receipt; and the trail of how
//! each disposal was matched, lot by lot or rule by rule.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde_json::Value;

use super::books::ReportForm;
use super::context::{Ui, ui};
use super::{layout, render};
use crate::http::AppState;
use crate::ledger::review::Book;
use crate::reports::{self, Detail, Options};

/// The book and options for the signed-in user's workspace.
async fn prepare(
    state: &AppState,
    ui: &Ui,
    form: &ReportForm,
) -> Result<(Book, Options), Response> {
    let Some((ws, _, _)) = ui.workspace.clone() else {
        return Err(
            super::error_page(StatusCode::NOT_FOUND, "Choose a workspace first.")
                .with_status(StatusCode::NOT_FOUND)
                .into_response(),
        );
    };
    let mut o = form.options();
    o.timezone = state.store.workspace_timezone(ws).await.ok().flatten();
    let book = reports::priced::book(&state.store, ws, &o)
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "cannot load the book");
            super::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The transactions could not be read.",
            )
            .into_response()
        })?;
    Ok((book, o))
}

fn table(lines: &[Value], columns: &[&str]) -> Markup {
    let numeric = |c: &str| {
        matches!(
            c,
            "btc"
                | "proceeds"
                | "cost_basis"
                | "gain"
                | "value"
                | "allowable_costs"
                | "same_day_cost"
                | "thirty_day_cost"
                | "pool_cost"
                | "same_day_btc"
                | "thirty_day_btc"
                | "pool_btc"
                | "adjusted_cost_base"
                | "cost"
        )
    };
    html! {
        table {
            thead { tr { @for c in columns { th class=[numeric(c).then_some("num")] { (c.replace('_', " ")) } } } }
            tbody { @for l in lines { tr { @for c in columns {
                td class=[numeric(c).then_some("num")] { (cell(&l[*c])) }
            } } } }
        }
    }
}

fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[handler]
pub async fn print(
    state: Data<&AppState>,
    req: &Request,
    Query(form): Query<ReportForm>,
) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let (book, o) = match prepare(&state, &ui, &form).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let summary = match reports::summary(&book, &o) {
        Ok(s) => s,
        Err(message) => {
            return super::error_page(StatusCode::BAD_REQUEST, &message)
                .with_status(StatusCode::BAD_REQUEST)
                .into_response();
        }
    };
    let gains = reports::detail(&book, &o, Detail::CapitalGains);
    let income = reports::detail(&book, &o, Detail::Income);
    let j = &summary.json;
    let title = format!(
        "{} capital gains and income{}",
        o.jurisdiction.to_uppercase(),
        o.year
            .as_deref()
            .map(|y| format!(", {y}"))
            .unwrap_or_default()
    );
    let content = html! {
        h1 { (title) }
        p.meta {
            "Workspace " (ui.workspace.as_ref().map(|w| w.1.as_str()).unwrap_or("")) " · currency " (j["currency"].as_str().unwrap_or(""))
            " · method " (j["method"].as_str().unwrap_or("")) " · basis " (j["basis"].as_str().unwrap_or(""))
            " · prepared " (crate::clock::rfc3339(crate::clock::now()))
            br; "Inputs SHA-256 " code { (j["input_sha256"].as_str().unwrap_or("")) }
        }
        @if !summary.issues.is_empty() {
            h2 { "Incomplete: " (summary.issues.len()) " problem(s)" }
            ul { @for i in &summary.issues { li { (i) } } }
        }
        h2 { "Summary" }
        table {
            thead { tr { th { "Year" } th.num { "Disposals" } th.num { "Proceeds" } th.num { "Cost" } th.num { "Gain" } th.num { "Short term" } th.num { "Long term" } th.num { "Income" } } }
            tbody { @for y in j["years"].as_array().into_iter().flatten() { tr {
                td { (cell(&y["year"])) } td.num { (cell(&y["disposals"])) } td.num { (cell(&y["proceeds"])) }
                td.num { (cell(&y["cost_basis"])) } td.num { (cell(&y["gain"])) } td.num { (cell(&y["short_term_gain"])) }
                td.num { (cell(&y["long_term_gain"])) } td.num { (cell(&y["income"])) }
            } } }
        }
        @if let Ok(g) = &gains {
            h2 { "Disposals" }
            @if g.lines.is_empty() { p { "None." } } @else { (table(&g.lines, &g.columns)) }
        }
        @if let Ok(i) = &income {
            h2 { "Income" }
            @if i.lines.is_empty() { p { "None." } } @else { (table(&i.lines, &i.columns)) }
        }
        p.meta { "Amounts are exact until this page, which rounds each line to the minor unit; yearly totals are rounded once from exact sums, so lines may differ from totals by cents." }
    };
    render(layout::printable(&title, content)).into_response()
}

#[handler]
pub async fn trail(
    state: Data<&AppState>,
    req: &Request,
    Query(form): Query<ReportForm>,
) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let (book, o) = match prepare(&state, &ui, &form).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let disposals = match reports::trail::trail(&book, &o) {
        Ok(d) => d,
        Err(message) => {
            return super::error_page(StatusCode::BAD_REQUEST, &message)
                .with_status(StatusCode::BAD_REQUEST)
                .into_response();
        }
    };
    let content = html! {
        h1 { "How each disposal was matched" }
        p.lead { "Every disposal with the lots or matching rules that supplied its cost, so each figure can be followed back to the rows it came from." }
        div.table-wrap { table.trail {
            thead { tr { th { "Date" } th { "Rows" } th.num { "BTC" } th.num { "Proceeds" } th.num { "Cost" } th.num { "Gain" } } }
            tbody {
                @for d in &disposals {
                    tr.disposal {
                        td { (cell(&d["date"])) } td { (cell(&d["row_ids"])) } td.num { (cell(&d["btc"])) }
                        td.num { (cell(&d["proceeds"])) } td.num { (cell(&d["allowable_costs"])) } td.num { (cell(&d["gain"])) }
                    }
                    @for m in d["matches"].as_array().into_iter().flatten() {
                        tr.match {
                            td { "↳ " (cell(&m["rule"])) }
                            td { @if let Some(r) = m["lot_row_id"].as_i64() { "lot of row " (r) } @else if let Some(a) = m["acquired_on"].as_str() { "acquired " (a) } }
                            td.num { (cell(&m["btc"])) } td.num { (cell(&m["proceeds"])) } td.num { (cell(&m["cost"])) }
                            td { (cell(&m["acquired_on"])) " " (cell(&m["term"])) }
                        }
                    }
                }
            }
        } }
    };
    render(layout::page("Reports", Some("/reports"), &ui, content)).into_response()
}

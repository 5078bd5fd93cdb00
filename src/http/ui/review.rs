//! The Review page: rows that need a decision, with the decisions that can
//! be made about them (pair, unpair, reclassify, pick lots), and the history
//! of decisions with undo. Every action goes through the same service as the
//! API, which checks it before it is kept.

use std::collections::HashMap;

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Form, Query, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use rust_decimal::Decimal;

use super::context::{Ui, ui};
use super::{layout, notice, render};
use crate::auth::Role;
use crate::http::AppState;
use crate::ledger::review::{Adjustment, PairedBy, Reason};
use crate::ledger::{Kind, Sats, Tx};
use crate::review::{self, Actor, Loaded};
use crate::store::{AdjustmentId, WorkspaceId};

const LISTED: usize = 50;

fn describe(tx: &Tx) -> String {
    format!("{} {} {} BTC on {}", tx.time, tx.kind, tx.btc, tx.account)
}

fn hidden(ui: &Ui, fields: &[(&str, String)]) -> Markup {
    html! {
        input type="hidden" name="csrf_token" value=(ui.csrf_token);
        @for (name, value) in fields { input type="hidden" name=(name) value=(value); }
    }
}

/// Types a row may become: bitcoin keeps moving the same way.
fn kinds_like(kind: Kind) -> Vec<Kind> {
    Kind::ALL
        .into_iter()
        .filter(|k| k.is_inflow() == kind.is_inflow() && !matches!(k, Kind::Transfer | Kind::Fee))
        .collect()
}

fn reclassify_form(ui: &Ui, id: i64, tx: &Tx) -> Markup {
    html! {
        form.inline method="post" action="/review/decide" {
            (hidden(ui, &[("action", "reclassify".into()), ("row", id.to_string())]))
            label { "Type " select name="kind" {
                @for k in kinds_like(tx.kind) { option value=(k) selected[k == tx.kind] { (k) } }
            } }
            label { "Value " input name="fiat_value" inputmode="decimal" size="10" placeholder="optional"; }
            label { "Currency " input name="currency" size="4" placeholder="USD"; }
            button type="submit" { "Reclassify" }
        }
    }
}

fn pair_form(ui: &Ui, id: i64, tx: &Tx, others: &[(i64, &Tx)]) -> Markup {
    let fits: Vec<&(i64, &Tx)> = others
        .iter()
        .filter(|(_, o)| o.kind != tx.kind && o.account != tx.account)
        .collect();
    let (mine, theirs) = if tx.kind == Kind::Withdrawal {
        ("withdrawal", "deposit")
    } else {
        ("deposit", "withdrawal")
    };
    html! {
        @if !fits.is_empty() {
            form.inline method="post" action="/review/decide" {
                (hidden(ui, &[("action", "pair".into()), (mine, id.to_string())]))
                label { "Transfer with " select name=(theirs) {
                    @for (oid, o) in fits { option value=(oid) { (describe(o)) } }
                } }
                button type="submit" { "Pair" }
            }
        }
    }
}

/// For a row that may be a second copy: say which row it copies, or that
/// it is an entry of its own.
fn copy_forms(ui: &Ui, id: i64, candidates: &[(i64, &Tx)]) -> Markup {
    html! {
        @if !candidates.is_empty() {
            form.inline method="post" action="/review/decide" {
                (hidden(ui, &[("action", "duplicate".into()), ("row", id.to_string())]))
                label { "Same entry as " select name="of" {
                    @for (cid, c) in candidates { option value=(cid) { (describe(c)) } }
                } }
                button type="submit" { "Count once" }
            }
        }
        form.inline method="post" action="/review/decide" {
            (hidden(ui, &[("action", "distinct".into()), ("row", id.to_string())]))
            button.secondary type="submit" { "Its own entry" }
        }
    }
}

fn queue_section(ui: &Ui, loaded: &Loaded) -> Markup {
    let by_id = loaded.by_id();
    let row = |id: i64| by_id.get(&id).copied();
    let queued: Vec<(i64, &Tx)> = loaded
        .book
        .queue
        .iter()
        .filter_map(|i| row(i.row).map(|t| (i.row, t)))
        .collect();
    let editable = ui.can(Role::Accountant);
    // What a row may pair with: the rows that fit it, then everything else
    // waiting in the queue.
    let counterparts = |candidates: &[i64]| -> Vec<(i64, &Tx)> {
        let mut out: Vec<(i64, &Tx)> = candidates
            .iter()
            .filter_map(|c| row(*c).map(|t| (*c, t)))
            .collect();
        out.extend(
            queued
                .iter()
                .filter(|(id, _)| !candidates.contains(id))
                .copied(),
        );
        out
    };
    html! {
        section.card #queue {
            h2 { "Needs review: " (loaded.book.queue.len()) }
            @if loaded.book.queue.is_empty() {
                p { "Nothing to review: every withdrawal and deposit is explained." }
            } @else {
                p.muted { "Withdrawals and deposits with no counterpart among your own accounts, or more than one, and rows that may be a second copy of another. Pair them as a transfer, say what they were, or say whether a copy is one. Until then, reports are incomplete." }
                ul.review {
                    @for item in loaded.book.queue.iter().take(LISTED) {
                        @if let Some(tx) = row(item.row) {
                            li.review-item data-row=(item.row) {
                                strong { (describe(tx)) }
                                " — " (match item.reason.as_str() {
                                    "ambiguous" => "more than one counterpart fits",
                                    "unpaired" => "you took its pair apart",
                                    "suspected_duplicate" => "may be a second copy of another row of this account (a file without ids and the exchange's API)",
                                    _ => "no counterpart found",
                                })
                                @if editable {
                                    @if item.reason == Reason::Duplicate {
                                        (copy_forms(ui, item.row, &item.candidates.iter().filter_map(|c| row(*c).map(|t| (*c, t))).collect::<Vec<_>>()))
                                    } @else {
                                        (pair_form(ui, item.row, tx, &counterparts(&item.candidates)))
                                        (reclassify_form(ui, item.row, tx))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn missing_section(ui: &Ui, loaded: &Loaded, missing: &[usize]) -> Markup {
    html! {
        @if !missing.is_empty() {
            section.card #missing {
                h2 { "Missing prices: " (missing.len()) }
                p.muted { "These rows need a value and the price table has none for their day. Fill the table in Settings, or give the value here." }
                ul.review {
                    @for i in missing.iter().take(LISTED) {
                        @if let (Some(tx), Some(id)) = (loaded.book.rows.get(*i), loaded.book.origin.get(*i)) {
                            li.review-item data-row=(id) {
                                strong { (describe(tx)) }
                                @if ui.can(Role::Accountant) { (reclassify_form(ui, *id, tx)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn copies_section(ui: &Ui, loaded: &Loaded) -> Markup {
    let by_id = loaded.by_id();
    let row = |id: i64| by_id.get(&id).copied();
    html! {
        @if !loaded.book.duplicates.is_empty() {
            section.card #copies {
                h2 { "Counted once: " (loaded.book.duplicates.len()) }
                p.muted { "Rows that came twice, from a file without ids and from the exchange's API: the second copy is left out of the books. Nothing is deleted." }
                ul {
                    @for (copy, of, by) in loaded.book.duplicates.iter().take(LISTED) {
                        @if let (Some(c), Some(o)) = (row(*copy), row(*of)) {
                            li.copy data-row=(copy) {
                                (describe(c)) " = " (describe(o)) " ("
                                (if *by == PairedBy::User { "you said so" } else { "same account, type, amount and time" }) ")"
                                @if ui.can(Role::Accountant) && *by != PairedBy::User {
                                    form.inline method="post" action="/review/decide" {
                                        (hidden(ui, &[("action", "distinct".into()), ("row", copy.to_string())]))
                                        button.secondary type="submit" { "Not the same" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn transfers_section(ui: &Ui, loaded: &Loaded) -> Markup {
    let by_id = loaded.by_id();
    let row = |id: i64| by_id.get(&id).copied();
    html! {
        section.card #transfers {
            h2 { "Transfers between your accounts: " (loaded.book.pairs.len()) }
            ul {
                @for (w, d, by) in loaded.book.pairs.iter().take(LISTED) {
                    @if let (Some(wt), Some(dt)) = (row(*w), row(*d)) {
                        li {
                            (describe(wt)) " → " (dt.account) " (" (dt.btc) " BTC received; "
                            (match by { PairedBy::Txid => "same txid", PairedBy::Amounts => "amounts and times agree", PairedBy::User => "paired by hand" }) ")"
                            @if ui.can(Role::Accountant) {
                                form.inline method="post" action="/review/decide" {
                                    (hidden(ui, &[("action", "unpair".into()), ("withdrawal", w.to_string()), ("deposit", d.to_string())]))
                                    button.secondary type="submit" { "Unpair" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn history_section(state: &AppState, ui: &Ui, ws: WorkspaceId) -> Markup {
    let records = state.store.adjustments(ws).await.unwrap_or_default();
    html! {
        section.card #history {
            h2 { "Decisions" }
            @if records.is_empty() { p.muted { "No decisions yet. Imported rows are never changed; decisions are a layer on top, and each can be undone." } }
            ul {
                @for r in records.iter().rev().take(LISTED) {
                    li.decision data-id=(r.id) {
                        (r.action) " " code { (r.detail) } " by " (r.actor) " at " (crate::clock::rfc3339(r.created_at))
                        @if let (Some(by), Some(at)) = (&r.undone_by, r.undone_at) {
                            " — undone by " (by) " at " (crate::clock::rfc3339(at))
                        } @else if ui.can(Role::Accountant) {
                            form.inline method="post" action="/review/undo" {
                                (hidden(ui, &[("id", r.id.to_string())]))
                                button.secondary type="submit" { "Undo" }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn disposals_section(loaded: &Loaded) -> Markup {
    let disposals: Vec<&(i64, Tx)> = loaded
        .stored
        .iter()
        .rev()
        .filter(|(_, t)| {
            matches!(
                t.kind,
                Kind::Sell | Kind::Spend | Kind::GiftOut | Kind::GiftSpouse
            )
        })
        .take(LISTED)
        .collect();
    html! {
        @if !disposals.is_empty() {
            section.card #disposals {
                h2 { "Specific identification" }
                p.muted { "Choose the lots a disposal draws on (US, method “specific”); FIFO fills the rest." }
                ul { @for (id, tx) in disposals {
                    li { (describe(tx)) " " a href=(format!("/review/lots?disposal={id}")) { "Pick lots" } }
                } }
            }
        }
    }
}

async fn review_page(state: &AppState, ui: &Ui, message: Option<(&str, &str)>) -> Response {
    let Some((ws, _, _)) = ui.workspace.clone() else {
        return render(layout::page(
            "Review",
            Some("/review"),
            ui,
            html! { h1 { "Review" } },
        ))
        .into_response();
    };
    let loaded = match review::load(&state.store, ws).await {
        Ok(loaded) => loaded,
        Err(err) => {
            tracing::error!(error = %err, "cannot load the book");
            return super::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The transactions could not be read.",
            )
            .into_response();
        }
    };
    let missing = crate::reports::priced::missing_prices(&state.store, ws, &loaded.book)
        .await
        .unwrap_or_default();
    let content = html! {
        h1 { "Review" }
        p.lead { "Explain what the imports could not: which rows are transfers between your own accounts, and what the others were." }
        @if let Some((kind, text)) = message { (notice(kind, Some(text))) }
        (queue_section(ui, &loaded))
        (missing_section(ui, &loaded, &missing))
        (copies_section(ui, &loaded))
        (transfers_section(ui, &loaded))
        (disposals_section(&loaded))
        (history_section(state, ui, ws).await)
    };
    render(layout::page("Review", Some("/review"), ui, content)).into_response()
}

#[handler]
pub async fn page(state: Data<&AppState>, req: &Request) -> Response {
    match ui(&state, req).await {
        Ok(ui) => review_page(&state, &ui, None).await,
        Err(redirect) => redirect,
    }
}

fn field(form: &HashMap<String, String>, name: &str) -> Result<i64, String> {
    form.get(name)
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("the form lacks a valid {name}"))
}

/// The decision a form describes.
fn decision(form: &HashMap<String, String>) -> Result<Adjustment, String> {
    let text = |name: &str| form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    match form.get("action").map(String::as_str) {
        Some("pair") => Ok(Adjustment::Pair {
            withdrawal: field(form, "withdrawal")?,
            deposit: field(form, "deposit")?,
        }),
        Some("unpair") => Ok(Adjustment::Unpair {
            withdrawal: field(form, "withdrawal")?,
            deposit: field(form, "deposit")?,
        }),
        Some("reclassify") => {
            let kind: Kind = text("kind").unwrap_or("").parse()?;
            let fiat_value = text("fiat_value")
                .map(|v| {
                    v.replace(',', "")
                        .parse::<Decimal>()
                        .map_err(|_| format!("the value {v:?} is not a number"))
                })
                .transpose()?;
            let currency = text("currency").map(str::to_uppercase);
            if fiat_value.is_some() && currency.is_none() {
                return Err("give the currency of the value (USD, GBP, EUR, ...)".into());
            }
            Ok(Adjustment::Reclassify {
                row: field(form, "row")?,
                kind,
                fiat_value,
                currency,
            })
        }
        Some("pick_lots") => {
            let mut picked = Vec::new();
            for name in form.keys() {
                let (Some(id), Some(v)) = (name.strip_prefix("lot_"), text(name)) else {
                    continue;
                };
                let id: i64 = id.parse().map_err(|_| format!("bad lot field {name:?}"))?;
                let sats = Sats::parse_btc(v).map_err(|e| format!("lot {id}: {e}"))?;
                if !sats.is_zero() {
                    picked.push((id, sats));
                }
            }
            picked.sort();
            Ok(Adjustment::PickLots {
                disposal: field(form, "disposal")?,
                lots: picked,
            })
        }
        Some("duplicate") => Ok(Adjustment::Duplicate {
            row: field(form, "row")?,
            of: field(form, "of")?,
        }),
        Some("distinct") => Ok(Adjustment::Distinct {
            row: field(form, "row")?,
        }),
        _ => Err("unknown action".into()),
    }
}

#[handler]
pub async fn decide(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let (Some((ws, _, _)), true) = (ui.workspace.clone(), ui.can(Role::Accountant)) else {
        return super::error_page(
            StatusCode::FORBIDDEN,
            "Your role does not allow changing the books.",
        )
        .with_status(StatusCode::FORBIDDEN)
        .into_response();
    };
    let outcome = match decision(&form) {
        Ok(d) => {
            let actor = Actor {
                name: &ui.username,
                id: Some(ui.user_id),
                now: crate::clock::now(),
            };
            review::decide(&state.store, ws, &d, &actor)
                .await
                .map_err(|e| match e {
                    review::DecideError::Store(err) => {
                        tracing::error!(error = %err, "cannot keep a decision");
                        "the decision could not be saved; nothing was changed (try again, and see the server's log if it persists)".to_string()
                    }
                    other => other.to_string(),
                })
        }
        Err(message) => Err(message),
    };
    match outcome {
        Ok(_) => Redirect::see_other("/review?done=1").into_response(),
        Err(message) => review_page(
            &state,
            &ui,
            Some(("error", &format!("Not done: {message}"))),
        )
        .await
        .with_status(StatusCode::UNPROCESSABLE_ENTITY)
        .into_response(),
    }
}

#[handler]
pub async fn undo(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let (Some((ws, _, _)), true) = (ui.workspace.clone(), ui.can(Role::Accountant)) else {
        return super::error_page(
            StatusCode::FORBIDDEN,
            "Your role does not allow changing the books.",
        )
        .with_status(StatusCode::FORBIDDEN)
        .into_response();
    };
    let actor = Actor {
        name: &ui.username,
        id: Some(ui.user_id),
        now: crate::clock::now(),
    };
    let result = match field(&form, "id") {
        Ok(id) => review::undo(&state.store, ws, AdjustmentId(id), &actor)
            .await
            .map_err(|e| e.to_string()),
        Err(message) => Err(message),
    };
    match result {
        Ok(()) => Redirect::see_other("/review?undone=1").into_response(),
        Err(message) => review_page(
            &state,
            &ui,
            Some(("error", &format!("Not undone: {message}"))),
        )
        .await
        .with_status(StatusCode::UNPROCESSABLE_ENTITY)
        .into_response(),
    }
}

#[derive(serde::Deserialize)]
pub struct LotsQuery {
    disposal: i64,
}

/// Picking lots for one disposal: every acquisition before it.
#[handler]
pub async fn pick_lots(
    state: Data<&AppState>,
    req: &Request,
    Query(q): Query<LotsQuery>,
) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let Some((ws, _, _)) = ui.workspace.clone() else {
        return Redirect::see_other("/review").into_response();
    };
    let Ok(loaded) = review::load(&state.store, ws).await else {
        return super::error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The transactions could not be read.",
        )
        .into_response();
    };
    let Some((_, disposal)) = loaded.stored.iter().find(|(id, _)| *id == q.disposal) else {
        return super::error_page(StatusCode::NOT_FOUND, "No such disposal in this workspace.")
            .with_status(StatusCode::NOT_FOUND)
            .into_response();
    };
    let lots: Vec<&(i64, Tx)> = loaded
        .stored
        .iter()
        .filter(|(_, t)| t.kind.is_inflow() && t.time <= disposal.time)
        .collect();
    let content = html! {
        h1 { "Pick lots" }
        p.lead { "For " (describe(disposal)) ". Enter how much of each lot this disposal uses; FIFO fills whatever you leave. The report uses your picks with method “specific”." }
        form.card method="post" action="/review/decide" {
            (hidden(&ui, &[("action", "pick_lots".into()), ("disposal", q.disposal.to_string())]))
            div.table-wrap { table {
                thead { tr { th { "Acquired" } th { "Type" } th { "Account" } th.num { "BTC" } th.num { "Value" } th.num { "Use BTC" } } }
                tbody { @for (id, t) in &lots {
                    tr {
                        td { (t.time) } td { (t.kind) } td { (t.account) } td.num { (t.btc) }
                        td.num { @if let Some(v) = t.fiat_value { (v) " " (t.currency.clone().unwrap_or_default()) } }
                        td.num { input name=(format!("lot_{id}")) inputmode="decimal" size="12" aria-label=(format!("BTC from the lot of {}", t.time)); }
                    }
                } }
            } }
            button type="submit" disabled[!ui.can(Role::Accountant)] { "Save picks" }
        }
    };
    render(layout::page("Review", Some("/review"), &ui, content)).into_response()
}

//! The Exchanges page: each exchange account read over its API with its
//! sync (progress while it runs), last sync, rows, the balance check and
//! the last error in words to act on; step-by-step instructions for making
//! a read-only key; a form to add one (the exchange is asked what the key
//! may do before anything is stored). Viewers see; accountants sync;
//! workspace admins add and remove keys, checked on the server.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use zeroize::Zeroizing;

use super::context::{Ui, ui};
use super::{layout, notice, render};
use crate::auth::Role;
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::sources::exchanges::service::{ExchangeError, NewKey};
use crate::sources::import::Target;
use crate::store::AuditEntry;
use crate::store::exchanges::Connection;

/// Satoshis as bitcoin with eight decimals, the way exchanges show them.
pub fn btc(sats: i64) -> String {
    let sign = if sats < 0 { "-" } else { "" };
    let abs = sats.unsigned_abs();
    format!("{sign}{}.{:08} BTC", abs / 100_000_000, abs % 100_000_000)
}

fn when(at: Option<i64>) -> String {
    at.map_or_else(|| "never".to_string(), crate::clock::rfc3339)
}

/// How to make a read-only key, per exchange, in the exchange's own words
/// for its boxes.
fn instructions() -> Markup {
    html! {
        (kraken_steps())
        (coinbase_steps())
        (binance_steps())
    }
}

fn kraken_steps() -> Markup {
    html! {
        details.howto open {
            summary { "Kraken: making a read-only key" }
            ol {
                li { "Sign in at kraken.com → Settings → API → Create API key (Connection & API)." }
                li { "Name it " code { "Ledgersys" } " and use it for nothing else: two programs on one key break its nonce." }
                li { "Tick " strong { "Query Funds" } ", " strong { "Query Ledger Entries" } " and, for a faster first sync, " strong { "Export Data" } "." }
                li { "Leave every other box unticked: Deposit Funds, Withdraw Funds, Create & Modify Orders, Cancel & Close Orders, Earn, WebSocket. A key with any of them is refused." }
                li { "Optionally restrict the key to this server's IP address, and leave the query window empty so the whole history can be read." }
                li { "Copy the API key and the private key into the form below. A new key can take a minute before Kraken accepts it." }
            }
        }
    }
}

fn coinbase_steps() -> Markup {
    html! {
        details.howto {
            summary { "Coinbase: making a read-only key" }
            ol {
                li { "Sign in at coinbase.com → Settings → API (or portal.cdp.coinbase.com → API keys) → Create API key." }
                li { "Name it " code { "Ledgersys" } " and pick the portfolio to read (a key reads one portfolio; the default one holds most people's history)." }
                li { "Under permissions tick " strong { "View" } " only. Leave " strong { "Trade" } " and " strong { "Transfer" } " unticked: a key with either is refused." }
                li { "Open Advanced settings and pick " strong { "ECDSA" } " as the signature algorithm (Coinbase's App API does not take Ed25519 keys)." }
                li { "Optionally allow only this server's IP address." }
                li { "Create the key, then copy the key name (" code { "organizations/…/apiKeys/…" } ") into API key and the whole private key, " code { "-----BEGIN EC PRIVATE KEY-----" } " to " code { "-----END EC PRIVATE KEY-----" } ", into the secret. Coinbase shows the private key once." }
            }
        }
    }
}

fn binance_steps() -> Markup {
    html! {
        details.howto {
            summary { "Binance: making a read-only key" }
            ol {
                li { "Sign in at binance.com → Account → API Management → Create API, and pick " strong { "System generated" } " (an HMAC key)." }
                li { "Label it " code { "Ledgersys" } " and use it for nothing else." }
                li { "Leave only " strong { "Enable Reading" } " ticked. Leave " strong { "Enable Spot & Margin Trading" } ", " strong { "Enable Withdrawals" } ", " strong { "Enable Margin Loan, Repay & Transfer" } ", " strong { "Permits Universal Transfer" } ", " strong { "Enable Futures" } " and " strong { "Enable European Options" } " unticked: a key with any of them is refused." }
                li { "Under IP access restrictions choose " strong { "Restrict access to trusted IPs only" } " and enter this server's public IP address (Ledgersys warns when the key works from anywhere)." }
                li { "Copy the API key and the secret key into the form below. Binance shows the secret once." }
                li { "The first sync reads the history from July 2017 within Binance's request weights: it takes several minutes." }
            }
        }
    }
}

fn status_line(c: &Connection, rows: u64, balance: i64) -> Markup {
    let matches = c.exchange_balance_sat.map(|theirs| theirs == balance);
    html! {
        @if !c.complete {
            p.notice.warning { "The first sync has not finished: reports miss part of this account until it has." }
        }
        @if let (Some(false), Some(theirs)) = (matches, c.exchange_balance_sat) {
            p.notice.error role="alert" {
                "The rows add up to " (btc(balance)) ", but " (c.exchange) " reports " (btc(theirs))
                ": part of the history may be missing. Import the exchange's own export file into the account "
                code { (c.name) } " to fill the gap; rows already here are not doubled."
            }
        }
        @if let Some(error) = &c.last_error {
            p.notice.error role="alert" { "The last sync stopped (" (when(c.last_error_at)) "): " (error) }
        }
        p.muted { (rows) " rows" }
    }
}

async fn page(state: &AppState, ui: &Ui, message: Option<&str>, error: Option<&str>) -> Response {
    let Some((ws, _, _)) = ui.workspace.clone() else {
        return super::error_page(StatusCode::NOT_FOUND, "No workspace is selected.")
            .into_response();
    };
    let connections = match state.store.exchange_connections_in(ws).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot list exchange connections");
            return super::error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "The database is not answering; try again.",
            )
            .into_response();
        }
    };
    let mut listed = Vec::new();
    for c in connections {
        let totals = state.exchanges.account_totals(&c).await.unwrap_or((0, 0));
        listed.push((c, totals));
    }
    let (can_sync, can_manage) = (ui.can(Role::Accountant), ui.can(Role::Admin));
    let csrf = &ui.csrf_token;
    render(layout::page(
        "Exchanges",
        Some("/wallets"),
        ui,
        html! {
            h1 { "Exchange accounts" }
            (notice("success", message))
            (notice("error", error))
            p.muted {
                "Ledgersys reads an exchange account with a key that can only read: the exchange is asked what the key may do before it is stored, "
                "and a key that can trade, withdraw or move funds is refused. Keys are sealed at rest and shown only by their last four characters. "
                "Accounts sync by themselves every hour."
            }
            @if listed.is_empty() {
                p { "No exchange account yet." }
            }
            @for (c, (rows, balance)) in &listed {
                @let status = state.exchanges.status(c.id);
                @let running = status.as_ref().is_some_and(|s| s.running);
                section.card.exchange id=(format!("exchange-{}", c.id)) {
                    h2 { (c.name) " " small.muted { (c.exchange) ", key …" code { (c.key_last4) } } }
                    dl.facts {
                        dt { "Last sync" } dd { (when(c.last_sync_at)) }
                        dt { "Balance from the rows" } dd.num { (btc(*balance)) }
                        dt { "Balance at " (c.exchange) } dd.num { (c.exchange_balance_sat.map_or_else(|| "not asked yet".to_string(), btc)) }
                    }
                    (status_line(c, *rows, *balance))
                    div.exchange-sync data-running=(running) data-id=(c.id) data-poll=(format!("/api/v1/workspaces/{ws}/exchanges")) {
                        p.sync-status role="status" {
                            @match &status {
                                Some(s) if s.running => { "Reading the history: " (s.read) " of " (s.total) " entries" }
                                Some(s) if s.error.is_some() => { "Last sync failed: " (s.error.clone().unwrap_or_default()) }
                                Some(s) => { "Last sync added " (s.new_rows.unwrap_or(0)) " rows" }
                                None => {}
                            }
                        }
                    }
                    @if can_sync {
                        form method="post" action=(format!("/exchanges/{}/sync", c.id)) {
                            input type="hidden" name="csrf_token" value=(csrf);
                            button type="submit" disabled[running] { "Sync now" }
                        }
                    }
                    @if can_manage {
                        details.manage {
                            summary { "Remove " (c.name) }
                            form method="post" action=(format!("/exchanges/{}/remove", c.id)) {
                                input type="hidden" name="csrf_token" value=(csrf);
                                p.muted { "The key and secret are deleted here (delete the key at the exchange too). The rows already synced stay in the ledger." }
                                button type="submit" { "Remove this account" }
                            }
                        }
                    }
                }
            }
            @if can_manage {
                section.card id="add-exchange" {
                    h2 { "Add an exchange account" }
                    (instructions())
                    form method="post" action="/exchanges" autocomplete="off" {
                        input type="hidden" name="csrf_token" value=(csrf);
                        label { "Exchange"
                            select name="exchange" {
                                @for name in crate::sources::exchanges::service::supported() {
                                    option value=(name) { (name) }
                                }
                            }
                        }
                        label { "Name (also the ledger account its rows go to)" input name="name" required maxlength="64" placeholder="kraken"; }
                        label { "API key" input name="key" type="password" required autocomplete="off"; }
                        label { "Private key (secret)" input name="secret" type="password" required autocomplete="off"; }
                        details.advanced {
                            summary { "Advanced" }
                            label { "Another API address (a regional host or a proxy; https:// only)"
                                input name="api_url" type="url" placeholder="the exchange's own, https:// only"; }
                        }
                        button type="submit" { "Check the key and add" }
                    }
                }
            } @else {
                p.muted { "Workspace admins add exchange accounts." }
            }
        },
    ))
    .into_response()
}

#[handler]
pub async fn exchanges(state: Data<&AppState>, req: &Request) -> Response {
    match ui(&state, req).await {
        Ok(ui) => page(&state, &ui, None, None).await,
        Err(r) => r,
    }
}

#[derive(serde::Deserialize)]
pub struct AddForm {
    exchange: String,
    name: String,
    key: String,
    secret: String,
    api_url: Option<String>,
}

#[handler]
pub async fn add(state: Data<&AppState>, req: &Request, Form(mut form): Form<AddForm>) -> Response {
    // Wiped when dropped, whatever the outcome.
    let key = Zeroizing::new(std::mem::take(&mut form.key));
    let secret = Zeroizing::new(std::mem::take(&mut form.secret));
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(r) => return r,
    };
    let Some((ws, _, _)) = ui.workspace.clone().filter(|_| ui.can(Role::Admin)) else {
        return super::error_page(
            StatusCode::FORBIDDEN,
            "Only workspace admins add exchange accounts.",
        )
        .with_status(StatusCode::FORBIDDEN)
        .into_response();
    };
    let audit = AuditEntry::new(
        crate::clock::now(),
        Some(ui.user_id),
        &ui.username,
        "exchange.added",
    )
    .from_addr(client_of(req).addr);
    let new = NewKey {
        exchange: form.exchange.trim(),
        name: &form.name,
        workspace: Target::Id(ws),
        key: &key,
        secret: &secret,
        api_url: form
            .api_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty()),
    };
    match state.exchanges.add(&new, &audit).await {
        Ok(added) => {
            if let Ok(Some(c)) = state.store.exchange_connection(added.id).await {
                state.exchanges.start(c, ui.username.clone()).ok();
            }
            let mut message = format!(
                "Added {}: the key can only read ({}). Its first sync has started.",
                added.name,
                added.permissions.join(", ")
            );
            for warning in &added.warnings {
                message.push(' ');
                message.push_str(warning);
                if !warning.ends_with('.') {
                    message.push('.');
                }
            }
            page(&state, &ui, Some(&message), None).await
        }
        Err(ExchangeError::Refused(m) | ExchangeError::Failed(m)) => {
            let message = format!("The key was not added, and nothing was stored: {m}");
            with_status(
                page(&state, &ui, None, Some(&message)).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(ExchangeError::Store(crate::store::StoreError::Conflict(m))) => with_status(
            page(
                &state,
                &ui,
                None,
                Some(&format!("{m}: choose another name.")),
            )
            .await,
            StatusCode::CONFLICT,
        ),
        Err(e) => {
            tracing::error!(error = %e, "cannot add an exchange connection");
            with_status(
                page(
                    &state,
                    &ui,
                    None,
                    Some("The account could not be added; the server log has the details."),
                )
                .await,
                StatusCode::SERVICE_UNAVAILABLE,
            )
        }
    }
}

fn with_status(response: Response, status: StatusCode) -> Response {
    let mut response = response;
    response.set_status(status);
    response
}

async fn connection_in(state: &AppState, ui: &Ui, id: i64) -> Option<Connection> {
    let (ws, _, _) = ui.workspace.clone()?;
    state
        .store
        .exchange_connection(id)
        .await
        .ok()
        .flatten()
        .filter(|c| c.workspace_id == ws)
}

#[handler]
pub async fn sync(state: Data<&AppState>, req: &Request, Path(id): Path<i64>) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(r) => return r,
    };
    if !ui.can(Role::Accountant) {
        return super::error_page(StatusCode::FORBIDDEN, "Viewers cannot start a sync.")
            .with_status(StatusCode::FORBIDDEN)
            .into_response();
    }
    let Some(c) = connection_in(&state, &ui, id).await else {
        return super::error_page(
            StatusCode::NOT_FOUND,
            "No such exchange account in this workspace.",
        )
        .with_status(StatusCode::NOT_FOUND)
        .into_response();
    };
    match state.exchanges.start(c, ui.username.clone()) {
        Ok(()) => Redirect::see_other(format!("/exchanges#exchange-{id}")).into_response(),
        Err(busy) => with_status(
            page(&state, &ui, None, Some(&busy.to_string())).await,
            StatusCode::CONFLICT,
        ),
    }
}

#[handler]
pub async fn remove(state: Data<&AppState>, req: &Request, Path(id): Path<i64>) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(r) => return r,
    };
    if !ui.can(Role::Admin) {
        return super::error_page(
            StatusCode::FORBIDDEN,
            "Only workspace admins remove exchange accounts.",
        )
        .with_status(StatusCode::FORBIDDEN)
        .into_response();
    }
    let Some(c) = connection_in(&state, &ui, id).await else {
        return super::error_page(
            StatusCode::NOT_FOUND,
            "No such exchange account in this workspace.",
        )
        .with_status(StatusCode::NOT_FOUND)
        .into_response();
    };
    let audit = AuditEntry::new(
        crate::clock::now(),
        Some(ui.user_id),
        &ui.username,
        "exchange.removed",
    )
    .from_addr(client_of(req).addr);
    match state.exchanges.remove(&c.name, &audit).await {
        Ok(_) => {
            page(
                &state,
                &ui,
                Some(&format!(
                    "Removed {}: its key is deleted; its rows stay.",
                    c.name
                )),
                None,
            )
            .await
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot remove an exchange connection");
            with_status(
                page(
                    &state,
                    &ui,
                    None,
                    Some("The account could not be removed; try again."),
                )
                .await,
                StatusCode::SERVICE_UNAVAILABLE,
            )
        }
    }
}

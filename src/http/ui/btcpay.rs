//! The Integrations section of Settings: the workspace's BTCPay stores with
//! their last sweep, deliveries taken in and deliveries refused for a bad
//! signature; a form to connect a store by pasting an API key (checked to be
//! read-only first), and a "sweep now" button. Workspace admins only,
//! checked on the server for every action.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Form, Redirect};
use poem::{IntoResponse, Request, Response, handler};

use super::context::{Ui, ui};
use super::{layout, render};
use crate::auth::Role;
use crate::btcpay::{BtcpayError, NewConnection};
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::store::{AuditEntry, StoreError};

fn when(at: Option<i64>) -> String {
    at.and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map_or_else(|| "never".to_string(), |t| t.to_string())
}

/// The section, for the Settings page of a workspace admin.
pub async fn section(state: &AppState, ui: &Ui) -> Result<Markup, StoreError> {
    let Some((ws, _, _)) = &ui.workspace else {
        return Ok(html! {});
    };
    let mut rows = Vec::new();
    for i in state.store.btcpay_integrations_in(*ws).await? {
        let (delivered, last) = state.store.btcpay_delivery_stats(i.id).await?;
        let missed = state.store.btcpay_invoices_without_webhook(&i).await?;
        rows.push((i, delivered, last, missed));
    }
    let csrf = &ui.csrf_token;
    Ok(html! {
        section.card id="integrations" {
            h2 { "Integrations: BTCPay Server" }
            p.muted {
                "Settled invoices of a connected store become income at the invoice's own rate, once, "
                "from signed webhooks and from a sweep of the Greenfield API (at start, every 10 minutes, "
                "and on demand) that picks up any webhook that never came."
            }
            @if !rows.is_empty() {
                table {
                    thead { tr {
                        th { "Store" } th { "Server" } th { "API key" } th { "Webhook" }
                        th { "Last sweep" } th { "Deliveries" } th { "Refused" } th { "Found by the sweep only" }
                    } }
                    tbody {
                        @for (i, delivered, last, missed) in &rows {
                            tr {
                                td { (i.store_id) br; small.muted { (i.account) } }
                                td { (i.url) " (" (i.server_version) ")" }
                                td { "…" code { (i.api_key_last4) } }
                                td {
                                    code { (crate::btcpay::webhook_path(i.id)) } br;
                                    small.muted { "secret …" (i.webhook_secret_last4) }
                                    @if i.webhook_id.is_some() { br; small.muted { "registered by Ledgersys" } }
                                }
                                td { (when(i.last_sweep_at)) }
                                td { (delivered) br; small.muted { "last " (when(*last)) } }
                                td.refused {
                                    (i.refused_deliveries)
                                    @if i.refused_deliveries > 0 {
                                        " (bad signature; last " (when(i.last_refused_at)) "; see the audit log)"
                                    }
                                }
                                td {
                                    @if missed.is_empty() { "none" }
                                    @for (n, invoice) in missed.iter().take(10).enumerate() {
                                        @if n > 0 { ", " }
                                        code { (invoice) }
                                    }
                                    @if missed.len() > 10 { " and " (missed.len() - 10) " more" }
                                }
                            }
                        }
                    }
                }
                @for (i, _, _, _) in &rows {
                    details.manage {
                        summary { "Change store " (i.store_id) }
                        form method="post" action=(format!("/settings/btcpay/{}/key", i.id)) {
                            input type="hidden" name="csrf_token" value=(csrf);
                            label { "New API key (checked like the first)"
                                input name="api_key" type="password" required autocomplete="off"; }
                            button type="submit" { "Replace the key" }
                        }
                        form method="post" action=(format!("/settings/btcpay/{}/secret", i.id)) {
                            input type="hidden" name="csrf_token" value=(csrf);
                            label { "New webhook secret (empty: Ledgersys makes one)"
                                input name="webhook_secret" type="password" autocomplete="off"; }
                            button type="submit" { "Replace the webhook secret" }
                        }
                        form method="post" action=(format!("/settings/btcpay/{}/remove", i.id)) {
                            input type="hidden" name="csrf_token" value=(csrf);
                            p.muted {
                                "Removing the store deletes its API key and webhook secret here"
                                @if i.webhook_id.is_some() { " and the webhook Ledgersys registered in BTCPay" }
                                ". The income and payouts already booked stay in the ledger."
                            }
                            button type="submit" { "Remove this store" }
                        }
                    }
                }
                form method="post" action="/settings/btcpay/sweep" {
                    input type="hidden" name="csrf_token" value=(csrf);
                    button type="submit" { "Sweep now" }
                }
            }
            h3 { "Connect a store" }
            form method="post" action="/settings/btcpay/authorize" {
                input type="hidden" name="csrf_token" value=(csrf);
                label { "BTCPay URL" input name="url" type="url" required placeholder="https://btcpay.example" value=[state.btcpay_hint_url.as_deref()]; }
                label { "Store id" input name="store_id" required maxlength="128"; }
                button type="submit" { "Authorize in BTCPay" }
            }
            p.muted { "Or paste a key:" }
            p.muted {
                "Create an API key in BTCPay with only "
                code { "btcpay.store.canviewstoresettings" } " for the store; a key with more is refused."
            }
            form method="post" action="/settings/btcpay" {
                input type="hidden" name="csrf_token" value=(csrf);
                label { "BTCPay URL" input name="url" type="url" required placeholder="https://btcpay.example" value=[state.btcpay_hint_url.as_deref()]; }
                label { "Store id" input name="store_id" required maxlength="128"; }
                label { "API key" input name="api_key" type="password" required autocomplete="off"; }
                label { "Webhook secret (empty: Ledgersys makes one and shows it once)"
                    input name="webhook_secret" type="password" autocomplete="off"; }
                label { "Let Ledgersys register its webhook in BTCPay, at this address of Ledgersys as BTCPay reaches it (empty: you create the webhook). The key then needs "
                    code { "btcpay.store.webhooks.canmodifywebhooks" } " too."
                    input name="register_at" type="url" placeholder="http://ledgersys.local:8080"; }
                button type="submit" { "Connect" }
            }
        }
    })
}

pub(super) fn refused(status: StatusCode, message: &str) -> Response {
    super::error_page(status, message)
        .with_status(status)
        .into_response()
}

pub(super) async fn admin(state: &AppState, req: &Request) -> Result<Ui, Response> {
    let ui = ui(state, req).await?;
    if ui.can(Role::Admin) && ui.workspace.is_some() {
        Ok(ui)
    } else {
        Err(refused(
            StatusCode::FORBIDDEN,
            "Only workspace admins manage integrations.",
        ))
    }
}

#[derive(serde::Deserialize)]
pub struct ConnectForm {
    url: String,
    store_id: String,
    api_key: String,
    webhook_secret: Option<String>,
    /// This Ledgersys' address as BTCPay reaches it: register the webhook.
    register_at: Option<String>,
}

#[handler]
pub async fn connect(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<ConnectForm>,
) -> Response {
    let ui = match admin(&state, req).await {
        Ok(ui) => ui,
        Err(r) => return r,
    };
    let workspace = ui.workspace.clone().map(|w| w.1).unwrap_or_default();
    let audit = AuditEntry::new(
        crate::clock::now(),
        Some(ui.user_id),
        &ui.username,
        "btcpay.connected",
    )
    .from_addr(client_of(req).addr)
    .detail(format!("store {} at {}", form.store_id, form.url));
    let secret = form
        .webhook_secret
        .as_deref()
        .filter(|s| !s.trim().is_empty());
    let new = NewConnection {
        workspace: &workspace,
        url: &form.url,
        store_id: &form.store_id,
        api_key: &form.api_key,
        webhook_secret: secret,
        register_at: form.register_at.as_deref().filter(|s| !s.trim().is_empty()),
    };
    match state.btcpay.add(&new, &audit).await {
        Ok(added) => render(layout::page(
            "BTCPay connected",
            Some("/settings"),
            &ui,
            html! {
                h1 { "BTCPay store connected" }
                dl.facts {
                    dt { "Store" } dd { (form.store_id) }
                    dt { "Server version" } dd { (added.server_version) }
                    dt { "Webhook URL" } dd { code { "<this server's address>" (added.webhook_path) } }
                    @if let Some(secret) = &added.webhook_secret {
                        dt { "Webhook secret (shown once)" } dd { code { (secret) } }
                    }
                    @if let Some(url) = &added.webhook_registered {
                        dt { "Webhook registered in BTCPay" } dd { code { (url) } }
                    }
                }
                @if added.webhook_registered.is_none() {
                    p { "In BTCPay: Store → Settings → Webhooks → Create, with all events and automatic redelivery on." }
                }
                p { a href="/settings#integrations" { "Back to Settings" } }
            },
        ))
        .into_response(),
        Err(BtcpayError::Refused(message)) => {
            refused(StatusCode::UNPROCESSABLE_ENTITY, &message)
        }
        Err(e @ BtcpayError::Client(_)) => refused(StatusCode::BAD_GATEWAY, &e.to_string()),
        Err(e) => {
            tracing::error!(error = %e, "cannot connect a BTCPay store");
            refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the store could not be connected; the server log has the details",
            )
        }
    }
}

#[handler]
pub async fn sweep(state: Data<&AppState>, req: &Request) -> Response {
    let ui = match admin(&state, req).await {
        Ok(ui) => ui,
        Err(r) => return r,
    };
    let Some((ws, _, _)) = ui.workspace.clone() else {
        return Redirect::see_other("/settings").into_response();
    };
    let ids = match state.store.btcpay_integrations_in(ws).await {
        Ok(all) => all.into_iter().map(|i| i.id),
        Err(e) => {
            tracing::error!(error = %e, "cannot list integrations");
            return refused(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    for id in ids {
        if let Err(e) = state
            .btcpay
            .sweep(Some(id), &ui.username, crate::clock::now())
            .await
        {
            return refused(StatusCode::BAD_GATEWAY, &e.to_string());
        }
    }
    Redirect::see_other("/settings#integrations").into_response()
}

//! Settings → Integrations, per connected store: remove it (its sealed key
//! and secret are deleted; the income and payouts it booked stay in the
//! ledger), replace its API key (checked again) or its webhook secret.
//! Workspace admins only, checked here for every action; each is audited.

use maud::html;
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Redirect};
use poem::{IntoResponse, Request, Response, handler};

use super::btcpay::{admin, refused};
use super::context::Ui;
use super::{layout, render};
use crate::btcpay::BtcpayError;
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::store::AuditEntry;
use crate::store::btcpay::Integration;

/// The integration, if it is in the admin's current workspace.
async fn owned(state: &AppState, req: &Request, id: i64) -> Result<(Ui, Integration), Response> {
    let ui = admin(state, req).await?;
    let ws = ui.workspace.as_ref().map(|w| w.0);
    match state.store.btcpay_integration(id).await {
        Ok(Some(i)) if Some(i.workspace_id) == ws => Ok((ui, i)),
        Ok(_) => Err(refused(StatusCode::NOT_FOUND, "No such BTCPay store here.")),
        Err(e) => {
            tracing::error!(error = %e, "cannot read an integration");
            Err(refused(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))
        }
    }
}

fn audit(ui: &Ui, req: &Request, action: &'static str, i: &Integration) -> AuditEntry {
    AuditEntry::new(crate::clock::now(), Some(ui.user_id), &ui.username, action)
        .in_workspace(i.workspace_id)
        .from_addr(client_of(req).addr)
        .detail(format!("store {} at {}", i.store_id, i.url))
}

fn failed(e: BtcpayError) -> Response {
    match e {
        BtcpayError::Refused(m) => refused(StatusCode::UNPROCESSABLE_ENTITY, &m),
        e @ BtcpayError::Client(_) => refused(StatusCode::BAD_GATEWAY, &e.to_string()),
        e => {
            tracing::error!(error = %e, "cannot change a BTCPay integration");
            refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the change failed; the server log has the details",
            )
        }
    }
}

#[handler]
pub async fn remove(state: Data<&AppState>, req: &Request, Path(id): Path<i64>) -> Response {
    let (ui, i) = match owned(&state, req, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    match state
        .btcpay
        .remove(&i, &audit(&ui, req, "btcpay.removed", &i))
        .await
    {
        Ok(None) => Redirect::see_other("/settings#integrations").into_response(),
        Ok(Some(note)) => refused(
            StatusCode::OK,
            &format!("The store was removed, but {note}."),
        ),
        Err(e) => failed(e),
    }
}

#[derive(serde::Deserialize)]
pub struct KeyForm {
    api_key: String,
}

#[handler]
pub async fn replace_key(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<i64>,
    Form(form): Form<KeyForm>,
) -> Response {
    let (ui, i) = match owned(&state, req, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let audit = audit(&ui, req, "btcpay.key_replaced", &i);
    match state.btcpay.replace_key(&i, &form.api_key, &audit).await {
        Ok(_) => Redirect::see_other("/settings#integrations").into_response(),
        Err(e) => failed(e),
    }
}

#[derive(serde::Deserialize)]
pub struct SecretForm {
    webhook_secret: Option<String>,
}

#[handler]
pub async fn replace_secret(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<i64>,
    Form(form): Form<SecretForm>,
) -> Response {
    let (ui, i) = match owned(&state, req, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let given = form
        .webhook_secret
        .as_deref()
        .filter(|s| !s.trim().is_empty());
    let audit = audit(&ui, req, "btcpay.webhook_secret_replaced", &i);
    match state.btcpay.replace_secret(&i, given, &audit).await {
        Ok((last4, shown)) => render(layout::page(
            "Webhook secret replaced",
            Some("/settings"),
            &ui,
            html! {
                h1 { "Webhook secret replaced" }
                dl.facts {
                    dt { "Store" } dd { (i.store_id) }
                    dt { "Secret" } dd { "…" code { (last4) } }
                    @if let Some(secret) = &shown {
                        dt { "New secret (shown once)" } dd { code { (secret) } }
                    }
                }
                @if shown.is_some() {
                    p { "Paste it into the store's webhook in BTCPay: deliveries signed with the old one are refused from now on." }
                } @else if i.webhook_id.is_some() {
                    p { "BTCPay's webhook was given the new secret." }
                }
                p { a href="/settings#integrations" { "Back to Settings" } }
            },
        ))
        .into_response(),
        Err(e) => failed(e),
    }
}

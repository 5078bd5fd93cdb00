//! The chain source on the Settings page, for instance administrators: the
//! user's own node or server, checked and stored exactly as the API and the
//! CLI do it. The RPC password shows as its last four characters only.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Form, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::context::{Ui, ui};
use crate::http::AppState;
use crate::http::api::chain_source::view;
use crate::http::auth::client_of;
use crate::sources::chain::source_settings::{self, Fields, SourceError, Who};
use crate::store::StoreError;

pub async fn section(state: &AppState, ui: &Ui) -> Result<Markup, StoreError> {
    let now = view(state).await?;
    let kind = now.kind.clone().unwrap_or_default();
    let csrf = &ui.csrf_token;
    Ok(html! {
        section.card #chain-source {
            h2 { "Chain source" }
            p.muted { "Wallets are synced from your own server only: your Bitcoin Core node, \
                       Electrum server (electrs, Fulcrum) or Esplora. Ledgersys never asks a \
                       public server instead, not even when yours is unreachable." }
            @if now.configured {
                dl.facts {
                    dt { "In use" }
                    dd #chain-source-now {
                        @match kind.as_str() {
                            "esplora" => { "Esplora at " code { (now.url.clone().unwrap_or_default()) } }
                            "electrum" => {
                                "Electrum server at " code { (now.host_port.clone().unwrap_or_default()) }
                                @if now.tls == Some(true) { " (TLS)" }
                            }
                            _ => { "Bitcoin Core RPC at " code { (now.url.clone().unwrap_or_default()) } }
                        }
                    }
                    @if let Some(pin) = &now.cert_sha256 { dt { "Pinned certificate SHA-256" } dd { code { (pin) } } }
                    @if let Some(path) = &now.cookie_file { dt { "Cookie file" } dd { code { (path) } } }
                    @if let Some(user) = &now.rpc_user { dt { "RPC user" } dd { (user) } }
                    @if let Some(last4) = &now.password_last4 { dt { "RPC password" } dd { "stored sealed, ends in " code { (last4) } } }
                }
            } @else {
                p { strong { "No chain source is set: wallets cannot be synced yet." } }
            }
            @if let (Some(at), Some(message)) = (&now.last_failure_at, &now.last_failure) {
                p class="notice error" role="alert" #chain-source-failure {
                    strong { "The last sync failed " } "at " (at) ": " (message)
                }
            }
            form method="post" action="/settings/chain-source" {
                input type="hidden" name="csrf_token" value=(csrf);
                label { "Kind"
                    select name="kind" {
                        option value="esplora" selected[kind == "esplora" || kind.is_empty()] { "Esplora" }
                        option value="electrum" selected[kind == "electrum"] { "Electrum server (electrs, Fulcrum)" }
                        option value="core_rpc" selected[kind == "core_rpc"] { "Bitcoin Core RPC" }
                    }
                }
                label { "URL (Esplora's API, or Bitcoin Core's http:// RPC)"
                    input name="url" value=(now.url.clone().unwrap_or_default()) placeholder="http://192.168.1.5:3002/api"; }
                fieldset {
                    legend { "Electrum" }
                    label { "HOST:PORT" input name="host_port" value=(now.host_port.clone().unwrap_or_default()) placeholder="192.168.1.5:50002"; }
                    label { input type="checkbox" name="tls" value="on" checked[now.tls == Some(true)]; " TLS" }
                    label { "Its own certificate (PEM), for a self-signed one"
                        textarea name="tls_cert_pem" rows="3" spellcheck="false" {} }
                    label { "Or the certificate's SHA-256" input name="tls_cert_sha256" autocomplete="off"; }
                }
                fieldset {
                    legend { "Bitcoin Core" }
                    label { "Cookie file (a path on this server)" input name="cookie_file" value=(now.cookie_file.clone().unwrap_or_default()); }
                    label { "Or an RPC user" input name="rpc_user" value=(now.rpc_user.clone().unwrap_or_default()) autocomplete="off"; }
                    label { "and its password (stored sealed; give it again when saving)"
                        input type="password" name="rpc_password" autocomplete="new-password"; }
                }
                button type="submit" { "Save chain source" }
            }
        }
    })
}

#[derive(Deserialize)]
pub struct SourceForm {
    kind: String,
    url: Option<String>,
    host_port: Option<String>,
    tls: Option<String>,
    tls_cert_pem: Option<String>,
    tls_cert_sha256: Option<String>,
    cookie_file: Option<String>,
    rpc_user: Option<String>,
    rpc_password: Option<String>,
}

fn refused(status: StatusCode, message: &str) -> Response {
    super::error_page(status, message)
        .with_status(status)
        .into_response()
}

#[handler]
pub async fn save(state: Data<&AppState>, req: &Request, Form(form): Form<SourceForm>) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    if !ui.instance_admin {
        return refused(
            StatusCode::FORBIDDEN,
            "Only instance administrators set the chain source.",
        );
    }
    let fields = Fields {
        kind: form.kind,
        url: form.url,
        host_port: form.host_port,
        tls: form.tls.is_some(),
        cert_pem: form.tls_cert_pem,
        cert_sha256: form.tls_cert_sha256,
        cookie_file: form.cookie_file,
        rpc_user: form.rpc_user,
        rpc_password: form.rpc_password.map(Zeroizing::new),
    };
    let from = client_of(req).addr;
    let who = Who {
        user: Some(ui.user_id),
        name: &ui.username,
        from: &from,
    };
    let saved = match fields
        .into_input(&state.cookie_dirs)
        .and_then(source_settings::check)
    {
        Ok(checked) => {
            source_settings::save(
                &state.store,
                Some(state.wallet_syncs.secrets()),
                &checked,
                &who,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Redirect::see_other("/settings#chain-source").into_response(),
        Err(SourceError::Invalid { message, .. }) => {
            // The settings page again, with the reason above it; the
            // password is not put back into the form.
            let mut resp = super::admin::settings_page(&state, &ui, Some(&message)).await;
            resp.set_status(StatusCode::UNPROCESSABLE_ENTITY);
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "storing the chain source failed");
            refused(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

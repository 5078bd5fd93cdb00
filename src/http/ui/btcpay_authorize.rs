//! BTCPay's authorize redirect flow. "Authorize in BTCPay" sends the browser
//! to BTCPay asking for the read-only permission on one store, with a
//! one-time `state` in the return address. BTCPay then POSTs a form
//! (`apiKey`, `permissions[]`) back from its own site: a cross-site request
//! that carries no session cookie and no CSRF token, so the route is exempt
//! from both and trusts only the state, used up on the first try, expiring
//! after 15 minutes. The key is then checked like a pasted one.

use maud::html;
use poem::http::StatusCode;
use poem::web::{Data, Form, Query, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use sha2::{Digest, Sha256};

use super::context::{Ui, ui};
use super::{layout, render};
use crate::auth::Role;
use crate::btcpay::{BtcpayError, NewConnection, permissions, wire};
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::store::AuditEntry;
use crate::store::btcpay_authorizations::Authorization;

/// Where BTCPay sends the user back (exempt from session and CSRF checks).
pub const CALLBACK: &str = "/settings/btcpay/authorized";
const STATE_LIFETIME: i64 = 15 * 60;

fn page(status: StatusCode, message: &str) -> Response {
    super::error_page(status, message)
        .with_status(status)
        .into_response()
}

fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

#[derive(serde::Deserialize)]
pub struct StartForm {
    url: String,
    store_id: String,
}

/// The address of BTCPay's consent page for this store and return address.
pub fn authorize_url(btcpay: &str, store_id: &str, redirect: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("permissions", &permissions::minimum(store_id))
        .append_pair("applicationName", "Ledgersys")
        .append_pair("strict", "true")
        .append_pair("selectiveStores", "false")
        .append_pair("redirect", redirect)
        .finish();
    format!(
        "{}/api-keys/authorize?{query}",
        btcpay.trim().trim_end_matches('/')
    )
}

#[handler]
pub async fn start(state: Data<&AppState>, req: &Request, Form(form): Form<StartForm>) -> Response {
    let ui: Ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(r) => return r,
    };
    let Some((ws, _, role)) = ui.workspace.clone() else {
        return page(StatusCode::FORBIDDEN, "Choose a workspace first.");
    };
    if !role.allows(Role::Admin) {
        return page(
            StatusCode::FORBIDDEN,
            "Only workspace admins manage integrations.",
        );
    }
    let url = match crate::outbound::http_base(&form.url, "The BTCPay address") {
        Ok(url) => url,
        Err(reason) => return page(StatusCode::UNPROCESSABLE_ENTITY, &format!("{reason}.")),
    };
    let store_id = form.store_id.trim().to_string();
    if !wire::is_plain_id(&store_id) {
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Give the BTCPay address (http:// or https://) and the store id.",
        );
    }
    let Some(host) = req.headers().get("host").and_then(|h| h.to_str().ok()) else {
        return page(StatusCode::BAD_REQUEST, "The request names no host.");
    };
    let token = match crate::crypto::random_token() {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "no randomness for a BTCPay state");
            return page(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    let scheme = if state.secure_cookies {
        "https"
    } else {
        "http"
    };
    let back = format!("{scheme}://{host}{CALLBACK}?state={token}");
    let pending = Authorization {
        workspace_id: ws,
        user_id: ui.user_id,
        url: url.clone(),
        store_id: store_id.clone(),
    };
    let expires = crate::clock::now() + STATE_LIFETIME;
    if let Err(e) = state
        .store
        .put_btcpay_authorization(&state_hash(&token), &pending, expires)
        .await
    {
        tracing::error!(error = %e, "cannot keep a BTCPay state");
        return page(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
    }
    Redirect::see_other(authorize_url(&url, &store_id, &back)).into_response()
}

#[derive(serde::Deserialize)]
pub struct StateQuery {
    state: String,
}

#[derive(serde::Deserialize)]
pub struct Granted {
    #[serde(rename = "apiKey")]
    api_key: String,
}

#[handler]
pub async fn callback(
    state: Data<&AppState>,
    req: &Request,
    Query(query): Query<StateQuery>,
    Form(granted): Form<Granted>,
) -> Response {
    let now = crate::clock::now();
    let pending = match state
        .store
        .take_btcpay_authorization(&state_hash(&query.state), now)
        .await
    {
        Ok(Some(p)) => p,
        Ok(None) => {
            return page(
                StatusCode::BAD_REQUEST,
                "This authorization was already used or has expired; start again from Settings.",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot read a BTCPay state");
            return page(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    let (user, workspace) = match (
        state.store.user(pending.user_id).await,
        state.store.workspace(pending.workspace_id).await,
    ) {
        (Ok(Some(u)), Ok(Some(w))) => (u, w),
        _ => {
            return page(
                StatusCode::GONE,
                "The account or workspace that asked is gone.",
            );
        }
    };
    let audit = AuditEntry::new(now, Some(user.id), &user.username, "btcpay.connected")
        .from_addr(client_of(req).addr)
        .detail(format!(
            "store {} at {} (authorize flow)",
            pending.store_id, pending.url
        ));
    let new = NewConnection {
        workspace: &workspace.name,
        url: &pending.url,
        store_id: &pending.store_id,
        api_key: &granted.api_key,
        webhook_secret: None,
        register_at: None,
    };
    match state.btcpay.add(&new, &audit).await {
        Ok(added) => render(layout::bare(
            "BTCPay connected",
            html! {
                    h1 { "BTCPay store connected" }
                    dl.facts {
                        dt { "Store" } dd { (pending.store_id) }
                        dt { "Server version" } dd { (added.server_version) }
                        dt { "Webhook URL" } dd { code { "<this server's address>" (added.webhook_path) } }
                        @if let Some(secret) = &added.webhook_secret {
                            dt { "Webhook secret (shown once)" } dd { code { (secret) } }
                        }
                    }
                    p { a href="/settings#integrations" { "Back to Settings" } }
            },
        ))
        .into_response(),
        Err(BtcpayError::Refused(message)) => page(StatusCode::UNPROCESSABLE_ENTITY, &message),
        Err(e @ BtcpayError::Client(_)) => page(StatusCode::BAD_GATEWAY, &e.to_string()),
        Err(e) => {
            tracing::error!(error = %e, "cannot connect a BTCPay store");
            page(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

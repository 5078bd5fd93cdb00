//! A workspace's BTCPay integrations through the API: list them (with their
//! last sweep, deliveries taken in and refused), connect a store (the key is
//! checked to be read-only first), and sweep now. Workspace admins only.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::Tag;
use super::members::scope;
use super::policy::Access;
use crate::btcpay::{BtcpayError, ClientError, NewConnection};
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::http::error::{ApiError, body};
use crate::store::AuditEntry;

#[derive(Debug, Object)]
pub struct IntegrationView {
    pub id: i64,
    pub url: String,
    pub store_id: String,
    /// The ledger account its income is booked to.
    pub account: String,
    pub server_version: String,
    pub api_key_last4: String,
    pub webhook_secret_last4: String,
    pub webhook_path: String,
    pub last_sweep_at: Option<i64>,
    pub sweep_cursor: i64,
    /// Deliveries taken in (each original delivery once).
    pub deliveries: i64,
    pub last_delivery_at: Option<i64>,
    /// Deliveries refused for a bad or missing signature (all of them; the
    /// audit log has the first few of each minute and a summary).
    pub refused_deliveries: i64,
    pub last_refused_at: Option<i64>,
    /// Ledgersys registered the webhook in BTCPay itself.
    pub webhook_registered: bool,
    /// Invoices whose income only the sweep found: their settlement
    /// webhook never came.
    pub invoices_without_webhook: Vec<String>,
}

#[derive(Debug, Object)]
pub struct Connect {
    pub url: String,
    pub store_id: String,
    pub api_key: String,
    /// Omit to have one generated and returned once.
    pub webhook_secret: Option<String>,
    /// Let Ledgersys register its own webhook in BTCPay, delivering to this
    /// address of Ledgersys (as BTCPay reaches it) plus the webhook path.
    /// The key must then hold `btcpay.store.webhooks.canmodifywebhooks`.
    pub register_webhook_at: Option<String>,
}

#[derive(Debug, Object)]
pub struct Connected {
    pub integration_id: i64,
    pub webhook_path: String,
    /// Only when generated: shown this once.
    pub webhook_secret: Option<String>,
    pub server_version: String,
    pub account: String,
    pub api_key_last4: String,
    /// The URL of the webhook Ledgersys registered in BTCPay, if it did.
    pub webhook_registered: Option<String>,
}

#[derive(Debug, Object)]
pub struct SweptView {
    pub integration_id: i64,
    pub invoices: u64,
    pub added: u64,
    pub reversed: u64,
    /// Completed payouts seen.
    pub payouts: u64,
    pub cursor: i64,
}

#[derive(ApiResponse)]
pub enum ConnectResponse {
    #[oai(status = 201)]
    Created(Json<Connected>),
}

pub(super) fn btcpay_error(e: BtcpayError) -> ApiError {
    match e {
        BtcpayError::Refused(m) => ApiError::Unprocessable(body("refused", m)),
        BtcpayError::Client(ClientError::Invalid(m)) => {
            ApiError::Unprocessable(body("invalid_url", m))
        }
        e @ BtcpayError::Client(_) => {
            ApiError::Unavailable(body("btcpay_unreachable", e.to_string()))
        }
        e => ApiError::internal(e),
    }
}

pub struct BtcpayIntegrationsApi;

#[OpenApi(tag = "Tag::Btcpay")]
impl BtcpayIntegrationsApi {
    /// The workspace's BTCPay stores; keys and secrets by their last four.
    #[oai(
        path = "/workspaces/:workspace_id/btcpay",
        method = "get",
        operation_id = "list_btcpay_integrations"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
    ) -> Result<Json<Vec<IntegrationView>>, ApiError> {
        let (ws, _) = scope(&access)?;
        let mut views = Vec::new();
        for i in state.store.btcpay_integrations_in(ws).await? {
            let (deliveries, last_delivery_at) = state.store.btcpay_delivery_stats(i.id).await?;
            let invoices_without_webhook = state.store.btcpay_invoices_without_webhook(&i).await?;
            views.push(IntegrationView {
                invoices_without_webhook,
                webhook_path: crate::btcpay::webhook_path(i.id),
                id: i.id,
                url: i.url,
                store_id: i.store_id,
                account: i.account,
                server_version: i.server_version,
                api_key_last4: i.api_key_last4,
                webhook_secret_last4: i.webhook_secret_last4,
                last_sweep_at: i.last_sweep_at,
                sweep_cursor: i.sweep_cursor,
                deliveries,
                last_delivery_at,
                refused_deliveries: i.refused_deliveries,
                last_refused_at: i.last_refused_at,
                webhook_registered: i.webhook_id.is_some(),
            });
        }
        Ok(Json(views))
    }

    /// Connects a store: refused (422, naming the permission to remove)
    /// unless the key is read-only.
    #[oai(
        path = "/workspaces/:workspace_id/btcpay",
        method = "post",
        operation_id = "connect_btcpay"
    )]
    async fn connect(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        input: Json<Connect>,
    ) -> Result<ConnectResponse, ApiError> {
        let (ws, _) = scope(&access)?;
        let caller = access.caller()?;
        let workspace = state
            .store
            .workspace(ws)
            .await?
            .ok_or_else(|| ApiError::not_found("no such workspace"))?;
        let audit = AuditEntry::new(
            crate::clock::now(),
            Some(caller.user_id),
            &caller.username,
            "btcpay.connected",
        )
        .from_addr(client_of(req).addr)
        .detail(format!("store {} at {}", input.store_id, input.url));
        let new = NewConnection {
            workspace: &workspace.name,
            url: &input.url,
            store_id: &input.store_id,
            api_key: &input.api_key,
            webhook_secret: input.webhook_secret.as_deref(),
            register_at: input.register_webhook_at.as_deref(),
        };
        let added = state.btcpay.add(&new, &audit).await.map_err(btcpay_error)?;
        Ok(ConnectResponse::Created(Json(Connected {
            integration_id: added.integration_id,
            webhook_path: added.webhook_path,
            webhook_secret: added.webhook_secret,
            server_version: added.server_version,
            account: added.account,
            api_key_last4: added.api_key_last4,
            webhook_registered: added.webhook_registered,
        })))
    }

    /// Reconciles the workspace's stores against the Greenfield API now.
    #[oai(
        path = "/workspaces/:workspace_id/btcpay/sweep",
        method = "post",
        operation_id = "sweep_btcpay"
    )]
    async fn sweep(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
    ) -> Result<Json<Vec<SweptView>>, ApiError> {
        let (ws, _) = scope(&access)?;
        let caller = access.caller()?;
        let mut done = Vec::new();
        for i in state.store.btcpay_integrations_in(ws).await? {
            let swept = state
                .btcpay
                .sweep(Some(i.id), &caller.username, crate::clock::now())
                .await
                .map_err(btcpay_error)?;
            done.extend(swept.into_iter().map(|s| SweptView {
                integration_id: s.integration_id,
                invoices: s.invoices as u64,
                added: s.added,
                reversed: s.reversed,
                payouts: s.payouts as u64,
                cursor: s.cursor,
            }));
        }
        Ok(Json(done))
    }
}

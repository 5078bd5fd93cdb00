//! Changing a connected BTCPay store through the API: remove it (its sealed
//! secrets go; the rows it booked stay), replace its API key (checked again)
//! or its webhook secret. Workspace admins only; each change is audited.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::btcpay_integrations::btcpay_error;
use super::members::scope;
use super::policy::Access;
use super::{Done, Tag};
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::http::error::ApiError;
use crate::store::AuditEntry;
use crate::store::btcpay::Integration;

#[derive(Debug, Object)]
pub struct NewKey {
    pub api_key: String,
}

#[derive(Debug, Object)]
pub struct NewSecret {
    /// Omit to have one generated and returned once.
    pub webhook_secret: Option<String>,
}

#[derive(Debug, Object)]
pub struct Replaced {
    pub last4: String,
    /// A generated webhook secret, shown this once (not when Ledgersys
    /// registered the webhook: BTCPay was given it directly).
    pub webhook_secret: Option<String>,
}

/// The integration, if it belongs to the caller's workspace (404 otherwise:
/// another workspace's integrations are not acknowledged).
async fn owned(state: &AppState, access: &Access, id: i64) -> Result<Integration, ApiError> {
    let (ws, _) = scope(access)?;
    state
        .store
        .btcpay_integration(id)
        .await?
        .filter(|i| i.workspace_id == ws)
        .ok_or_else(|| ApiError::not_found("no such BTCPay integration in this workspace"))
}

fn audit(
    access: &Access,
    req: &Request,
    action: &'static str,
    i: &Integration,
) -> Result<AuditEntry, ApiError> {
    let caller = access.caller()?;
    Ok(AuditEntry::new(
        crate::clock::now(),
        Some(caller.user_id),
        &caller.username,
        action,
    )
    .in_workspace(i.workspace_id)
    .from_addr(client_of(req).addr)
    .detail(format!("store {} at {}", i.store_id, i.url)))
}

pub struct BtcpayManageApi;

#[OpenApi(tag = "Tag::Btcpay")]
impl BtcpayManageApi {
    /// Removes the integration and its sealed key and secret. Income and
    /// payouts it already booked stay in the ledger.
    #[oai(
        path = "/workspaces/:workspace_id/btcpay/:integration_id",
        method = "delete",
        operation_id = "remove_btcpay"
    )]
    async fn remove(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        integration_id: Path<i64>,
    ) -> Result<Done, ApiError> {
        let i = owned(&state, &access, integration_id.0).await?;
        let audit = audit(&access, req, "btcpay.removed", &i)?;
        state
            .btcpay
            .remove(&i, &audit)
            .await
            .map_err(btcpay_error)?;
        Ok(Done::NoContent)
    }

    /// Replaces the API key; it is checked like a new one (422 `refused`).
    #[oai(
        path = "/workspaces/:workspace_id/btcpay/:integration_id/api-key",
        method = "put",
        operation_id = "replace_btcpay_key"
    )]
    async fn replace_key(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        integration_id: Path<i64>,
        input: Json<NewKey>,
    ) -> Result<Json<Replaced>, ApiError> {
        let i = owned(&state, &access, integration_id.0).await?;
        let audit = audit(&access, req, "btcpay.key_replaced", &i)?;
        let last4 = state
            .btcpay
            .replace_key(&i, &input.api_key, &audit)
            .await
            .map_err(btcpay_error)?;
        Ok(Json(Replaced {
            last4,
            webhook_secret: None,
        }))
    }

    /// Replaces the webhook secret (a registered webhook gets it in BTCPay).
    #[oai(
        path = "/workspaces/:workspace_id/btcpay/:integration_id/webhook-secret",
        method = "put",
        operation_id = "replace_btcpay_webhook_secret"
    )]
    async fn replace_secret(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        integration_id: Path<i64>,
        input: Json<NewSecret>,
    ) -> Result<Json<Replaced>, ApiError> {
        let i = owned(&state, &access, integration_id.0).await?;
        let audit = audit(&access, req, "btcpay.webhook_secret_replaced", &i)?;
        let (last4, webhook_secret) = state
            .btcpay
            .replace_secret(&i, input.webhook_secret.as_deref(), &audit)
            .await
            .map_err(btcpay_error)?;
        Ok(Json(Replaced {
            last4,
            webhook_secret,
        }))
    }
}

//! Watched wallets of a workspace, read-only for now: adding and syncing
//! are on the command line.

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::Tag;
use super::members::scope;
use super::policy::Access;
use crate::http::AppState;
use crate::http::error::ApiError;

/// A wallet as a member sees it. Descriptors are not included: an
/// extended public key reveals every address of the wallet.
#[derive(Debug, Object)]
pub struct WalletView {
    pub name: String,
    /// "bitcoin" or "testnet".
    pub network: String,
    /// "descriptor" or "addresses".
    pub kind: String,
    /// The confirmed balance at the last sync.
    pub balance_sat: i64,
    /// Confirmed transactions at the last sync.
    pub transactions: i64,
    /// RFC 3339, UTC; absent before the first sync.
    pub last_sync: Option<String>,
    pub gap_limit: i64,
    pub birthday: Option<i64>,
}

/// Whether the last wallet sync reached the chain source.
#[derive(Debug, Object)]
pub struct SyncStatus {
    /// True when the last sync failed: balances are from an earlier sync.
    pub unreachable: bool,
    /// RFC 3339, UTC: when the last sync failed.
    pub failed_at: Option<String>,
    /// The wallet whose sync failed, when it is in this workspace.
    pub wallet: Option<String>,
    /// Why, naming the configured source.
    pub message: Option<String>,
}

pub struct WalletsApi;

#[OpenApi(tag = "Tag::Books")]
impl WalletsApi {
    /// The workspace's watched wallets with their balance and last sync.
    #[oai(
        path = "/workspaces/:workspace_id/wallets",
        method = "get",
        operation_id = "list_wallets"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
    ) -> Result<Json<Vec<WalletView>>, ApiError> {
        let (ws, _) = scope(&access)?;
        let wallets = state.store.wallets_in(ws).await?;
        Ok(Json(
            wallets
                .into_iter()
                .map(|w| WalletView {
                    name: w.name,
                    network: w.network,
                    kind: w.kind,
                    balance_sat: w.balance_sat,
                    transactions: w.transactions,
                    last_sync: w.last_sync.map(crate::clock::rfc3339),
                    gap_limit: w.gap_limit,
                    birthday: w.birthday,
                })
                .collect(),
        ))
    }

    /// Whether the chain source answered the last sync; when it did not,
    /// why. No other server is ever asked instead.
    #[oai(
        path = "/workspaces/:workspace_id/wallets/sync-status",
        method = "get",
        operation_id = "wallet_sync_status"
    )]
    async fn sync_status(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
    ) -> Result<Json<SyncStatus>, ApiError> {
        let (ws, _) = scope(&access)?;
        let failure = crate::sources::chain::status::last_failure(&state.store).await?;
        let Some(failure) = failure else {
            return Ok(Json(SyncStatus {
                unreachable: false,
                failed_at: None,
                wallet: None,
                message: None,
            }));
        };
        let ours = state
            .store
            .wallets_in(ws)
            .await?
            .iter()
            .any(|w| w.name == failure.wallet);
        Ok(Json(SyncStatus {
            unreachable: true,
            failed_at: Some(crate::clock::rfc3339(failure.at)),
            wallet: ours.then_some(failure.wallet),
            message: Some(failure.message),
        }))
    }
}

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
}

//! Watched wallets of a workspace: list them, check a new one (its first
//! receive addresses, before anything is stored), add it, and sync it with
//! its progress. Descriptors are never returned, and an input holding
//! private material is refused without being stored, logged or echoed.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use zeroize::Zeroizing;

use super::Tag;
use super::members::scope;
use super::policy::Access;
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::http::error::{ApiError, body};
use crate::sources::chain::add::{self, AddError, Kind, Prepared};
use crate::sources::chain::service::Status;
use crate::store::AuditEntry;
use crate::store::wallets::WalletRecord;

/// A wallet as a member sees it. Descriptors are not included: an
/// extended public key reveals every address of the wallet.
#[derive(Debug, Object)]
pub struct WalletView {
    pub id: i64,
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

impl From<WalletRecord> for WalletView {
    fn from(w: WalletRecord) -> Self {
        WalletView {
            id: w.id,
            name: w.name,
            network: w.network,
            kind: w.kind,
            balance_sat: w.balance_sat,
            transactions: w.transactions,
            last_sync: w.last_sync.map(crate::clock::rfc3339),
            gap_limit: w.gap_limit,
            birthday: w.birthday,
        }
    }
}

/// A wallet to check or add.
#[derive(Debug, Object)]
pub struct NewWalletBody {
    /// Required to add; ignored by the preview.
    pub name: Option<String>,
    /// `xpub` (also ypub/zpub and the testnet forms), `descriptor` (single
    /// key or multisig), `export` (a Sparrow, Specter or Coldcard wallet
    /// export file's text) or `addresses` (one a line).
    pub kind: String,
    /// The key, descriptor, file text or address list. Public material
    /// only: private keys and seeds are refused (422 `private_material`).
    pub input: String,
    /// Unused addresses in a row before a scan stops; 20 unless given.
    pub gap_limit: Option<u32>,
    /// The height of the wallet's first block, if known.
    pub birthday: Option<u32>,
}

/// What the wallet is, for the user to confirm before saving.
#[derive(Debug, Object)]
pub struct WalletPreview {
    pub network: String,
    /// "descriptor" or "addresses".
    pub kind: String,
    /// The first receive addresses (index 0 first): compare them with the
    /// wallet before relying on the books.
    pub first_addresses: Vec<String>,
    /// A birthday found in the export, if any.
    pub birthday: Option<u32>,
}

#[derive(Debug, Object)]
pub struct WalletAdded {
    pub id: i64,
    pub name: String,
    pub network: String,
    pub kind: String,
    pub first_addresses: Vec<String>,
    /// Whether its first sync (a full scan) started; follow it on
    /// `.../wallets/{id}/sync`.
    pub sync_started: bool,
    /// Why it did not start: no chain source is set yet.
    pub sync_note: Option<String>,
}

/// A wallet's sync in this server.
#[derive(Debug, Object)]
pub struct SyncView {
    pub wallet_id: i64,
    pub running: bool,
    /// `idle` (none since the server started), `queued`, `scanning`,
    /// `storing`, `done` or `failed`.
    pub phase: String,
    /// `full` (the first sync), `incremental` or `list` (an address list).
    pub mode: Option<String>,
    pub scripts_scanned: u64,
    pub transactions_found: u64,
    pub rows_added: Option<u64>,
    pub error: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

fn sync_view(wallet_id: i64, status: Option<Status>) -> SyncView {
    match status {
        Some(s) => SyncView {
            wallet_id,
            running: s.running,
            phase: s.phase.into(),
            mode: s.mode.map(Into::into),
            scripts_scanned: s.scripts_scanned,
            transactions_found: s.transactions_found,
            rows_added: s.rows_added,
            error: s.error,
            started_at: Some(crate::clock::rfc3339(s.started_at)),
            finished_at: s.finished_at.map(crate::clock::rfc3339),
        },
        None => SyncView {
            wallet_id,
            running: false,
            phase: "idle".into(),
            mode: None,
            scripts_scanned: 0,
            transactions_found: 0,
            rows_added: None,
            error: None,
            started_at: None,
            finished_at: None,
        },
    }
}

#[derive(ApiResponse)]
pub enum AddResponse {
    #[oai(status = 201)]
    Created(Json<WalletAdded>),
}

#[derive(ApiResponse)]
pub enum SyncResponse {
    /// Started; follow it with `GET` on the same path.
    #[oai(status = 202)]
    Accepted(Json<SyncView>),
}

pub fn add_error(e: AddError) -> ApiError {
    match e {
        AddError::Private(m) => ApiError::Unprocessable(body("private_material", m)),
        AddError::Invalid(m) => ApiError::Unprocessable(body("invalid_wallet", m)),
        AddError::Text(e) => e.into(),
        e @ AddError::Taken(_) => ApiError::Conflict(body("wallet_exists", e.to_string())),
        AddError::Store(e) => e.into(),
    }
}

/// Checks the body; the input is wiped once read.
fn prepare(input: &mut NewWalletBody) -> Result<Prepared, ApiError> {
    let text = Zeroizing::new(std::mem::take(&mut input.input));
    let kind = Kind::parse(input.kind.trim()).ok_or_else(|| {
        ApiError::Unprocessable(body(
            "invalid_wallet",
            "kind is one of xpub, descriptor, export, addresses",
        ))
    })?;
    add::prepare(kind, &text).map_err(add_error)
}

async fn wallet_in(
    state: &AppState,
    access: &Access,
    wallet_id: i64,
) -> Result<WalletRecord, ApiError> {
    let (ws, _) = scope(access)?;
    state
        .store
        .wallet(wallet_id)
        .await?
        .filter(|w| w.workspace_id == ws)
        .ok_or_else(|| ApiError::not_found("no such wallet in this workspace"))
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
        Ok(Json(wallets.into_iter().map(WalletView::from).collect()))
    }

    /// Checks a wallet without storing anything: its network and first
    /// receive addresses, to compare with the wallet itself.
    #[oai(
        path = "/workspaces/:workspace_id/wallets/preview",
        method = "post",
        operation_id = "preview_wallet"
    )]
    async fn preview(
        &self,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        mut input: Json<NewWalletBody>,
    ) -> Result<Json<WalletPreview>, ApiError> {
        let prepared = prepare(&mut input)?;
        Ok(Json(WalletPreview {
            network: prepared.network,
            kind: prepared.kind.into(),
            first_addresses: prepared.shown,
            birthday: prepared.birthday,
        }))
    }

    /// Adds a watch-only wallet and starts its first sync (a full scan)
    /// when a chain source is set. Names are unique in the instance (409
    /// `wallet_exists`).
    #[oai(
        path = "/workspaces/:workspace_id/wallets",
        method = "post",
        operation_id = "add_wallet"
    )]
    async fn add(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        mut input: Json<NewWalletBody>,
    ) -> Result<AddResponse, ApiError> {
        let (ws, _) = scope(&access)?;
        let caller = access.caller()?;
        let prepared = prepare(&mut input)?;
        let name = input.name.clone().unwrap_or_default();
        let settings = add::Settings {
            name: &name,
            gap_limit: input.gap_limit.unwrap_or(20),
            birthday: input.birthday,
        };
        let audit = AuditEntry::new(
            crate::clock::now(),
            Some(caller.user_id),
            &caller.username,
            "wallet.added",
        )
        .from_addr(client_of(req).addr);
        let id = add::save(&state.store, ws, &prepared, &settings, &audit)
            .await
            .map_err(add_error)?;
        let (sync_started, sync_note) = first_sync(&state, id, &caller.username).await?;
        Ok(AddResponse::Created(Json(WalletAdded {
            id,
            name: name.trim().to_string(),
            network: prepared.network,
            kind: prepared.kind.into(),
            first_addresses: prepared.shown,
            sync_started,
            sync_note,
        })))
    }

    /// Starts syncing the wallet (a full scan the first time, incremental
    /// after). One sync per wallet at a time: 409 `sync_running` while one
    /// runs.
    #[oai(
        path = "/workspaces/:workspace_id/wallets/:wallet_id/sync",
        method = "post",
        operation_id = "sync_wallet"
    )]
    async fn sync(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        wallet_id: Path<i64>,
    ) -> Result<SyncResponse, ApiError> {
        let wallet = wallet_in(&state, &access, wallet_id.0).await?;
        let caller = access.caller()?;
        start_sync(&state, wallet, &caller.username).await?;
        Ok(SyncResponse::Accepted(Json(sync_view(
            wallet_id.0,
            state.wallet_syncs.status(wallet_id.0),
        ))))
    }

    /// The wallet's latest sync since the server started, running or not.
    #[oai(
        path = "/workspaces/:workspace_id/wallets/:wallet_id/sync",
        method = "get",
        operation_id = "wallet_sync_status"
    )]
    async fn sync_status(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        wallet_id: Path<i64>,
    ) -> Result<Json<SyncView>, ApiError> {
        let wallet = wallet_in(&state, &access, wallet_id.0).await?;
        Ok(Json(sync_view(
            wallet.id,
            state.wallet_syncs.status(wallet.id),
        )))
    }

    /// Whether the chain source answered the last sync; when it did not,
    /// why. No other server is ever asked instead.
    #[oai(
        path = "/workspaces/:workspace_id/wallets/sync-status",
        method = "get",
        operation_id = "chain_sync_status"
    )]
    async fn chain_status(
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

/// Why a sync did not start.
#[derive(Debug, thiserror::Error)]
pub enum NotStarted {
    #[error("{0}")]
    NoSource(String),
    #[error("{0}")]
    Running(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Starts a sync in the background, or says why not: no chain source is
/// set, or one is already running for the wallet.
pub async fn try_start(
    state: &AppState,
    wallet: WalletRecord,
    actor: &str,
) -> Result<(), NotStarted> {
    match crate::sources::chain::sync::source(&state.store).await {
        Ok(_) => {}
        Err(crate::sources::chain::sync::SyncError::Store(e)) => return Err(e.into()),
        Err(e) => return Err(NotStarted::NoSource(e.to_string())),
    }
    state
        .wallet_syncs
        .start(wallet, actor.to_string())
        .map_err(|busy| NotStarted::Running(busy.to_string()))
}

/// Starts a just-added wallet's first sync. Without a chain source the
/// wallet stays added and the note says to set one.
pub async fn first_sync(
    state: &AppState,
    id: i64,
    actor: &str,
) -> Result<(bool, Option<String>), crate::store::StoreError> {
    let Some(wallet) = state.store.wallet(id).await? else {
        return Ok((false, None));
    };
    match try_start(state, wallet, actor).await {
        Ok(()) => Ok((true, None)),
        Err(NotStarted::Store(e)) => Err(e),
        Err(NotStarted::NoSource(_)) => Ok((false, Some(NO_SOURCE_NOTE.into()))),
        Err(NotStarted::Running(m)) => Ok((false, Some(m))),
    }
}

/// What adding a wallet says when no chain source is set.
pub const NO_SOURCE_NOTE: &str = "no chain source is set, so the wallet was not synced: an \
    instance administrator sets the node or server to use (Settings, PUT \
    /api/v1/instance/chain-source or `ledgersys chain set`), then sync it";

/// [`try_start`] as the API answers it: 422 `no_chain_source`, 409
/// `sync_running`.
async fn start_sync(state: &AppState, wallet: WalletRecord, actor: &str) -> Result<(), ApiError> {
    try_start(state, wallet, actor).await.map_err(|e| match e {
        NotStarted::NoSource(m) => ApiError::Unprocessable(body("no_chain_source", m)),
        NotStarted::Running(m) => ApiError::Conflict(body("sync_running", m)),
        NotStarted::Store(e) => e.into(),
    })
}

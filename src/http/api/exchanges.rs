//! Exchange accounts read over their APIs: list them with their balance
//! check, add one (the key is proven read-only by the exchange before
//! anything is stored), sync one with its progress, remove one. Keys and
//! secrets are never returned; only the key's last four characters are.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use zeroize::Zeroizing;

use super::members::scope;
use super::policy::Access;
use super::{Done, Tag};
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::http::error::{ApiError, body};
use crate::sources::exchanges::service::{ExchangeError, NewKey, Progress};
use crate::sources::import::Target;
use crate::store::AuditEntry;
use crate::store::exchanges::Connection;

/// A connection as a member sees it.
#[derive(Debug, Object)]
pub struct ExchangeView {
    pub id: i64,
    pub name: String,
    /// `kraken`, ...
    pub exchange: String,
    pub key_last4: String,
    /// False until a first sync has read the whole history: reports then
    /// miss part of this account.
    pub complete: bool,
    /// RFC 3339, UTC; absent before the first finished sync.
    pub last_sync: Option<String>,
    /// Rows in the connection's ledger account.
    pub rows: u64,
    /// The BTC balance the rows add up to.
    pub balance_sat: i64,
    /// What the exchange reported at the last sync.
    pub exchange_balance_sat: Option<i64>,
    /// False when the two differ: part of the history may be missing.
    pub balance_matches: Option<bool>,
    /// Why the last sync stopped, in words to act on.
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub sync: ExchangeSyncView,
}

/// The connection's latest sync since the server started.
#[derive(Debug, Object)]
pub struct ExchangeSyncView {
    pub running: bool,
    /// Entries read in this sync, and how many there are when known.
    pub read: u64,
    pub total: u64,
    pub new_rows: Option<u64>,
    pub error: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

fn sync_view(progress: Option<Progress>) -> ExchangeSyncView {
    let p = progress.unwrap_or_default();
    let started = p.started_at != 0;
    ExchangeSyncView {
        running: p.running,
        read: p.read,
        total: p.total,
        new_rows: p.new_rows,
        error: p.error,
        started_at: started.then(|| crate::clock::rfc3339(p.started_at)),
        finished_at: p.finished_at.map(crate::clock::rfc3339),
    }
}

/// A key to check and, when it can only read, store.
#[derive(Debug, Object)]
pub struct NewExchangeBody {
    /// `kraken` (more to come).
    pub exchange: String,
    /// The connection's name, also the ledger account its rows go to.
    pub name: String,
    /// The API key (never returned).
    pub key: String,
    /// The API secret (never returned).
    pub secret: String,
    /// Another base URL (a regional host, a proxy): https:// only.
    pub api_url: Option<String>,
}

#[derive(Debug, Object)]
pub struct ExchangeAdded {
    pub id: i64,
    pub name: String,
    pub exchange: String,
    /// The rights the exchange lists for the key.
    pub permissions: Vec<String>,
    /// Accepted, but worth knowing (expiry, no IP allow-list, history
    /// window).
    pub warnings: Vec<String>,
    /// The first sync started in the background.
    pub sync_started: bool,
}

#[derive(ApiResponse)]
pub enum AddResponse {
    #[oai(status = 201)]
    Created(Json<ExchangeAdded>),
}

#[derive(ApiResponse)]
pub enum SyncResponse {
    /// Started; follow it with `GET .../exchanges`.
    #[oai(status = 202)]
    Accepted(Json<ExchangeSyncView>),
}

/// The exchange's refusals are the user's to fix (422 `key_refused`); an
/// exchange that cannot be reached is 503 `exchange_unreachable`.
fn exchange_error(e: ExchangeError) -> ApiError {
    match e {
        ExchangeError::Refused(m) => ApiError::Unprocessable(body("key_refused", m)),
        ExchangeError::Failed(m) => ApiError::Unavailable(body("exchange_unreachable", m)),
        ExchangeError::Store(crate::store::StoreError::Conflict(m)) => {
            ApiError::Conflict(body("exchange_exists", m))
        }
        ExchangeError::Store(e) => e.into(),
    }
}

async fn view(state: &AppState, c: Connection) -> Result<ExchangeView, ApiError> {
    let (rows, balance_sat) = state
        .exchanges
        .account_totals(&c)
        .await
        .map_err(exchange_error)?;
    Ok(ExchangeView {
        id: c.id,
        rows,
        balance_sat,
        balance_matches: c
            .last_sync_at
            .and(c.exchange_balance_sat)
            .map(|theirs| theirs == balance_sat),
        sync: sync_view(state.exchanges.status(c.id)),
        name: c.name,
        exchange: c.exchange,
        key_last4: c.key_last4,
        complete: c.complete,
        last_sync: c.last_sync_at.map(crate::clock::rfc3339),
        exchange_balance_sat: c.exchange_balance_sat,
        last_error: c.last_error,
        last_error_at: c.last_error_at.map(crate::clock::rfc3339),
    })
}

async fn connection_in(state: &AppState, access: &Access, id: i64) -> Result<Connection, ApiError> {
    let (ws, _) = scope(access)?;
    state
        .store
        .exchange_connection(id)
        .await?
        .filter(|c| c.workspace_id == ws)
        .ok_or_else(|| ApiError::not_found("no such exchange account in this workspace"))
}

pub struct ExchangesApi;

#[OpenApi(tag = "Tag::Books")]
impl ExchangesApi {
    /// The workspace's exchange accounts, with their sync and balance check.
    #[oai(
        path = "/workspaces/:workspace_id/exchanges",
        method = "get",
        operation_id = "list_exchanges"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
    ) -> Result<Json<Vec<ExchangeView>>, ApiError> {
        let (ws, _) = scope(&access)?;
        let mut views = Vec::new();
        for c in state.store.exchange_connections_in(ws).await? {
            views.push(view(&state, c).await?);
        }
        Ok(Json(views))
    }

    /// Asks the exchange what the key may do and stores it, sealed, only
    /// when it can read and nothing more (422 `key_refused` names each
    /// right to remove); then starts the first sync.
    #[oai(
        path = "/workspaces/:workspace_id/exchanges",
        method = "post",
        operation_id = "add_exchange"
    )]
    async fn add(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        mut input: Json<NewExchangeBody>,
    ) -> Result<AddResponse, ApiError> {
        let (ws, _) = scope(&access)?;
        let caller = access.caller()?;
        let key = Zeroizing::new(std::mem::take(&mut input.key));
        let secret = Zeroizing::new(std::mem::take(&mut input.secret));
        let audit = AuditEntry::new(
            crate::clock::now(),
            Some(caller.user_id),
            &caller.username,
            "exchange.added",
        )
        .from_addr(client_of(req).addr);
        let added = state
            .exchanges
            .add(
                &NewKey {
                    exchange: input.exchange.trim(),
                    name: &input.name,
                    workspace: Target::Id(ws),
                    key: &key,
                    secret: &secret,
                    api_url: input.api_url.as_deref(),
                },
                &audit,
            )
            .await
            .map_err(exchange_error)?;
        let sync_started = match state.store.exchange_connection(added.id).await? {
            Some(c) => state.exchanges.start(c, caller.username.clone()).is_ok(),
            None => false,
        };
        Ok(AddResponse::Created(Json(ExchangeAdded {
            id: added.id,
            name: added.name,
            exchange: added.exchange,
            permissions: added.permissions,
            warnings: added.warnings,
            sync_started,
        })))
    }

    /// Starts a sync: the whole history the first time, what is new after.
    /// One at a time per account: 409 `sync_running` while one runs.
    #[oai(
        path = "/workspaces/:workspace_id/exchanges/:exchange_id/sync",
        method = "post",
        operation_id = "sync_exchange"
    )]
    async fn sync(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        exchange_id: Path<i64>,
    ) -> Result<SyncResponse, ApiError> {
        let connection = connection_in(&state, &access, exchange_id.0).await?;
        let caller = access.caller()?;
        let id = connection.id;
        state
            .exchanges
            .start(connection, caller.username.clone())
            .map_err(|busy| ApiError::Conflict(body("sync_running", busy.to_string())))?;
        Ok(SyncResponse::Accepted(Json(sync_view(
            state.exchanges.status(id),
        ))))
    }

    /// Removes the account: its key and secret are deleted, its rows stay.
    #[oai(
        path = "/workspaces/:workspace_id/exchanges/:exchange_id",
        method = "delete",
        operation_id = "remove_exchange"
    )]
    async fn remove(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        exchange_id: Path<i64>,
    ) -> Result<Done, ApiError> {
        let connection = connection_in(&state, &access, exchange_id.0).await?;
        let caller = access.caller()?;
        let audit = AuditEntry::new(
            crate::clock::now(),
            Some(caller.user_id),
            &caller.username,
            "exchange.removed",
        )
        .from_addr(client_of(req).addr);
        state
            .exchanges
            .remove(&connection.name, &audit)
            .await
            .map_err(exchange_error)?;
        Ok(Done::NoContent)
    }
}

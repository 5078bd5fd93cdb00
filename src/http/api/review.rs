//! The review queue and the user's decisions over imported rows: pair,
//! unpair, reclassify, pick lots, and undo; plus the workspace's settings
//! that change how rows are read.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::Done;
use super::Tag;
use super::books::{RowView, row_view};
use super::members::scope;
use super::policy::Access;
use crate::http::AppState;
use crate::http::error::{ApiError, body};
use crate::ledger::review::{Adjustment, PairedBy};
use crate::review::{self, Actor, DecideError};
use crate::store::{AdjustmentId, AuditEntry};

#[derive(Debug, Object)]
pub struct QueueItem {
    /// The stored row's id, which decisions name.
    pub row_id: i64,
    /// `unmatched` (no counterpart found), `ambiguous` (more than one fits),
    /// `unpaired` (the user took its pair apart), `suspected_duplicate` (it
    /// may be a second copy of one of the candidates, from a file without
    /// ids and the API: decide `duplicate` or `distinct`) or `missing_price`
    /// (a value is needed and no price is known: give one by reclassifying,
    /// or fill the price table).
    pub reason: String,
    pub row: RowView,
    /// For an ambiguous row or a suspected copy: the ids of the rows that
    /// would fit.
    pub candidate_ids: Vec<i64>,
    pub candidates: Vec<RowView>,
}

#[derive(Debug, Object)]
pub struct StoredRow {
    /// The id decisions name the row by.
    pub id: i64,
    pub row: RowView,
}

#[derive(Debug, Object)]
pub struct RowPage {
    pub total: u64,
    pub offset: u64,
    pub rows: Vec<StoredRow>,
}

/// The most rows one page gives.
const PAGE_MAX: u64 = 5_000;

#[derive(Debug, Object)]
pub struct TransferPair {
    pub withdrawal_id: i64,
    pub deposit_id: i64,
    /// `txid`, `amounts` (matched automatically) or `user`.
    pub paired_by: String,
}

#[derive(Debug, Object)]
pub struct CopyPair {
    /// The row left out of the books.
    pub copy_id: i64,
    /// The row it is a second copy of, which stays.
    pub of_id: i64,
    /// `amounts` (same account, type, amount and time) or `user`.
    pub found_by: String,
}

#[derive(Debug, Object)]
pub struct Decision {
    pub id: i64,
    pub action: String,
    /// The decision as it was sent.
    pub decision: serde_json::Value,
    pub actor: String,
    pub created_at: i64,
    pub undone_by: Option<String>,
    pub undone_at: Option<i64>,
}

#[derive(Debug, Object)]
pub struct Created {
    pub id: i64,
}

#[derive(ApiResponse)]
pub enum DecisionCreated {
    #[oai(status = 201)]
    Created(Json<Created>),
}

#[derive(Debug, Object)]
pub struct WorkspaceSettings {
    /// IANA time zone in which days are judged; null for the
    /// jurisdiction's default (UTC for the US; UK rules always use UK time).
    pub timezone: Option<String>,
}

fn refused(err: DecideError) -> ApiError {
    match err {
        DecideError::Refused(r) => ApiError::Unprocessable(body("decision_refused", r.to_string())),
        DecideError::NotFound(_) => ApiError::NotFound(body("not_found", err.to_string())),
        DecideError::Store(e) => e.into(),
    }
}

pub struct ReviewApi;

#[OpenApi(tag = "Tag::Books")]
impl ReviewApi {
    /// Rows that need a decision: withdrawals and deposits with no
    /// counterpart among the user's own accounts, with more than one, or
    /// taken apart by the user. Until they are decided, reports are
    /// incomplete.
    #[oai(
        path = "/workspaces/:workspace_id/review",
        method = "get",
        operation_id = "review_queue"
    )]
    async fn queue(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
    ) -> Result<Json<Vec<QueueItem>>, ApiError> {
        let (ws, _) = scope(&access)?;
        let loaded = review::load(&state.store, ws).await?;
        let by_id = loaded.by_id();
        let view = |id: i64| by_id.get(&id).map(|tx| row_view(tx));
        let mut items: Vec<QueueItem> = loaded
            .book
            .queue
            .iter()
            .filter_map(|item| {
                Some(QueueItem {
                    row_id: item.row,
                    reason: item.reason.as_str().into(),
                    row: view(item.row)?,
                    candidate_ids: item.candidates.clone(),
                    candidates: item.candidates.iter().filter_map(|c| view(*c)).collect(),
                })
            })
            .collect();
        let missing =
            crate::reports::priced::missing_prices(&state.store, ws, &loaded.book).await?;
        items.extend(missing.into_iter().filter_map(|i| {
            Some(QueueItem {
                row_id: *loaded.book.origin.get(i)?,
                reason: "missing_price".into(),
                row: row_view(loaded.book.rows.get(i)?),
                candidate_ids: Vec::new(),
                candidates: Vec::new(),
            })
        }));
        Ok(Json(items))
    }

    /// The imported rows, as imported, in time order, with the ids that
    /// decisions name them by; `limit` rows (default 500, at most 5,000)
    /// from `offset`.
    #[oai(
        path = "/workspaces/:workspace_id/transactions",
        method = "get",
        operation_id = "transactions"
    )]
    async fn transactions(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        offset: Query<Option<u64>>,
        limit: Query<Option<u64>>,
    ) -> Result<Json<RowPage>, ApiError> {
        let (ws, _) = scope(&access)?;
        let stored = state.store.stored_rows(ws).await?;
        let offset = offset.0.unwrap_or(0);
        let limit = limit.0.unwrap_or(500).min(PAGE_MAX);
        Ok(Json(RowPage {
            total: stored.len() as u64,
            offset,
            rows: stored
                .iter()
                .skip(offset as usize)
                .take(limit as usize)
                .map(|(id, tx)| StoredRow {
                    id: *id,
                    row: row_view(tx),
                })
                .collect(),
        }))
    }

    /// Withdrawals and deposits paired as transfers, and how.
    #[oai(
        path = "/workspaces/:workspace_id/transfers",
        method = "get",
        operation_id = "transfers"
    )]
    async fn transfers(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
    ) -> Result<Json<Vec<TransferPair>>, ApiError> {
        let (ws, _) = scope(&access)?;
        let book = review::load(&state.store, ws).await?.book;
        Ok(Json(
            book.pairs
                .iter()
                .map(|(w, d, by)| TransferPair {
                    withdrawal_id: *w,
                    deposit_id: *d,
                    paired_by: match by {
                        PairedBy::Txid => "txid",
                        PairedBy::Amounts => "amounts",
                        PairedBy::User => "user",
                    }
                    .into(),
                })
                .collect(),
        ))
    }

    /// Rows left out as second copies of an entry (a file without ids and
    /// an exchange's API bringing the same transaction), and how each was
    /// found. A `distinct` decision puts one back.
    #[oai(
        path = "/workspaces/:workspace_id/duplicates",
        method = "get",
        operation_id = "duplicates"
    )]
    async fn duplicates(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
    ) -> Result<Json<Vec<CopyPair>>, ApiError> {
        let (ws, _) = scope(&access)?;
        let book = review::load(&state.store, ws).await?.book;
        Ok(Json(
            book.duplicates
                .iter()
                .map(|(copy, of, by)| CopyPair {
                    copy_id: *copy,
                    of_id: *of,
                    found_by: if *by == PairedBy::User {
                        "user"
                    } else {
                        "amounts"
                    }
                    .into(),
                })
                .collect(),
        ))
    }

    /// Every decision, oldest first, undone ones included: who made it and
    /// when, and who undid it and when.
    #[oai(
        path = "/workspaces/:workspace_id/decisions",
        method = "get",
        operation_id = "decisions"
    )]
    async fn decisions(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
    ) -> Result<Json<Vec<Decision>>, ApiError> {
        let (ws, _) = scope(&access)?;
        let records = state.store.adjustments(ws).await?;
        Ok(Json(
            records
                .into_iter()
                .map(|r| Decision {
                    id: r.id.0,
                    decision: serde_json::from_str(&r.detail).unwrap_or_default(),
                    action: r.action,
                    actor: r.actor,
                    created_at: r.created_at,
                    undone_by: r.undone_by,
                    undone_at: r.undone_at,
                })
                .collect(),
        ))
    }

    /// Makes a decision about imported rows, which stay as imported:
    /// `{"action": "pair", "withdrawal": ID, "deposit": ID}`,
    /// `{"action": "unpair", "withdrawal": ID, "deposit": ID}`,
    /// `{"action": "reclassify", "row": ID, "kind": "income", "fiat_value": "370.00", "currency": "USD"}`
    /// `{"action": "pick_lots", "disposal": ID, "lots": [[ID, SATS], ...]}`
    /// (specific identification, used by `method=specific`),
    /// `{"action": "duplicate", "row": ID, "of": ID}` (the row is a second
    /// copy of `of` and is left out) or `{"action": "distinct", "row": ID}`
    /// (the row is an entry of its own, never taken for a copy). A decision
    /// that cannot be is refused with 422 and the reason.
    #[oai(
        path = "/workspaces/:workspace_id/decisions",
        method = "post",
        operation_id = "decide"
    )]
    async fn decide(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        decision: Json<serde_json::Value>,
    ) -> Result<DecisionCreated, ApiError> {
        let (ws, _) = scope(&access)?;
        let caller = access.caller()?;
        let decision: Adjustment = serde_json::from_value(decision.0).map_err(|e| {
            ApiError::BadRequest(body("invalid_request", format!("not a decision: {e}")))
        })?;
        let actor = Actor {
            name: &caller.username,
            id: Some(caller.user_id),
            now: crate::clock::now(),
        };
        let id = review::decide(&state.store, ws, &decision, &actor)
            .await
            .map_err(refused)?;
        Ok(DecisionCreated::Created(Json(Created { id: id.0 })))
    }

    /// Undoes a decision. It stays in the history, marked with who undid it
    /// and when.
    #[oai(
        path = "/workspaces/:workspace_id/decisions/:decision_id/undo",
        method = "post",
        operation_id = "undo_decision"
    )]
    async fn undo(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        decision_id: Path<i64>,
    ) -> Result<Done, ApiError> {
        let (ws, _) = scope(&access)?;
        let caller = access.caller()?;
        let actor = Actor {
            name: &caller.username,
            id: Some(caller.user_id),
            now: crate::clock::now(),
        };
        review::undo(&state.store, ws, AdjustmentId(decision_id.0), &actor)
            .await
            .map_err(refused)?;
        Ok(Done::NoContent)
    }

    /// The workspace's settings.
    #[oai(
        path = "/workspaces/:workspace_id/settings",
        method = "get",
        operation_id = "workspace_settings"
    )]
    async fn settings(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
    ) -> Result<Json<WorkspaceSettings>, ApiError> {
        let (ws, _) = scope(&access)?;
        Ok(Json(WorkspaceSettings {
            timezone: state.store.workspace_timezone(ws).await?,
        }))
    }

    /// Changes the workspace's settings.
    #[oai(
        path = "/workspaces/:workspace_id/settings",
        method = "put",
        operation_id = "update_workspace_settings"
    )]
    async fn update_settings(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        update: Json<WorkspaceSettings>,
    ) -> Result<Json<WorkspaceSettings>, ApiError> {
        let (ws, _) = scope(&access)?;
        let caller = access.caller()?;
        let zone = update.0.timezone.filter(|z| !z.trim().is_empty());
        if let Some(name) = &zone
            && jiff::tz::TimeZone::get(name).is_err()
        {
            return Err(ApiError::Unprocessable(body(
                "unknown_timezone",
                format!(
                    "unknown time zone {name:?}; use an IANA name such as Europe/Berlin or UTC"
                ),
            )));
        }
        let audit = AuditEntry::new(
            crate::clock::now(),
            Some(caller.user_id),
            &caller.username,
            "workspace.settings_changed",
        );
        state
            .store
            .set_workspace_timezone(ws, zone.as_deref(), &audit)
            .await?;
        Ok(Json(WorkspaceSettings { timezone: zone }))
    }
}

//! Reading and exporting the audit log.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::Tag;
use super::members::scope;
use super::policy::Access;
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::http::error::ApiError;
use crate::store::AuditEntry;
use crate::store::audit::AuditRecord;

#[derive(Debug, Object)]
pub struct AuditView {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: String,
    pub workspace_id: Option<i64>,
    pub action: String,
    pub target: String,
    pub client_addr: String,
    pub detail: String,
}

impl From<AuditRecord> for AuditView {
    fn from(r: AuditRecord) -> Self {
        AuditView {
            id: r.id,
            at: crate::clock::rfc3339(r.at),
            actor: r.actor,
            workspace_id: r.workspace_id.map(|w| w.0),
            action: r.action,
            target: r.target,
            client_addr: r.client_addr,
            detail: r.detail,
        }
    }
}

#[derive(ApiResponse)]
pub enum CsvExport {
    /// The log as CSV, newest first.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(
        PlainText<String>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

/// Renders entries as CSV (a spreadsheet opens it as is).
pub fn to_csv(records: &[AuditRecord]) -> Result<String, ApiError> {
    use crate::csv_out::{Cell, CsvOut};
    let header = [
        "id",
        "at",
        "actor",
        "workspace_id",
        "action",
        "target",
        "client_addr",
        "detail",
    ];
    let mut out = CsvOut::new(&header).map_err(ApiError::internal)?;
    for r in records {
        let (id, at) = (r.id.to_string(), crate::clock::rfc3339(r.at));
        let workspace = r.workspace_id.map(|w| w.to_string()).unwrap_or_default();
        out.row(&[
            Cell::Number(&id),
            Cell::Text(&at),
            Cell::Text(&r.actor),
            Cell::Number(&workspace),
            Cell::Text(&r.action),
            Cell::Text(&r.target),
            Cell::Text(&r.client_addr),
            Cell::Text(&r.detail),
        ])
        .map_err(ApiError::internal)?;
    }
    out.finish().map_err(ApiError::internal)
}

const MAX_ROWS: i64 = 100_000;

pub struct AuditApi;

#[OpenApi(tag = "Tag::Audit")]
impl AuditApi {
    /// This workspace's audit log, newest first.
    #[oai(
        path = "/workspaces/:workspace_id/audit",
        method = "get",
        operation_id = "workspace_audit"
    )]
    async fn workspace(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<Vec<AuditView>>, ApiError> {
        let (ws, _) = scope(&access)?;
        let rows = state
            .store
            .audit_log(Some(ws), limit.0.unwrap_or(500).clamp(1, MAX_ROWS))
            .await?;
        Ok(Json(rows.into_iter().map(AuditView::from).collect()))
    }

    /// This workspace's audit log as a CSV download. The export is itself
    /// recorded.
    #[oai(
        path = "/workspaces/:workspace_id/audit.csv",
        method = "get",
        operation_id = "workspace_audit_csv"
    )]
    async fn workspace_csv(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
    ) -> Result<CsvExport, ApiError> {
        let (ws, _) = scope(&access)?;
        let caller = access.caller()?;
        state
            .store
            .audit(
                &AuditEntry::new(
                    crate::clock::now(),
                    Some(caller.user_id),
                    &caller.username,
                    "audit.exported",
                )
                .in_workspace(ws)
                .from_addr(client_of(req).addr),
            )
            .await?;
        let rows = state.store.audit_log(Some(ws), MAX_ROWS).await?;
        Ok(CsvExport::Ok(
            PlainText(to_csv(&rows)?),
            format!("attachment; filename=\"ledgersys-audit-workspace-{ws}.csv\""),
        ))
    }

    /// The whole instance's audit log, for instance administrators.
    #[oai(
        path = "/instance/audit",
        method = "get",
        operation_id = "instance_audit"
    )]
    async fn instance(
        &self,
        state: Data<&AppState>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<Vec<AuditView>>, ApiError> {
        let rows = state
            .store
            .audit_log(None, limit.0.unwrap_or(500).clamp(1, MAX_ROWS))
            .await?;
        Ok(Json(rows.into_iter().map(AuditView::from).collect()))
    }
}

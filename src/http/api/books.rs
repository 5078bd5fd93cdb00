//! Importing files and reading reports through the API.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::Tag;
use super::members::scope;
use super::policy::Access;
use crate::http::AppState;
use crate::http::error::{ApiError, body};
use crate::reports::{self, Options};
use crate::sources::import::{self, ImportError, Target};

/// Rows shown back in a preview.
pub const PREVIEW_ROWS: usize = 100;

#[derive(Debug, Object)]
pub struct RowView {
    pub timestamp: String,
    #[oai(rename = "type")]
    pub kind: String,
    pub account: String,
    pub btc: String,
    pub fiat_value: Option<String>,
    pub fiat_currency: Option<String>,
    pub fee_btc: String,
    pub to_account: Option<String>,
}

#[derive(Debug, Object)]
pub struct ImportResult {
    /// The format the file was read as: detected from its header unless
    /// `format` named one (`coinbase`, `kraken-ledgers`, `generic`, ...).
    pub format: String,
    /// The format's name for people ("Coinbase transaction history").
    pub format_label: String,
    /// The time zone that timestamps without an offset were read in.
    pub timezone: String,
    /// Rows to import (or imported).
    pub rows: usize,
    pub dry_run: bool,
    /// Rows stored now (absent on a dry run).
    pub added: Option<u64>,
    /// Rows that were already stored (re-importing is a no-op); on a dry
    /// run, those that would be left alone.
    pub already_present: Option<u64>,
    /// Stored rows that are the same entries as rows another source (an
    /// exchange's API, or a file with ids) brought into the same account,
    /// found by account, type, amount and time: each counts once. Zero on a
    /// dry run.
    pub counted_once: u64,
    /// Rows of the file left out, with why: pending, fiat-only, not
    /// bitcoin, a move between the exchange's own wallets...
    pub skipped: Vec<LineProblem>,
    /// The first rows of the file, as they will be (or were) stored.
    pub preview: Vec<RowView>,
}

#[derive(Debug, Object)]
pub struct LineProblem {
    pub line: u64,
    pub message: String,
}

#[derive(Debug, Object)]
pub struct Refused {
    pub code: String,
    pub message: String,
    /// Every problem, by line (line 1 is the header).
    pub errors: Vec<LineProblem>,
}

#[derive(ApiResponse)]
pub enum ImportResponse {
    /// Imported, or checked (dry run).
    #[oai(status = 200)]
    Ok(Json<ImportResult>),
    /// The file has problems; nothing was stored.
    #[oai(status = 422)]
    Refused(Json<Refused>),
}

#[derive(ApiResponse)]
pub enum CsvReport {
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(
        PlainText<String>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

pub fn row_view(tx: &crate::ledger::Tx) -> RowView {
    RowView {
        timestamp: tx.time.to_string(),
        kind: tx.kind.to_string(),
        account: tx.account.clone(),
        btc: tx.btc.to_string(),
        fiat_value: tx.fiat_value.map(|v| v.to_string()),
        fiat_currency: tx.currency.clone(),
        fee_btc: tx.fee_btc.to_string(),
        to_account: tx.to_account.clone(),
    }
}

pub(super) fn options(
    jurisdiction: String,
    method: Option<String>,
    basis: Option<String>,
    transfer_fee: Option<String>,
    currency: Option<String>,
    year: Option<String>,
) -> Options {
    Options {
        jurisdiction,
        method,
        basis,
        transfer_fee,
        currency,
        year,
        timezone: None,
    }
}

/// The yearly summary of the caller's workspace.
async fn summarize(
    state: &AppState,
    access: &Access,
    o: &Options,
) -> Result<reports::Summary, ApiError> {
    let (ws, _) = scope(access)?;
    let mut o = o.clone();
    o.timezone = state.store.workspace_timezone(ws).await?;
    let book = reports::priced::book(&state.store, ws, &o).await?;
    reports::summary(&book, &o).map_err(|m| ApiError::BadRequest(body("invalid_request", m)))
}

pub struct BooksApi;

#[OpenApi(tag = "Tag::Books")]
impl BooksApi {
    /// Imports a file, sent as the request body (`application/octet-stream`):
    /// an exchange or wallet export recognised from its header, or the
    /// generic CSV format; `format` overrides the detection. The whole file
    /// is stored in one transaction, or nothing is; with `dry_run=true`
    /// nothing is stored and the preview shows what would be, what is
    /// skipped and why, and what is already present.
    #[oai(
        path = "/workspaces/:workspace_id/imports",
        method = "post",
        operation_id = "import_file"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn import(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        file: Binary<Vec<u8>>,
        file_name: Query<Option<String>>,
        timezone: Query<Option<String>>,
        account: Query<Option<String>>,
        dry_run: Query<Option<bool>>,
        format: Query<Option<String>>,
    ) -> Result<ImportResponse, ApiError> {
        let (ws, _) = scope(&access)?;
        let caller = access.caller()?;
        let name = file_name.0.unwrap_or_else(|| "upload.csv".into());
        let request = import::Request {
            file_name: &name,
            bytes: &file.0,
            workspace: Target::Id(ws),
            account: account.0.as_deref(),
            format: format.0.as_deref().unwrap_or("auto"),
            timezone: timezone.0.as_deref().unwrap_or("UTC"),
            dry_run: dry_run.0.unwrap_or(false),
            actor: &caller.username,
            actor_id: Some(caller.user_id),
            now: crate::clock::now(),
        };
        match import::import(&state.store, &request).await {
            Ok(report) => Ok(ImportResponse::Ok(Json(ImportResult {
                format: report.format.name.to_string(),
                format_label: report.format.label.to_string(),
                timezone: request.timezone.to_string(),
                rows: report.rows.len(),
                dry_run: report.imported.is_none(),
                added: report.imported.as_ref().map(|i| i.added),
                already_present: Some(report.present),
                counted_once: report.counted_once,
                skipped: report
                    .skipped
                    .iter()
                    .map(|s| LineProblem {
                        line: s.line,
                        message: s.reason.clone(),
                    })
                    .collect(),
                preview: report
                    .rows
                    .iter()
                    .take(PREVIEW_ROWS)
                    .map(row_view)
                    .collect(),
            }))),
            Err(ImportError::Refused(errors)) => Ok(ImportResponse::Refused(Json(Refused {
                code: "file_refused".into(),
                message: format!(
                    "the file has {} problem(s); nothing was stored",
                    errors.len()
                ),
                errors: errors
                    .into_iter()
                    .map(|e| LineProblem {
                        line: e.line,
                        message: e.message,
                    })
                    .collect(),
            }))),
            Err(err @ (ImportError::Format(_) | ImportError::Zone(_))) => Err(
                ApiError::BadRequest(body("invalid_request", err.to_string())),
            ),
            Err(ImportError::Store(e)) => Err(e.into()),
        }
    }

    /// The yearly summary, as `ledgersys report summary --format json`
    /// prints it. `complete` is false when data is missing; `issues` says what.
    #[oai(
        path = "/workspaces/:workspace_id/reports/summary",
        method = "get",
        operation_id = "report_summary"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn summary(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        jurisdiction: Query<String>,
        method: Query<Option<String>>,
        basis: Query<Option<String>>,
        transfer_fee: Query<Option<String>>,
        currency: Query<Option<String>>,
        year: Query<Option<String>>,
    ) -> Result<Json<serde_json::Value>, ApiError> {
        let o = options(
            jurisdiction.0,
            method.0,
            basis.0,
            transfer_fee.0,
            currency.0,
            year.0,
        );
        let summary = summarize(&state, &access, &o).await?;
        let mut json = summary.json;
        json["issues"] = serde_json::to_value(&summary.issues).map_err(ApiError::internal)?;
        json["notes"] = serde_json::to_value(&summary.notes).map_err(ApiError::internal)?;
        Ok(Json(json))
    }

    /// The whole ledger of the workspace as generic CSV, after the user's
    /// decisions (pairs as transfers, new types, manual prices), which
    /// imports back into a fresh workspace as the same ledger with the same
    /// reports: nothing is locked in.
    #[oai(
        path = "/workspaces/:workspace_id/transactions.csv",
        method = "get",
        operation_id = "export_transactions"
    )]
    async fn export(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] workspace: Path<i64>,
    ) -> Result<CsvReport, ApiError> {
        let (ws, _) = scope(&access)?;
        let rows = crate::review::decided_rows(&state.store, ws).await?;
        let csv = crate::sources::generic::write(&rows).map_err(ApiError::internal)?;
        Ok(CsvReport::Ok(
            PlainText(csv),
            format!(
                "attachment; filename=\"ledgersys-workspace-{}.csv\"",
                workspace.0
            ),
        ))
    }

    /// The yearly summary as CSV.
    #[oai(
        path = "/workspaces/:workspace_id/reports/summary.csv",
        method = "get",
        operation_id = "report_summary_csv"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn summary_csv(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        jurisdiction: Query<String>,
        method: Query<Option<String>>,
        basis: Query<Option<String>>,
        transfer_fee: Query<Option<String>>,
        currency: Query<Option<String>>,
        year: Query<Option<String>>,
    ) -> Result<CsvReport, ApiError> {
        let o = options(
            jurisdiction.0,
            method.0,
            basis.0,
            transfer_fee.0,
            currency.0,
            year.0,
        );
        let summary = summarize(&state, &access, &o).await?;
        Ok(CsvReport::Ok(
            PlainText(reports::summary_csv(&summary.json)),
            format!(
                "attachment; filename=\"ledgersys-summary-{}.csv\"",
                o.jurisdiction
            ),
        ))
    }
}

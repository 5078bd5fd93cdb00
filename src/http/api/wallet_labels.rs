//! BIP-329 labels through the API: import a JSONL file (checked whole;
//! every bad line named; nothing stored unless all are good) and export the
//! workspace's labels and notes.

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::{Binary, Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::Tag;
use super::members::scope;
use super::policy::Access;
use crate::http::AppState;
use crate::http::error::{ApiError, body};
use crate::review::Actor;
use crate::sources::chain::label_book::{self, LabelError};

#[derive(Debug, Object)]
pub struct LabelsImported {
    /// Labels in the file.
    pub labels: u64,
    /// Labels new or changed in the workspace.
    pub changed: u64,
    /// Deposits and withdrawals waiting for review that a keyword label
    /// (`income`, `gift`, `spend`, `payment`, `purchase`) classified.
    pub classified: u64,
}

#[derive(ApiResponse)]
pub enum LabelsFile {
    #[oai(status = 200, content_type = "application/jsonl; charset=utf-8")]
    Ok(
        PlainText<String>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

/// Maps a refused label file to its answer: 422 `invalid_labels` naming
/// every bad line, 422 `private_material`, 413 `payload_too_large`.
pub fn label_error(e: LabelError) -> ApiError {
    match e {
        LabelError::Lines(lines) => {
            let named: Vec<String> = lines
                .iter()
                .map(|l| format!("line {}: {}", l.line, l.message))
                .collect();
            ApiError::Unprocessable(body(
                "invalid_labels",
                format!("nothing was stored; {}", named.join("; ")),
            ))
        }
        LabelError::Private(m) => ApiError::Unprocessable(body("private_material", m)),
        e @ LabelError::TooLarge => {
            ApiError::PayloadTooLarge(body("payload_too_large", e.to_string()))
        }
        LabelError::Store(e) => e.into(),
    }
}

pub struct WalletLabelsApi;

#[OpenApi(tag = "Tag::Books")]
impl WalletLabelsApi {
    /// Imports BIP-329 labels (JSONL, as the request body) from Sparrow,
    /// BTCPay or Bitcoin Core. `tx` labels become the notes of the rows with
    /// that txid; a label beginning with `income`, `gift`, `spend`,
    /// `payment` or `purchase` classifies a deposit or withdrawal that
    /// waits for review.
    #[oai(
        path = "/workspaces/:workspace_id/labels",
        method = "post",
        operation_id = "import_labels"
    )]
    async fn import(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        file: Binary<Vec<u8>>,
    ) -> Result<Json<LabelsImported>, ApiError> {
        let (ws, _) = scope(&access)?;
        let caller = access.caller()?;
        let actor = Actor {
            name: &caller.username,
            id: Some(caller.user_id),
            now: crate::clock::now(),
        };
        let done = label_book::import(&state.store, ws, &file.0, &actor)
            .await
            .map_err(label_error)?;
        Ok(Json(LabelsImported {
            labels: done.labels as u64,
            changed: done.changed,
            classified: done.classified as u64,
        }))
    }

    /// The workspace's labels, then the notes of its rows that have a txid,
    /// as BIP-329 JSONL.
    #[oai(
        path = "/workspaces/:workspace_id/labels",
        method = "get",
        operation_id = "export_labels"
    )]
    async fn export(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] workspace: Path<i64>,
    ) -> Result<LabelsFile, ApiError> {
        let (ws, _) = scope(&access)?;
        let text = label_book::export(&state.store, ws).await?;
        Ok(LabelsFile::Ok(
            PlainText(text),
            format!(
                "attachment; filename=\"ledgersys-workspace-{}-labels.jsonl\"",
                workspace.0
            ),
        ))
    }
}

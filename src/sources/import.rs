//! Importing a file into a workspace: parse it whole, then store it in one
//! transaction, or store nothing.

use sha2::{Digest, Sha256};

use super::format::{self, Skipped};
use super::generic;
pub use super::read::{ImportError, read};
use crate::store::transactions::{ImportMeta, Imported, Keyed};
use crate::store::{AuditEntry, Store, StoreError};

pub struct Request<'a> {
    pub file_name: &'a str,
    pub bytes: &'a [u8],
    pub workspace: Target<'a>,
    /// Fills the account of rows that leave it empty.
    pub account: Option<&'a str>,
    pub format: &'a str,
    pub timezone: &'a str,
    pub dry_run: bool,
    pub actor: &'a str,
    pub actor_id: Option<crate::store::UserId>,
    pub now: i64,
}

/// The workspace to import into.
pub enum Target<'a> {
    /// By name, created on first use (the command line).
    Named(&'a str),
    Id(crate::store::WorkspaceId),
}

pub struct Report {
    /// The format the file was read as (detected, or the one asked for).
    pub format: &'static format::Format,
    /// The rows the file holds, in file order.
    pub rows: Vec<crate::ledger::Tx>,
    /// Rows left out, with the reason (pending, fiat-only, ...).
    pub skipped: Vec<Skipped>,
    /// Rows already stored by an earlier import (re-importing is a no-op);
    /// on a dry run, counted without storing.
    pub present: u64,
    pub imported: Option<Imported>,
    /// Stored rows of this import that are second copies of an entry
    /// already in the books from another source (a file without ids and
    /// the API), or that another source's copy now stands for: each entry
    /// counts once (see `ledger::duplicates`).
    pub counted_once: u64,
}

pub async fn import(store: &Store, req: &Request<'_>) -> Result<Report, ImportError> {
    let converted = read(req.bytes, req.format, req.timezone, req.account)?;
    let rows: Vec<_> = converted.rows.into_iter().map(|(_, tx)| tx).collect();
    let ids = generic::source_ids(&rows);
    let workspace = match req.workspace {
        Target::Id(id) => Some(id),
        Target::Named(name) if req.dry_run => store.workspace_by_name(name).await?.map(|w| w.id),
        Target::Named(name) => {
            let created =
                AuditEntry::new(req.now, req.actor_id, req.actor, "workspace.created").target(name);
            Some(store.workspace_named(name, &created).await?)
        }
    };
    let keyed: Vec<Keyed> = ids
        .into_iter()
        .zip(&rows)
        .map(|(source_id, tx)| Keyed { source_id, tx })
        .collect();
    if req.dry_run {
        let present = match workspace {
            Some(ws) => store.count_present(ws, &keyed).await?,
            None => 0,
        };
        return Ok(Report {
            format: converted.format,
            rows,
            skipped: converted.skipped,
            present,
            imported: None,
            counted_once: 0,
        });
    }
    let Some(workspace) = workspace else {
        return Err(ImportError::Store(StoreError::Invalid(
            "no workspace".into(),
        )));
    };
    let sha256 = hex::encode(Sha256::digest(req.bytes));
    let meta = ImportMeta {
        file_name: req.file_name,
        sha256: &sha256,
        format: converted.format.name,
        actor: req.actor,
        now: req.now,
    };
    let audit =
        AuditEntry::new(req.now, req.actor_id, req.actor, "import.completed").target(req.file_name);
    let imported = store
        .import_transactions(workspace, &meta, &keyed, &audit)
        .await?;
    drop(keyed);
    let counted_once = match imported.import_id {
        Some(id) if imported.added > 0 && store.import_mixes_ids(workspace, id).await? => {
            let mine: std::collections::HashSet<i64> =
                store.import_row_ids(id).await?.into_iter().collect();
            crate::review::load(store, workspace)
                .await?
                .book
                .duplicates
                .iter()
                .filter(|(copy, of, _)| mine.contains(copy) || mine.contains(of))
                .count() as u64
        }
        _ => 0,
    };
    Ok(Report {
        format: converted.format,
        present: imported.present,
        rows,
        skipped: converted.skipped,
        imported: Some(imported),
        counted_once,
    })
}

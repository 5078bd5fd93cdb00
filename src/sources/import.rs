//! Importing a file into a workspace: parse it whole, then store it in one
//! transaction, or store nothing.

use std::path::Path;

use jiff::tz::TimeZone;
use sha2::{Digest, Sha256};

use super::generic::{self, LineError};
use crate::store::transactions::{ImportMeta, Imported, Keyed};
use crate::store::{AuditEntry, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("the format {0:?} is not supported yet; this build reads the generic format")]
    Format(String),
    #[error("unknown time zone {0:?}; use an IANA name such as Europe/London or UTC")]
    Zone(String),
    #[error("the file was refused; nothing was stored")]
    Refused(Vec<LineError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Request<'a> {
    pub path: &'a Path,
    pub workspace: &'a str,
    /// Fills the account of rows that leave it empty.
    pub account: Option<&'a str>,
    pub format: &'a str,
    pub timezone: &'a str,
    pub dry_run: bool,
    pub actor: &'a str,
    pub now: i64,
}

pub struct Report {
    pub rows: usize,
    pub imported: Option<Imported>,
}

pub async fn import(store: &Store, req: &Request<'_>) -> Result<Report, ImportError> {
    if !matches!(req.format, "auto" | "generic") {
        return Err(ImportError::Format(req.format.to_string()));
    }
    let zone =
        TimeZone::get(req.timezone).map_err(|_| ImportError::Zone(req.timezone.to_string()))?;
    let mut bytes = std::fs::read(req.path).map_err(|e| ImportError::Read {
        path: req.path.display().to_string(),
        message: e.to_string(),
    })?;
    if let Some(account) = req.account {
        bytes = fill_account(&bytes, account);
    }
    let parsed = generic::parse(&bytes, &zone).map_err(ImportError::Refused)?;
    let rows: Vec<_> = parsed.into_iter().map(|(_, tx)| tx).collect();
    if req.dry_run {
        return Ok(Report {
            rows: rows.len(),
            imported: None,
        });
    }
    let ids = generic::source_ids(&rows);
    let keyed: Vec<Keyed> = ids
        .into_iter()
        .zip(&rows)
        .map(|(source_id, tx)| Keyed { source_id, tx })
        .collect();
    let created =
        AuditEntry::new(req.now, None, req.actor, "workspace.created").target(req.workspace);
    let workspace = store.workspace_named(req.workspace, &created).await?;
    let file_name = req
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let meta = ImportMeta {
        file_name: &file_name,
        sha256: &sha256,
        format: "generic",
        actor: req.actor,
        now: req.now,
    };
    let audit = AuditEntry::new(req.now, None, req.actor, "import.completed").target(&file_name);
    let imported = store
        .import_transactions(workspace, &meta, &keyed, &audit)
        .await?;
    Ok(Report {
        rows: rows.len(),
        imported: Some(imported),
    })
}

/// Adds an `account` column filled with `account` when the file has none.
fn fill_account(bytes: &[u8], account: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return bytes.to_vec();
    };
    if header
        .split(',')
        .any(|h| h.trim().eq_ignore_ascii_case("account"))
    {
        return bytes.to_vec();
    }
    let quoted = format!("\"{}\"", account.replace('"', "\"\""));
    let mut out = format!("{header},account\n");
    for line in lines.filter(|l| !l.trim().is_empty()) {
        out.push_str(line);
        out.push(',');
        out.push_str(&quoted);
        out.push('\n');
    }
    out.into_bytes()
}

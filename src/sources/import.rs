//! Importing a file into a workspace: parse it whole, then store it in one
//! transaction, or store nothing.

use jiff::tz::TimeZone;
use sha2::{Digest, Sha256};

use super::generic::{self, LineError};
use crate::store::transactions::{ImportMeta, Imported, Keyed};
use crate::store::{AuditEntry, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
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
    /// The rows the file holds, in file order.
    pub rows: Vec<crate::ledger::Tx>,
    pub imported: Option<Imported>,
}

pub async fn import(store: &Store, req: &Request<'_>) -> Result<Report, ImportError> {
    if !matches!(req.format, "auto" | "generic") {
        return Err(ImportError::Format(req.format.to_string()));
    }
    let zone =
        TimeZone::get(req.timezone).map_err(|_| ImportError::Zone(req.timezone.to_string()))?;
    let bytes = match req.account {
        Some(account) => fill_account(req.bytes, account),
        None => req.bytes.to_vec(),
    };
    let parsed = generic::parse(&bytes, &zone).map_err(ImportError::Refused)?;
    let rows: Vec<_> = parsed.into_iter().map(|(_, tx)| tx).collect();
    if req.dry_run {
        return Ok(Report {
            rows,
            imported: None,
        });
    }
    let workspace = match req.workspace {
        Target::Id(id) => id,
        Target::Named(name) => {
            let created =
                AuditEntry::new(req.now, req.actor_id, req.actor, "workspace.created").target(name);
            store.workspace_named(name, &created).await?
        }
    };
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let meta = ImportMeta {
        file_name: req.file_name,
        sha256: &sha256,
        format: "generic",
        actor: req.actor,
        now: req.now,
    };
    let audit =
        AuditEntry::new(req.now, req.actor_id, req.actor, "import.completed").target(req.file_name);
    let imported = {
        let ids = generic::source_ids(&rows);
        let keyed: Vec<Keyed> = ids
            .into_iter()
            .zip(&rows)
            .map(|(source_id, tx)| Keyed { source_id, tx })
            .collect();
        store
            .import_transactions(workspace, &meta, &keyed, &audit)
            .await?
    };
    Ok(Report {
        rows,
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

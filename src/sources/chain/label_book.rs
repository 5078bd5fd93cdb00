//! BIP-329 labels in a workspace's books: importing a file (checked whole,
//! stored in one transaction, then its keyword labels turned into review
//! decisions) and exporting the labels and notes Ledgersys has.

use std::collections::HashSet;

use super::labels::{self, Label, LineError};
use super::private;
use crate::ledger::review::{Adjustment, Reason};
use crate::review::{self, Actor};
use crate::store::{AuditEntry, Store, StoreError, WorkspaceId};

#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("{} bad line(s); nothing was stored", .0.len())]
    Lines(Vec<LineError>),
    #[error("{0}")]
    Private(String),
    #[error("a label file is at most {} MB", labels::MAX_BYTES / 1024 / 1024)]
    TooLarge,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Imported {
    /// Labels in the file (the last of any repeated type and ref).
    pub labels: usize,
    /// Labels new or changed in the workspace.
    pub changed: u64,
    /// Deposits and withdrawals waiting for review that a keyword label
    /// classified (see `labels::RULES`).
    pub classified: usize,
}

pub async fn import(
    store: &Store,
    workspace: WorkspaceId,
    bytes: &[u8],
    actor: &Actor<'_>,
) -> Result<Imported, LabelError> {
    if bytes.len() > labels::MAX_BYTES {
        return Err(LabelError::TooLarge);
    }
    let text = String::from_utf8_lossy(bytes);
    if let Some(found) = private::detect(&text) {
        return Err(LabelError::Private(private::refusal(found)));
    }
    let parsed = labels::parse(&text).map_err(LabelError::Lines)?;
    let audit = AuditEntry::new(actor.now, actor.id, actor.name, "labels.imported");
    let changed = store.save_labels(workspace, &parsed, &audit).await?;
    let classified = classify(store, workspace, &parsed, actor).await?;
    Ok(Imported {
        labels: parsed.len(),
        changed,
        classified,
    })
}

/// Turns keyword `tx` labels into decisions for the rows of that txid that
/// wait for review as unexplained; rows already explained (paired, or
/// decided by the user) are left alone, so importing again changes nothing.
async fn classify(
    store: &Store,
    workspace: WorkspaceId,
    parsed: &[Label],
    actor: &Actor<'_>,
) -> Result<usize, StoreError> {
    let loaded = review::load(store, workspace).await?;
    let waiting: HashSet<i64> = loaded
        .book
        .queue
        .iter()
        .filter(|item| item.reason == Reason::Unmatched)
        .map(|item| item.row)
        .collect();
    let mut decisions = Vec::new();
    for label in parsed.iter().filter(|l| l.kind == "tx") {
        for (id, row) in &loaded.stored {
            let same = row
                .txid
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(&label.reference));
            if !same || !waiting.contains(id) {
                continue;
            }
            if let Some(kind) = labels::classification(&label.label, row.kind) {
                decisions.push(Adjustment::Reclassify {
                    row: *id,
                    kind,
                    fiat_value: None,
                    currency: None,
                });
            }
        }
    }
    let mut classified = 0;
    for decision in &decisions {
        match review::decide(store, workspace, decision, actor).await {
            Ok(_) => classified += 1,
            Err(review::DecideError::Store(e)) => return Err(e),
            // The book refused it: the row stays in review for the user.
            Err(e) => tracing::debug!(error = %e, "a label's classification was not applied"),
        }
    }
    Ok(classified)
}

/// The workspace's labels, then the notes of its rows with a txid and no
/// label, as BIP-329 JSONL.
pub async fn export(store: &Store, workspace: WorkspaceId) -> Result<String, StoreError> {
    let mut out = store.labels(workspace).await?;
    let mut seen: HashSet<String> = out
        .iter()
        .filter(|l| l.kind == "tx")
        .map(|l| l.reference.clone())
        .collect();
    for row in store.transactions(workspace).await? {
        let (Some(txid), Some(note)) = (row.txid, row.note) else {
            continue;
        };
        let txid = txid.to_ascii_lowercase();
        if note.is_empty() || txid.len() != 64 || !seen.insert(txid.clone()) {
            continue;
        }
        out.push(Label {
            kind: "tx".into(),
            reference: txid,
            label: note,
            origin: None,
            spendable: None,
        });
    }
    Ok(labels::export(&out))
}

//! The review service: a workspace's book (imported rows with the user's
//! decisions laid over them), and taking or undoing a decision. Every
//! decision is checked against the book before it is kept, and kept with
//! who made it and when.

use crate::ledger::Tx;
use crate::ledger::review::{self, Adjustment, Book, Refusal, RowRef};
use crate::store::{AdjustmentId, AuditEntry, Store, StoreError, UserId, WorkspaceId};

#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("{0}")]
    Refused(#[from] Refusal),
    #[error("decision {0} is not in force in this workspace (already undone, or never made)")]
    NotFound(AdjustmentId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who decides, and when.
pub struct Actor<'a> {
    pub name: &'a str,
    pub id: Option<UserId>,
    pub now: i64,
}

/// The stored rows and the book made of them.
pub struct Loaded {
    pub stored: Vec<(RowRef, Tx)>,
    pub book: Book,
}

impl Loaded {
    /// The stored rows by id, for looking many of them up.
    pub fn by_id(&self) -> std::collections::HashMap<RowRef, &Tx> {
        self.stored.iter().map(|(id, tx)| (*id, tx)).collect()
    }
}

pub async fn load(store: &Store, workspace: WorkspaceId) -> Result<Loaded, StoreError> {
    let stored = store.stored_rows(workspace).await?;
    let decisions = store.decisions(workspace).await?;
    let book = review::resolve(&stored, &decisions);
    Ok(Loaded { stored, book })
}

/// The ledger as the user has decided it, which is what the export writes:
/// the book's rows (pairs as `transfer` rows, reclassified types and the
/// values given with them) with manual prices applied as `fiat_value`, in
/// the engines' order. Imported into a fresh workspace, with no decisions,
/// it gives the same book and so the same reports. Lot picks, per-wallet
/// allocations and unpairs have no column in the generic format and are
/// not in it (see `docs/imports.md`).
pub async fn decided_rows(store: &Store, workspace: WorkspaceId) -> Result<Vec<Tx>, StoreError> {
    let mut rows = load(store, workspace).await?.book.rows;
    let overrides = store.price_overrides(workspace).await?;
    crate::prices::valuation::apply_overrides(&mut rows, &overrides);
    rows.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    Ok(rows)
}

pub async fn decide(
    store: &Store,
    workspace: WorkspaceId,
    decision: &Adjustment,
    actor: &Actor<'_>,
) -> Result<AdjustmentId, DecideError> {
    let loaded = load(store, workspace).await?;
    review::check(&loaded.stored, &loaded.book, decision)?;
    let audit = AuditEntry::new(actor.now, actor.id, actor.name, action(decision));
    Ok(store.add_adjustment(workspace, decision, &audit).await?)
}

pub async fn undo(
    store: &Store,
    workspace: WorkspaceId,
    id: AdjustmentId,
    actor: &Actor<'_>,
) -> Result<(), DecideError> {
    let audit = AuditEntry::new(actor.now, actor.id, actor.name, "review.undone");
    if store.undo_adjustment(workspace, id, &audit).await? {
        Ok(())
    } else {
        Err(DecideError::NotFound(id))
    }
}

fn action(decision: &Adjustment) -> &'static str {
    match decision {
        Adjustment::Pair { .. } => "review.paired",
        Adjustment::Unpair { .. } => "review.unpaired",
        Adjustment::Reclassify { .. } => "review.reclassified",
        Adjustment::PickLots { .. } => "review.lots_picked",
        Adjustment::Allocate { .. } => "review.basis_allocated",
        Adjustment::Duplicate { .. } => "review.duplicate",
        Adjustment::Distinct { .. } => "review.distinct",
    }
}

//! The `wallet_labels` table: a workspace's BIP-329 labels. An import is
//! one transaction: every label of the file, or none.

use super::audit::AuditEntry;
use super::{Store, StoreError, WorkspaceId};
use crate::sources::chain::labels::Label;

#[derive(sqlx::FromRow)]
struct Stored {
    kind: String,
    reference: String,
    label: String,
    origin: Option<String>,
    spendable: Option<i64>,
}

impl Store {
    /// Stores the labels (a label for the same type and ref replaces the
    /// one stored) with the audit entry; returns how many were new or
    /// changed.
    pub async fn save_labels(
        &self,
        workspace: WorkspaceId,
        labels: &[Label],
        audit: &AuditEntry,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut changed = 0;
        for l in labels {
            changed += sqlx::query(
                "INSERT INTO wallet_labels (workspace_id, type, ref, label, origin, spendable, \
                 updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (workspace_id, type, ref) DO UPDATE SET label = excluded.label, \
                 origin = excluded.origin, spendable = excluded.spendable, \
                 updated_at = excluded.updated_at \
                 WHERE label IS NOT excluded.label OR origin IS NOT excluded.origin \
                 OR spendable IS NOT excluded.spendable",
            )
            .bind(workspace)
            .bind(&l.kind)
            .bind(&l.reference)
            .bind(&l.label)
            .bind(&l.origin)
            .bind(l.spendable.map(i64::from))
            .bind(audit.at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        audit
            .clone()
            .in_workspace(workspace)
            .detail(format!(
                "{} labels read, {changed} new or changed",
                labels.len()
            ))
            .insert(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// A workspace's labels, by type and ref.
    pub async fn labels(&self, workspace: WorkspaceId) -> Result<Vec<Label>, StoreError> {
        let rows: Vec<Stored> = sqlx::query_as(
            "SELECT type AS kind, ref AS reference, label, origin, spendable FROM wallet_labels \
             WHERE workspace_id = ? ORDER BY type, ref",
        )
        .bind(workspace)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Label {
                kind: r.kind,
                reference: r.reference,
                label: r.label,
                origin: r.origin,
                spendable: r.spendable.map(|s| s != 0),
            })
            .collect())
    }

    /// A workspace's `tx` labels: (txid, label).
    pub async fn tx_labels(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT ref, label FROM wallet_labels WHERE workspace_id = ? AND type = 'tx' \
             AND label <> ''",
        )
        .bind(workspace)
        .fetch_all(&self.pool)
        .await?)
    }
}

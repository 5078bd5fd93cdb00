//! The `adjustments` table: the user's decisions over imported rows, kept
//! for good. Undoing one marks it undone, with who and when.

use sqlx::FromRow;

use super::audit::AuditEntry;
use super::{AdjustmentId, Store, StoreError, WorkspaceId};
use crate::ledger::review::Adjustment;

/// A decision as listed in its history.
#[derive(Debug, Clone, FromRow)]
pub struct AdjustmentRecord {
    pub id: AdjustmentId,
    pub action: String,
    pub detail: String,
    pub actor: String,
    pub created_at: i64,
    pub undone_by: Option<String>,
    pub undone_at: Option<i64>,
}

impl AdjustmentRecord {
    pub fn decision(&self) -> Result<Adjustment, StoreError> {
        serde_json::from_str(&self.detail)
            .map_err(|e| StoreError::Invalid(format!("a stored decision does not read back: {e}")))
    }
}

/// Records a decision inside a caller's transaction (a BTCPay reversal
/// keeps its decision with the rows it changes).
pub(super) async fn insert(
    conn: &mut sqlx::SqliteConnection,
    workspace: WorkspaceId,
    decision: &Adjustment,
    actor: &str,
    at: i64,
) -> Result<AdjustmentId, StoreError> {
    let detail = serde_json::to_string(decision)
        .map_err(|e| StoreError::Invalid(format!("a decision does not serialise: {e}")))?;
    Ok(sqlx::query_scalar(
        "INSERT INTO adjustments (workspace_id, action, detail, actor, created_at) \
         VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(workspace)
    .bind(decision.action())
    .bind(&detail)
    .bind(actor)
    .bind(at)
    .fetch_one(conn)
    .await?)
}

impl Store {
    /// Every decision, oldest first, undone ones included.
    pub async fn adjustments(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Vec<AdjustmentRecord>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, action, detail, actor, created_at, undone_by, undone_at \
             FROM adjustments WHERE workspace_id = ? ORDER BY id",
        )
        .bind(workspace)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The decisions in force, oldest first.
    pub async fn decisions(&self, workspace: WorkspaceId) -> Result<Vec<Adjustment>, StoreError> {
        self.adjustments(workspace)
            .await?
            .iter()
            .filter(|r| r.undone_at.is_none())
            .map(AdjustmentRecord::decision)
            .collect()
    }

    /// Keeps a decision and its audit entry together.
    pub async fn add_adjustment(
        &self,
        workspace: WorkspaceId,
        decision: &Adjustment,
        audit: &AuditEntry,
    ) -> Result<AdjustmentId, StoreError> {
        let detail = serde_json::to_string(decision)
            .map_err(|e| StoreError::Invalid(format!("a decision does not serialise: {e}")))?;
        let mut tx = self.begin_write().await?;
        let id: AdjustmentId = sqlx::query_scalar(
            "INSERT INTO adjustments (workspace_id, action, detail, actor, created_at) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(workspace)
        .bind(decision.action())
        .bind(&detail)
        .bind(&audit.actor)
        .bind(audit.at)
        .fetch_one(&mut *tx)
        .await?;
        audit
            .clone()
            .in_workspace(workspace)
            .target(format!("decision {id}"))
            .detail(detail)
            .insert(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Marks a decision undone; false when there is no such decision in
    /// force in the workspace.
    pub async fn undo_adjustment(
        &self,
        workspace: WorkspaceId,
        id: AdjustmentId,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE adjustments SET undone_by = ?, undone_at = ? \
             WHERE id = ? AND workspace_id = ? AND undone_at IS NULL",
        )
        .bind(&audit.actor)
        .bind(audit.at)
        .bind(id)
        .bind(workspace)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if done {
            audit
                .clone()
                .in_workspace(workspace)
                .target(format!("decision {id}"))
                .insert(&mut tx)
                .await?;
            tx.commit().await?;
        }
        Ok(done)
    }

    /// The workspace's time zone, when one is set.
    pub async fn workspace_timezone(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT timezone FROM workspaces WHERE id = ?")
                .bind(workspace)
                .fetch_optional(&self.pool)
                .await?
                .flatten(),
        )
    }

    pub async fn set_workspace_timezone(
        &self,
        workspace: WorkspaceId,
        zone: Option<&str>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE workspaces SET timezone = ? WHERE id = ?")
            .bind(zone)
            .bind(workspace)
            .execute(&mut *tx)
            .await?;
        audit
            .clone()
            .in_workspace(workspace)
            .detail(zone.unwrap_or("default").to_string())
            .insert(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

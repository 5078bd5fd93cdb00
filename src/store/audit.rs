//! The `audit_log` table: append-only (triggers refuse UPDATE and DELETE).
//! Mutating store functions take an [`AuditEntry`] and write it in the same
//! transaction as the change, so no change goes unrecorded.

use sqlx::{FromRow, SqliteConnection};

use super::{Store, StoreError, UserId, WorkspaceId};

/// The most characters an audit field keeps. Entries record what strangers
/// type (the name in a failed sign-in): the log keeps a bounded excerpt, so
/// nobody can grow the database or the audit export by typing more.
pub const FIELD_CHARS: usize = 200;

/// `text` cut to [`FIELD_CHARS`], marked with `…` where it was cut.
pub fn excerpt(text: String) -> String {
    match text.char_indices().nth(FIELD_CHARS) {
        None => text,
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}

#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub at: i64,
    pub actor_id: Option<UserId>,
    pub actor: String,
    pub workspace_id: Option<WorkspaceId>,
    pub action: &'static str,
    pub target: String,
    pub client_addr: String,
    pub detail: String,
}

impl AuditEntry {
    pub fn new(
        at: i64,
        actor_id: Option<UserId>,
        actor: impl Into<String>,
        action: &'static str,
    ) -> Self {
        AuditEntry {
            at,
            actor_id,
            actor: excerpt(actor.into()),
            workspace_id: None,
            action,
            target: String::new(),
            client_addr: String::new(),
            detail: String::new(),
        }
    }

    pub fn in_workspace(mut self, workspace: WorkspaceId) -> Self {
        self.workspace_id = Some(workspace);
        self
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = excerpt(target.into());
        self
    }

    pub fn from_addr(mut self, addr: impl Into<String>) -> Self {
        self.client_addr = excerpt(addr.into());
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = excerpt(detail.into());
        self
    }

    pub(super) async fn insert(&self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor_id, actor, workspace_id, action, target, client_addr, detail) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(self.at)
        .bind(self.actor_id)
        .bind(&self.actor)
        .bind(self.workspace_id)
        .bind(self.action)
        .bind(&self.target)
        .bind(&self.client_addr)
        .bind(&self.detail)
        .execute(conn)
        .await?;
        Ok(())
    }
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub workspace_id: Option<WorkspaceId>,
    pub action: String,
    pub target: String,
    pub client_addr: String,
    pub detail: String,
}

impl Store {
    /// Records an event that changes nothing else (a failed login, an export).
    pub async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        entry.insert(&mut conn).await
    }

    /// How many entries of this action name this target in a workspace.
    pub async fn audit_count(
        &self,
        workspace: WorkspaceId,
        action: &str,
        target: &str,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE workspace_id = ? AND action = ? AND target = ?",
        )
        .bind(workspace)
        .bind(action)
        .bind(target)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The newest entries first. With a workspace, its entries and the
    /// instance-wide ones that name one of its members; without, everything.
    pub async fn audit_log(
        &self,
        workspace: Option<WorkspaceId>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = match workspace {
            Some(ws) => {
                sqlx::query_as(
                    "SELECT id, at, actor, workspace_id, action, target, client_addr, detail FROM audit_log \
                     WHERE workspace_id = ? OR (workspace_id IS NULL AND actor_id IN \
                       (SELECT user_id FROM memberships WHERE workspace_id = ?)) \
                     ORDER BY id DESC LIMIT ?",
                )
                .bind(ws)
                .bind(ws)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(
                    "SELECT id, at, actor, workspace_id, action, target, client_addr, detail FROM audit_log \
                     ORDER BY id DESC LIMIT ?",
                )
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_audit_log_refuses_edits_and_deletes() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(dir.path()).await.expect("open");
        store
            .audit(&AuditEntry::new(1, None, "cli", "login.failed").target("mallory"))
            .await
            .expect("append");
        let update = sqlx::query("UPDATE audit_log SET actor = 'someone else'")
            .execute(&store.pool)
            .await
            .expect_err("no edits");
        assert!(update.to_string().contains("append-only"), "{update}");
        let delete = sqlx::query("DELETE FROM audit_log")
            .execute(&store.pool)
            .await
            .expect_err("no deletes");
        assert!(delete.to_string().contains("append-only"), "{delete}");
        let rows = store.audit_log(None, 10).await.expect("read");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].target, "mallory");
    }
}

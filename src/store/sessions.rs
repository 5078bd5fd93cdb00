//! The `sessions` table. Rows hold a keyed hash of the token, never the token.

use sqlx::FromRow;

use super::{Store, StoreError, UserId, WorkspaceId};

#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub user_id: UserId,
    pub username: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
}

pub struct NewSession<'a> {
    pub token_hash: &'a [u8],
    pub user_id: UserId,
    pub csrf_token: &'a str,
    pub now: i64,
    pub client_addr: &'a str,
    pub user_agent: &'a str,
}

impl Store {
    pub async fn create_session(&self, new: NewSession<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, client_addr, user_agent) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(new.token_hash)
        .bind(new.user_id)
        .bind(new.csrf_token)
        .bind(new.now)
        .bind(new.now)
        .bind(new.client_addr)
        .bind(new.user_agent)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT s.user_id, u.username, s.csrf_token, s.created_at, s.last_seen_at \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The workspace a browser session last chose, if any.
    pub async fn session_workspace(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<WorkspaceId>, StoreError> {
        let chosen: Option<Option<WorkspaceId>> =
            sqlx::query_scalar("SELECT workspace_id FROM sessions WHERE token_hash = ?")
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(chosen.flatten())
    }

    pub async fn choose_session_workspace(
        &self,
        token_hash: &[u8],
        workspace: WorkspaceId,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET workspace_id = ? WHERE token_hash = ?")
            .bind(workspace)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn touch_session(&self, token_hash: &[u8], now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?")
            .bind(now)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &[u8]) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Ends every session of a user; returns how many.
    pub async fn delete_sessions_of(&self, user: UserId) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = ?")
            .bind(user)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Removes sessions idle since before `idle_before` or created before
    /// `created_before`.
    pub async fn delete_expired_sessions(
        &self,
        idle_before: i64,
        created_before: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?")
            .bind(idle_before)
            .bind(created_before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

//! The `api_tokens` table. Rows hold a keyed hash of the token.

use sqlx::FromRow;

use super::audit::AuditEntry;
use super::{Store, StoreError, TokenId, UserId, WorkspaceId};
use crate::text::Field;

#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    pub id: TokenId,
    pub name: String,
    pub user_id: UserId,
    pub username: String,
    pub workspace_id: WorkspaceId,
    pub role: String,
    pub last4: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub expires_at: Option<i64>,
}

pub struct NewToken<'a> {
    pub token_hash: &'a [u8],
    pub name: &'a str,
    pub user_id: UserId,
    pub workspace_id: WorkspaceId,
    pub role: &'a str,
    pub last4: &'a str,
    pub now: i64,
    pub expires_at: Option<i64>,
}

impl Store {
    pub async fn create_token(
        &self,
        new: NewToken<'_>,
        audit: &AuditEntry,
    ) -> Result<TokenId, StoreError> {
        Field::Name.check("the token name", new.name)?;
        let mut tx = self.begin_write().await?;
        let id = sqlx::query_scalar(
            "INSERT INTO api_tokens (token_hash, name, user_id, workspace_id, role, last4, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(new.token_hash)
        .bind(new.name)
        .bind(new.user_id)
        .bind(new.workspace_id)
        .bind(new.role)
        .bind(new.last4)
        .bind(new.now)
        .bind(new.expires_at)
        .fetch_one(&mut *tx)
        .await?;
        audit.insert(&mut tx).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A live (not revoked, not expired) token by its hash, and marks it
    /// used.
    pub async fn use_token(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> Result<Option<TokenRow>, StoreError> {
        let row: Option<TokenRow> = sqlx::query_as(
            "SELECT t.id, t.name, t.user_id, u.username, t.workspace_id, t.role, t.last4, \
             t.created_at, t.last_used_at, t.revoked_at, t.expires_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = ? AND t.revoked_at IS NULL \
             AND (t.expires_at IS NULL OR t.expires_at > ?)",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = &row {
            sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
                .bind(now)
                .bind(row.id)
                .execute(&self.pool)
                .await?;
        }
        Ok(row)
    }

    pub async fn tokens(&self, workspace: WorkspaceId) -> Result<Vec<TokenRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT t.id, t.name, t.user_id, u.username, t.workspace_id, t.role, t.last4, \
             t.created_at, t.last_used_at, t.revoked_at, t.expires_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.workspace_id = ? ORDER BY t.id DESC",
        )
        .bind(workspace)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn token(&self, id: TokenId) -> Result<Option<TokenRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT t.id, t.name, t.user_id, u.username, t.workspace_id, t.role, t.last4, \
             t.created_at, t.last_used_at, t.revoked_at, t.expires_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn revoke_token(&self, id: TokenId, audit: &AuditEntry) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(audit.at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit.insert(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

//! The `btcpay_authorizations` table: one-time `state` values of BTCPay's
//! authorize redirect flow, kept as SHA-256 hashes until used or expired.

use sqlx::FromRow;

use super::{Store, StoreError, UserId, WorkspaceId};

#[derive(Debug, Clone, FromRow)]
pub struct Authorization {
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
    pub url: String,
    pub store_id: String,
}

impl Store {
    pub async fn put_btcpay_authorization(
        &self,
        state_hash: &str,
        a: &Authorization,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO btcpay_authorizations (state_hash, workspace_id, user_id, url, store_id, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(state_hash)
        .bind(a.workspace_id)
        .bind(a.user_id)
        .bind(&a.url)
        .bind(&a.store_id)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Uses a state up: returns what it was for, once, if it has not
    /// expired. Expired states are dropped on the way.
    pub async fn take_btcpay_authorization(
        &self,
        state_hash: &str,
        now: i64,
    ) -> Result<Option<Authorization>, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM btcpay_authorizations WHERE expires_at <= ?")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let found = sqlx::query_as(
            "DELETE FROM btcpay_authorizations WHERE state_hash = ? \
             RETURNING workspace_id, user_id, url, store_id",
        )
        .bind(state_hash)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(found)
    }
}

//! The `alerts` and `known_addresses` tables.

use sqlx::FromRow;

use super::{AlertId, Store, StoreError, UserId};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Alert {
    pub id: AlertId,
    pub user_id: UserId,
    pub at: i64,
    pub kind: String,
    pub message: String,
    pub emailed_at: Option<i64>,
    pub read_at: Option<i64>,
}

impl Store {
    pub async fn add_alert(
        &self,
        user: UserId,
        at: i64,
        kind: &str,
        message: &str,
    ) -> Result<AlertId, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO alerts (user_id, at, kind, message) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(user)
        .bind(at)
        .bind(kind)
        .bind(message)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn alerts(&self, user: UserId, limit: i64) -> Result<Vec<Alert>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, user_id, at, kind, message, emailed_at, read_at FROM alerts \
             WHERE user_id = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(user)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn unread_alerts(&self, user: UserId) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM alerts WHERE user_id = ? AND read_at IS NULL")
                .bind(user)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub async fn mark_alerts_read(&self, user: UserId, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE alerts SET read_at = ? WHERE user_id = ? AND read_at IS NULL")
            .bind(now)
            .bind(user)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn mark_alert_emailed(&self, id: AlertId, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE alerts SET emailed_at = ? WHERE id = ?")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records that `user` logged in from `addr`; true when it is the first
    /// time (and not the user's very first login anywhere).
    pub async fn remember_address(
        &self,
        user: UserId,
        addr: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let known: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM known_addresses WHERE user_id = ?")
                .bind(user)
                .fetch_one(&self.pool)
                .await?;
        let inserted = sqlx::query(
            "INSERT INTO known_addresses (user_id, client_addr, first_seen_at) VALUES (?, ?, ?) \
             ON CONFLICT DO NOTHING",
        )
        .bind(user)
        .bind(addr)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inserted > 0 && known > 0)
    }
}

//! The `price_overrides` table: prices set by hand for single rows.

use rust_decimal::Decimal;

use super::audit::AuditEntry;
use super::{Store, StoreError, WorkspaceId};
use crate::prices::valuation::Override;

fn decimal(text: &str) -> Result<Decimal, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Invalid(format!("a stored price {text:?} is not a decimal")))
}

impl Store {
    /// Sets (or with `None` removes) the override of one row, with its audit
    /// entry, in one transaction. `Ok(false)` when the workspace has no such
    /// row.
    pub async fn set_price_override(
        &self,
        workspace: WorkspaceId,
        account: &str,
        source_id: &str,
        price: Option<(Decimal, &str)>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let exists: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM transactions WHERE workspace_id = ? AND account = ? AND source_id = ?",
        )
        .bind(workspace)
        .bind(account)
        .bind(source_id)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            return Ok(false);
        }
        let before: Option<(String, String)> = sqlx::query_as(
            "SELECT price, currency FROM price_overrides \
             WHERE workspace_id = ? AND account = ? AND source_id = ?",
        )
        .bind(workspace)
        .bind(account)
        .bind(source_id)
        .fetch_optional(&mut *tx)
        .await?;
        match price {
            Some((price, currency)) => {
                sqlx::query(
                    "INSERT INTO price_overrides (workspace_id, account, source_id, price, currency, set_at, actor) \
                     VALUES (?, ?, ?, ?, ?, ?, ?) \
                     ON CONFLICT (workspace_id, account, source_id) DO UPDATE SET price = excluded.price, \
                     currency = excluded.currency, set_at = excluded.set_at, actor = excluded.actor",
                )
                .bind(workspace)
                .bind(account)
                .bind(source_id)
                .bind(price.to_string())
                .bind(currency)
                .bind(audit.at)
                .bind(&audit.actor)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query(
                    "DELETE FROM price_overrides WHERE workspace_id = ? AND account = ? AND source_id = ?",
                )
                .bind(workspace)
                .bind(account)
                .bind(source_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        let was = before.map_or("none".to_string(), |(p, c)| format!("{p} {c}"));
        let now = price.map_or("none".to_string(), |(p, c)| format!("{p} {c}"));
        audit
            .clone()
            .in_workspace(workspace)
            .target(format!("{account}/{source_id}"))
            .detail(format!("price per BTC {was} -> {now}"))
            .insert(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn price_overrides(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Vec<Override>, StoreError> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT account, source_id, price, currency FROM price_overrides \
             WHERE workspace_id = ? ORDER BY account, source_id",
        )
        .bind(workspace)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(account, id, price, currency)| {
                Ok(Override {
                    account,
                    id,
                    price: decimal(&price)?,
                    currency,
                })
            })
            .collect()
    }
}

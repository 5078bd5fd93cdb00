//! Changing a BTCPay integration after it was connected: removing it (its
//! sealed secrets go with it; the rows it booked stay), replacing its API
//! key or webhook secret, remembering the webhook Ledgersys registered, and
//! counting refused deliveries. Each change that touches a secret is audited
//! in its own transaction.

use super::audit::AuditEntry;
use super::btcpay::{api_key_secret, audit_target, webhook_secret_name};
use super::{Store, StoreError, WorkspaceId};

/// Which of an integration's two secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    ApiKey,
    WebhookSecret,
}

impl Which {
    pub fn secret_name(self, id: i64) -> String {
        match self {
            Which::ApiKey => api_key_secret(id),
            Which::WebhookSecret => webhook_secret_name(id),
        }
    }
}

impl Store {
    /// Deletes the integration, its delivery records and its sealed
    /// secrets in one transaction. The income and payout rows it booked are
    /// ledger rows like any import's and stay. False when there was none.
    pub async fn remove_btcpay_integration(
        &self,
        id: i64,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let workspace: Option<WorkspaceId> =
            sqlx::query_scalar("SELECT workspace_id FROM btcpay_integrations WHERE id = ?")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(workspace) = workspace else {
            return Ok(false);
        };
        sqlx::query("DELETE FROM btcpay_deliveries WHERE integration_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM btcpay_integrations WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for name in [api_key_secret(id), webhook_secret_name(id)] {
            sqlx::query("DELETE FROM secrets WHERE name = ?")
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        audit
            .clone()
            .in_workspace(workspace)
            .target(audit_target(id))
            .insert(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces one sealed secret of the integration and its last four.
    pub async fn replace_btcpay_secret(
        &self,
        id: i64,
        which: Which,
        sealed: &str,
        last4: &str,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let column = match which {
            Which::ApiKey => "UPDATE btcpay_integrations SET api_key_last4 = ? WHERE id = ?",
            Which::WebhookSecret => {
                "UPDATE btcpay_integrations SET webhook_secret_last4 = ? WHERE id = ?"
            }
        };
        sqlx::query(column)
            .bind(last4)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO secrets (name, sealed, last4, updated_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, last4 = excluded.last4, \
             updated_at = excluded.updated_at",
        )
        .bind(which.secret_name(id))
        .bind(sealed)
        .bind(last4)
        .bind(audit.at)
        .execute(&mut *tx)
        .await?;
        audit
            .clone()
            .target(audit_target(id))
            .insert(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Remembers the webhook Ledgersys registered in BTCPay.
    pub async fn set_btcpay_webhook_id(
        &self,
        id: i64,
        webhook_id: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE btcpay_integrations SET webhook_id = ? WHERE id = ?")
            .bind(webhook_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Counts a delivery refused for its signature (exactly; the audit log
    /// only samples a flood of them).
    pub async fn count_btcpay_refusal(&self, id: i64, at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE btcpay_integrations SET refused_deliveries = refused_deliveries + 1, \
             last_refused_at = ? WHERE id = ?",
        )
        .bind(at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

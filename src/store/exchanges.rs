//! The `exchange_connections` table. The key and secret reach this module
//! sealed; nothing here sees them in the clear.

use super::audit::AuditEntry;
use super::transactions::{ImportMeta, Imported, Keyed, record_import};
use super::{Store, StoreError, WorkspaceId};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Connection {
    pub id: i64,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub exchange: String,
    pub api_url: String,
    pub key_last4: String,
    pub created_at: i64,
    pub complete: bool,
    pub last_sync_at: Option<i64>,
    pub exchange_balance_sat: Option<i64>,
    /// The adapter's cursor, as JSON (`null` before the first batch).
    pub state: String,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
}

pub struct NewConnection<'a> {
    pub workspace: WorkspaceId,
    pub name: &'a str,
    pub exchange: &'a str,
    pub api_url: &'a str,
    pub key_last4: &'a str,
}

pub fn key_secret(id: i64) -> String {
    format!("exchange.{id}.key")
}

pub fn secret_secret(id: i64) -> String {
    format!("exchange.{id}.secret")
}

/// Seals the key and the secret once the connection's id is known.
pub type Sealer<'a> = dyn FnOnce(i64) -> Result<(String, String), String> + Send + 'a;

impl Store {
    /// Stores a connection with its sealed key and secret, audited, in one
    /// transaction.
    pub async fn add_exchange_connection(
        &self,
        new: &NewConnection<'_>,
        seal: Box<Sealer<'_>>,
        audit: &AuditEntry,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO exchange_connections (workspace_id, name, exchange, api_url, key_last4, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(new.workspace)
        .bind(new.name)
        .bind(new.exchange)
        .bind(new.api_url)
        .bind(new.key_last4)
        .bind(audit.at)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            StoreError::conflict_or(e, format!("an exchange connection named {:?} exists", new.name))
        })?;
        let (key, secret) = seal(id).map_err(StoreError::Invalid)?;
        for (name, sealed) in [(key_secret(id), key), (secret_secret(id), secret)] {
            sqlx::query(
                "INSERT INTO secrets (name, sealed, last4, updated_at) VALUES (?, ?, ?, ?)",
            )
            .bind(&name)
            .bind(&sealed)
            .bind(new.key_last4)
            .bind(audit.at)
            .execute(&mut *tx)
            .await?;
        }
        audit
            .clone()
            .in_workspace(new.workspace)
            .insert(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn exchange_connections(&self) -> Result<Vec<Connection>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, workspace_id, name, exchange, api_url, key_last4, created_at, complete, \
             last_sync_at, exchange_balance_sat, state, last_error, last_error_at \
             FROM exchange_connections ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The connections of one workspace.
    pub async fn exchange_connections_in(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Vec<Connection>, StoreError> {
        Ok(self
            .exchange_connections()
            .await?
            .into_iter()
            .filter(|c| c.workspace_id == workspace)
            .collect())
    }

    pub async fn exchange_connection(&self, id: i64) -> Result<Option<Connection>, StoreError> {
        Ok(self
            .exchange_connections()
            .await?
            .into_iter()
            .find(|c| c.id == id))
    }

    /// Stores one batch of synced rows and the cursor that follows them in
    /// one transaction: a sync killed between batches resumes from the last
    /// committed cursor, and rows already stored are left alone.
    pub async fn commit_exchange_batch(
        &self,
        connection: &Connection,
        meta: &ImportMeta<'_>,
        rows: &[Keyed<'_>],
        state: &str,
        audit: &AuditEntry,
    ) -> Result<Imported, StoreError> {
        let mut tx = self.begin_write().await?;
        let imported = if rows.is_empty() {
            Imported {
                added: 0,
                present: 0,
                import_id: None,
            }
        } else {
            record_import(&mut tx, connection.workspace_id, meta, rows, audit).await?
        };
        let updated = sqlx::query("UPDATE exchange_connections SET state = ? WHERE id = ?")
            .bind(state)
            .bind(connection.id)
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() == 0 {
            // Removed while syncing: keep nothing of it.
            return Err(StoreError::Invalid(format!(
                "the exchange connection {:?} was removed",
                connection.name
            )));
        }
        tx.commit().await?;
        Ok(imported)
    }

    /// Records a finished sync: the history is whole, and what the
    /// exchange said the balance is.
    pub async fn exchange_synced(
        &self,
        id: i64,
        at: i64,
        exchange_balance_sat: Option<i64>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE exchange_connections SET complete = 1, last_sync_at = ?, exchange_balance_sat = ?, \
             last_error = NULL, last_error_at = NULL WHERE id = ?",
        )
        .bind(at)
        .bind(exchange_balance_sat)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records why a sync stopped, in words the user can act on.
    pub async fn exchange_failed(&self, id: i64, at: i64, message: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE exchange_connections SET last_error = ?, last_error_at = ? WHERE id = ?",
        )
        .bind(message)
        .bind(at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes the connection and its key and secret; the synced rows stay.
    pub async fn remove_exchange_connection(
        &self,
        name: &str,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let found: Option<(i64, WorkspaceId)> =
            sqlx::query_as("SELECT id, workspace_id FROM exchange_connections WHERE name = ?")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((id, workspace)) = found else {
            return Ok(false);
        };
        for secret in [key_secret(id), secret_secret(id)] {
            sqlx::query("DELETE FROM secrets WHERE name = ?")
                .bind(secret)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM exchange_connections WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit
            .clone()
            .in_workspace(workspace)
            .insert(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}

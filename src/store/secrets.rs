//! The `secrets` table: values sealed by the `SecretBox` before they reach
//! this module. Nothing here ever sees a plaintext secret.

use super::audit::AuditEntry;
use super::{Store, StoreError};

pub const KEY_CHECK_SETTING: &str = "secret_key_check";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SealedSecret {
    pub name: String,
    pub sealed: String,
    pub last4: String,
}

impl Store {
    pub async fn put_secret(
        &self,
        name: &str,
        sealed: &str,
        last4: &str,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO secrets (name, sealed, last4, updated_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, last4 = excluded.last4, \
             updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(sealed)
        .bind(last4)
        .bind(audit.at)
        .execute(&mut *tx)
        .await?;
        audit.insert(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn secret(&self, name: &str) -> Result<Option<SealedSecret>, StoreError> {
        Ok(
            sqlx::query_as("SELECT name, sealed, last4 FROM secrets WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn delete_secret(&self, name: &str, audit: &AuditEntry) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let gone = sqlx::query("DELETE FROM secrets WHERE name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        if gone {
            audit.insert(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(gone)
    }

    pub async fn all_secrets(&self) -> Result<Vec<SealedSecret>, StoreError> {
        Ok(
            sqlx::query_as("SELECT name, sealed, last4 FROM secrets ORDER BY name")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Replaces every sealed value and the key check in one transaction (key
    /// rotation): either all secrets move to the new key or none do.
    pub async fn reseal_all(
        &self,
        resealed: &[SealedSecret],
        key_check: &str,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for secret in resealed {
            sqlx::query("UPDATE secrets SET sealed = ? WHERE name = ?")
                .bind(&secret.sealed)
                .bind(&secret.name)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE settings SET value = ? WHERE key = ?")
            .bind(key_check)
            .bind(KEY_CHECK_SETTING)
            .execute(&mut *tx)
            .await?;
        audit.insert(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

//! The `wallets` table: watched wallets, BDK's state for each, and the sync
//! that stores a wallet's new ledger rows with that state in one transaction.

use super::audit::AuditEntry;
use super::transactions::{Keyed, insert_rows};
use super::{Store, StoreError, WorkspaceId};

/// A wallet to add: public descriptors only.
pub struct NewWallet<'a> {
    pub name: &'a str,
    pub network: &'a str,
    /// "descriptor" or "addresses".
    pub kind: &'a str,
    pub external: &'a str,
    pub internal: Option<&'a str>,
    pub gap_limit: u32,
    pub birthday: Option<u32>,
    pub now: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WalletRecord {
    pub id: i64,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub network: String,
    pub kind: String,
    pub external_descriptor: String,
    pub internal_descriptor: Option<String>,
    pub gap_limit: i64,
    pub birthday: Option<i64>,
    pub changeset: Option<String>,
    pub balance_sat: i64,
    pub transactions: i64,
    pub last_sync: Option<i64>,
    /// Set while a sync runs; still set at start-up means it was cut short.
    pub sync_started_at: Option<i64>,
}

/// A `SELECT` of a [`WalletRecord`]'s columns, in its order, then `$rest`:
/// one literal, so no SQL is built at run time.
macro_rules! select_wallets {
    ($rest:literal) => {
        concat!(
            "SELECT id, workspace_id, name, network, kind, external_descriptor, \
             internal_descriptor, gap_limit, birthday, changeset, balance_sat, transactions, \
             last_sync, sync_started_at FROM wallets",
            $rest
        )
    };
}

/// What a sync leaves behind.
pub struct SyncResult<'a> {
    /// BDK's whole state after the sync, merged.
    pub changeset: &'a str,
    pub balance_sat: i64,
    pub transactions: i64,
    pub now: i64,
    pub rows: &'a [Keyed<'a>],
}

impl Store {
    /// Adds a wallet; `None` when the name is taken.
    pub async fn add_wallet(
        &self,
        workspace: WorkspaceId,
        new: &NewWallet<'_>,
        audit: &AuditEntry,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO wallets (workspace_id, name, network, kind, external_descriptor, \
             internal_descriptor, gap_limit, birthday, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (workspace_id, name) DO NOTHING RETURNING id",
        )
        .bind(workspace)
        .bind(new.name)
        .bind(new.network)
        .bind(new.kind)
        .bind(new.external)
        .bind(new.internal)
        .bind(i64::from(new.gap_limit))
        .bind(new.birthday.map(i64::from))
        .bind(new.now)
        .fetch_optional(&mut *tx)
        .await?;
        if id.is_some() {
            audit
                .clone()
                .in_workspace(workspace)
                .insert(&mut tx)
                .await?;
            tx.commit().await?;
        }
        Ok(id)
    }

    /// Every wallet, by name.
    pub async fn wallets(&self) -> Result<Vec<WalletRecord>, StoreError> {
        Ok(sqlx::query_as(select_wallets!(" ORDER BY name"))
            .fetch_all(&self.pool)
            .await?)
    }

    /// A workspace's wallets, by name.
    pub async fn wallets_in(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Vec<WalletRecord>, StoreError> {
        Ok(
            sqlx::query_as(select_wallets!(" WHERE workspace_id = ? ORDER BY name"))
                .bind(workspace)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Wallets with this name: names are unique per workspace, so one in
    /// each workspace that has it.
    pub async fn wallets_named(&self, name: &str) -> Result<Vec<WalletRecord>, StoreError> {
        Ok(
            sqlx::query_as(select_wallets!(" WHERE name = ? ORDER BY workspace_id"))
                .bind(name)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Stores a sync's new ledger rows and the wallet's new state together:
    /// a sync interrupted half-way leaves the previous state whole. Rows
    /// already stored (same wallet and txid) are left alone. Returns how
    /// many rows were added.
    pub async fn save_sync(
        &self,
        wallet: &WalletRecord,
        result: &SyncResult<'_>,
        audit: &AuditEntry,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        // Rows of transactions no longer confirmed in the best chain (a
        // reorg) leave the ledger, with an audit entry naming them.
        let stored: Vec<String> = sqlx::query_scalar(
            "SELECT source_id FROM transactions WHERE workspace_id = ? AND account = ? \
             AND import_id IS NULL AND source_id LIKE 'txid:%'",
        )
        .bind(wallet.workspace_id)
        .bind(&wallet.name)
        .fetch_all(&mut *tx)
        .await?;
        let current: std::collections::HashSet<&str> =
            result.rows.iter().map(|r| r.source_id.as_str()).collect();
        let gone: Vec<&String> = stored
            .iter()
            .filter(|id| !current.contains(id.as_str()))
            .collect();
        for source_id in &gone {
            sqlx::query(
                "DELETE FROM transactions WHERE workspace_id = ? AND account = ? \
                 AND import_id IS NULL AND source_id = ?",
            )
            .bind(wallet.workspace_id)
            .bind(&wallet.name)
            .bind(source_id.as_str())
            .execute(&mut *tx)
            .await?;
        }
        if !gone.is_empty() {
            let txids: Vec<&str> = gone
                .iter()
                .map(|id| id.trim_start_matches("txid:"))
                .collect();
            AuditEntry {
                action: "wallet.reorg",
                ..audit.clone()
            }
            .in_workspace(wallet.workspace_id)
            .target(wallet.name.clone())
            .detail(format!(
                "{} transaction(s) left the best chain and the ledger: {}",
                gone.len(),
                txids.join(", ")
            ))
            .insert(&mut tx)
            .await?;
        }
        let added = insert_rows(&mut tx, wallet.workspace_id, None, result.rows).await?;
        sqlx::query(
            "UPDATE wallets SET changeset = ?, balance_sat = ?, transactions = ?, last_sync = ?, \
             sync_started_at = NULL WHERE id = ?",
        )
        .bind(result.changeset)
        .bind(result.balance_sat)
        .bind(result.transactions)
        .bind(result.now)
        .bind(wallet.id)
        .execute(&mut *tx)
        .await?;
        audit
            .clone()
            .in_workspace(wallet.workspace_id)
            .target(wallet.name.clone())
            .detail(format!("{added} ledger rows added"))
            .insert(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(added)
    }

    pub async fn wallet(&self, id: i64) -> Result<Option<WalletRecord>, StoreError> {
        Ok(sqlx::query_as(select_wallets!(" WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Marks a wallet's sync as running (see [`WalletRecord::sync_started_at`]).
    pub async fn mark_sync_started(&self, id: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE wallets SET sync_started_at = ? WHERE id = ?")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Clears the mark of a sync that failed: there is nothing to resume.
    pub async fn clear_sync_mark(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE wallets SET sync_started_at = NULL WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Wallets whose sync the server stopped in the middle of.
    pub async fn interrupted_wallets(&self) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM wallets WHERE sync_started_at IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

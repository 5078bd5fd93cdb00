//! The `transactions` and `imports` tables.

use std::borrow::Cow;

use rust_decimal::Decimal;

use super::audit::AuditEntry;
use super::{Store, StoreError, WorkspaceId};
use crate::ledger::{Kind, Sats, Tx};

/// 14 values a row: well under SQLite's limit of 32,766 bound values.
const ROWS_PER_STATEMENT: usize = 500;

/// A row ready to store, with the id that makes re-imports no-ops.
pub struct Keyed<'a> {
    pub source_id: String,
    pub tx: &'a Tx,
}

pub struct ImportMeta<'a> {
    pub file_name: &'a str,
    pub sha256: &'a str,
    pub format: &'a str,
    pub actor: &'a str,
    pub now: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Imported {
    pub added: u64,
    pub present: u64,
    /// The `imports` row the stored rows name (none for an empty batch).
    pub import_id: Option<i64>,
}

/// Text borrowed from SQLite's JSON where it can be (a plain `Cow` would
/// always be copied when deserialised), so fields that are only parsed
/// cost no allocation.
#[derive(serde::Deserialize)]
#[serde(transparent)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

impl Text<'_> {
    fn owned(self) -> String {
        self.0.into_owned()
    }
}

/// A stored row as SQLite's JSON gives it back.
type Row<'a> = (
    Text<'a>,
    Text<'a>,
    Text<'a>,
    Text<'a>,
    i64,
    i64,
    Option<Text<'a>>,
    Option<Text<'a>>,
    Text<'a>,
    Option<Text<'a>>,
    Option<Text<'a>>,
    Option<Text<'a>>,
    i64,
);

fn decimal(text: &str) -> Result<Decimal, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Invalid(format!("a stored amount {text:?} is not a decimal")))
}

impl Store {
    /// Stores a whole file's rows in one transaction: all of them or none.
    /// Rows already present (same account and source id) are left alone.
    pub async fn import_transactions(
        &self,
        workspace: WorkspaceId,
        meta: &ImportMeta<'_>,
        rows: &[Keyed<'_>],
        audit: &AuditEntry,
    ) -> Result<Imported, StoreError> {
        let mut tx = self.begin_write().await?;
        let imported = record_import(&mut tx, workspace, meta, rows, audit).await?;
        tx.commit().await?;
        Ok(imported)
    }

    /// How many of these rows are stored already (what a re-import would
    /// leave alone), without storing anything.
    pub async fn count_present(
        &self,
        workspace: WorkspaceId,
        rows: &[Keyed<'_>],
    ) -> Result<u64, StoreError> {
        let mut present = 0u64;
        for batch in rows.chunks(ROWS_PER_STATEMENT) {
            let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT COUNT(*) FROM transactions WHERE workspace_id = ",
            );
            query.push_bind(workspace);
            query.push(" AND (account, source_id) IN (");
            query.push_values(batch, |mut values, row| {
                values
                    .push_bind(row.tx.account.clone())
                    .push_bind(row.source_id.clone());
            });
            query.push(")");
            let count: i64 = query.build_query_scalar().fetch_one(&self.pool).await?;
            present += u64::try_from(count).unwrap_or_default();
        }
        Ok(present)
    }

    /// Every row of a workspace, in time order.
    ///
    /// The rows come back as one JSON array built by SQLite: handing a
    /// hundred thousand rows across one at a time costs several microseconds
    /// each, one array costs almost nothing and parses fast.
    pub async fn transactions(&self, workspace: WorkspaceId) -> Result<Vec<Tx>, StoreError> {
        Ok(self
            .stored_rows(workspace)
            .await?
            .into_iter()
            .map(|(_, tx)| tx)
            .collect())
    }

    /// As [`Store::transactions`], each row with its id, which is how the
    /// user's decisions name rows.
    pub async fn stored_rows(&self, workspace: WorkspaceId) -> Result<Vec<(i64, Tx)>, StoreError> {
        let json: String = sqlx::query_scalar(
            "SELECT COALESCE(json_group_array(json_array(source_id, account, time, kind, sats, fee_sats, \
             fiat_value, currency, fee_fiat, to_account, txid, note, id)), '[]') \
             FROM transactions WHERE workspace_id = ?",
        )
        .bind(workspace)
        .fetch_one(&self.pool)
        .await?;
        let rows: Vec<Row> = serde_json::from_str(&json)
            .map_err(|e| StoreError::Invalid(format!("stored rows do not read back: {e}")))?;
        let mut txs = rows
            .into_iter()
            .map(
                |(
                    source_id,
                    account,
                    time,
                    kind,
                    sats,
                    fee,
                    value,
                    currency,
                    fee_fiat,
                    to,
                    txid,
                    note,
                    id,
                )| {
                    let invalid =
                        |what: &str| StoreError::Invalid(format!("a stored {what} is malformed"));
                    let tx = Tx {
                        id: (!source_id.0.starts_with("sha256:")).then(|| source_id.owned()),
                        time: time.0.parse().map_err(|_| invalid("time"))?,
                        kind: kind.0.parse::<Kind>().map_err(|_| invalid("type"))?,
                        account: account.owned(),
                        btc: Sats(sats),
                        fee_btc: Sats(fee),
                        fiat_value: value.map(|v| decimal(&v.0)).transpose()?,
                        currency: currency.map(Text::owned),
                        fee_fiat: decimal(&fee_fiat.0)?,
                        to_account: to.map(Text::owned),
                        txid: txid.map(Text::owned),
                        note: note.map(Text::owned),
                    };
                    Ok((id, tx))
                },
            )
            .collect::<Result<Vec<(i64, Tx)>, StoreError>>()?;
        txs.sort_by(|(a_id, a), (b_id, b)| (a.time, a_id).cmp(&(b.time, b_id)));
        // BIP-329 `tx` labels are the notes of the rows with their txid; the
        // stored rows themselves are never changed.
        let labels: std::collections::HashMap<String, String> =
            self.tx_labels(workspace).await?.into_iter().collect();
        if !labels.is_empty() {
            for (_, tx) in &mut txs {
                if let Some(label) = tx
                    .txid
                    .as_deref()
                    .and_then(|t| labels.get(&t.to_ascii_lowercase()))
                {
                    tx.note = Some(label.clone());
                }
            }
        }
        Ok(txs)
    }

    /// The workspace with this name, created (and audited) if missing.
    pub async fn workspace_named(
        &self,
        name: &str,
        audit: &AuditEntry,
    ) -> Result<WorkspaceId, StoreError> {
        if let Some(w) = self.workspace_by_name(name).await? {
            return Ok(w.id);
        }
        self.create_workspace(name, audit).await
    }
}

/// Inserts rows inside the caller's transaction; rows already present (same
/// account and source id) are left alone. Returns how many were added.
/// One import's rows, its record and its audit entry, inside a caller's
/// transaction (a file import, or an exchange batch with its cursor).
pub(super) async fn record_import(
    tx: &mut sqlx::SqliteConnection,
    workspace: WorkspaceId,
    meta: &ImportMeta<'_>,
    rows: &[Keyed<'_>],
    audit: &AuditEntry,
) -> Result<Imported, StoreError> {
    let import_id: i64 = sqlx::query_scalar(
        "INSERT INTO imports (workspace_id, file_name, sha256, format, rows_added, rows_present, imported_at, actor) \
         VALUES (?, ?, ?, ?, 0, 0, ?, ?) RETURNING id",
    )
    .bind(workspace)
    .bind(meta.file_name)
    .bind(meta.sha256)
    .bind(meta.format)
    .bind(meta.now)
    .bind(meta.actor)
    .fetch_one(&mut *tx)
    .await?;
    let added = insert_rows(tx, workspace, Some(import_id), rows).await?;
    let present = rows.len() as u64 - added;
    sqlx::query("UPDATE imports SET rows_added = ?, rows_present = ? WHERE id = ?")
        .bind(added as i64)
        .bind(present as i64)
        .bind(import_id)
        .execute(&mut *tx)
        .await?;
    audit
        .clone()
        .in_workspace(workspace)
        .detail(format!("{added} added, {present} already present"))
        .insert(tx)
        .await?;
    Ok(Imported {
        added,
        present,
        import_id: Some(import_id),
    })
}

pub(super) async fn insert_rows(
    tx: &mut sqlx::SqliteConnection,
    workspace: WorkspaceId,
    import_id: Option<i64>,
    rows: &[Keyed<'_>],
) -> Result<u64, StoreError> {
    // Many rows per statement: one round trip per batch instead of per
    // row. The statement text is fixed; every value is a bound parameter.
    let mut added = 0;
    for batch in rows.chunks(ROWS_PER_STATEMENT) {
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO transactions (workspace_id, import_id, source_id, account, time, kind, sats, \
             fee_sats, fiat_value, currency, fee_fiat, to_account, txid, note) ",
        );
        insert.push_values(batch, |mut values, row| {
            let t = row.tx;
            values
                .push_bind(workspace)
                .push_bind(import_id)
                .push_bind(row.source_id.clone())
                .push_bind(t.account.clone())
                .push_bind(t.time.to_string())
                .push_bind(t.kind.as_str())
                .push_bind(t.btc.0)
                .push_bind(t.fee_btc.0)
                .push_bind(t.fiat_value.map(|v| v.to_string()))
                .push_bind(t.currency.clone())
                .push_bind(t.fee_fiat.to_string())
                .push_bind(t.to_account.clone())
                .push_bind(t.txid.clone())
                .push_bind(t.note.clone());
        });
        insert.push(" ON CONFLICT (workspace_id, account, source_id) DO NOTHING");
        added += insert.build().execute(&mut *tx).await?.rows_affected();
    }
    Ok(added)
}

impl Store {
    /// Whether an account this import wrote to holds rows with ids and rows
    /// without: only then can a row be a second copy of another.
    pub async fn import_mixes_ids(
        &self,
        workspace: WorkspaceId,
        import_id: i64,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM transactions WHERE workspace_id = ? AND account IN              (SELECT account FROM transactions WHERE import_id = ?) GROUP BY account              HAVING MIN(source_id LIKE 'sha256:%') = 0 AND MAX(source_id LIKE 'sha256:%') = 1)",
        )
        .bind(workspace)
        .bind(import_id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The ids of the rows an import stored.
    pub async fn import_row_ids(&self, import_id: i64) -> Result<Vec<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM transactions WHERE import_id = ?")
                .bind(import_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }
}

/// An import as listed on the Imports page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportRecord {
    pub file_name: String,
    pub rows_added: i64,
    pub rows_present: i64,
    pub imported_at: i64,
    pub actor: String,
}

impl Store {
    pub async fn recent_imports(
        &self,
        workspace: WorkspaceId,
        limit: i64,
    ) -> Result<Vec<ImportRecord>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT file_name, rows_added, rows_present, imported_at, actor FROM imports \
             WHERE workspace_id = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(workspace)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

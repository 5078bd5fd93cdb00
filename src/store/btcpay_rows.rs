//! Writing BTCPay rows: one row per source id, and the generation a
//! payment's income is booked under when it is settled again after an
//! invalidation reversed it.

use super::btcpay::{Integration, REVERSAL_PREFIX};
use super::{StoreError, WorkspaceId};
use crate::ledger::Tx;
use crate::ledger::merchant::INCOME_SOURCE;

/// The source id a BTCPay row is booked under now, or `None` when it is
/// booked and in force. A payment whose income was reversed (the invoice
/// was marked invalid) and that BTCPay reports settled again (marked
/// settled by hand) is booked again, once, as its next generation:
/// `<source>#2`, `#3`, … Each generation has its own reversal source id, so
/// invalid → settled → invalid → settled books and reverses each exactly
/// once, whatever the order of the deliveries that report it.
pub(super) async fn rebooking(
    conn: &mut sqlx::SqliteConnection,
    integration: &Integration,
    source_id: &str,
) -> Result<Option<String>, StoreError> {
    if !source_id.starts_with(INCOME_SOURCE) {
        return Ok(Some(source_id.to_string()));
    }
    let booked: Vec<String> = sqlx::query_scalar(
        // A range, not a prefix test, so that the unique index answers it.
        "SELECT source_id FROM transactions WHERE workspace_id = ?1 AND account = ?2 \
         AND (source_id = ?3 OR (source_id >= ?3 || '#' AND source_id < ?3 || '$'))",
    )
    .bind(integration.workspace_id)
    .bind(&integration.account)
    .bind(source_id)
    .fetch_all(&mut *conn)
    .await?;
    let generation = |s: &str| match s.strip_prefix(source_id) {
        Some("") => Some(1),
        Some(rest) => rest.strip_prefix('#').and_then(|n| n.parse::<u32>().ok()),
        None => None,
    };
    let Some(latest) = booked.iter().filter_map(|s| generation(s)).max() else {
        return Ok(Some(source_id.to_string()));
    };
    let latest_id = match latest {
        1 => source_id.to_string(),
        n => format!("{source_id}#{n}"),
    };
    let key = latest_id.strip_prefix(INCOME_SOURCE).unwrap_or(&latest_id);
    let reversed: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM transactions WHERE workspace_id = ? AND account = ? AND source_id = ?",
    )
    .bind(integration.workspace_id)
    .bind(&integration.account)
    .bind(format!("{REVERSAL_PREFIX}{key}"))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(reversed.map(|_| format!("{source_id}#{}", latest + 1)))
}

pub(super) async fn insert_row(
    conn: &mut sqlx::SqliteConnection,
    workspace: WorkspaceId,
    source_id: &str,
    t: &Tx,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "INSERT INTO transactions (workspace_id, import_id, source_id, account, time, kind, sats, \
         fee_sats, fiat_value, currency, fee_fiat, to_account, txid, note) \
         VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (workspace_id, account, source_id) DO NOTHING",
    )
    .bind(workspace)
    .bind(source_id)
    .bind(&t.account)
    .bind(t.time.to_string())
    .bind(t.kind.as_str())
    .bind(t.btc.0)
    .bind(t.fee_btc.0)
    .bind(t.fiat_value.map(|v| v.to_string()))
    .bind(&t.currency)
    .bind(t.fee_fiat.to_string())
    .bind(&t.to_account)
    .bind(&t.txid)
    .bind(&t.note)
    .execute(conn)
    .await?
    .rows_affected())
}

//! The `btcpay_integrations` and `btcpay_deliveries` tables, and booking an
//! invoice's income: rows, the delivery that caused them and any reversal go
//! in one transaction, so a delivery is either fully applied or not at all.

use sqlx::FromRow;

use super::audit::AuditEntry;
use super::btcpay_rows::{insert_row, rebooking};
use super::{Store, StoreError, WorkspaceId};
use crate::ledger::review::Adjustment;
use crate::ledger::{Kind, Tx};
use crate::text::Field;

/// The sealed-secret names of an integration's API key and webhook secret.
pub fn api_key_secret(id: i64) -> String {
    format!("btcpay.{id}.api-key")
}

pub fn webhook_secret_name(id: i64) -> String {
    format!("btcpay.{id}.webhook-secret")
}

/// How audit entries name an integration.
pub fn audit_target(id: i64) -> String {
    format!("btcpay integration {id}")
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Integration {
    pub id: i64,
    pub workspace_id: WorkspaceId,
    pub url: String,
    pub store_id: String,
    pub account: String,
    pub server_version: String,
    pub api_key_last4: String,
    pub webhook_secret_last4: String,
    pub created_at: i64,
    pub last_sweep_at: Option<i64>,
    pub sweep_cursor: i64,
    /// The webhook Ledgersys registered in BTCPay, if it did.
    pub webhook_id: Option<String>,
    /// Deliveries refused for a bad or missing signature.
    pub refused_deliveries: i64,
    pub last_refused_at: Option<i64>,
}

pub struct NewIntegration<'a> {
    pub url: &'a str,
    pub store_id: &'a str,
    pub account: &'a str,
    pub server_version: &'a str,
    pub api_key_last4: &'a str,
    pub webhook_secret_last4: &'a str,
}

/// Sealed `(api key, webhook secret)` for the integration with this id.
pub type Sealer<'a> = dyn FnOnce(i64) -> Result<(String, String), String> + Send + 'a;

/// The delivery a booking came from, recorded with it.
pub struct Delivery<'a> {
    pub original_id: &'a str,
    pub event_type: &'a str,
    pub invoice_id: Option<&'a str>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Booked {
    /// The delivery had been applied before: nothing changed.
    pub duplicate: bool,
    pub added: u64,
    pub reversed: u64,
}

/// Source ids of reversal rows start with this, then the income row's
/// source id without its `btcpay:` prefix.
pub const REVERSAL_PREFIX: &str = "btcpay-reversal:";

macro_rules! columns {
    () => {
        "id, workspace_id, url, store_id, account, server_version, api_key_last4, \
         webhook_secret_last4, created_at, last_sweep_at, sweep_cursor, webhook_id, \
         refused_deliveries, last_refused_at"
    };
}

impl Store {
    /// Stores the integration and its sealed secrets together.
    pub async fn add_btcpay_integration(
        &self,
        workspace: WorkspaceId,
        new: &NewIntegration<'_>,
        seal: Box<Sealer<'_>>,
        audit: &AuditEntry,
    ) -> Result<i64, StoreError> {
        Field::Url.check("the BTCPay Server address", new.url)?;
        Field::Id.check("the store id", new.store_id)?;
        Field::Name.check("the account name", new.account)?;
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO btcpay_integrations (workspace_id, url, store_id, account, server_version, \
             api_key_last4, webhook_secret_last4, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(workspace)
        .bind(new.url)
        .bind(new.store_id)
        .bind(new.account)
        .bind(new.server_version)
        .bind(new.api_key_last4)
        .bind(new.webhook_secret_last4)
        .bind(audit.at)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Invalid(format!(
                "store {} of {} is already connected to this workspace",
                new.store_id, new.url
            )),
            _ => StoreError::Sql(e),
        })?;
        let (key, secret) = seal(id).map_err(StoreError::Invalid)?;
        for (name, sealed, last4) in [
            (api_key_secret(id), key, new.api_key_last4),
            (webhook_secret_name(id), secret, new.webhook_secret_last4),
        ] {
            sqlx::query(
                "INSERT INTO secrets (name, sealed, last4, updated_at) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, last4 = excluded.last4, \
                 updated_at = excluded.updated_at",
            )
            .bind(&name)
            .bind(&sealed)
            .bind(last4)
            .bind(audit.at)
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
        Ok(id)
    }

    pub async fn btcpay_integration(&self, id: i64) -> Result<Option<Integration>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM btcpay_integrations WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn btcpay_integrations(&self) -> Result<Vec<Integration>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM btcpay_integrations ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn btcpay_integrations_in(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Vec<Integration>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM btcpay_integrations WHERE workspace_id = ? ORDER BY id"
        ))
        .bind(workspace)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Deliveries taken in for an integration, and when the last came.
    pub async fn btcpay_delivery_stats(
        &self,
        integration: i64,
    ) -> Result<(i64, Option<i64>), StoreError> {
        Ok(sqlx::query_as(
            "SELECT COUNT(*), MAX(received_at) FROM btcpay_deliveries WHERE integration_id = ?",
        )
        .bind(integration)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Invoices with income booked by the sweep alone: no settlement
    /// webhook for them was ever taken in.
    pub async fn btcpay_invoices_without_webhook(
        &self,
        integration: &Integration,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT inv FROM (SELECT substr(source_id, 8, instr(substr(source_id, 8), ':') - 1) AS inv \
             FROM transactions WHERE workspace_id = ? AND account = ? AND kind = 'income' \
             AND substr(source_id, 1, 7) = 'btcpay:') \
             WHERE NOT EXISTS (SELECT 1 FROM btcpay_deliveries d WHERE d.integration_id = ? \
             AND d.invoice_id = inv AND d.event_type IN ('InvoiceSettled', 'InvoicePaymentSettled')) \
             ORDER BY inv",
        )
        .bind(integration.workspace_id)
        .bind(&integration.account)
        .bind(integration.id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn btcpay_delivery_seen(
        &self,
        integration: i64,
        original_id: &str,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT 1 FROM btcpay_deliveries WHERE integration_id = ? AND original_delivery_id = ?",
        )
        .bind(integration)
        .bind(original_id)
        .fetch_optional(&self.pool)
        .await?
        .is_some())
    }

    /// Books an invoice's income rows (present ones are left alone) and,
    /// when `reverse_prefix` names an invalidated invoice, reverses its
    /// income: an opposing `withdrawal` row and a decision that reclassifies
    /// the income row as an unexplained `deposit`, both marked as BTCPay's.
    pub async fn book_btcpay(
        &self,
        integration: &Integration,
        income: &[(String, Tx)],
        reverse_prefix: Option<&str>,
        delivery: Option<&Delivery<'_>>,
        audit: &AuditEntry,
    ) -> Result<Booked, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(d) = delivery {
            let fresh = sqlx::query(
                "INSERT INTO btcpay_deliveries (integration_id, original_delivery_id, event_type, invoice_id, received_at) \
                 VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(integration.id)
            .bind(d.original_id)
            .bind(d.event_type)
            .bind(d.invoice_id)
            .bind(audit.at)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !fresh {
                return Ok(Booked {
                    duplicate: true,
                    ..Booked::default()
                });
            }
        }
        let workspace = integration.workspace_id;
        let mut booked = Booked::default();
        for (source_id, row) in income {
            // Most payments are new: one insert books them. Only a payment
            // booked before needs the look-ups that tell whether it was
            // reversed and is now settled again.
            if insert_row(&mut tx, workspace, source_id, row).await? == 1 {
                booked.added += 1;
                continue;
            }
            let Some(source_id) = rebooking(&mut tx, integration, source_id).await? else {
                continue;
            };
            let again;
            let row = if source_id.contains('#') {
                let mut r = row.clone();
                r.note = Some(format!(
                    "{}; booked again: settled after it was marked invalid",
                    r.note.as_deref().unwrap_or("BTCPay income")
                ));
                again = r;
                &again
            } else {
                row
            };
            booked.added += insert_row(&mut tx, workspace, &source_id, row).await?;
        }
        if let Some(prefix) = reverse_prefix {
            let rows: Vec<(i64, String, i64, String, Option<String>)> = sqlx::query_as(
                "SELECT id, source_id, sats, time, txid FROM transactions \
                 WHERE workspace_id = ? AND account = ? AND kind = 'income' AND substr(source_id, 1, ?) = ?",
            )
            .bind(workspace)
            .bind(&integration.account)
            .bind(prefix.chars().count() as i64)
            .bind(prefix)
            .fetch_all(&mut *tx)
            .await?;
            for (row_id, source_id, sats, time, txid) in rows {
                let key = source_id.strip_prefix("btcpay:").unwrap_or(&source_id);
                let reversal = Tx {
                    id: None,
                    time: time
                        .parse()
                        .map_err(|_| StoreError::Invalid("a stored time is malformed".into()))?,
                    kind: Kind::Withdrawal,
                    account: integration.account.clone(),
                    btc: crate::ledger::Sats(sats),
                    fee_btc: crate::ledger::Sats(0),
                    fiat_value: None,
                    currency: None,
                    fee_fiat: rust_decimal::Decimal::ZERO,
                    to_account: None,
                    txid,
                    note: Some(format!(
                        "reverses BTCPay income {source_id}: the invoice was marked invalid after settlement"
                    )),
                };
                let added = insert_row(
                    &mut tx,
                    workspace,
                    &format!("{REVERSAL_PREFIX}{key}"),
                    &reversal,
                )
                .await?;
                if added == 1 {
                    let decision = Adjustment::Reclassify {
                        row: row_id,
                        kind: Kind::Deposit,
                        fiat_value: None,
                        currency: None,
                    };
                    super::adjustments::insert(
                        &mut tx,
                        workspace,
                        &decision,
                        &audit.actor,
                        audit.at,
                    )
                    .await?;
                    booked.reversed += 1;
                }
            }
        }
        if booked.added > 0 || booked.reversed > 0 {
            audit
                .clone()
                .in_workspace(workspace)
                .target(audit_target(integration.id))
                .detail(format!(
                    "{} row(s) added, {} reversed",
                    booked.added, booked.reversed
                ))
                .insert(&mut tx)
                .await?;
        }
        tx.commit().await?;
        Ok(booked)
    }

    /// Records a finished sweep and where the next one starts.
    pub async fn finish_btcpay_sweep(
        &self,
        integration: i64,
        cursor: i64,
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE btcpay_integrations SET sweep_cursor = ?, last_sweep_at = ? WHERE id = ?",
        )
        .bind(cursor)
        .bind(at)
        .bind(integration)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Sats;

    fn income(account: &str, payment: &str, sats: i64) -> (String, Tx) {
        let tx = Tx {
            id: None,
            time: "2025-01-01T00:00:00Z".parse().expect("time"),
            kind: Kind::Income,
            account: account.into(),
            btc: Sats(sats),
            fee_btc: Sats(0),
            fiat_value: Some(rust_decimal::Decimal::from(sats / 100)),
            currency: Some("USD".into()),
            fee_fiat: rust_decimal::Decimal::ZERO,
            to_account: None,
            txid: None,
            note: None,
        };
        (format!("btcpay:INV:{payment}"), tx)
    }

    #[tokio::test]
    async fn a_delivery_books_once_and_a_reversal_happens_once() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(dir.path()).await.expect("open");
        let audit = AuditEntry::new(1, None, "test", "btcpay.income");
        let ws = store.create_workspace("shop", &audit).await.expect("ws");
        let new = NewIntegration {
            url: "http://btcpay.invalid",
            store_id: "S1",
            account: "BTCPay S1",
            server_version: "2.4.1",
            api_key_last4: "1234",
            webhook_secret_last4: "5678",
        };
        let id = store
            .add_btcpay_integration(
                ws,
                &new,
                Box::new(|_| Ok(("sealed-key".into(), "sealed-secret".into()))),
                &audit,
            )
            .await
            .expect("add");
        let integration = store
            .btcpay_integration(id)
            .await
            .expect("read")
            .expect("found");
        let rows = [income("BTCPay S1", "p1", 10_000)];
        let delivery = Delivery {
            original_id: "D1",
            event_type: "InvoiceSettled",
            invoice_id: Some("INV"),
        };
        let first = store
            .book_btcpay(&integration, &rows, None, Some(&delivery), &audit)
            .await
            .expect("book");
        assert_eq!((first.duplicate, first.added), (false, 1));
        let again = store
            .book_btcpay(&integration, &rows, None, Some(&delivery), &audit)
            .await
            .expect("book");
        assert!(again.duplicate);
        // The sweep brings the same payment: present, not added.
        let swept = store
            .book_btcpay(&integration, &rows, None, None, &audit)
            .await
            .expect("book");
        assert_eq!(swept.added, 0);
        for expected in [1, 0] {
            let reversed = store
                .book_btcpay(&integration, &[], Some("btcpay:INV:"), None, &audit)
                .await
                .expect("reverse");
            assert_eq!(reversed.reversed, expected);
        }
        let stored = store.stored_rows(ws).await.expect("rows");
        assert_eq!(stored.len(), 2);
        assert_eq!(stored[1].1.kind, Kind::Withdrawal);
        assert_eq!(stored[1].1.btc, Sats(10_000));
        let decisions = store.decisions(ws).await.expect("decisions");
        assert_eq!(
            decisions,
            vec![Adjustment::Reclassify {
                row: stored[0].0,
                kind: Kind::Deposit,
                fiat_value: None,
                currency: None
            }]
        );
        assert_eq!(
            store
                .btcpay_invoices_without_webhook(&integration)
                .await
                .expect("missed"),
            Vec::<String>::new(),
            "INV's settlement webhook came"
        );
    }
}

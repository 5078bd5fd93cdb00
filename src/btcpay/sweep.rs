//! The sweep: every invoice since the integration's cursor, read from the
//! Greenfield API and booked like a webhook would book it. On demand (CLI)
//! and periodically in the server.

use std::collections::HashMap;

use super::{ACTOR, BtcpayError, Client, ClientError, Service, Swept, income, payout, wire};
use crate::store::AuditEntry;
use crate::store::btcpay::Integration;

impl Service {
    /// Reconciles every integration (or one) against the Greenfield API.
    pub async fn sweep(
        &self,
        only: Option<i64>,
        actor: &str,
        now: i64,
    ) -> Result<Vec<Swept>, BtcpayError> {
        let all = self.store.btcpay_integrations().await?;
        if let Some(id) = only
            && !all.iter().any(|i| i.id == id)
        {
            return Err(BtcpayError::Refused(format!("no BTCPay integration {id}")));
        }
        let mut reports = Vec::new();
        for integration in all.iter().filter(|i| only.is_none_or(|id| id == i.id)) {
            reports.push(self.sweep_one(integration, actor, now).await?);
        }
        Ok(reports)
    }

    async fn sweep_one(
        &self,
        integration: &Integration,
        actor: &str,
        now: i64,
    ) -> Result<Swept, BtcpayError> {
        let client = self.opened(integration).await?.client.clone();
        let (_, version) = client.server_version().await?;
        let invoices = client
            .invoices_since(&integration.store_id, integration.sweep_cursor, version)
            .await?;
        let mut swept = Swept {
            integration_id: integration.id,
            invoices: invoices.len(),
            added: 0,
            reversed: 0,
            payouts: 0,
            cursor: integration.sweep_cursor,
        };
        for invoice in &invoices {
            let outcome =
                income::outcome(&integration.account, invoice).map_err(BtcpayError::Refused)?;
            let prefix = outcome.reverse.then(|| income::invoice_prefix(&invoice.id));
            let booked = self
                .store
                .book_btcpay(
                    integration,
                    &outcome.income,
                    prefix.as_deref(),
                    None,
                    &AuditEntry::new(now, None, actor, "btcpay.income"),
                )
                .await?;
            swept.added += booked.added;
            swept.reversed += booked.reversed;
        }
        let (payouts, added) = self.sweep_payouts(integration, &client, actor, now).await?;
        swept.payouts = payouts;
        swept.added += added;
        swept.cursor = next_cursor(integration.sweep_cursor, &invoices, now);
        self.store
            .finish_btcpay_sweep(integration.id, swept.cursor, now)
            .await?;
        Ok(swept)
    }
}

impl Service {
    /// Every payout of the store, the completed ones booked (each once). A
    /// key that may read invoices but not payouts (`canviewinvoices`
    /// alone) is answered 403: then there is nothing to book. A server
    /// without the list answers 404, which is no reason to fail either.
    async fn sweep_payouts(
        &self,
        integration: &Integration,
        client: &Client,
        actor: &str,
        now: i64,
    ) -> Result<(usize, u64), BtcpayError> {
        let payouts = match client.payouts(&integration.store_id).await {
            Ok(list) => list,
            Err(ClientError::Status { status: 403, .. }) => return Ok((0, 0)),
            // Older servers, and stores without payouts, have no such list:
            // the invoices are still reconciled, and the sweep says so once.
            Err(ClientError::Status { status: 404, .. }) => {
                tracing::warn!(
                    integration = integration.id,
                    "BTCPay answered 404 to the payouts list (an older server or a store without payouts); payouts were not swept"
                );
                return Ok((0, 0));
            }
            Err(e) => return Err(e.into()),
        };
        let mut currencies = HashMap::new();
        let (mut completed, mut added) = (0, 0);
        for p in payouts
            .iter()
            .filter(|p| p.state.eq_ignore_ascii_case("completed"))
        {
            let currency = match &p.pull_payment_id {
                Some(pp) => {
                    if !currencies.contains_key(pp) {
                        // A pull payment BTCPay no longer has: the payout
                        // is still booked, valued from the price table.
                        let c = match client.pull_payment_currency(pp).await {
                            Ok(c) => Some(c),
                            Err(ClientError::Status { status: 404, .. }) => None,
                            Err(e) => return Err(e.into()),
                        };
                        currencies.insert(pp.clone(), c);
                    }
                    currencies.get(pp).cloned().flatten()
                }
                None => None,
            };
            // One payout BTCPay describes oddly must not stop every sweep.
            let row = match payout::outcome(&integration.account, p, currency.as_deref()) {
                Ok(row) => row,
                Err(e) => {
                    tracing::warn!(integration = integration.id, error = %e, "BTCPay payout skipped");
                    continue;
                }
            };
            completed += 1;
            let booked = self
                .store
                .book_btcpay(
                    integration,
                    row.as_slice(),
                    None,
                    None,
                    &AuditEntry::new(now, None, actor, "btcpay.payout"),
                )
                .await?;
            added += booked.added;
        }
        Ok((completed, added))
    }
}

/// How often the server sweeps every integration on its own, the first
/// time at start (events lost while it was down are picked up then).
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Sweeps every integration now and then every [`SWEEP_EVERY`], each on
/// its own so that one unreachable server does not hold up the others.
///
/// The first run covers `at_start`, the integrations that existed when the
/// server opened its database, so that one added right after start is left
/// to its own `btcpay add`/webhooks until the next run.
pub async fn sweep_periodically(service: Service, at_start: Vec<i64>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut first = Some(at_start);
    loop {
        every.tick().await;
        let ids = match first.take() {
            Some(ids) => ids,
            None => match service.store.btcpay_integrations().await {
                Ok(all) => all.into_iter().map(|i| i.id).collect::<Vec<_>>(),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot list BTCPay integrations to sweep");
                    continue;
                }
            },
        };
        if let Err(e) = service.flush_refusals(crate::clock::now()).await {
            tracing::warn!(error = %e, "cannot sum up refused BTCPay deliveries");
        }
        for id in ids {
            match service.sweep(Some(id), ACTOR, crate::clock::now()).await {
                Ok(done) => {
                    for s in done.iter().filter(|s| s.added > 0 || s.reversed > 0) {
                        tracing::info!(
                            integration = id,
                            added = s.added,
                            reversed = s.reversed,
                            "BTCPay sweep booked income"
                        );
                    }
                }
                Err(e) => {
                    tracing::warn!(integration = id, error = %e, "BTCPay sweep failed; retrying at the next one")
                }
            }
        }
    }
}

/// The next sweep starts at the oldest invoice that can still change (new,
/// processing, or still monitored for payments); when none can, just after
/// the newest one seen.
fn next_cursor(current: i64, invoices: &[wire::Invoice], now: i64) -> i64 {
    let open = invoices
        .iter()
        .filter(|i| {
            matches!(i.status.as_str(), "New" | "Processing") || i.monitoring_expiration > now
        })
        .map(|i| i.created_time)
        .min();
    match open {
        Some(oldest) => oldest.max(current),
        None => invoices
            .iter()
            .map(|i| i.created_time)
            .max()
            .map_or(current, |newest| newest.max(current)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(created: i64, status: &str, monitored_until: i64) -> wire::Invoice {
        wire::Invoice {
            id: format!("I{created}"),
            status: status.into(),
            currency: "USD".into(),
            created_time: created,
            monitoring_expiration: monitored_until,
            metadata: serde_json::Value::Null,
            payment_methods: None,
        }
    }

    #[test]
    fn the_cursor_waits_for_invoices_that_can_still_change() {
        let now = 1_000;
        let list = [
            inv(900, "Settled", 0),
            inv(500, "New", 2_000),
            inv(700, "Expired", 1_500),
        ];
        assert_eq!(next_cursor(0, &list, now), 500);
        let closed = [inv(900, "Settled", 0), inv(800, "Invalid", 10)];
        assert_eq!(next_cursor(0, &closed, now), 900);
        assert_eq!(next_cursor(300, &[], now), 300);
    }
}

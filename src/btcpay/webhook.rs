//! One webhook delivery: verified on its raw bytes, deduplicated by its
//! original delivery id, then the invoice is read back from BTCPay and its
//! income booked with the delivery record in one transaction.

use super::{
    ACTOR, Client, Received, Service, WebhookError, income, payout, refusals, signature, wire,
};
use crate::ledger::Tx;
use crate::store::AuditEntry;
use crate::store::btcpay::{Delivery, Integration, audit_target};

impl Service {
    /// Takes in one webhook delivery: signature first, then the event, then
    /// the invoice as BTCPay reports it now, committed before answering.
    pub async fn receive(
        &self,
        integration_id: i64,
        body: &[u8],
        signature: Option<&str>,
        client_addr: &str,
        now: i64,
    ) -> Result<Received, WebhookError> {
        let integration = self
            .store
            .btcpay_integration(integration_id)
            .await?
            .ok_or(WebhookError::UnknownIntegration)?;
        let opened = self
            .opened(&integration)
            .await
            .map_err(|e| WebhookError::Internal(e.to_string()))?;
        if !signature::verify(&opened.webhook_secret, body, signature) {
            self.refused(&integration, signature.is_some(), client_addr, now)
                .await?;
            return Err(WebhookError::BadSignature);
        }
        let event: wire::Event =
            serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
        if event.is_test() {
            return Ok(Received::Ignored("test event"));
        }
        if event
            .store_id
            .as_deref()
            .is_some_and(|s| s != integration.store_id)
        {
            return Ok(Received::Ignored("event of another store"));
        }
        let original = event.original_id().to_string();
        if self
            .store
            .btcpay_delivery_seen(integration.id, &original)
            .await?
        {
            return Ok(Received::Duplicate);
        }
        let about_income = matches!(
            event.kind.as_str(),
            "InvoiceSettled" | "InvoicePaymentSettled" | "InvoiceInvalid"
        );
        let (income, reverse) = match (&event.invoice_id, about_income) {
            (Some(invoice_id), true) => {
                if !wire::is_plain_id(invoice_id) {
                    return Err(WebhookError::Malformed(format!(
                        "{invoice_id:?} is not an invoice id"
                    )));
                }
                let invoice = opened
                    .client
                    .invoice(&integration.store_id, invoice_id)
                    .await
                    .map_err(|e| WebhookError::Upstream(e.to_string()))?;
                let outcome = income::outcome(&integration.account, &invoice)
                    .map_err(WebhookError::Upstream)?;
                (
                    outcome.income,
                    outcome.reverse.then(|| income::invoice_prefix(invoice_id)),
                )
            }
            _ => match (&event.payout_id, event.kind.starts_with("Payout")) {
                (Some(payout_id), true) => (
                    self.payout_rows(&opened.client, &integration, payout_id)
                        .await?,
                    None,
                ),
                _ => (Vec::new(), None),
            },
        };
        let delivery = Delivery {
            original_id: &original,
            event_type: &event.kind,
            invoice_id: event.invoice_id.as_deref(),
        };
        let booked = self
            .store
            .book_btcpay(
                &integration,
                &income,
                reverse.as_deref(),
                Some(&delivery),
                &AuditEntry::new(now, None, ACTOR, "btcpay.income").from_addr(client_addr),
            )
            .await?;
        Ok(if booked.duplicate {
            Received::Duplicate
        } else {
            Received::Applied(booked)
        })
    }
}

impl Service {
    /// A payout event is a hint too: the payout is read back, and booked
    /// only if BTCPay now says it is completed.
    async fn payout_rows(
        &self,
        client: &Client,
        integration: &Integration,
        payout_id: &str,
    ) -> Result<Vec<(String, Tx)>, WebhookError> {
        if !wire::is_plain_id(payout_id) {
            return Err(WebhookError::Malformed(format!(
                "{payout_id:?} is not a payout id"
            )));
        }
        let upstream = |e: super::ClientError| WebhookError::Upstream(e.to_string());
        let found = match client.payout(&integration.store_id, payout_id).await {
            Ok(found) => found,
            // No such payout, or a key that may not read payouts
            // (`canviewinvoices` alone): asking again will not change that,
            // so the delivery is taken in and books nothing.
            Err(super::ClientError::Status {
                status: 403 | 404, ..
            }) => return Ok(Vec::new()),
            Err(e) => return Err(upstream(e)),
        };
        let currency = match &found.pull_payment_id {
            Some(pp) if found.state.eq_ignore_ascii_case("completed") => {
                match client.pull_payment_currency(pp).await {
                    Ok(c) => Some(c),
                    Err(super::ClientError::Status { status: 404, .. }) => None,
                    Err(e) => return Err(upstream(e)),
                }
            }
            _ => None,
        };
        let row = payout::outcome(&integration.account, &found, currency.as_deref())
            .map_err(WebhookError::Upstream)?;
        Ok(row.into_iter().collect())
    }
}

impl Service {
    /// Counts a refused delivery, and audits it unless a flood of them is
    /// under way ([`refusals`]).
    async fn refused(
        &self,
        integration: &Integration,
        had_signature: bool,
        client_addr: &str,
        now: i64,
    ) -> Result<(), WebhookError> {
        self.store.count_btcpay_refusal(integration.id, now).await?;
        let decision = self
            .refusals
            .lock()
            .map(|mut all| all.entry(integration.id).or_default().record(now))
            .unwrap_or(refusals::Decision {
                audit: true,
                flood: false,
                summary: None,
            });
        let entry = |action: &'static str| {
            AuditEntry::new(now, None, ACTOR, action)
                .in_workspace(integration.workspace_id)
                .target(audit_target(integration.id))
                .from_addr(client_addr)
        };
        if let Some(unlogged) = decision.summary {
            self.store
                .audit(&summary_entry(integration, unlogged, now))
                .await?;
        }
        if decision.audit {
            self.store
                .audit(&entry("btcpay.webhook_refused").detail(if had_signature {
                    "the BTCPay-Sig signature does not match"
                } else {
                    "no BTCPay-Sig header"
                }))
                .await?;
        }
        if decision.flood {
            self.store
                .audit(&entry("btcpay.webhook_refused_flood").detail(format!(
                    "more than {} deliveries with a bad signature within a minute; the rest of \
                     the minute's are counted and summed up in one entry, not logged one by one",
                    refusals::AUDITED_PER_WINDOW
                )))
                .await?;
        }
        Ok(())
    }

    /// Writes the summaries of flood windows that are over (run with each
    /// periodic sweep, so that a flood that stopped is still summed up).
    pub async fn flush_refusals(&self, now: i64) -> Result<(), crate::store::StoreError> {
        let closed: Vec<(i64, refusals::Unlogged)> = match self.refusals.lock() {
            Ok(mut all) => all
                .iter_mut()
                .filter_map(|(id, w)| w.close_if_over(now).map(|u| (*id, u)))
                .collect(),
            Err(_) => Vec::new(),
        };
        for (id, unlogged) in closed {
            if let Some(integration) = self.store.btcpay_integration(id).await? {
                self.store
                    .audit(&summary_entry(&integration, unlogged, now))
                    .await?;
            }
        }
        Ok(())
    }
}

fn summary_entry(integration: &Integration, unlogged: refusals::Unlogged, now: i64) -> AuditEntry {
    AuditEntry::new(now, None, ACTOR, "btcpay.webhook_refused_summary")
        .in_workspace(integration.workspace_id)
        .target(audit_target(integration.id))
        .detail(format!(
            "{} more deliveries with a bad signature were refused from {} to {} without an entry each",
            unlogged.count,
            crate::clock::rfc3339(unlogged.from),
            crate::clock::rfc3339(unlogged.to)
        ))
}

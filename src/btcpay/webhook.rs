//! One webhook delivery: verified on its raw bytes, deduplicated by its
//! original delivery id, then the invoice is read back from BTCPay and its
//! income booked with the delivery record in one transaction.

use super::{ACTOR, Client, Received, Service, WebhookError, income, payout, signature, wire};
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
            self.store
                .audit(
                    &AuditEntry::new(now, None, ACTOR, "btcpay.webhook_refused")
                        .in_workspace(integration.workspace_id)
                        .target(audit_target(integration.id))
                        .from_addr(client_addr)
                        .detail(if signature.is_some() {
                            "the BTCPay-Sig signature does not match"
                        } else {
                            "no BTCPay-Sig header"
                        }),
                )
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
                Some(client.pull_payment_currency(pp).await.map_err(upstream)?)
            }
            _ => None,
        };
        let row = payout::outcome(&integration.account, &found, currency.as_deref())
            .map_err(WebhookError::Upstream)?;
        Ok(row.into_iter().collect())
    }
}

//! One webhook delivery: verified on its raw bytes, deduplicated by its
//! original delivery id, then the invoice is read back from BTCPay and its
//! income booked with the delivery record in one transaction.

use super::{ACTOR, Received, Service, WebhookError, income, signature, wire};
use crate::store::AuditEntry;
use crate::store::btcpay::{Delivery, audit_target};

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
            _ => (Vec::new(), None),
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

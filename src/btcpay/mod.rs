//! BTCPay Server: merchant income from signed webhooks and the Greenfield
//! API, booked exactly once. A webhook is a hint to re-read one invoice; the
//! sweep re-reads every invoice since a cursor. Both turn an invoice into the
//! same rows with the same source ids (`income`), so neither can double what
//! the other booked. See docs/btcpay.md.

mod client;
pub mod income;
pub mod permissions;
pub mod signature;
pub mod wire;

use serde::Serialize;

pub use client::{Client, ClientError};

use crate::crypto::SecretBox;
use crate::store::btcpay::{
    Booked, Delivery, Integration, NewIntegration, api_key_secret, webhook_secret_name,
};
use crate::store::{AuditEntry, Store, StoreError};

/// Webhook bodies are a few kilobytes; anything near this is not BTCPay.
pub const MAX_WEBHOOK_BYTES: usize = 256 * 1024;

/// Where BTCPay delivers an integration's webhooks.
pub fn webhook_path(id: i64) -> String {
    format!("/api/v1/btcpay/webhook/{id}")
}

const ACTOR: &str = "btcpay";

#[derive(Debug, thiserror::Error)]
pub enum BtcpayError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Secret(String),
}

/// Why a delivery was not taken in.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("no such BTCPay integration")]
    UnknownIntegration,
    #[error("the BTCPay-Sig signature does not match the body")]
    BadSignature,
    #[error("the body is not a BTCPay webhook event: {0}")]
    Malformed(String),
    /// BTCPay could not be asked about the invoice: a 5xx makes it retry.
    #[error("BTCPay Server could not be read back: {0}")]
    Upstream(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for WebhookError {
    fn from(e: StoreError) -> Self {
        WebhookError::Internal(e.to_string())
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// Applied now (possibly booking nothing new).
    Applied(Booked),
    /// This delivery (or an earlier attempt of it) was applied before.
    Duplicate,
    /// Verified but not about income (a test event, another store).
    Ignored(&'static str),
}

/// What `btcpay add` reports.
#[derive(Debug, Serialize)]
pub struct Added {
    pub integration_id: i64,
    pub webhook_path: String,
    /// Only when Ledgersys generated it: shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
    pub server_version: String,
    pub account: String,
    pub api_key_last4: String,
}

/// One integration's sweep.
#[derive(Debug, Serialize)]
pub struct Swept {
    pub integration_id: i64,
    pub invoices: usize,
    pub added: u64,
    pub reversed: u64,
    pub cursor: i64,
}

pub struct NewConnection<'a> {
    pub workspace: &'a str,
    pub url: &'a str,
    pub store_id: &'a str,
    pub api_key: &'a str,
    pub webhook_secret: Option<&'a str>,
}

#[derive(Clone)]
pub struct Service {
    store: Store,
    secrets: SecretBox,
}

impl Service {
    pub fn new(store: Store, secrets: SecretBox) -> Service {
        Service { store, secrets }
    }

    /// Checks the key (read-only permissions, the server's version), then
    /// stores the integration with its key and webhook secret sealed.
    pub async fn add(
        &self,
        new: &NewConnection<'_>,
        audit: &AuditEntry,
    ) -> Result<Added, BtcpayError> {
        let store_id = new.store_id.trim();
        if !wire::is_plain_id(store_id) {
            return Err(BtcpayError::Refused(format!(
                "{store_id:?} is not a BTCPay store id"
            )));
        }
        let api_key = new.api_key.trim();
        if api_key.is_empty() {
            return Err(BtcpayError::Refused("the API key file is empty".into()));
        }
        let client = Client::new(new.url, api_key)?;
        let key = client.current_key().await?;
        permissions::check(&key.permissions, store_id).map_err(BtcpayError::Refused)?;
        let (server_version, _) = client.server_version().await?;
        let (secret, generated) = match new.webhook_secret.map(str::trim) {
            Some("") => {
                return Err(BtcpayError::Refused(
                    "the webhook secret file is empty".into(),
                ));
            }
            Some(given) => (given.to_string(), false),
            None => (
                crate::crypto::random_token().map_err(|e| BtcpayError::Secret(e.to_string()))?,
                true,
            ),
        };
        let workspace = self
            .store
            .workspace_named(
                new.workspace,
                &AuditEntry::new(
                    audit.at,
                    audit.actor_id,
                    audit.actor.clone(),
                    "workspace.created",
                )
                .target(new.workspace),
            )
            .await?;
        let account = format!("BTCPay {store_id}");
        let url = new.url.trim().trim_end_matches('/');
        let api_key_last4 = crate::crypto::last4(api_key);
        let secret_last4 = crate::crypto::last4(&secret);
        let secrets = self.secrets.clone();
        let (key_text, secret_text) = (api_key.to_string(), secret.clone());
        let seal = Box::new(move |id: i64| {
            let key = secrets
                .seal(&api_key_secret(id), key_text.as_bytes())
                .map_err(|e| e.to_string())?;
            let secret = secrets
                .seal(&webhook_secret_name(id), secret_text.as_bytes())
                .map_err(|e| e.to_string())?;
            Ok((key, secret))
        });
        let id = self
            .store
            .add_btcpay_integration(
                workspace,
                &NewIntegration {
                    url,
                    store_id,
                    account: &account,
                    server_version: &server_version,
                    api_key_last4: &api_key_last4,
                    webhook_secret_last4: &secret_last4,
                },
                seal,
                audit,
            )
            .await?;
        Ok(Added {
            integration_id: id,
            webhook_path: webhook_path(id),
            webhook_secret: generated.then_some(secret),
            server_version,
            account,
            api_key_last4,
        })
    }

    fn open(
        &self,
        name: &str,
        sealed: Option<crate::store::secrets::SealedSecret>,
    ) -> Result<String, String> {
        let sealed = sealed.ok_or_else(|| format!("the secret {name} is missing"))?;
        self.secrets
            .open(name, &sealed.sealed)
            .map(|s| s.expose().to_string())
            .map_err(|e| e.to_string())
    }

    async fn client(&self, integration: &Integration) -> Result<Client, BtcpayError> {
        let name = api_key_secret(integration.id);
        let key = self
            .open(&name, self.store.secret(&name).await?)
            .map_err(BtcpayError::Secret)?;
        Ok(Client::new(&integration.url, &key)?)
    }

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
        let name = webhook_secret_name(integration.id);
        let secret = self
            .open(&name, self.store.secret(&name).await?)
            .map_err(WebhookError::Internal)?;
        if !signature::verify(&secret, body, signature) {
            self.store
                .audit(
                    &AuditEntry::new(now, None, ACTOR, "btcpay.webhook_refused")
                        .in_workspace(integration.workspace_id)
                        .target(format!("btcpay integration {}", integration.id))
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
                let client = self
                    .client(&integration)
                    .await
                    .map_err(|e| WebhookError::Internal(e.to_string()))?;
                let invoice = client
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
        let client = self.client(integration).await?;
        let (_, version) = client.server_version().await?;
        let invoices = client
            .invoices_since(&integration.store_id, integration.sweep_cursor, version)
            .await?;
        let mut swept = Swept {
            integration_id: integration.id,
            invoices: invoices.len(),
            added: 0,
            reversed: 0,
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
        swept.cursor = next_cursor(integration.sweep_cursor, &invoices, now);
        self.store
            .finish_btcpay_sweep(integration.id, swept.cursor, now)
            .await?;
        Ok(swept)
    }
}

/// How often the server sweeps every integration on its own, the first
/// time at start (events lost while it was down are picked up then).
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Sweeps every integration now and then every [`SWEEP_EVERY`], each on
/// its own so that one unreachable server does not hold up the others.
pub async fn sweep_periodically(service: Service) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let ids = match service.store.btcpay_integrations().await {
            Ok(all) => all.into_iter().map(|i| i.id).collect::<Vec<_>>(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot list BTCPay integrations to sweep");
                continue;
            }
        };
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

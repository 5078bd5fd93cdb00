//! BTCPay Server: merchant income from signed webhooks and the Greenfield
//! API, booked exactly once. A webhook is a hint to re-read one invoice; the
//! sweep re-reads every invoice since a cursor. Both turn an invoice into the
//! same rows with the same source ids (`income`), so neither can double what
//! the other booked. See docs/btcpay.md.

mod client;
pub mod income;
mod manage;
pub mod payout;
pub mod permissions;
pub mod refusals;
pub mod signature;
mod sweep;
mod webhook;
pub mod wire;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

pub use client::{Client, ClientError};
pub use sweep::{SWEEP_EVERY, sweep_periodically};

use crate::crypto::SecretBox;
use crate::store::btcpay::{
    Booked, Integration, NewIntegration, api_key_secret, webhook_secret_name,
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
    /// The webhook Ledgersys registered in BTCPay, when asked to: the URL
    /// BTCPay delivers to. Its secret is then not shown: BTCPay has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_registered: Option<String>,
}

/// One integration's sweep.
#[derive(Debug, Serialize)]
pub struct Swept {
    pub integration_id: i64,
    pub invoices: usize,
    pub added: u64,
    pub reversed: u64,
    /// Completed payouts seen (each booked once, as a spend).
    pub payouts: usize,
    pub cursor: i64,
}

pub struct NewConnection<'a> {
    pub workspace: &'a str,
    pub url: &'a str,
    pub store_id: &'a str,
    pub api_key: &'a str,
    pub webhook_secret: Option<&'a str>,
    /// Register the webhook in BTCPay, delivering to this Ledgersys address
    /// (as BTCPay reaches it) plus the webhook path. The key must then hold
    /// `btcpay.store.webhooks.canmodifywebhooks` for the store.
    pub register_at: Option<&'a str>,
}

#[derive(Clone)]
pub struct Service {
    store: Store,
    secrets: SecretBox,
    /// Each integration's client and webhook secret, opened once: building
    /// an HTTPS client and opening two sealed secrets per delivery would cost
    /// more than the rest of the delivery. Keys are only rotated offline.
    opened: Arc<Mutex<HashMap<i64, Arc<Opened>>>>,
    /// Per integration, how refused deliveries are being audited.
    refusals: Arc<Mutex<HashMap<i64, refusals::Window>>>,
}

struct Opened {
    client: Client,
    webhook_secret: String,
}

impl Service {
    pub fn new(store: Store, secrets: SecretBox) -> Service {
        Service {
            store,
            secrets,
            opened: Arc::default(),
            refusals: Arc::default(),
        }
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
        let register_at = new
            .register_at
            .map(|u| crate::outbound::http_base(u, "the Ledgersys address for the webhook"))
            .transpose()
            .map_err(BtcpayError::Refused)?;
        let register_at = register_at.as_deref();
        permissions::check(&key.permissions, store_id, register_at.is_some())
            .map_err(BtcpayError::Refused)?;
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
        let registered = match register_at {
            Some(base) => Some(
                self.register(id, &client, store_id, base, &secret, audit)
                    .await?,
            ),
            None => None,
        };
        Ok(Added {
            integration_id: id,
            webhook_path: webhook_path(id),
            webhook_secret: (generated && registered.is_none()).then_some(secret),
            webhook_registered: registered,
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

    async fn opened(&self, integration: &Integration) -> Result<Arc<Opened>, BtcpayError> {
        let cached = self
            .opened
            .lock()
            .ok()
            .and_then(|m| m.get(&integration.id).cloned());
        if let Some(opened) = cached {
            return Ok(opened);
        }
        let key_name = api_key_secret(integration.id);
        let key = self
            .open(&key_name, self.store.secret(&key_name).await?)
            .map_err(BtcpayError::Secret)?;
        let secret_name = webhook_secret_name(integration.id);
        let webhook_secret = self
            .open(&secret_name, self.store.secret(&secret_name).await?)
            .map_err(BtcpayError::Secret)?;
        let opened = Arc::new(Opened {
            client: Client::new(&integration.url, &key)?,
            webhook_secret,
        });
        if let Ok(mut map) = self.opened.lock() {
            map.insert(integration.id, opened.clone());
        }
        Ok(opened)
    }
}

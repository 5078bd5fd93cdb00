//! A read-only Greenfield API client: `Authorization: token <key>`, JSON
//! answers, the base URL the user gave.

use std::time::Duration;

use serde::de::DeserializeOwned;

use super::wire::{
    ApiKey, Invoice, PaymentMethod, Payout, PullPayment, ServerInfo, Version, is_plain_id,
};

/// Invoices a page of the sweep asks for.
const PAGE: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach BTCPay Server: {0}")]
    Unreachable(String),
    #[error("BTCPay Server answered {status} to {path}")]
    Status { status: u16, path: String },
    #[error("BTCPay Server's answer to {path} does not read: {reason}")]
    Malformed { path: String, reason: String },
    #[error("{0}")]
    Invalid(String),
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(base_url: &str, api_key: &str) -> Result<Client, ClientError> {
        let base =
            crate::outbound::http_base(base_url, "the BTCPay URL").map_err(ClientError::Invalid)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("ledgersys/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ClientError::Unreachable(e.to_string()))?;
        Ok(Client {
            http,
            base,
            key: api_key.trim().to_string(),
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("token {}", self.key))
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(unreachable)?;
        let status = resp.status();
        // The query is left out: it carries nothing secret but is noise.
        let shown = path.split('?').next().unwrap_or(path).to_string();
        if !status.is_success() {
            return Err(ClientError::Status {
                status: status.as_u16(),
                path: shown,
            });
        }
        let bytes = resp.bytes().await.map_err(unreachable)?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Malformed {
            path: shown,
            reason: e.to_string(),
        })
    }

    /// A request that changes something in BTCPay: only the webhook
    /// Ledgersys registered (with the key's `canmodifywebhooks`).
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Vec<u8>, ClientError> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", format!("token {}", self.key))
            .header("Accept", "application/json");
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(unreachable)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(ClientError::Status {
                status: status.as_u16(),
                path: path.to_string(),
            });
        }
        Ok(resp.bytes().await.map_err(unreachable)?.to_vec())
    }

    fn webhook_body(url: &str, secret: &str) -> serde_json::Value {
        serde_json::json!({
            "enabled": true,
            "automaticRedelivery": true,
            "url": url,
            "authorizedEvents": {"everything": true, "specificEvents": []},
            "secret": secret,
        })
    }

    /// Creates the store's webhook to `url`, signed with `secret`; its id.
    pub async fn register_webhook(
        &self,
        store: &str,
        url: &str,
        secret: &str,
    ) -> Result<String, ClientError> {
        plain(store)?;
        let path = format!("/api/v1/stores/{store}/webhooks");
        let bytes = self
            .send(
                reqwest::Method::POST,
                &path,
                Some(&Self::webhook_body(url, secret)),
            )
            .await?;
        let created: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| ClientError::Malformed {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        created
            .get("id")
            .and_then(|v| v.as_str())
            .filter(|id| is_plain_id(id))
            .map(str::to_string)
            .ok_or(ClientError::Malformed {
                path,
                reason: "no webhook id in the answer".into(),
            })
    }

    /// Gives the registered webhook a new secret.
    pub async fn update_webhook(
        &self,
        store: &str,
        webhook: &str,
        url: &str,
        secret: &str,
    ) -> Result<(), ClientError> {
        plain(store)?;
        plain(webhook)?;
        self.send(
            reqwest::Method::PUT,
            &format!("/api/v1/stores/{store}/webhooks/{webhook}"),
            Some(&Self::webhook_body(url, secret)),
        )
        .await
        .map(|_| ())
    }

    /// The URL a registered webhook delivers to.
    pub async fn webhook_url(&self, store: &str, webhook: &str) -> Result<String, ClientError> {
        plain(store)?;
        plain(webhook)?;
        let path = format!("/api/v1/stores/{store}/webhooks/{webhook}");
        let found: serde_json::Value = self.get(&path).await?;
        found
            .get("url")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or(ClientError::Malformed {
                path,
                reason: "no url".into(),
            })
    }

    pub async fn delete_webhook(&self, store: &str, webhook: &str) -> Result<(), ClientError> {
        plain(store)?;
        plain(webhook)?;
        self.send(
            reqwest::Method::DELETE,
            &format!("/api/v1/stores/{store}/webhooks/{webhook}"),
            None,
        )
        .await
        .map(|_| ())
    }

    pub async fn current_key(&self) -> Result<ApiKey, ClientError> {
        self.get("/api/v1/api-keys/current").await
    }

    pub async fn server_version(&self) -> Result<(String, Version), ClientError> {
        let info: ServerInfo = self.get("/api/v1/server/info").await?;
        let version = Version::parse(&info.version).ok_or_else(|| ClientError::Malformed {
            path: "/api/v1/server/info".into(),
            reason: format!("version {:?} is not a version number", info.version),
        })?;
        Ok((info.version, version))
    }

    pub async fn payment_methods(
        &self,
        store: &str,
        invoice: &str,
    ) -> Result<Vec<PaymentMethod>, ClientError> {
        plain(store)?;
        plain(invoice)?;
        self.get(&format!(
            "/api/v1/stores/{store}/invoices/{invoice}/payment-methods"
        ))
        .await
    }

    /// One invoice with its payment methods: in one request from 2.3.6 on
    /// (older servers ignore the query and need a second request).
    pub async fn invoice(&self, store: &str, invoice: &str) -> Result<Invoice, ClientError> {
        plain(store)?;
        plain(invoice)?;
        let mut found: Invoice = self
            .get(&format!(
                "/api/v1/stores/{store}/invoices/{invoice}?includePaymentMethods=true"
            ))
            .await?;
        if found.payment_methods.is_none() {
            found.payment_methods = Some(self.payment_methods(store, invoice).await?);
        }
        Ok(found)
    }

    /// Every invoice created at or after `since` (Unix seconds), each with
    /// its payment methods: in the list on 2.3.6+, one request each before.
    pub async fn invoices_since(
        &self,
        store: &str,
        since: i64,
        version: Version,
    ) -> Result<Vec<Invoice>, ClientError> {
        plain(store)?;
        let include = version.lists_payment_methods();
        let mut all = Vec::new();
        loop {
            let path = format!(
                "/api/v1/stores/{store}/invoices?startDate={since}&includeArchived=true\
                 &includePaymentMethods={include}&skip={}&take={PAGE}",
                all.len()
            );
            let page: Vec<Invoice> = self.get(&path).await?;
            let n = page.len();
            all.extend(page);
            if n < PAGE {
                break;
            }
        }
        if !include {
            for invoice in &mut all {
                invoice.payment_methods = Some(self.payment_methods(store, &invoice.id).await?);
            }
        }
        Ok(all)
    }
}

impl Client {
    /// The store's payouts, cancelled ones left out (they book nothing).
    pub async fn payouts(&self, store: &str) -> Result<Vec<Payout>, ClientError> {
        plain(store)?;
        self.get(&format!(
            "/api/v1/stores/{store}/payouts?includeCancelled=false"
        ))
        .await
    }

    pub async fn payout(&self, store: &str, payout: &str) -> Result<Payout, ClientError> {
        plain(store)?;
        plain(payout)?;
        self.get(&format!("/api/v1/stores/{store}/payouts/{payout}"))
            .await
    }

    /// The currency of a pull payment: what its payouts' `amount` is in.
    pub async fn pull_payment_currency(&self, id: &str) -> Result<String, ClientError> {
        plain(id)?;
        let found: PullPayment = self.get(&format!("/api/v1/pull-payments/{id}")).await?;
        Ok(found.currency)
    }
}

/// The error with its causes ("error sending request" alone says little),
/// without the URL.
fn unreachable(e: reqwest::Error) -> ClientError {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    ClientError::Unreachable(text)
}

fn plain(id: &str) -> Result<(), ClientError> {
    if is_plain_id(id) {
        Ok(())
    } else {
        Err(ClientError::Invalid(format!(
            "{id:?} is not a BTCPay id (letters, digits, - and _ only)"
        )))
    }
}

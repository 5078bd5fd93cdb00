//! After connecting: registering Ledgersys' own webhook in BTCPay (only with
//! a key that may, and only when the user asked), removing an integration,
//! and replacing its API key or webhook secret. The key check runs again for
//! a new key.

use super::{BtcpayError, Client, Service, permissions, webhook_path};
use crate::store::AuditEntry;
use crate::store::btcpay::{Integration, api_key_secret, webhook_secret_name};
use crate::store::btcpay_manage::Which;

impl Service {
    /// Registers the webhook to `base` + the webhook path, signed with
    /// `secret`. If BTCPay refuses, the integration just stored is removed
    /// again, so that nothing half-made stays.
    pub(super) async fn register(
        &self,
        id: i64,
        client: &Client,
        store_id: &str,
        base: &str,
        secret: &str,
        audit: &AuditEntry,
    ) -> Result<String, BtcpayError> {
        let url = format!("{base}{}", webhook_path(id));
        match client.register_webhook(store_id, &url, secret).await {
            Ok(hook) => {
                self.store.set_btcpay_webhook_id(id, Some(&hook)).await?;
                Ok(url)
            }
            Err(e) => {
                let undo = AuditEntry::new(
                    audit.at,
                    audit.actor_id,
                    audit.actor.clone(),
                    "btcpay.removed",
                )
                .detail(format!("registering the webhook failed: {e}"));
                self.store.remove_btcpay_integration(id, &undo).await?;
                Err(e.into())
            }
        }
    }

    fn forget(&self, id: i64) {
        if let Ok(mut map) = self.opened.lock() {
            map.remove(&id);
        }
    }

    /// Removes the integration and its sealed secrets; the rows it booked
    /// stay. The webhook Ledgersys registered is deleted in BTCPay too, if
    /// BTCPay can be reached (otherwise it only fails its deliveries: they
    /// answer 404). Returns a note when that deletion failed.
    pub async fn remove(
        &self,
        integration: &Integration,
        audit: &AuditEntry,
    ) -> Result<Option<String>, BtcpayError> {
        let mut note = None;
        if let Some(hook) = &integration.webhook_id {
            let deleted = match self.opened(integration).await {
                Ok(opened) => opened
                    .client
                    .delete_webhook(&integration.store_id, hook)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = deleted {
                note = Some(format!(
                    "the webhook {hook} could not be deleted in BTCPay ({e}); delete it there"
                ));
            }
        }
        let audit = match &note {
            Some(n) => audit.clone().detail(n.clone()),
            None => audit.clone(),
        };
        self.store
            .remove_btcpay_integration(integration.id, &audit)
            .await?;
        self.forget(integration.id);
        Ok(note)
    }

    /// Replaces the API key after checking it as at connection (the webhook
    /// permission is accepted only if Ledgersys registered the webhook).
    /// Returns the new key's last four.
    pub async fn replace_key(
        &self,
        integration: &Integration,
        api_key: &str,
        audit: &AuditEntry,
    ) -> Result<String, BtcpayError> {
        let api_key = api_key.trim();
        if api_key.is_empty() {
            return Err(BtcpayError::Refused("the API key is empty".into()));
        }
        let client = Client::new(&integration.url, api_key)?;
        let key = client.current_key().await?;
        permissions::check(
            &key.permissions,
            &integration.store_id,
            integration.webhook_id.is_some(),
        )
        .map_err(BtcpayError::Refused)?;
        let name = api_key_secret(integration.id);
        let sealed = self
            .secrets
            .seal(&name, api_key.as_bytes())
            .map_err(|e| BtcpayError::Secret(e.to_string()))?;
        let last4 = crate::crypto::last4(api_key);
        self.store
            .replace_btcpay_secret(integration.id, Which::ApiKey, &sealed, &last4, audit)
            .await?;
        self.forget(integration.id);
        Ok(last4)
    }

    /// Replaces the webhook secret (generated when none is given; then it
    /// is returned to be shown once). A webhook Ledgersys registered gets
    /// the new secret in BTCPay first, so that no delivery is refused.
    pub async fn replace_secret(
        &self,
        integration: &Integration,
        given: Option<&str>,
        audit: &AuditEntry,
    ) -> Result<(String, Option<String>), BtcpayError> {
        let (secret, generated) = match given.map(str::trim) {
            Some("") => return Err(BtcpayError::Refused("the webhook secret is empty".into())),
            Some(s) => (s.to_string(), false),
            None => (
                crate::crypto::random_token().map_err(|e| BtcpayError::Secret(e.to_string()))?,
                true,
            ),
        };
        if let Some(hook) = &integration.webhook_id {
            let opened = self.opened(integration).await?;
            let url = opened
                .client
                .webhook_url(&integration.store_id, hook)
                .await?;
            opened
                .client
                .update_webhook(&integration.store_id, hook, &url, &secret)
                .await?;
        }
        let name = webhook_secret_name(integration.id);
        let sealed = self
            .secrets
            .seal(&name, secret.as_bytes())
            .map_err(|e| BtcpayError::Secret(e.to_string()))?;
        let last4 = crate::crypto::last4(&secret);
        self.store
            .replace_btcpay_secret(integration.id, Which::WebhookSecret, &sealed, &last4, audit)
            .await?;
        self.forget(integration.id);
        let shown = (generated && integration.webhook_id.is_none()).then_some(secret);
        Ok((last4, shown))
    }
}

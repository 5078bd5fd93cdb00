//! Certificates from an ACME server (Let's Encrypt by default) over the
//! HTTP-01 challenge. The account key and the certificate's private key
//! are sealed in the `SecretBox` like every other secret; the account is
//! created once per directory and reused for every renewal.

use std::time::Duration;

use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount,
    NewOrder, OrderStatus, RetryPolicy,
};

use super::AcmeConfig;
use super::certs::{Facts, Pem, due_for_renewal};
use super::redirect::Challenges;
use crate::crypto::SecretBox;
use crate::store::{AuditEntry, Store};

const ACCOUNT_SECRET: &str = "tls.acme.account";
const CERTIFICATE_SECRET: &str = "tls.acme.certificate";
/// How often a valid certificate is looked at again.
const CHECK_EVERY: Duration = Duration::from_secs(12 * 3600);
/// Waits after a failed attempt: quick at first (the ACME server may be
/// starting beside us), then no more than hourly, to respect rate limits.
const RETRY_AFTER: [u64; 7] = [1, 2, 5, 15, 60, 600, 3600];

#[derive(Debug, thiserror::Error)]
pub enum AcmeError {
    #[error("the ACME server at {directory} said: {message}")]
    Server { directory: String, message: String },
    #[error("the ACME server refused to validate {domain}: {message}")]
    Refused { domain: String, message: String },
    #[error("cannot keep the certificate: {0}")]
    Keep(String),
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredAccount {
    directory: String,
    credentials: AccountCredentials,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredCertificate {
    chain: String,
    key: String,
}

/// Obtains and renews the certificate for the configured domains.
#[derive(Clone)]
pub struct Acme {
    pub config: AcmeConfig,
    pub store: Store,
    pub secrets: SecretBox,
    pub challenges: Challenges,
}

impl Acme {
    /// The certificate kept from an earlier run, if it still opens.
    pub async fn stored(&self) -> Option<(Pem, Facts)> {
        let sealed = self.store.secret(CERTIFICATE_SECRET).await.ok()??;
        let plain = self.secrets.open(CERTIFICATE_SECRET, &sealed.sealed).ok()?;
        let stored: StoredCertificate = serde_json::from_str(plain.expose()).ok()?;
        let pem = Pem {
            chain: stored.chain,
            key: stored.key,
        };
        let facts = pem.check("the stored certificate", "its key").ok()?;
        Some((pem, facts))
    }

    /// Keeps the certificate current for as long as the server runs: a new
    /// one goes to `updates`, which the HTTPS listener swaps in without
    /// dropping connections.
    pub async fn maintain(
        self,
        mut current: Option<Facts>,
        updates: super::acceptor::Certificates,
    ) {
        let mut failures = 0usize;
        loop {
            let now = crate::clock::now();
            let due = current
                .as_ref()
                .is_none_or(|f| due_for_renewal(f, &self.config.domains, now));
            if !due {
                failures = 0;
                tokio::time::sleep(CHECK_EVERY).await;
                continue;
            }
            match self.issue().await {
                Ok((pem, facts)) => {
                    tracing::info!(
                        domains = ?self.config.domains,
                        valid_until = %crate::clock::rfc3339(facts.not_after),
                        "HTTPS certificate obtained over ACME"
                    );
                    if !swap_in(&updates, &pem) {
                        return;
                    }
                    current = Some(facts);
                    failures = 0;
                }
                Err(err) => {
                    let wait = RETRY_AFTER[failures.min(RETRY_AFTER.len() - 1)];
                    tracing::warn!(
                        error = %err,
                        retry_in_seconds = wait,
                        "cannot obtain the HTTPS certificate yet"
                    );
                    failures += 1;
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                }
            }
        }
    }

    /// One whole issuance: order, challenges, finalisation, download.
    pub async fn issue(&self) -> Result<(Pem, Facts), AcmeError> {
        let account = self.account().await?;
        let server = |e: instant_acme::Error| AcmeError::Server {
            directory: self.config.directory.clone(),
            message: e.to_string(),
        };
        let identifiers: Vec<Identifier> = self
            .config
            .domains
            .iter()
            .map(|d| Identifier::Dns(d.clone()))
            .collect();
        let mut order = account
            .new_order(&NewOrder::new(&identifiers))
            .await
            .map_err(server)?;
        let mut tokens = Vec::new();
        let mut authorizations = order.authorizations();
        while let Some(authz) = authorizations.next().await {
            let mut authz = authz.map_err(server)?;
            if authz.status == AuthorizationStatus::Valid {
                continue;
            }
            let domain = authz.identifier().to_string();
            let mut challenge =
                authz
                    .challenge(ChallengeType::Http01)
                    .ok_or_else(|| AcmeError::Refused {
                        domain: domain.clone(),
                        message: "it offers no HTTP-01 challenge".into(),
                    })?;
            let answer = challenge.key_authorization();
            self.challenges.put(&challenge.token, answer.as_str());
            tokens.push(challenge.token.clone());
            challenge.set_ready().await.map_err(server)?;
        }
        let patience = RetryPolicy::new()
            .initial_delay(Duration::from_millis(250))
            .timeout(Duration::from_secs(90));
        let status = order.poll_ready(&patience).await;
        for token in &tokens {
            self.challenges.remove(token);
        }
        match status.map_err(server)? {
            OrderStatus::Ready => {}
            other => {
                return Err(AcmeError::Refused {
                    domain: self.config.domains.join(", "),
                    message: format!(
                        "the order is {other:?}; is port 80 of this host reachable from the internet at that name?"
                    ),
                });
            }
        }
        let key = order.finalize().await.map_err(server)?;
        let chain = order.poll_certificate(&patience).await.map_err(server)?;
        let pem = Pem { chain, key };
        let facts = pem
            .check("the issued certificate", "its key")
            .map_err(|e| AcmeError::Keep(e.to_string()))?;
        self.keep(
            CERTIFICATE_SECRET,
            "tls.certificate_issued",
            &StoredCertificate {
                chain: pem.chain.clone(),
                key: pem.key.clone(),
            },
        )
        .await?;
        Ok((pem, facts))
    }

    /// The ACME account for the configured directory: restored, or created
    /// (agreeing to the server's terms) and kept.
    async fn account(&self) -> Result<Account, AcmeError> {
        let server = |e: instant_acme::Error| AcmeError::Server {
            directory: self.config.directory.clone(),
            message: e.to_string(),
        };
        let builder = || match &self.config.ca_file {
            Some(ca) => Account::builder_with_root(ca),
            None => Account::builder(),
        };
        if let Some(stored) = self.stored_account().await
            && stored.directory == self.config.directory
        {
            return builder()
                .map_err(server)?
                .from_credentials(stored.credentials)
                .await
                .map_err(server);
        }
        let contact: Vec<String> = self
            .config
            .contact
            .iter()
            .map(|c| format!("mailto:{c}"))
            .collect();
        let contact: Vec<&str> = contact.iter().map(String::as_str).collect();
        let (account, credentials) = builder()
            .map_err(server)?
            .create(
                &NewAccount {
                    contact: &contact,
                    terms_of_service_agreed: true,
                    only_return_existing: false,
                },
                self.config.directory.clone(),
                None,
            )
            .await
            .map_err(server)?;
        self.keep(
            ACCOUNT_SECRET,
            "tls.acme_account_created",
            &StoredAccount {
                directory: self.config.directory.clone(),
                credentials,
            },
        )
        .await?;
        Ok(account)
    }

    async fn stored_account(&self) -> Option<StoredAccount> {
        let sealed = self.store.secret(ACCOUNT_SECRET).await.ok()??;
        let plain = self.secrets.open(ACCOUNT_SECRET, &sealed.sealed).ok()?;
        serde_json::from_str(plain.expose()).ok()
    }

    async fn keep(
        &self,
        name: &str,
        action: &'static str,
        value: &impl serde::Serialize,
    ) -> Result<(), AcmeError> {
        let keep = |e: String| AcmeError::Keep(e);
        let json = serde_json::to_string(value).map_err(|e| keep(e.to_string()))?;
        let sealed = self
            .secrets
            .seal(name, json.as_bytes())
            .map_err(|e| keep(e.to_string()))?;
        let audit = AuditEntry::new(crate::clock::now(), None, "system:tls", action)
            .target(self.config.domains.join(","));
        self.store
            .put_secret(name, &sealed, "", &audit)
            .await
            .map_err(|e| keep(e.to_string()))
    }
}

/// Hands a new certificate to the listener; false once nobody listens.
pub fn swap_in(updates: &super::acceptor::Certificates, pem: &Pem) -> bool {
    match pem.server_config() {
        Ok(config) => updates.send(Some(config)).is_ok(),
        Err(err) => {
            tracing::warn!(error = %err, "the new certificate cannot be served; keeping the current one");
            !updates.is_closed()
        }
    }
}

//! Security alerts: always stored for the UI, and mailed by SMTP when the
//! instance has mail configured and the user has an address.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::Tls;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::crypto::SecretBox;
use crate::store::{AuditEntry, Store, StoreError, UserId};

const SMTP_SETTING: &str = "smtp";
pub const SMTP_PASSWORD_SECRET: &str = "smtp.password";

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "lowercase")]
#[oai(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// TLS from the first byte (usually port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    Starttls,
    /// No encryption: only for a relay on the same machine.
    None,
}

/// Mail settings, without the password (kept sealed in the secrets table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub from: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the mail password cannot be opened: {0}")]
    Secret(#[from] crate::crypto::CryptoError),
    #[error("sending mail failed: {0}")]
    Send(String),
}

#[derive(Clone)]
pub struct Alerts {
    store: Store,
    secrets: SecretBox,
}

impl Alerts {
    pub fn new(store: Store, secrets: SecretBox) -> Alerts {
        Alerts { store, secrets }
    }

    /// Records an alert for `user` and mails it in the background.
    pub async fn raise(
        &self,
        user: UserId,
        kind: &str,
        message: String,
        now: i64,
    ) -> Result<(), StoreError> {
        let id = self.store.add_alert(user, now, kind, &message).await?;
        let Some(email) = self.store.user(user).await?.and_then(|u| u.email) else {
            return Ok(());
        };
        let this = self.clone();
        let subject = format!("Ledgersys security alert: {kind}");
        tokio::spawn(async move {
            match this.send(&email, &subject, &message).await {
                Ok(true) => {
                    let _ = this.store.mark_alert_emailed(id, crate::clock::now()).await;
                }
                Ok(false) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "a security alert could not be mailed; it is shown in the UI")
                }
            }
        });
        Ok(())
    }

    pub async fn smtp_settings(&self) -> Result<Option<SmtpSettings>, StoreError> {
        let Some(json) = self.store.setting(SMTP_SETTING).await? else {
            return Ok(None);
        };
        Ok(serde_json::from_str(&json).ok())
    }

    /// Stores mail settings; a given password is sealed before it is stored.
    pub async fn configure(
        &self,
        settings: &SmtpSettings,
        password: Option<&str>,
        audit: &AuditEntry,
    ) -> Result<(), MailError> {
        validate(settings)?;
        let json =
            serde_json::to_string(settings).map_err(|e| MailError::Invalid(e.to_string()))?;
        self.store.set_setting(SMTP_SETTING, &json).await?;
        if let Some(password) = password {
            let sealed = self
                .secrets
                .seal(SMTP_PASSWORD_SECRET, password.as_bytes())?;
            let last4 = crate::crypto::last4(password);
            self.store
                .put_secret(SMTP_PASSWORD_SECRET, &sealed, &last4, audit)
                .await?;
        } else {
            self.store.audit(audit).await?;
        }
        Ok(())
    }

    /// Forgets the mail settings and deletes the stored password.
    pub async fn unconfigure(&self, audit: &AuditEntry) -> Result<(), MailError> {
        self.store.delete_setting(SMTP_SETTING).await?;
        if !self
            .store
            .delete_secret(SMTP_PASSWORD_SECRET, audit)
            .await?
        {
            self.store.audit(audit).await?;
        }
        Ok(())
    }

    /// Sends one message; false when mail is not configured.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<bool, MailError> {
        let Some(settings) = self.smtp_settings().await? else {
            return Ok(false);
        };
        let password = match self.store.secret(SMTP_PASSWORD_SECRET).await? {
            Some(sealed) => Some(self.secrets.open(SMTP_PASSWORD_SECRET, &sealed.sealed)?),
            None => None,
        };
        let parse = |s: &str| {
            s.parse::<Mailbox>()
                .map_err(|e| MailError::Invalid(format!("{s:?}: {e}")))
        };
        let message = Message::builder()
            .from(parse(&settings.from)?)
            .to(parse(to)?)
            .subject(subject)
            .body(body.to_string())
            .map_err(|e| MailError::Invalid(e.to_string()))?;
        let tls = || {
            lettre::transport::smtp::client::TlsParameters::new_rustls(settings.host.clone())
                .map_err(|e| MailError::Send(e.to_string()))
        };
        let mut transport =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
                .port(settings.port)
                .timeout(Some(Duration::from_secs(20)))
                .tls(match settings.security {
                    SmtpSecurity::Tls => Tls::Wrapper(tls()?),
                    SmtpSecurity::Starttls => Tls::Required(tls()?),
                    SmtpSecurity::None => Tls::None,
                });
        if let (Some(user), Some(password)) = (&settings.username, &password) {
            transport = transport.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        transport
            .build()
            .send(message)
            .await
            .map_err(|e| MailError::Send(e.to_string()))?;
        Ok(true)
    }
}

fn validate(settings: &SmtpSettings) -> Result<(), MailError> {
    use crate::text::Field;
    let bounded = [
        ("the mail server host", Some(settings.host.as_str())),
        ("the mail user name", settings.username.as_deref()),
        ("the sender address", Some(settings.from.as_str())),
    ];
    for (what, value) in bounded {
        if let Some(value) = value {
            Field::Name
                .check(what, value)
                .map_err(|e| MailError::Invalid(e.to_string()))?;
        }
    }
    if settings.host.trim().is_empty() || settings.host.contains(char::is_whitespace) {
        return Err(MailError::Invalid(
            "the mail server host is missing or has spaces".into(),
        ));
    }
    if settings.port == 0 {
        return Err(MailError::Invalid(
            "the mail server port must be 1-65535".into(),
        ));
    }
    settings.from.parse::<Mailbox>().map_err(|e| {
        MailError::Invalid(format!(
            "the sender address {:?} is not valid: {e}",
            settings.from
        ))
    })?;
    Ok(())
}

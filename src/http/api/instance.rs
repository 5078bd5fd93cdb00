//! Instance-wide settings: outgoing mail for security alerts.

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::policy::Access;
use super::{Done, Tag};
use crate::alerts::{MailError, SMTP_PASSWORD_SECRET, SmtpSecurity, SmtpSettings};
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::http::error::{ApiError, body};
use crate::store::AuditEntry;

#[derive(Debug, Object)]
pub struct SmtpView {
    pub configured: bool,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub security: Option<SmtpSecurity>,
    pub username: Option<String>,
    pub from: Option<String>,
    /// The stored password's last four characters; the password itself is
    /// never returned.
    pub password_last4: Option<String>,
}

#[derive(Debug, Object)]
pub struct SmtpUpdate {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    /// Leave out to keep the stored password.
    pub password: Option<String>,
    /// The sender, such as `Ledgersys <ledgersys@example.org>`.
    pub from: String,
}

impl From<MailError> for ApiError {
    fn from(err: MailError) -> Self {
        match err {
            MailError::Invalid(m) => ApiError::Unprocessable(body("invalid", m)),
            MailError::Send(m) => ApiError::Unprocessable(body("mail_failed", m)),
            MailError::Store(s) => s.into(),
            MailError::Secret(e) => ApiError::internal(e),
        }
    }
}

pub struct InstanceApi;

#[OpenApi(tag = "Tag::Instance")]
impl InstanceApi {
    /// The mail settings, without the password.
    #[oai(path = "/instance/smtp", method = "get", operation_id = "get_smtp")]
    async fn get_smtp(&self, state: Data<&AppState>) -> Result<Json<SmtpView>, ApiError> {
        let settings = state.alerts.smtp_settings().await?;
        let last4 = state
            .store
            .secret(SMTP_PASSWORD_SECRET)
            .await?
            .map(|s| s.last4);
        Ok(Json(match settings {
            None => SmtpView {
                configured: false,
                host: None,
                port: None,
                security: None,
                username: None,
                from: None,
                password_last4: None,
            },
            Some(s) => SmtpView {
                configured: true,
                host: Some(s.host),
                port: Some(s.port),
                security: Some(s.security),
                username: s.username,
                from: Some(s.from),
                password_last4: last4,
            },
        }))
    }

    /// Sets the mail settings; the password is encrypted before it is stored.
    #[oai(path = "/instance/smtp", method = "put", operation_id = "set_smtp")]
    async fn set_smtp(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        update: Json<SmtpUpdate>,
    ) -> Result<Done, ApiError> {
        let caller = access.caller()?;
        let update = update.0;
        let settings = SmtpSettings {
            host: update.host.trim().to_string(),
            port: update.port,
            security: update.security,
            username: update.username.filter(|u| !u.is_empty()),
            from: update.from.trim().to_string(),
        };
        let audit = AuditEntry::new(
            crate::clock::now(),
            Some(caller.user_id),
            &caller.username,
            "settings.smtp_changed",
        )
        .target(format!("{}:{}", settings.host, settings.port))
        .from_addr(client_of(req).addr)
        .detail(if update.password.is_some() {
            "password replaced"
        } else {
            "password kept"
        });
        state
            .alerts
            .configure(&settings, update.password.as_deref(), &audit)
            .await?;
        Ok(Done::NoContent)
    }

    /// Removes the mail settings and the stored password.
    #[oai(
        path = "/instance/smtp",
        method = "delete",
        operation_id = "delete_smtp"
    )]
    async fn delete_smtp(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
    ) -> Result<Done, ApiError> {
        let caller = access.caller()?;
        let audit = AuditEntry::new(
            crate::clock::now(),
            Some(caller.user_id),
            &caller.username,
            "settings.smtp_removed",
        )
        .target(SMTP_PASSWORD_SECRET)
        .from_addr(client_of(req).addr);
        state.alerts.unconfigure(&audit).await?;
        Ok(Done::NoContent)
    }

    /// Sends a test message to your own address.
    #[oai(
        path = "/instance/smtp/test",
        method = "post",
        operation_id = "test_smtp"
    )]
    async fn test_smtp(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
    ) -> Result<Done, ApiError> {
        let caller = access.caller()?;
        let email = state
            .store
            .user(caller.user_id)
            .await?
            .and_then(|u| u.email)
            .ok_or_else(|| {
                ApiError::Unprocessable(body(
                    "no_email",
                    "set your own email address first (PUT /api/v1/me/email)",
                ))
            })?;
        let sent = state
            .alerts
            .send(
                &email,
                "Ledgersys test message",
                "Mail from your Ledgersys instance works.",
            )
            .await?;
        if !sent {
            return Err(ApiError::Unprocessable(body(
                "not_configured",
                "mail is not configured yet",
            )));
        }
        Ok(Done::NoContent)
    }
}

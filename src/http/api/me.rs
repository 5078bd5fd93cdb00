//! The signed-in user: profile, password, alerts.

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::policy::Access;
use super::{Done, Tag};
use crate::auth::Role;
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::http::error::{ApiError, body};
use crate::store::AuditEntry;

#[derive(Debug, Object)]
pub struct Membership {
    pub workspace_id: i64,
    pub workspace: String,
    pub role: Role,
}

#[derive(Debug, Object)]
pub struct Me {
    pub user_id: i64,
    pub username: String,
    pub email: Option<String>,
    pub instance_admin: bool,
    pub workspaces: Vec<Membership>,
}

#[derive(Debug, Object)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
    /// Also revoke every API token of this account (the default): a stolen
    /// password may have been used to make one. False keeps them.
    pub revoke_api_tokens: Option<bool>,
}

#[derive(Debug, Object)]
pub struct EmailChange {
    /// The address for security alerts; empty or null removes it.
    pub email: Option<String>,
}

#[derive(Debug, Object)]
pub struct AlertView {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub kind: String,
    pub message: String,
    pub emailed: bool,
    pub read: bool,
}

pub struct MeApi;

#[OpenApi(tag = "Tag::Account")]
impl MeApi {
    /// Who is signed in, and their workspaces.
    #[oai(path = "/me", method = "get", operation_id = "get_me")]
    async fn me(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
    ) -> Result<Json<Me>, ApiError> {
        let caller = access.caller()?;
        let user = state
            .store
            .user(caller.user_id)
            .await?
            .ok_or_else(|| ApiError::not_found("the account no longer exists"))?;
        let workspaces = state
            .store
            .workspaces_of(user.id)
            .await?
            .into_iter()
            .map(|(w, role)| Membership {
                workspace_id: w.id.0,
                workspace: w.name,
                role,
            })
            .collect();
        Ok(Json(Me {
            user_id: user.id.0,
            username: user.username,
            email: user.email,
            instance_admin: user.instance_admin,
            workspaces,
        }))
    }

    /// Sets the address that security alerts are mailed to.
    #[oai(path = "/me/email", method = "put", operation_id = "set_email")]
    async fn set_email(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        body_in: Json<EmailChange>,
    ) -> Result<Done, ApiError> {
        let caller = access.caller()?;
        let email = body_in
            .0
            .email
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty());
        if let Some(email) = &email
            && email.parse::<lettre::Address>().is_err()
        {
            return Err(ApiError::Unprocessable(body(
                "invalid",
                format!("{email:?} is not an email address"),
            )));
        }
        let audit = AuditEntry::new(
            crate::clock::now(),
            Some(caller.user_id),
            &caller.username,
            "user.email_changed",
        )
        .target(&caller.username)
        .from_addr(client_of(req).addr);
        state
            .store
            .set_email(caller.user_id, email.as_deref(), &audit)
            .await?;
        Ok(Done::NoContent)
    }

    /// Changes the password; every session of the account ends, this one
    /// included, so sign in again afterwards. The account's API tokens are
    /// revoked too unless `revoke_api_tokens` is false.
    #[oai(
        path = "/me/password",
        method = "post",
        operation_id = "change_password"
    )]
    async fn change_password(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        body_in: Json<PasswordChange>,
    ) -> Result<Done, ApiError> {
        let caller = access.caller()?;
        state
            .auth
            .change_password(
                caller,
                &body_in.current_password,
                &body_in.new_password,
                body_in.revoke_api_tokens.unwrap_or(true),
                &client_of(req),
                crate::clock::now(),
            )
            .await?;
        Ok(Done::NoContent)
    }

    /// Security alerts for this account, newest first.
    #[oai(path = "/me/alerts", method = "get", operation_id = "list_alerts")]
    async fn alerts(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
    ) -> Result<Json<Vec<AlertView>>, ApiError> {
        let caller = access.caller()?;
        let alerts = state.store.alerts(caller.user_id, 200).await?;
        Ok(Json(
            alerts
                .into_iter()
                .map(|a| AlertView {
                    id: a.id.0,
                    at: crate::clock::rfc3339(a.at),
                    kind: a.kind,
                    message: a.message,
                    emailed: a.emailed_at.is_some(),
                    read: a.read_at.is_some(),
                })
                .collect(),
        ))
    }

    /// Marks every alert read.
    #[oai(
        path = "/me/alerts/read",
        method = "post",
        operation_id = "mark_alerts_read"
    )]
    async fn mark_read(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
    ) -> Result<Done, ApiError> {
        let caller = access.caller()?;
        state
            .store
            .mark_alerts_read(caller.user_id, crate::clock::now())
            .await?;
        Ok(Done::NoContent)
    }
}

//! API tokens for scripts: shown once, stored as a keyed hash, scoped to one
//! workspace and a role no higher than their creator's current one,
//! revocable, optionally expiring. Only a signed-in session makes them.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::members::{actor, scope};
use super::policy::Access;
use super::{Done, Tag};
use crate::auth::expiry::token_expiry;
use crate::auth::{Role, members};
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::http::error::{ApiError, body};
use crate::store::TokenId;

#[derive(Debug, Object)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub owner: String,
    pub role: Role,
    /// The token's last four characters, to tell tokens apart.
    pub last4: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
    /// When the token stops working; null: until revoked.
    pub expires_at: Option<String>,
    /// Whether the expiry has passed.
    pub expired: bool,
}

#[derive(Debug, Object)]
pub struct NewTokenRequest {
    pub name: String,
    /// At most the creator's own role.
    pub role: Role,
    /// Expire this many days from now (1-3650).
    pub expires_in_days: Option<i64>,
    /// Or expire after this day (YYYY-MM-DD, UTC). Neither: until revoked.
    pub expires_on: Option<String>,
}

#[derive(Debug, Object)]
pub struct CreatedToken {
    pub id: i64,
    /// Shown this once; store it now. Send it as `Authorization: Bearer …`.
    pub token: String,
    pub role: Role,
    pub expires_at: Option<String>,
}

#[derive(ApiResponse)]
pub enum TokenCreated {
    #[oai(status = 201)]
    Created(Json<CreatedToken>),
}

pub struct TokensApi;

#[OpenApi(tag = "Tag::Tokens")]
impl TokensApi {
    /// Tokens of this workspace: your own, or all of them for admins.
    #[oai(
        path = "/workspaces/:workspace_id/tokens",
        method = "get",
        operation_id = "list_tokens"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
    ) -> Result<Json<Vec<TokenView>>, ApiError> {
        let (ws, role) = scope(&access)?;
        let caller = access.caller()?;
        let rows = state.store.tokens(ws).await?;
        let now = crate::clock::now();
        let views = rows
            .into_iter()
            .filter(|t| role.allows(Role::Admin) || t.user_id == caller.user_id)
            .map(|t| TokenView {
                id: t.id.0,
                name: t.name,
                owner: t.username,
                role: t.role.parse().unwrap_or(Role::Viewer),
                last4: t.last4,
                created_at: crate::clock::rfc3339(t.created_at),
                last_used_at: t.last_used_at.map(crate::clock::rfc3339),
                revoked: t.revoked_at.is_some(),
                expires_at: t.expires_at.map(crate::clock::rfc3339),
                expired: t.expires_at.is_some_and(|at| at <= now),
            })
            .collect();
        Ok(Json(views))
    }

    /// Creates a token; its secret is in this response only. Needs a
    /// signed-in session: API tokens cannot create tokens.
    #[oai(
        path = "/workspaces/:workspace_id/tokens",
        method = "post",
        operation_id = "create_token"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        request: Json<NewTokenRequest>,
    ) -> Result<TokenCreated, ApiError> {
        let (ws, role) = scope(&access)?;
        let caller = access.caller()?;
        let now = crate::clock::now();
        let expires_at = token_expiry(request.expires_in_days, request.expires_on.as_deref(), now)
            .map_err(|message| ApiError::Unprocessable(body("invalid_expiry", message)))?;
        let created = state
            .auth
            .create_token(
                caller,
                ws,
                role,
                &request.name,
                request.role,
                expires_at,
                now,
            )
            .await?;
        Ok(TokenCreated::Created(Json(CreatedToken {
            id: created.id.0,
            token: created.token,
            role: request.role,
            expires_at: expires_at.map(crate::clock::rfc3339),
        })))
    }

    /// Revokes a token: your own, or any for admins.
    #[oai(
        path = "/workspaces/:workspace_id/tokens/:token_id",
        method = "delete",
        operation_id = "revoke_token"
    )]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        token_id: Path<i64>,
    ) -> Result<Done, ApiError> {
        let (ws, role) = scope(&access)?;
        let addr = client_of(req).addr;
        let actor = actor(access.caller()?, role, &addr);
        members::revoke_token(
            &state.store,
            &actor,
            ws,
            TokenId(token_id.0),
            crate::clock::now(),
        )
        .await?;
        Ok(Done::NoContent)
    }
}

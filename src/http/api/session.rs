//! First-run setup, signing in and signing out.

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::Tag;
use super::policy::Access;
use crate::auth::setup::{self, Owner};
use crate::http::AppState;
use crate::http::auth::{cleared_cookie, client_of, session_cookie};
use crate::http::error::ApiError;

#[derive(Debug, Object)]
pub struct SetupRequest {
    /// The token from the server log or `ledgersys admin setup-token`.
    pub setup_token: String,
    pub username: String,
    pub password: String,
    pub email: Option<String>,
    /// The first workspace's name (default `default`).
    pub workspace: Option<String>,
}

#[derive(Debug, Object)]
pub struct SetupDone {
    pub user_id: i64,
    pub workspace_id: i64,
}

#[derive(Debug, Object)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Object)]
pub struct SessionInfo {
    /// Send this in the `X-CSRF-Token` header with every state-changing
    /// request made with the session cookie.
    pub csrf_token: String,
    pub user_id: i64,
    pub username: String,
}

#[derive(ApiResponse)]
pub enum LoginResponse {
    /// Signed in; the session cookie is set.
    #[oai(status = 200)]
    Ok(Json<SessionInfo>, #[oai(header = "Set-Cookie")] String),
}

#[derive(ApiResponse)]
pub enum LogoutResponse {
    /// Signed out; the cookie is cleared.
    #[oai(status = 204)]
    Done(#[oai(header = "Set-Cookie")] String),
}

#[derive(ApiResponse)]
pub enum SetupResponse {
    #[oai(status = 201)]
    Created(Json<SetupDone>),
}

pub struct SessionApi;

#[OpenApi(tag = "Tag::Session")]
impl SessionApi {
    /// Creates the first account (owner and instance administrator). Works
    /// only while no account exists, with the setup token.
    #[oai(path = "/setup", method = "post", operation_id = "setup")]
    async fn setup(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<SetupRequest>,
    ) -> Result<SetupResponse, ApiError> {
        let client = client_of(req);
        let (user, workspace) = setup::create_owner(
            &state.store,
            state.auth.hasher(),
            Owner {
                setup_token: &body.setup_token,
                username: body.username.trim(),
                password: &body.password,
                email: body.email.as_deref(),
                workspace: body.workspace.as_deref(),
            },
            &client.addr,
            crate::clock::now(),
        )
        .await?;
        Ok(SetupResponse::Created(Json(SetupDone {
            user_id: user.0,
            workspace_id: workspace.0,
        })))
    }

    /// Signs in; sets the session cookie and returns the CSRF token.
    #[oai(path = "/session", method = "post", operation_id = "login")]
    async fn login(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<LoginRequest>,
    ) -> Result<LoginResponse, ApiError> {
        let client = client_of(req);
        let done = state
            .auth
            .login(
                body.username.trim(),
                &body.password,
                &client,
                crate::clock::now(),
            )
            .await?;
        let user = state
            .store
            .user(done.user_id)
            .await?
            .ok_or_else(|| ApiError::internal("a user vanished while signing in"))?;
        Ok(LoginResponse::Ok(
            Json(SessionInfo {
                csrf_token: done.csrf_token,
                user_id: user.id.0,
                username: user.username,
            }),
            session_cookie(&done.token, state.secure_cookies),
        ))
    }

    /// Signs out this session.
    #[oai(path = "/session", method = "delete", operation_id = "logout")]
    async fn logout(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
    ) -> Result<LogoutResponse, ApiError> {
        let caller = access.caller()?;
        state
            .auth
            .logout(caller, &client_of(req), crate::clock::now())
            .await?;
        Ok(LogoutResponse::Done(cleared_cookie(state.secure_cookies)))
    }
}

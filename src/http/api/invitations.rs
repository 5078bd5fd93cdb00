//! Invitations into a workspace: the admins' list and cancel, and the
//! invitee's list, accept and decline (by a signed-in session only).

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::members::{actor, scope};
use super::policy::Access;
use super::{Done, Tag};
use crate::auth::invitations;
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::http::error::ApiError;
use crate::store::invitations::InvitationRow;

/// A pending invitation, as its workspace's admins see it.
#[derive(Debug, Object)]
pub struct SentInvitation {
    pub id: i64,
    /// The name as it was typed.
    pub username: String,
    pub role: String,
    pub invited_by: Option<String>,
    pub created_at: String,
}

/// A pending invitation, as the invitee sees it.
#[derive(Debug, Object)]
pub struct ReceivedInvitation {
    pub id: i64,
    pub workspace_id: i64,
    pub workspace_name: String,
    pub role: String,
    pub invited_by: Option<String>,
    pub created_at: String,
}

fn received(i: InvitationRow) -> ReceivedInvitation {
    ReceivedInvitation {
        id: i.id,
        workspace_id: i.workspace_id.0,
        workspace_name: i.workspace_name,
        role: i.role,
        invited_by: i.invited_by,
        created_at: crate::clock::rfc3339(i.created_at),
    }
}

pub struct InvitationsApi;

#[OpenApi(tag = "Tag::Workspaces")]
impl InvitationsApi {
    /// The workspace's pending invitations, newest first.
    #[oai(
        path = "/workspaces/:workspace_id/invitations",
        method = "get",
        operation_id = "list_invitations"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
    ) -> Result<Json<Vec<SentInvitation>>, ApiError> {
        let (ws, _) = scope(&access)?;
        let rows = state.store.workspace_invitations(ws).await?;
        Ok(Json(
            rows.into_iter()
                .map(|i| SentInvitation {
                    id: i.id,
                    username: i.username,
                    role: i.role,
                    invited_by: i.invited_by,
                    created_at: crate::clock::rfc3339(i.created_at),
                })
                .collect(),
        ))
    }

    /// Withdraws a pending invitation.
    #[oai(
        path = "/workspaces/:workspace_id/invitations/:invitation_id",
        method = "delete",
        operation_id = "cancel_invitation"
    )]
    async fn cancel(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        invitation_id: Path<i64>,
    ) -> Result<Done, ApiError> {
        let (ws, role) = scope(&access)?;
        let addr = client_of(req).addr;
        let actor = actor(access.caller()?, role, &addr);
        let now = crate::clock::now();
        invitations::cancel(&state.store, &actor, ws, invitation_id.0, now).await?;
        Ok(Done::NoContent)
    }

    /// Invitations waiting for your answer.
    #[oai(
        path = "/me/invitations",
        method = "get",
        operation_id = "list_my_invitations"
    )]
    async fn mine(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
    ) -> Result<Json<Vec<ReceivedInvitation>>, ApiError> {
        let caller = access.caller()?;
        let rows = state.store.invitations_for(caller.user_id).await?;
        Ok(Json(rows.into_iter().map(received).collect()))
    }

    /// Joins the workspace with the invited role.
    #[oai(
        path = "/me/invitations/:invitation_id/accept",
        method = "post",
        operation_id = "accept_invitation"
    )]
    async fn accept(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        invitation_id: Path<i64>,
    ) -> Result<Done, ApiError> {
        let caller = access.caller()?;
        let addr = client_of(req).addr;
        let now = crate::clock::now();
        invitations::accept(&state.store, caller, invitation_id.0, &addr, now).await?;
        Ok(Done::NoContent)
    }

    /// Declines the invitation; nothing else changes.
    #[oai(
        path = "/me/invitations/:invitation_id/decline",
        method = "post",
        operation_id = "decline_invitation"
    )]
    async fn decline(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        invitation_id: Path<i64>,
    ) -> Result<Done, ApiError> {
        let caller = access.caller()?;
        let addr = client_of(req).addr;
        let now = crate::clock::now();
        invitations::decline(&state.store, caller, invitation_id.0, &addr, now).await?;
        Ok(Done::NoContent)
    }
}

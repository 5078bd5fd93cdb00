//! A workspace and its members. Admins manage members; only owners can make
//! or unmake owners.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::policy::Access;
use super::{Done, Tag};
use crate::auth::{Caller, Role, members};
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::http::error::{ApiError, body};
use crate::store::{AuditEntry, UserId, WorkspaceId};

/// How long an instance administrator's access to a workspace lasts.
const ACCESS_GRANT_SECONDS: i64 = 3600;

#[derive(Debug, Object)]
pub struct WorkspaceView {
    pub id: i64,
    pub name: String,
    /// The caller's role here.
    pub role: Role,
}

#[derive(Debug, Object)]
pub struct MemberView {
    pub user_id: i64,
    pub username: String,
    pub email: Option<String>,
    pub role: Role,
}

#[derive(Debug, Object)]
pub struct AddMember {
    pub username: String,
    pub role: Role,
    /// Leave out to invite the account of this name (it joins when it
    /// accepts; the answer is the same whether or not it exists). Given, an
    /// instance administrator creates a new account with this initial
    /// password, which the user should change at first sign-in.
    pub password: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Object)]
pub struct ChangeRole {
    pub role: Role,
}

#[derive(Debug, Object)]
pub struct NewWorkspace {
    /// A name for the books, such as "Household" or "Shop".
    pub name: String,
}

#[derive(ApiResponse)]
pub enum WorkspaceCreated {
    #[oai(status = 201)]
    Created(Json<WorkspaceView>),
}

#[derive(Debug, Object)]
pub struct AccessRequest {
    /// Why you need to open this workspace; recorded and sent to its owners.
    pub reason: String,
}

/// The answer to an invitation, the same whether or not the name is an
/// account.
#[derive(Debug, Object)]
pub struct InvitationSent {
    /// Always "invited".
    pub status: String,
}

#[derive(ApiResponse)]
pub enum MemberChanged {
    #[oai(status = 201)]
    Created(Json<MemberView>),
    /// Invited: the account joins only when its owner accepts.
    #[oai(status = 202)]
    Invited(Json<InvitationSent>),
    #[oai(status = 200)]
    Updated(Json<MemberView>),
    #[oai(status = 204)]
    Removed,
}

pub struct MembersApi;

#[OpenApi(tag = "Tag::Workspaces")]
impl MembersApi {
    /// Creates a workspace (a separate set of books) owned by the caller.
    #[oai(
        path = "/workspaces",
        method = "post",
        operation_id = "create_workspace"
    )]
    async fn create_workspace(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        new: Json<NewWorkspace>,
    ) -> Result<WorkspaceCreated, ApiError> {
        let caller = access.caller()?;
        let name = members::workspace_name(&new.name)?;
        let audit = AuditEntry::new(
            crate::clock::now(),
            Some(caller.user_id),
            &caller.username,
            "workspace.created",
        )
        .target(name)
        .from_addr(client_of(req).addr);
        let id = state
            .store
            .create_owned_workspace(name, caller.user_id, &audit)
            .await?;
        Ok(WorkspaceCreated::Created(Json(WorkspaceView {
            id: id.0,
            name: name.to_string(),
            role: Role::Owner,
        })))
    }

    /// The workspace and the caller's role in it.
    #[oai(
        path = "/workspaces/:workspace_id",
        method = "get",
        operation_id = "get_workspace"
    )]
    async fn workspace(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
    ) -> Result<Json<WorkspaceView>, ApiError> {
        let (id, role) = scope(&access)?;
        let w = state
            .store
            .workspace(id)
            .await?
            .ok_or_else(|| ApiError::not_found("no such workspace"))?;
        Ok(Json(WorkspaceView {
            id: w.id.0,
            name: w.name,
            role,
        }))
    }

    /// Everyone in the workspace, with their roles.
    #[oai(
        path = "/workspaces/:workspace_id/members",
        method = "get",
        operation_id = "list_members"
    )]
    async fn members(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
    ) -> Result<Json<Vec<MemberView>>, ApiError> {
        let (id, _) = scope(&access)?;
        let members = state.store.members(id).await?;
        Ok(Json(
            members
                .into_iter()
                .map(|m| MemberView {
                    user_id: m.user_id.0,
                    username: m.username,
                    email: m.email,
                    role: m.role,
                })
                .collect(),
        ))
    }

    /// Invites an account by name (202, whether or not it exists), or, for
    /// an instance administrator giving a password, creates a new account
    /// as a member (201).
    #[oai(
        path = "/workspaces/:workspace_id/members",
        method = "post",
        operation_id = "add_member"
    )]
    async fn add_member(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        new: Json<AddMember>,
    ) -> Result<MemberChanged, ApiError> {
        let (ws, role) = scope(&access)?;
        let addr = client_of(req).addr;
        let actor = actor(access.caller()?, role, &addr);
        let added = members::add(
            &state.store,
            state.auth.hasher(),
            &actor,
            ws,
            new.username.trim(),
            new.role,
            new.password.as_deref(),
            new.email.as_deref(),
            crate::clock::now(),
        )
        .await?;
        match added {
            members::Added::Invited => Ok(MemberChanged::Invited(Json(InvitationSent {
                status: "invited".into(),
            }))),
            members::Added::Created(user) => {
                Ok(MemberChanged::Created(Json(view(&state, ws, user).await?)))
            }
        }
    }

    /// Changes a member's role.
    #[oai(
        path = "/workspaces/:workspace_id/members/:user_id",
        method = "put",
        operation_id = "change_member_role"
    )]
    async fn change_role(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        user_id: Path<i64>,
        change: Json<ChangeRole>,
    ) -> Result<MemberChanged, ApiError> {
        let (ws, role) = scope(&access)?;
        let addr = client_of(req).addr;
        let actor = actor(access.caller()?, role, &addr);
        let user = UserId(user_id.0);
        let now = crate::clock::now();
        members::set_role(&state.store, &actor, ws, user, Some(change.role), now).await?;
        Ok(MemberChanged::Updated(Json(view(&state, ws, user).await?)))
    }

    /// Removes a member; their API tokens for this workspace are revoked.
    #[oai(
        path = "/workspaces/:workspace_id/members/:user_id",
        method = "delete",
        operation_id = "remove_member"
    )]
    async fn remove(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        user_id: Path<i64>,
    ) -> Result<MemberChanged, ApiError> {
        let (ws, role) = scope(&access)?;
        let addr = client_of(req).addr;
        let actor = actor(access.caller()?, role, &addr);
        let now = crate::clock::now();
        members::set_role(&state.store, &actor, ws, UserId(user_id.0), None, now).await?;
        Ok(MemberChanged::Removed)
    }

    /// Opens a workspace you are not a member of, read-only for an hour.
    /// For instance administrators; the reason is recorded in the
    /// workspace's audit log and sent to its owners.
    #[oai(
        path = "/workspaces/:workspace_id/access",
        method = "post",
        operation_id = "request_access"
    )]
    async fn request_access(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        workspace_id: Path<i64>,
        request: Json<AccessRequest>,
    ) -> Result<Done, ApiError> {
        let caller = access.caller()?;
        let ws = WorkspaceId(workspace_id.0);
        let reason = request.reason.trim();
        if reason.len() < 5 {
            return Err(ApiError::Unprocessable(body(
                "reason_required",
                "give a reason of at least 5 characters",
            )));
        }
        crate::text::Field::Note.check("the reason", reason)?;
        if state.store.workspace(ws).await?.is_none() {
            return Err(ApiError::not_found("no such workspace"));
        }
        let now = crate::clock::now();
        let audit = AuditEntry::new(
            now,
            Some(caller.user_id),
            &caller.username,
            "admin.access_granted",
        )
        .in_workspace(ws)
        .target(&caller.username)
        .from_addr(client_of(req).addr)
        .detail(reason);
        state
            .store
            .grant_access(
                caller.user_id,
                ws,
                reason,
                now + ACCESS_GRANT_SECONDS,
                &audit,
            )
            .await?;
        for member in state.store.members(ws).await? {
            if member.role == Role::Owner && member.user_id != caller.user_id {
                let message = format!(
                    "Instance administrator {} opened your workspace read-only for one hour. Reason given: {reason}",
                    caller.username
                );
                state
                    .alerts
                    .raise(member.user_id, "administrator access", message, now)
                    .await?;
            }
        }
        Ok(Done::NoContent)
    }
}

async fn view(state: &AppState, ws: WorkspaceId, user: UserId) -> Result<MemberView, ApiError> {
    let member = state
        .store
        .members(ws)
        .await?
        .into_iter()
        .find(|m| m.user_id == user)
        .ok_or_else(|| ApiError::not_found("no such member"))?;
    Ok(MemberView {
        user_id: member.user_id.0,
        username: member.username,
        email: member.email,
        role: member.role,
    })
}

/// The caller as the actor of a workspace change.
pub fn actor<'a>(caller: &'a Caller, role: Role, addr: &'a str) -> members::Actor<'a> {
    members::Actor {
        user_id: caller.user_id,
        username: &caller.username,
        role,
        client_addr: addr,
    }
}

/// The workspace and role the policy established for this request.
pub fn scope(access: &Access) -> Result<(WorkspaceId, Role), ApiError> {
    match (access.workspace, access.role) {
        (Some(w), Some(r)) => Ok((w, r)),
        _ => Err(ApiError::internal(
            "a workspace route ran without its scope",
        )),
    }
}

//! Managing a workspace's members and tokens: the rules, once, for the API
//! and the pages alike. Admins manage members; only owners make, change or
//! remove owners; a workspace always keeps an owner (the store enforces it).

use super::password::{self, Hasher};
use super::{AuthError, Role, setup};
use crate::store::users::NewUser;
use crate::store::{AuditEntry, Store, TokenId, UserId, WorkspaceId};

/// Who is acting, with their role in the workspace at hand.
pub struct Actor<'a> {
    pub user_id: UserId,
    pub username: &'a str,
    pub role: Role,
    pub client_addr: &'a str,
}

impl Actor<'_> {
    pub(super) fn audit(&self, now: i64, ws: WorkspaceId, action: &'static str) -> AuditEntry {
        AuditEntry::new(now, Some(self.user_id), self.username, action)
            .in_workspace(ws)
            .from_addr(self.client_addr)
    }
}

pub(super) fn check_owner_rule(
    actor: Role,
    from: Option<Role>,
    to: Option<Role>,
) -> Result<(), AuthError> {
    let touches_owner = from == Some(Role::Owner) || to == Some(Role::Owner);
    if touches_owner && actor != Role::Owner {
        return Err(AuthError::Forbidden(
            "only an owner can make, change or remove an owner".into(),
        ));
    }
    Ok(())
}

pub(super) fn require_admin(actor: &Actor<'_>) -> Result<(), AuthError> {
    if actor.role.allows(Role::Admin) {
        Ok(())
    } else {
        Err(AuthError::Forbidden(
            "managing members needs the admin role".into(),
        ))
    }
}

/// A workspace name: 1-80 characters, trimmed, no control characters.
pub fn workspace_name(name: &str) -> Result<&str, AuthError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(AuthError::Invalid(
            "a workspace name is 1-80 characters without control characters".into(),
        ));
    }
    Ok(name)
}

/// What adding someone did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// An invitation was recorded (or not needed): the same answer whether
    /// or not an account has the name, so adding is no existence oracle.
    Invited,
    /// A new account was created as a member.
    Created(UserId),
}

/// Adds someone by name. Without a password this invites the account of
/// that name, which joins only when its owner accepts; whether the account
/// exists is never revealed. With a password, an instance administrator
/// (who may know every account anyway) creates a new account as a member.
#[allow(clippy::too_many_arguments)]
pub async fn add(
    store: &Store,
    hasher: &Hasher,
    actor: &Actor<'_>,
    ws: WorkspaceId,
    username: &str,
    role: Role,
    initial_password: Option<&str>,
    email: Option<&str>,
    now: i64,
) -> Result<Added, AuthError> {
    require_admin(actor)?;
    check_owner_rule(actor.role, None, Some(role))?;
    setup::validate_username(username)?;
    let Some(initial) = initial_password.filter(|p| !p.is_empty()) else {
        super::invitations::invite(store, actor, ws, username, role, now).await?;
        return Ok(Added::Invited);
    };
    let instance_admin = store
        .user(actor.user_id)
        .await?
        .is_some_and(|u| u.instance_admin);
    if !instance_admin {
        return Err(AuthError::Forbidden(
            "only an instance administrator creates accounts; leave the password empty to invite an existing account".into(),
        ));
    }
    if store.user_by_name(username).await?.is_some() {
        return Err(AuthError::Conflict(format!(
            "the username {username:?} is taken; leave the password empty to invite that account"
        )));
    }
    password::check_strength(initial, &[username])?;
    let phc = hasher.hash(initial.to_string()).await?;
    let new = NewUser {
        username,
        password_hash: &phc,
        email,
        instance_admin: false,
        now,
        membership: Some((ws, role)),
    };
    let audit = actor
        .audit(now, ws, "user.created")
        .target(username)
        .detail(format!("role {role}"));
    Ok(Added::Created(store.create_user(new, &audit).await?))
}

/// Changes a member's role, or removes them (`None`); their API tokens for
/// the workspace are revoked on removal.
pub async fn set_role(
    store: &Store,
    actor: &Actor<'_>,
    ws: WorkspaceId,
    user: UserId,
    role: Option<Role>,
    now: i64,
) -> Result<(), AuthError> {
    require_admin(actor)?;
    let current = store
        .role_in(user, ws)
        .await?
        .ok_or_else(|| AuthError::NotFound("no such member".into()))?;
    check_owner_rule(actor.role, Some(current), role)?;
    let (action, change) = match role {
        Some(r) => ("member.role_changed", format!("{current} -> {r}")),
        None => ("member.removed", format!("was {current}")),
    };
    let audit = actor
        .audit(now, ws, action)
        .target(user.to_string())
        .detail(change);
    Ok(store.set_role(user, ws, role, &audit).await?)
}

/// Revokes a token of the workspace: one's own, or any for admins.
pub async fn revoke_token(
    store: &Store,
    actor: &Actor<'_>,
    ws: WorkspaceId,
    token: TokenId,
    now: i64,
) -> Result<(), AuthError> {
    let token = store
        .token(token)
        .await?
        .filter(|t| t.workspace_id == ws)
        .ok_or_else(|| AuthError::NotFound("no such token in this workspace".into()))?;
    if token.user_id != actor.user_id && !actor.role.allows(Role::Admin) {
        return Err(AuthError::Forbidden(
            "only its owner or an admin can revoke a token".into(),
        ));
    }
    let audit = actor
        .audit(now, ws, "api_token.revoked")
        .target(&token.name)
        .detail(format!("ends in {}", token.last4));
    Ok(store.revoke_token(token.id, &audit).await?)
}

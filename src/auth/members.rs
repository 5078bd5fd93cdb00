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
    fn audit(&self, now: i64, ws: WorkspaceId, action: &'static str) -> AuditEntry {
        AuditEntry::new(now, Some(self.user_id), self.username, action)
            .in_workspace(ws)
            .from_addr(self.client_addr)
    }
}

fn check_owner_rule(actor: Role, from: Option<Role>, to: Option<Role>) -> Result<(), AuthError> {
    let touches_owner = from == Some(Role::Owner) || to == Some(Role::Owner);
    if touches_owner && actor != Role::Owner {
        return Err(AuthError::Forbidden(
            "only an owner can make, change or remove an owner".into(),
        ));
    }
    Ok(())
}

fn require_admin(actor: &Actor<'_>) -> Result<(), AuthError> {
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

/// Adds an existing account by name, or creates the account with an
/// initial password.
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
) -> Result<UserId, AuthError> {
    require_admin(actor)?;
    check_owner_rule(actor.role, None, Some(role))?;
    let audit = actor
        .audit(now, ws, "member.added")
        .target(username)
        .detail(format!("role {role}"));
    if let Some(existing) = store.user_by_name(username).await? {
        if store.role_in(existing.id, ws).await?.is_some() {
            return Err(AuthError::Conflict(format!(
                "{username} is already a member; change the role instead"
            )));
        }
        store.set_role(existing.id, ws, Some(role), &audit).await?;
        return Ok(existing.id);
    }
    setup::validate_username(username)?;
    let initial = initial_password.filter(|p| !p.is_empty()).ok_or_else(|| {
        AuthError::Invalid(format!(
            "there is no account {username:?} yet; give an initial password to create it"
        ))
    })?;
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
    let audit = AuditEntry {
        action: "user.created",
        ..audit
    };
    Ok(store.create_user(new, &audit).await?)
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

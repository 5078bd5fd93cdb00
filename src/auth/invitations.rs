//! Invitations into a workspace: an admin invites a name, the account of
//! that name accepts or declines when signed in, and nobody becomes a
//! member without accepting. The inviting side never learns whether the
//! name is an account: every invitation is recorded and listed alike.

use super::members::{Actor, check_owner_rule, require_admin};
use super::{AuthError, Caller, Role};
use crate::store::invitations::{InvitationRow, NewInvitation};
use crate::store::{AuditEntry, Store, UserId, WorkspaceId};

/// Records an invitation for `username` (already checked for shape). An
/// account that is already a member gets none; the admin sees that from
/// the member list, which they can read anyway.
pub async fn invite(
    store: &Store,
    actor: &Actor<'_>,
    ws: WorkspaceId,
    username: &str,
    role: Role,
    now: i64,
) -> Result<(), AuthError> {
    require_admin(actor)?;
    check_owner_rule(actor.role, None, Some(role))?;
    let user = store.user_by_name(username).await?.map(|u| u.id);
    if let Some(user) = user
        && store.role_in(user, ws).await?.is_some()
    {
        return Ok(());
    }
    // The audit entry reads the same whether or not the account exists:
    // admins read this log.
    let audit = actor
        .audit(now, ws, "invitation.sent")
        .target(username)
        .detail(format!("role {role}"));
    let new = NewInvitation {
        workspace: ws,
        username,
        user_id: user,
        role,
        invited_by: actor.user_id,
        now,
    };
    Ok(store.invite(&new, &audit).await?)
}

/// An invitation addressed to this user, or "not found" (the same for one
/// that never existed and one meant for someone else).
async fn own(store: &Store, user: UserId, id: i64) -> Result<InvitationRow, AuthError> {
    store
        .invitation(id)
        .await?
        .filter(|i| i.user_id == Some(user))
        .ok_or_else(|| AuthError::NotFound("no such invitation".into()))
}

fn invitee_audit(
    caller: &Caller,
    invitation: &InvitationRow,
    action: &'static str,
    addr: &str,
    now: i64,
) -> AuditEntry {
    AuditEntry::new(now, Some(caller.user_id), &caller.username, action)
        .in_workspace(invitation.workspace_id)
        .target(&caller.username)
        .from_addr(addr)
        .detail(format!("role {}", invitation.role))
}

/// The invitee joins with the invited role, if whoever invited them could
/// still grant it: an invitation carries no more power than its sender's
/// current role, as a token carries no more than its creator's.
pub async fn accept(
    store: &Store,
    caller: &Caller,
    id: i64,
    addr: &str,
    now: i64,
) -> Result<(), AuthError> {
    let invitation = own(store, caller.user_id, id).await?;
    let role: Role = invitation.role.parse().map_err(AuthError::Invalid)?;
    let sender = match invitation.invited_by_id {
        Some(sender) => store.role_in(sender, invitation.workspace_id).await?,
        None => None,
    };
    let still_grantable = sender
        .is_some_and(|s| s.allows(Role::Admin) && check_owner_rule(s, None, Some(role)).is_ok());
    if !still_grantable {
        return Err(AuthError::Forbidden(
            "whoever sent this invitation can no longer grant that role; ask an admin to invite you again".into(),
        ));
    }
    let audit = invitee_audit(caller, &invitation, "invitation.accepted", addr, now);
    if !store.accept_invitation(id, caller.user_id, &audit).await? {
        return Err(AuthError::NotFound("no such invitation".into()));
    }
    Ok(())
}

/// The invitee says no; nothing else changes.
pub async fn decline(
    store: &Store,
    caller: &Caller,
    id: i64,
    addr: &str,
    now: i64,
) -> Result<(), AuthError> {
    let invitation = own(store, caller.user_id, id).await?;
    let audit = invitee_audit(caller, &invitation, "invitation.declined", addr, now);
    if !store.delete_invitation(id, &audit).await? {
        return Err(AuthError::NotFound("no such invitation".into()));
    }
    Ok(())
}

/// An admin withdraws a pending invitation of their workspace.
pub async fn cancel(
    store: &Store,
    actor: &Actor<'_>,
    ws: WorkspaceId,
    id: i64,
    now: i64,
) -> Result<(), AuthError> {
    require_admin(actor)?;
    let invitation = store
        .invitation(id)
        .await?
        .filter(|i| i.workspace_id == ws)
        .ok_or_else(|| AuthError::NotFound("no such invitation in this workspace".into()))?;
    let audit = actor
        .audit(now, ws, "invitation.cancelled")
        .target(&invitation.username)
        .detail(format!("role {}", invitation.role));
    if !store.delete_invitation(id, &audit).await? {
        return Err(AuthError::NotFound(
            "no such invitation in this workspace".into(),
        ));
    }
    Ok(())
}

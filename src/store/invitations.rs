//! The `invitations` table: pending invitations into a workspace. A row
//! exists until the invitee accepts or declines, or an admin cancels; the
//! audit log keeps the history.

use sqlx::FromRow;

use super::audit::AuditEntry;
use super::{Store, StoreError, UserId, WorkspaceId};
use crate::auth::Role;

#[derive(Debug, Clone, FromRow)]
pub struct InvitationRow {
    pub id: i64,
    pub workspace_id: WorkspaceId,
    pub workspace_name: String,
    /// The name as the admin typed it.
    pub username: String,
    /// The account it names, if there is one: never shown to the admin.
    pub user_id: Option<UserId>,
    pub role: String,
    pub invited_by: Option<String>,
    pub invited_by_id: Option<UserId>,
    pub created_at: i64,
}

pub struct NewInvitation<'a> {
    pub workspace: WorkspaceId,
    pub username: &'a str,
    pub user_id: Option<UserId>,
    pub role: Role,
    pub invited_by: UserId,
    pub now: i64,
}

macro_rules! select_invitations {
    ($where:literal) => {
        concat!(
            "SELECT i.id, i.workspace_id, w.name AS workspace_name, i.username, i.user_id, i.role, \
             u.username AS invited_by, i.invited_by AS invited_by_id, i.created_at FROM invitations i \
             JOIN workspaces w ON w.id = i.workspace_id LEFT JOIN users u ON u.id = i.invited_by",
            $where
        )
    };
}

impl Store {
    /// Records an invitation; inviting the same name again replaces the
    /// pending one (its role and date).
    pub async fn invite(
        &self,
        new: &NewInvitation<'_>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO invitations (workspace_id, username, user_id, role, invited_by, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, username) DO UPDATE SET \
             user_id = excluded.user_id, role = excluded.role, invited_by = excluded.invited_by, \
             created_at = excluded.created_at",
        )
        .bind(new.workspace)
        .bind(new.username)
        .bind(new.user_id)
        .bind(new.role.as_str())
        .bind(new.invited_by)
        .bind(new.now)
        .execute(&mut *tx)
        .await?;
        audit.insert(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A workspace's pending invitations, newest first.
    pub async fn workspace_invitations(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Vec<InvitationRow>, StoreError> {
        Ok(sqlx::query_as(select_invitations!(
            " WHERE i.workspace_id = ? ORDER BY i.id DESC"
        ))
        .bind(workspace)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The invitations waiting for a user's answer, newest first.
    pub async fn invitations_for(&self, user: UserId) -> Result<Vec<InvitationRow>, StoreError> {
        Ok(sqlx::query_as(select_invitations!(
            " WHERE i.user_id = ? ORDER BY i.id DESC"
        ))
        .bind(user)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn invitation(&self, id: i64) -> Result<Option<InvitationRow>, StoreError> {
        Ok(sqlx::query_as(select_invitations!(" WHERE i.id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Makes the invitee a member with the invited role and deletes the
    /// invitation, in one transaction. An existing membership is left as it
    /// is. False if the invitation is gone or not for this user.
    pub async fn accept_invitation(
        &self,
        id: i64,
        user: UserId,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let row: Option<(WorkspaceId, String)> = sqlx::query_as(
            "DELETE FROM invitations WHERE id = ? AND user_id = ? RETURNING workspace_id, role",
        )
        .bind(id)
        .bind(user)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((workspace, role)) = row else {
            return Ok(false);
        };
        sqlx::query(
            "INSERT INTO memberships (user_id, workspace_id, role) VALUES (?, ?, ?) \
             ON CONFLICT (user_id, workspace_id) DO NOTHING",
        )
        .bind(user)
        .bind(workspace)
        .bind(role)
        .execute(&mut *tx)
        .await?;
        audit.insert(&mut tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes an invitation (declined or cancelled). False if it was gone.
    pub async fn delete_invitation(&self, id: i64, audit: &AuditEntry) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM invitations WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Ok(false);
        }
        audit.insert(&mut tx).await?;
        tx.commit().await?;
        Ok(true)
    }
}

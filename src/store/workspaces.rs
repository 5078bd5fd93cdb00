//! The `workspaces` and `memberships` tables.

use sqlx::FromRow;

use super::audit::AuditEntry;
use super::{Store, StoreError, UserId, WorkspaceId};
use crate::auth::Role;
use crate::text::Field;

#[derive(Debug, Clone, FromRow)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: UserId,
    pub username: String,
    pub email: Option<String>,
    pub role: Role,
}

fn role(text: &str) -> Result<Role, StoreError> {
    text.parse().map_err(StoreError::Invalid)
}

impl Store {
    pub async fn create_workspace(
        &self,
        name: &str,
        audit: &AuditEntry,
    ) -> Result<WorkspaceId, StoreError> {
        Field::Name.check("the workspace name", name)?;
        let mut tx = self.begin_write().await?;
        let id = sqlx::query_scalar("INSERT INTO workspaces (name) VALUES (?) RETURNING id")
            .bind(name)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| {
                StoreError::conflict_or(e, format!("a workspace named {name:?} exists"))
            })?;
        audit.clone().in_workspace(id).insert(&mut tx).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Creates a workspace owned by `owner`, audited, in one transaction.
    pub async fn create_owned_workspace(
        &self,
        name: &str,
        owner: UserId,
        audit: &AuditEntry,
    ) -> Result<WorkspaceId, StoreError> {
        Field::Name.check("the workspace name", name)?;
        let mut tx = self.begin_write().await?;
        let id: WorkspaceId =
            sqlx::query_scalar("INSERT INTO workspaces (name) VALUES (?) RETURNING id")
                .bind(name)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| {
                    StoreError::conflict_or(e, format!("a workspace named {name:?} exists"))
                })?;
        sqlx::query("INSERT INTO memberships (user_id, workspace_id, role) VALUES (?, ?, 'owner')")
            .bind(owner)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit.clone().in_workspace(id).insert(&mut tx).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn workspace(&self, id: WorkspaceId) -> Result<Option<Workspace>, StoreError> {
        Ok(
            sqlx::query_as("SELECT id, name FROM workspaces WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn workspace_by_name(&self, name: &str) -> Result<Option<Workspace>, StoreError> {
        Ok(
            sqlx::query_as("SELECT id, name FROM workspaces WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// The workspaces a user belongs to, with the user's role in each.
    pub async fn workspaces_of(&self, user: UserId) -> Result<Vec<(Workspace, Role)>, StoreError> {
        let rows: Vec<(WorkspaceId, String, String)> = sqlx::query_as(
            "SELECT w.id, w.name, m.role FROM memberships m JOIN workspaces w ON w.id = m.workspace_id \
             WHERE m.user_id = ? ORDER BY w.name",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, name, r)| Ok((Workspace { id, name }, role(&r)?)))
            .collect()
    }

    pub async fn role_in(
        &self,
        user: UserId,
        workspace: WorkspaceId,
    ) -> Result<Option<Role>, StoreError> {
        let text: Option<String> = sqlx::query_scalar(
            "SELECT role FROM memberships WHERE user_id = ? AND workspace_id = ?",
        )
        .bind(user)
        .bind(workspace)
        .fetch_optional(&self.pool)
        .await?;
        text.as_deref().map(role).transpose()
    }

    pub async fn members(&self, workspace: WorkspaceId) -> Result<Vec<Member>, StoreError> {
        let rows: Vec<(UserId, String, Option<String>, String)> = sqlx::query_as(
            "SELECT u.id, u.username, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.workspace_id = ? ORDER BY u.username",
        )
        .bind(workspace)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(user_id, username, email, r)| {
                Ok(Member {
                    user_id,
                    username,
                    email,
                    role: role(&r)?,
                })
            })
            .collect()
    }

    /// Adds or changes a membership. Refuses to leave a workspace without an
    /// owner.
    pub async fn set_role(
        &self,
        user: UserId,
        workspace: WorkspaceId,
        new_role: Option<Role>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        match new_role {
            Some(r) => {
                sqlx::query(
                    "INSERT INTO memberships (user_id, workspace_id, role) VALUES (?, ?, ?) \
                     ON CONFLICT (user_id, workspace_id) DO UPDATE SET role = excluded.role",
                )
                .bind(user)
                .bind(workspace)
                .bind(r.as_str())
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM memberships WHERE user_id = ? AND workspace_id = ?")
                    .bind(user)
                    .bind(workspace)
                    .execute(&mut *tx)
                    .await?;
                // Tokens act for their creator; they leave with the member.
                sqlx::query("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND workspace_id = ? AND revoked_at IS NULL")
                    .bind(audit.at)
                    .bind(user)
                    .bind(workspace)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let owners: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM memberships WHERE workspace_id = ? AND role = 'owner'",
        )
        .bind(workspace)
        .fetch_one(&mut *tx)
        .await?;
        if owners == 0 {
            return Err(StoreError::Invalid(
                "a workspace must keep at least one owner; make someone else owner first".into(),
            ));
        }
        audit.insert(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// The role a user holds in a workspace: their membership, or `viewer`
    /// through a live access grant.
    pub async fn effective_role(
        &self,
        user: UserId,
        workspace: WorkspaceId,
        now: i64,
    ) -> Result<Option<Role>, StoreError> {
        if let Some(r) = self.role_in(user, workspace).await? {
            return Ok(Some(r));
        }
        let granted: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM access_grants WHERE user_id = ? AND workspace_id = ? AND expires_at > ?",
        )
        .bind(user)
        .bind(workspace)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok((granted > 0).then_some(Role::Viewer))
    }

    /// Records temporary read access with its reason, audited in the
    /// workspace it opens.
    pub async fn grant_access(
        &self,
        user: UserId,
        workspace: WorkspaceId,
        reason: &str,
        expires_at: i64,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO access_grants (user_id, workspace_id, reason, granted_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(user)
        .bind(workspace)
        .bind(reason)
        .bind(audit.at)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        audit.insert(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

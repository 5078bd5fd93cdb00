//! The `users` table.

use sqlx::FromRow;

use super::audit::AuditEntry;
use super::{Store, StoreError, UserId, WorkspaceId};
use crate::auth::Role;
use crate::text::Field;

#[derive(Debug, Clone, FromRow)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub password_hash: String,
    pub email: Option<String>,
    pub instance_admin: bool,
    pub created_at: i64,
}

/// A new account, optionally joined to a workspace.
pub struct NewUser<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub email: Option<&'a str>,
    pub instance_admin: bool,
    pub now: i64,
    pub membership: Option<(WorkspaceId, Role)>,
}

impl Store {
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Creates the account (and its membership) and audits it, atomically.
    pub async fn create_user(
        &self,
        new: NewUser<'_>,
        audit: &AuditEntry,
    ) -> Result<UserId, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = insert_user(&mut tx, &new).await?;
        audit.insert(&mut tx).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// First-run setup in one write transaction: while no account exists
    /// and the setup token kept under `token_key` is still the one the
    /// caller proved (`proven`), takes the token, creates the workspace
    /// `workspace` if needed and the owner in it. Parallel calls queue on
    /// the write lock, so exactly one finds the token; the others get
    /// `None` and nothing is written.
    pub async fn create_first_owner(
        &self,
        token_key: &str,
        proven: impl Fn(&str) -> bool,
        owner: NewUser<'_>,
        workspace: &str,
        audits: [&AuditEntry; 2],
    ) -> Result<Option<(UserId, WorkspaceId)>, StoreError> {
        let mut tx = self.begin_write().await?;
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&mut *tx)
            .await?;
        let taken =
            sqlx::query_scalar::<_, String>("DELETE FROM settings WHERE key = ? RETURNING value")
                .bind(token_key)
                .fetch_optional(&mut *tx)
                .await?;
        if users > 0 || !taken.as_deref().is_some_and(&proven) {
            return Ok(None); // rolled back: the token stays where it was
        }
        let existing: Option<WorkspaceId> =
            sqlx::query_scalar("SELECT id FROM workspaces WHERE name = ?")
                .bind(workspace)
                .fetch_optional(&mut *tx)
                .await?;
        let workspace_id = match existing {
            Some(id) => id,
            None => {
                let id =
                    sqlx::query_scalar("INSERT INTO workspaces (name) VALUES (?) RETURNING id")
                        .bind(workspace)
                        .fetch_one(&mut *tx)
                        .await?;
                audits[0].clone().in_workspace(id).insert(&mut tx).await?;
                id
            }
        };
        let user = insert_user(
            &mut tx,
            &NewUser {
                membership: Some((workspace_id, Role::Owner)),
                ..owner
            },
        )
        .await?;
        audits[1]
            .clone()
            .in_workspace(workspace_id)
            .insert(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(Some((user, workspace_id)))
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, username, password_hash, email, instance_admin, created_at FROM users WHERE username = ?",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, username, password_hash, email, instance_admin, created_at FROM users WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, username, password_hash, email, instance_admin, created_at FROM users ORDER BY username",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Stores a new password hash and ends every session of the user, in one
    /// transaction; returns how many sessions ended.
    /// Sets a new password hash and ends every session of the user; with
    /// `revoke_tokens`, their API tokens in every workspace are revoked in
    /// the same transaction. Returns the sessions ended and tokens revoked.
    pub async fn set_password(
        &self,
        user: UserId,
        password_hash: &str,
        now: i64,
        revoke_tokens: bool,
        audit: &AuditEntry,
    ) -> Result<(u64, u64), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?")
            .bind(password_hash)
            .bind(now)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        let ended = sqlx::query("DELETE FROM sessions WHERE user_id = ?")
            .bind(user)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let revoked = if revoke_tokens {
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(user)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        } else {
            0
        };
        sqlx::query("DELETE FROM login_attempts WHERE key = ?")
            .bind(super::throttle::account_key(
                &self.username_of(&mut tx, user).await?,
            ))
            .execute(&mut *tx)
            .await?;
        audit.insert(&mut tx).await?;
        tx.commit().await?;
        Ok((ended, revoked))
    }

    /// Replaces a hash after login when its parameters are out of date. Not
    /// audited: the password itself did not change.
    pub async fn upgrade_password_hash(
        &self,
        user: UserId,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(password_hash)
            .bind(user)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_email(
        &self,
        user: UserId,
        email: Option<&str>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET email = ? WHERE id = ?")
            .bind(email)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        audit.insert(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn username_of(
        &self,
        conn: &mut sqlx::SqliteConnection,
        user: UserId,
    ) -> Result<String, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT username FROM users WHERE id = ?")
                .bind(user)
                .fetch_one(conn)
                .await?,
        )
    }
}

/// Every account is made here, so the shared check on stored text (length,
/// no private material) holds for setup as for every other path.
async fn insert_user(
    conn: &mut sqlx::SqliteConnection,
    new: &NewUser<'_>,
) -> Result<UserId, StoreError> {
    Field::Username.check("the username", new.username)?;
    if let Some(email) = new.email {
        Field::Name.check("the email address", email)?;
    }
    let id: UserId = sqlx::query_scalar(
        "INSERT INTO users (username, password_hash, email, instance_admin, created_at, password_changed_at) \
         VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(new.username)
    .bind(new.password_hash)
    .bind(new.email)
    .bind(new.instance_admin)
    .bind(new.now)
    .bind(new.now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| StoreError::conflict_or(e, format!("the username {:?} is taken", new.username)))?;
    if let Some((workspace, role)) = new.membership {
        sqlx::query("INSERT INTO memberships (user_id, workspace_id, role) VALUES (?, ?, ?)")
            .bind(id)
            .bind(workspace)
            .bind(role.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(id)
}

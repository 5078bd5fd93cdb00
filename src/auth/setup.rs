//! First run: until an account exists, a one-time setup token guards the
//! page that creates the owner, so nobody else on the network can claim a
//! fresh instance.

use super::AuthError;
use super::password::{self, Hasher};
use crate::crypto;
use crate::store::users::NewUser;
use crate::store::{AuditEntry, Store, UserId, WorkspaceId};

const SETUP_TOKEN: &str = "setup_token";
pub const DEFAULT_WORKSPACE: &str = "default";

/// The setup token while no account exists (created on first call), or
/// `None` once the instance has an owner.
pub async fn setup_token(store: &Store) -> Result<Option<String>, AuthError> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    if let Some(token) = store.setting(SETUP_TOKEN).await? {
        return Ok(Some(token));
    }
    let token = crypto::random_token()?;
    store.set_setting(SETUP_TOKEN, &token).await?;
    Ok(Some(token))
}

pub struct Owner<'a> {
    pub setup_token: &'a str,
    pub username: &'a str,
    pub password: &'a str,
    pub email: Option<&'a str>,
    pub workspace: Option<&'a str>,
}

/// Creates the first account, an instance administrator and the owner of a
/// new workspace.
pub async fn create_owner(
    store: &Store,
    hasher: &Hasher,
    owner: Owner<'_>,
    client_addr: &str,
    now: i64,
) -> Result<(UserId, WorkspaceId), AuthError> {
    let Some(expected) = setup_token(store).await? else {
        return Err(AuthError::Forbidden(
            "this instance is already set up; sign in instead".into(),
        ));
    };
    if !super::session::same(owner.setup_token.trim(), &expected) {
        store
            .audit(
                &AuditEntry::new(now, None, owner.username, "setup.refused").from_addr(client_addr),
            )
            .await?;
        return Err(AuthError::Forbidden(
            "the setup token is wrong; it is in the server log, or run `ledgersys admin setup-token`".into(),
        ));
    }
    validate_username(owner.username)?;
    password::check_strength(owner.password, &[owner.username])?;
    let phc = hasher.hash(owner.password.to_string()).await?;
    let name = owner
        .workspace
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .unwrap_or(DEFAULT_WORKSPACE);
    let workspace_audit =
        AuditEntry::new(now, None, owner.username, "workspace.created").target(name);
    let owner_audit = AuditEntry::new(now, None, owner.username, "setup.owner_created")
        .target(owner.username)
        .from_addr(client_addr);
    let created = store
        .create_first_owner(
            SETUP_TOKEN,
            |kept| super::session::same(owner.setup_token.trim(), kept),
            NewUser {
                username: owner.username,
                password_hash: &phc,
                email: owner.email,
                instance_admin: true,
                now,
                membership: None,
            },
            name,
            [&workspace_audit, &owner_audit],
        )
        .await?;
    // Another request took the token while this one was hashing.
    created.ok_or_else(|| {
        AuthError::Forbidden("this instance is already set up; sign in instead".into())
    })
}

/// Usernames: 1-64 characters of letters, digits, `.`, `_`, `-` or `@`.
pub fn validate_username(username: &str) -> Result<(), AuthError> {
    // Letters and hyphens can still spell a seed ("aban-abil-able-...").
    crate::text::Field::Username
        .check("the username", username)
        .map_err(|e| AuthError::Store(e.into()))?;
    let ok = !username.is_empty()
        && username.len() <= 64
        && username
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(AuthError::Invalid(
            "a username is 1-64 letters, digits, '.', '_', '-' or '@'".into(),
        ))
    }
}

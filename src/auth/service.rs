//! Logging in and out, sessions, password changes and API tokens: the
//! pure pieces of this module put together with the store and the clock.

use std::time::Duration;

use super::Role;
use super::password::{self, Hasher, PasswordError, Verified};
use super::session::{self, Lifetimes};
use super::throttle::{self, Attempts};
use crate::alerts::Alerts;
use crate::crypto;
use crate::store::sessions::NewSession;
use crate::store::throttle::{Reservation, account_key, address_key};
use crate::store::tokens::NewToken;
use crate::store::{AuditEntry, Store, StoreError, TokenId, UserId, WorkspaceId};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown user and wrong password look exactly alike.
    #[error("the username or password is wrong")]
    InvalidCredentials,
    #[error("too many failed attempts; try again in {retry_after} seconds")]
    LockedOut { retry_after: i64 },
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    #[error(transparent)]
    WeakPassword(#[from] PasswordError),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] crypto::CryptoError),
}

/// Where a request came from, for throttling, audit and alerts.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub addr: String,
    pub user_agent: String,
}

/// A caller proven by a session cookie or an API token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    pub username: String,
    pub via: Via,
}

#[derive(Debug, Clone)]
pub enum Via {
    Session {
        token_hash: Vec<u8>,
        csrf_token: String,
    },
    Token {
        id: TokenId,
        workspace: WorkspaceId,
        role: Role,
    },
}

pub struct LoggedIn {
    pub token: String,
    pub csrf_token: String,
    pub user_id: UserId,
}

pub struct NewApiToken {
    pub id: TokenId,
    pub token: String,
}

#[derive(Clone)]
pub struct Auth {
    store: Store,
    hasher: Hasher,
    alerts: Alerts,
    session_key: [u8; 32],
    lifetimes: Lifetimes,
}

impl Auth {
    pub fn new(store: Store, alerts: Alerts, session_key: [u8; 32], lifetimes: Lifetimes) -> Auth {
        Auth {
            store,
            hasher: Hasher::default(),
            alerts,
            session_key,
            lifetimes,
        }
    }

    pub fn hasher(&self) -> &Hasher {
        &self.hasher
    }

    pub fn lifetimes(&self) -> Lifetimes {
        self.lifetimes
    }

    fn hash(&self, token: &str) -> Vec<u8> {
        session::token_hash(&self.session_key, token)
    }

    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: &Client,
        now: i64,
    ) -> Result<LoggedIn, AuthError> {
        let account = account_key(username);
        let address = address_key(&client.addr);
        let reserved = self
            .store
            .reserve_attempt(
                [
                    (account.as_str(), &throttle::ACCOUNT),
                    (address.as_str(), &throttle::ADDRESS),
                ],
                now,
            )
            .await?;
        let account_attempts = match reserved {
            Reservation::Counted([account_attempts, _]) => account_attempts,
            Reservation::Locked { retry_after } => {
                self.store
                    .audit(
                        &AuditEntry::new(now, None, username, "login.refused_locked")
                            .target(username)
                            .from_addr(&client.addr),
                    )
                    .await?;
                return Err(AuthError::LockedOut { retry_after });
            }
        };

        let user = self.store.user_by_name(username).await?;
        let verdict = self
            .hasher
            .verify(
                password.to_string(),
                user.as_ref().map(|u| u.password_hash.clone()),
            )
            .await;
        let user = match (verdict, user) {
            (Verified::No, user) | (_, user @ None) => {
                self.failed(username, user.map(|u| u.id), account_attempts, client, now)
                    .await?;
                return Err(AuthError::InvalidCredentials);
            }
            (Verified::YesRehashed(fresh), Some(user)) => {
                self.store.upgrade_password_hash(user.id, &fresh).await?;
                user
            }
            (Verified::Yes, Some(user)) => user,
        };

        self.store.clear_attempts(&account).await?;
        self.store
            .refund_attempt(&address, &throttle::ADDRESS)
            .await?;
        let token = crypto::random_token()?;
        let csrf_token = crypto::random_token()?;
        self.store
            .create_session(NewSession {
                token_hash: &self.hash(&token),
                user_id: user.id,
                csrf_token: &csrf_token,
                now,
                client_addr: &client.addr,
                user_agent: &client.user_agent,
            })
            .await?;
        self.store
            .audit(
                &AuditEntry::new(now, Some(user.id), &user.username, "login")
                    .target(&user.username)
                    .from_addr(&client.addr),
            )
            .await?;
        if self
            .store
            .remember_address(user.id, &client.addr, now)
            .await?
        {
            let message = format!(
                "New sign-in to your account {} from {} ({}). If this was not you, change your password now.",
                user.username, client.addr, client.user_agent
            );
            self.alerts
                .raise(user.id, "new sign-in address", message, now)
                .await?;
        }
        Ok(LoggedIn {
            token,
            csrf_token,
            user_id: user.id,
        })
    }

    /// Audits a wrong password whose failure [`Store::reserve_attempt`]
    /// already counted (`account` is the account's state after it), and
    /// tells the owner when it locked the account.
    async fn failed(
        &self,
        username: &str,
        user: Option<UserId>,
        account: Attempts,
        client: &Client,
        now: i64,
    ) -> Result<(), AuthError> {
        self.store
            .audit(
                &AuditEntry::new(now, user, username, "login.failed")
                    .target(username)
                    .from_addr(&client.addr),
            )
            .await?;
        if let Some(retry_after) = throttle::ACCOUNT.locked_for(&account, now) {
            self.store
                .audit(
                    &AuditEntry::new(now, user, "system", "login.locked_out")
                        .target(username)
                        .from_addr(&client.addr)
                        .detail(format!(
                            "{} failures; locked for {retry_after} s",
                            account.failures
                        )),
                )
                .await?;
            if let Some(user) = user {
                let message = format!(
                    "Your account {username} was locked for {} minutes after {} failed sign-in attempts, the last from {}.",
                    (retry_after + 59) / 60,
                    account.failures,
                    client.addr
                );
                self.alerts
                    .raise(user, "account locked", message, now)
                    .await?;
            }
        }
        // Slow down guessing; unknown users wait exactly as long.
        tokio::time::sleep(Duration::from_millis(throttle::ACCOUNT.delay_ms(&account))).await;
        Ok(())
    }

    /// The caller behind a session cookie, if the session is alive. Expired
    /// sessions are deleted on sight.
    pub async fn session(&self, token: &str, now: i64) -> Result<Option<Caller>, AuthError> {
        let token_hash = self.hash(token);
        let Some(row) = self.store.session(&token_hash).await? else {
            return Ok(None);
        };
        if !self.lifetimes.alive(row.created_at, row.last_seen_at, now) {
            self.store.delete_session(&token_hash).await?;
            return Ok(None);
        }
        // Writing on every request would serialize reads; a few seconds of
        // slack in the idle clock is harmless.
        if now - row.last_seen_at >= 5 {
            self.store.touch_session(&token_hash, now).await?;
        }
        Ok(Some(Caller {
            user_id: row.user_id,
            username: row.username,
            via: Via::Session {
                token_hash,
                csrf_token: row.csrf_token,
            },
        }))
    }

    /// The caller behind an API token, with the token's role capped by the
    /// creator's current role in the token's workspace.
    pub async fn api_token(&self, token: &str, now: i64) -> Result<Option<Caller>, AuthError> {
        if !token.starts_with(session::API_TOKEN_PREFIX) {
            return Ok(None);
        }
        let Some(row) = self.store.use_token(&self.hash(token), now).await? else {
            return Ok(None);
        };
        let Some(member_role) = self.store.role_in(row.user_id, row.workspace_id).await? else {
            return Ok(None);
        };
        let token_role: Role = row.role.parse().map_err(StoreError::Invalid)?;
        Ok(Some(Caller {
            user_id: row.user_id,
            username: row.username,
            via: Via::Token {
                id: row.id,
                workspace: row.workspace_id,
                role: token_role.min(member_role),
            },
        }))
    }

    pub async fn logout(
        &self,
        caller: &Caller,
        client: &Client,
        now: i64,
    ) -> Result<(), AuthError> {
        if let Via::Session { token_hash, .. } = &caller.via {
            self.store.delete_session(token_hash).await?;
            self.store
                .audit(
                    &AuditEntry::new(now, Some(caller.user_id), &caller.username, "logout")
                        .target(&caller.username)
                        .from_addr(&client.addr),
                )
                .await?;
        }
        Ok(())
    }

    /// Changes the caller's password after checking the current one; every
    /// session of the user ends, this one included, and with
    /// `revoke_tokens` (the forms' default) every API token of the user too:
    /// a stolen password may have been used to make one.
    pub async fn change_password(
        &self,
        caller: &Caller,
        current: &str,
        new: &str,
        revoke_tokens: bool,
        client: &Client,
        now: i64,
    ) -> Result<(), AuthError> {
        let user = self
            .store
            .user(caller.user_id)
            .await?
            .ok_or_else(|| AuthError::NotFound("the account no longer exists".into()))?;
        if self
            .hasher
            .verify(current.to_string(), Some(user.password_hash))
            .await
            == Verified::No
        {
            self.store
                .audit(
                    &AuditEntry::new(
                        now,
                        Some(user.id),
                        &user.username,
                        "password.change_refused",
                    )
                    .target(&user.username)
                    .from_addr(&client.addr),
                )
                .await?;
            return Err(AuthError::WrongCurrentPassword);
        }
        password::check_strength(new, &[&user.username])?;
        let phc = self.hasher.hash(new.to_string()).await?;
        let audit = AuditEntry::new(now, Some(user.id), &user.username, "password.changed")
            .target(&user.username)
            .from_addr(&client.addr)
            .detail(if revoke_tokens {
                "API tokens revoked"
            } else {
                "API tokens kept"
            });
        let (ended, revoked) = self
            .store
            .set_password(user.id, &phc, now, revoke_tokens, &audit)
            .await?;
        tracing::info!(user = %user.username, sessions_ended = ended, tokens_revoked = revoked, "password changed");
        Ok(())
    }

    /// Creates an API token with a role no higher than the creator's,
    /// expiring at `expires_at` if given. Only a signed-in session can: a
    /// token that could mint tokens would outlive its own revocation.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_token(
        &self,
        caller: &Caller,
        workspace: WorkspaceId,
        caller_role: Role,
        name: &str,
        role: Role,
        expires_at: Option<i64>,
        now: i64,
    ) -> Result<NewApiToken, AuthError> {
        if matches!(caller.via, Via::Token { .. }) {
            return Err(AuthError::Forbidden(
                "an API token cannot create tokens; sign in to make one".into(),
            ));
        }
        if expires_at.is_some_and(|at| at <= now) {
            return Err(AuthError::Invalid(
                "the expiry must be in the future".into(),
            ));
        }
        if !caller_role.allows(role) {
            return Err(AuthError::Forbidden(format!(
                "a token cannot have more power than its creator: you are {caller_role}, the token asked for {role}"
            )));
        }
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(AuthError::Invalid(
                "give the token a name of 1 to 100 characters".into(),
            ));
        }
        let token = format!("{}{}", session::API_TOKEN_PREFIX, crypto::random_token()?);
        let last4 = crypto::last4(&token);
        let audit = AuditEntry::new(
            now,
            Some(caller.user_id),
            &caller.username,
            "api_token.created",
        )
        .in_workspace(workspace)
        .target(name)
        .detail(match expires_at {
            Some(at) => format!(
                "role {role}, ends in {last4}, expires {}",
                crate::clock::rfc3339(at)
            ),
            None => format!("role {role}, ends in {last4}"),
        });
        let id = self
            .store
            .create_token(
                NewToken {
                    token_hash: &self.hash(&token),
                    name,
                    user_id: caller.user_id,
                    workspace_id: workspace,
                    role: role.as_str(),
                    last4: &last4,
                    now,
                    expires_at,
                },
                &audit,
            )
            .await?;
        let message = format!(
            "A new API token \"{name}\" (role {role}, ends in {last4}) was created for your account. \
             If this was not you, revoke it and change your password."
        );
        self.alerts
            .raise(caller.user_id, "new API token", message, now)
            .await?;
        Ok(NewApiToken { id, token })
    }
}

//! The `login_attempts` table: failure counts per account name and address.

use super::{Store, StoreError};
use crate::auth::throttle::Attempts;

/// The throttle key of a username. Names are at most 64 characters, so a
/// longer one typed at the sign-in form names no account: it is kept to a
/// bounded excerpt, and every such name of one prefix shares one counter.
pub fn account_key(username: &str) -> String {
    format!("account:{}", super::audit::excerpt(username.to_lowercase()))
}

pub fn address_key(addr: &str) -> String {
    format!("address:{addr}")
}

impl Store {
    pub async fn attempts(&self, key: &str) -> Result<Attempts, StoreError> {
        let row: Option<(i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT failures, last_failure, locked_until FROM login_attempts WHERE key = ?",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .map(|(failures, last_failure, locked_until)| Attempts {
                failures: u32::try_from(failures).unwrap_or(u32::MAX),
                last_failure,
                locked_until,
            })
            .unwrap_or_default())
    }

    pub async fn set_attempts(&self, key: &str, attempts: &Attempts) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO login_attempts (key, failures, last_failure, locked_until) VALUES (?, ?, ?, ?) \
             ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, \
             last_failure = excluded.last_failure, locked_until = excluded.locked_until",
        )
        .bind(key)
        .bind(i64::from(attempts.failures))
        .bind(attempts.last_failure)
        .bind(attempts.locked_until)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn clear_attempts(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_attempts WHERE key = ?")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

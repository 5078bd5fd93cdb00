//! The `login_attempts` table: failure counts per account name and address.

use super::{Store, StoreError};
use crate::auth::throttle::{Attempts, Policy};

/// The throttle key of a username. Names are at most 64 characters, so a
/// longer one typed at the sign-in form names no account: it is kept to a
/// bounded excerpt, and every such name of one prefix shares one counter.
pub fn account_key(username: &str) -> String {
    format!("account:{}", super::audit::excerpt(username.to_lowercase()))
}

pub fn address_key(addr: &str) -> String {
    format!("address:{addr}")
}

/// What reserving a sign-in attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// A key is locked: nothing was counted and no password may be checked.
    Locked { retry_after: i64 },
    /// The attempt is counted as a failure for every key, so the password
    /// may be checked; the states are those after this failure, key by key.
    Counted([Attempts; 2]),
}

impl Store {
    pub async fn attempts(&self, key: &str) -> Result<Attempts, StoreError> {
        Ok(read_attempts(&mut *self.pool.acquire().await?, key).await?)
    }

    /// Counts one sign-in attempt as a failure against both keys at once,
    /// unless either is locked, in one write transaction. The password is
    /// checked only after this, so parallel guesses queue here and each
    /// sees the count the previous one left: no more than the policy's
    /// number can ever be checked. A right password gives the attempt back
    /// ([`Store::clear_attempts`], [`Store::refund_attempt`]).
    pub async fn reserve_attempt(
        &self,
        keys: [(&str, &Policy); 2],
        now: i64,
    ) -> Result<Reservation, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut before = [Attempts::default(); 2];
        for (slot, (key, _)) in before.iter_mut().zip(keys) {
            *slot = read_attempts(&mut tx, key).await?;
        }
        let locked = keys
            .iter()
            .zip(before)
            .filter_map(|((_, policy), attempts)| policy.locked_for(&attempts, now))
            .max();
        if let Some(retry_after) = locked {
            return Ok(Reservation::Locked { retry_after });
        }
        let mut after = before;
        for (slot, (key, policy)) in after.iter_mut().zip(keys) {
            *slot = policy.after_failure(*slot, now);
            write_attempts(&mut tx, key, slot).await?;
        }
        tx.commit().await?;
        Ok(Reservation::Counted(after))
    }

    /// Takes back one reserved failure from `key` after a right password,
    /// lifting a lock that only that failure had set.
    pub async fn refund_attempt(&self, key: &str, policy: &Policy) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE login_attempts SET failures = failures - 1, \
             locked_until = CASE WHEN failures - 1 < ? THEN NULL ELSE locked_until END \
             WHERE key = ? AND failures > 0",
        )
        .bind(i64::from(policy.lock_after))
        .bind(key)
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

async fn read_attempts(
    conn: &mut sqlx::SqliteConnection,
    key: &str,
) -> Result<Attempts, sqlx::Error> {
    let row: Option<(i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT failures, last_failure, locked_until FROM login_attempts WHERE key = ?",
    )
    .bind(key)
    .fetch_optional(conn)
    .await?;
    Ok(row
        .map(|(failures, last_failure, locked_until)| Attempts {
            failures: u32::try_from(failures).unwrap_or(u32::MAX),
            last_failure,
            locked_until,
        })
        .unwrap_or_default())
}

async fn write_attempts(
    conn: &mut sqlx::SqliteConnection,
    key: &str,
    attempts: &Attempts,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO login_attempts (key, failures, last_failure, locked_until) VALUES (?, ?, ?, ?) \
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, \
         last_failure = excluded.last_failure, locked_until = excluded.locked_until",
    )
    .bind(key)
    .bind(i64::from(attempts.failures))
    .bind(attempts.last_failure)
    .bind(attempts.locked_until)
    .execute(conn)
    .await?;
    Ok(())
}

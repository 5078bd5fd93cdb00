//! Login throttling as a small state machine over failure counts, kept per
//! account name and per client address. Pure: the caller passes the time.

/// A key's recent failures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attempts {
    pub failures: u32,
    pub last_failure: i64,
    pub locked_until: Option<i64>,
}

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures in a row before the first lockout.
    pub lock_after: u32,
    /// The first lockout, in seconds; each further failure doubles it.
    pub first_lock: i64,
    pub max_lock: i64,
    /// Failures older than this (seconds) are forgotten.
    pub window: i64,
}

/// Per account: five tries, then 1 minute, doubling up to an hour.
pub const ACCOUNT: Policy = Policy {
    lock_after: 5,
    first_lock: 60,
    max_lock: 3600,
    window: 900,
};

/// Per client address: more room, since a household may share one address.
pub const ADDRESS: Policy = Policy {
    lock_after: 20,
    first_lock: 60,
    max_lock: 3600,
    window: 900,
};

impl Policy {
    /// Seconds until the key may try again, if it is locked at `now`.
    pub fn locked_for(&self, attempts: &Attempts, now: i64) -> Option<i64> {
        attempts
            .locked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    /// The state after one more failure at `now`.
    pub fn after_failure(&self, attempts: Attempts, now: i64) -> Attempts {
        let stale =
            now - attempts.last_failure > self.window && self.locked_for(&attempts, now).is_none();
        let failures = if stale { 1 } else { attempts.failures + 1 };
        let locked_until = (failures >= self.lock_after).then(|| {
            let doublings = (failures - self.lock_after).min(16);
            now + (self.first_lock << doublings).min(self.max_lock)
        });
        Attempts {
            failures,
            last_failure: now,
            locked_until,
        }
    }

    /// A delay before answering a failed attempt, growing with the count, so
    /// that guessing is slow even before a lockout.
    pub fn delay_ms(&self, attempts: &Attempts) -> u64 {
        (u64::from(attempts.failures) * 200).min(2000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(policy: &Policy, times: u32, start: i64) -> Attempts {
        (0..times).fold(Attempts::default(), |a, i| {
            policy.after_failure(a, start + i64::from(i))
        })
    }

    #[test]
    fn the_fifth_failure_locks_the_account_for_a_minute() {
        let four = fail(&ACCOUNT, 4, 1000);
        assert_eq!(ACCOUNT.locked_for(&four, 1004), None);
        let five = ACCOUNT.after_failure(four, 1004);
        assert_eq!(ACCOUNT.locked_for(&five, 1004), Some(60));
        assert_eq!(ACCOUNT.locked_for(&five, 1064), None);
    }

    #[test]
    fn each_further_failure_doubles_the_lockout_up_to_an_hour() {
        let six = fail(&ACCOUNT, 6, 0);
        assert_eq!(ACCOUNT.locked_for(&six, 5), Some(120));
        let many = fail(&ACCOUNT, 30, 0);
        assert_eq!(ACCOUNT.locked_for(&many, 29), Some(3600));
    }

    #[test]
    fn old_failures_are_forgotten_after_the_window() {
        let four = fail(&ACCOUNT, 4, 0);
        let later = ACCOUNT.after_failure(four, 10_000);
        assert_eq!(later.failures, 1);
        assert_eq!(ACCOUNT.locked_for(&later, 10_000), None);
    }

    #[test]
    fn the_delay_grows_and_is_capped() {
        assert_eq!(ACCOUNT.delay_ms(&fail(&ACCOUNT, 1, 0)), 200);
        assert_eq!(ACCOUNT.delay_ms(&fail(&ACCOUNT, 3, 0)), 600);
        assert_eq!(ACCOUNT.delay_ms(&fail(&ACCOUNT, 50, 0)), 2000);
    }

    #[test]
    fn addresses_get_more_room_than_accounts() {
        let nineteen = fail(&ADDRESS, 19, 0);
        assert_eq!(ADDRESS.locked_for(&nineteen, 19), None);
        assert!(
            ADDRESS
                .locked_for(&ADDRESS.after_failure(nineteen, 19), 19)
                .is_some()
        );
    }
}

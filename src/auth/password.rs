//! Passwords: argon2id PHC strings, a strength check, and hashing off the
//! async executor with a cap on how many run at once (each costs ~19 MiB).

use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

pub const MIN_LENGTH: usize = 12;
/// zxcvbn's score: 3 is "safely unguessable: moderate protection from
/// offline slow-hash scenario".
const MIN_SCORE: u8 = 3;
/// At most this many hashes run at once; the rest wait their turn.
const CONCURRENT_HASHES: usize = 2;

/// OWASP's recommended argon2id settings: 19 MiB, 2 passes, 1 lane.
fn params() -> Params {
    Params::new(19 * 1024, 2, 1, None).unwrap_or_default()
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("the password must be at least {MIN_LENGTH} characters")]
    TooShort,
    #[error("the password is too easy to guess: {0}")]
    TooWeak(String),
    #[error("the password could not be hashed: {0}")]
    Hash(String),
}

/// Checks length and guessability; `context` holds words the password must not
/// lean on (the username, the product name).
pub fn check_strength(password: &str, context: &[&str]) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_LENGTH {
        return Err(PasswordError::TooShort);
    }
    let mut inputs: Vec<&str> = context.to_vec();
    inputs.extend(["ledgersys", "bitcoin"]);
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if u8::from(estimate.score()) >= MIN_SCORE {
        return Ok(());
    }
    let advice = estimate
        .feedback()
        .and_then(|f| {
            f.warning()
                .map(|w| w.to_string())
                .or_else(|| f.suggestions().first().map(|s| s.to_string()))
        })
        .unwrap_or_else(|| "add more words or characters that are not a common pattern".into());
    Err(PasswordError::TooWeak(advice))
}

/// Hashes a password into a PHC string (blocking; see [`Hasher`]).
pub fn hash(password: &str) -> Result<String, PasswordError> {
    PasswordHasher::<PasswordHash>::hash_password(&argon2(), password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, and the stored hash uses older parameters: store this one.
    YesRehashed(String),
}

/// Verifies `password` against `phc` (blocking).
pub fn verify(password: &str, phc: &str) -> Verified {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return Verified::No;
    };
    if argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_err()
    {
        return Verified::No;
    }
    if is_current(&parsed) {
        return Verified::Yes;
    }
    match hash(password) {
        Ok(fresh) => Verified::YesRehashed(fresh),
        Err(_) => Verified::Yes,
    }
}

fn is_current(parsed: &PasswordHash) -> bool {
    let Ok(stored) = Params::try_from(parsed) else {
        return false;
    };
    let wanted = params();
    parsed.algorithm.as_str() == "argon2id"
        && stored.m_cost() >= wanted.m_cost()
        && stored.t_cost() >= wanted.t_cost()
        && stored.p_cost() >= wanted.p_cost()
}

/// A hash of a random password, verified against when a username is unknown
/// so that unknown users and wrong passwords cost the same time.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let random = crate::crypto::random_token().unwrap_or_else(|_| "decoy-password-0".into());
        hash(&random).unwrap_or_default()
    })
}

/// Runs hashing on the blocking pool, a few at a time.
#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
}

impl Default for Hasher {
    fn default() -> Self {
        Hasher {
            permits: Arc::new(Semaphore::new(CONCURRENT_HASHES)),
        }
    }
}

impl Hasher {
    /// Runs `work` on the blocking pool once a permit is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| PasswordError::Hash(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| PasswordError::Hash(e.to_string()))
    }

    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        self.run(move || hash(&password)).await?
    }

    /// Verifies against `phc`, or against the decoy when there is no user.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Verified {
        let outcome = self
            .run(move || match phc {
                Some(phc) => verify(&password, &phc),
                None => {
                    let _ = verify(&password, decoy_hash());
                    Verified::No
                }
            })
            .await;
        outcome.unwrap_or(Verified::No)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "correct horse battery staple quietly";

    #[test]
    fn hashes_are_argon2id_phc_strings_at_owasp_parameters() {
        let phc = hash(GOOD).expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!phc.contains(GOOD));
        assert_eq!(verify(GOOD, &phc), Verified::Yes);
        assert_eq!(verify("wrong password entirely", &phc), Verified::No);
    }

    #[test]
    fn weaker_stored_hashes_are_upgraded_on_login() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).expect("params"),
        )
        .hash_password(GOOD.as_bytes())
        .map(|h: PasswordHash| h)
        .expect("hash")
        .to_string();
        let Verified::YesRehashed(fresh) = verify(GOOD, &weak) else {
            panic!("an old hash must be replaced");
        };
        assert!(fresh.contains("m=19456,t=2,p=1"), "{fresh}");
        assert_eq!(verify(GOOD, &fresh), Verified::Yes);
    }

    #[test]
    fn short_and_common_passwords_are_refused() {
        assert_eq!(check_strength("short", &[]), Err(PasswordError::TooShort));
        assert!(matches!(
            check_strength("password1234", &[]),
            Err(PasswordError::TooWeak(_))
        ));
        assert!(matches!(
            check_strength("aliceliddell1", &["aliceliddell"]),
            Err(PasswordError::TooWeak(_))
        ));
        check_strength(GOOD, &["alice"]).expect("a strong passphrase");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_than_two_hashes_run_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hasher = Hasher::default();
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..8)
            .map(|_| {
                let (hasher, running, most) = (hasher.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    hasher
                        .run(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(30));
                            running.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await
                })
            })
            .collect();
        for job in jobs {
            job.await.expect("join").expect("run");
        }
        assert_eq!(most.load(Ordering::SeqCst), CONCURRENT_HASHES);
    }

    #[tokio::test]
    async fn unknown_users_are_checked_against_a_decoy() {
        let hasher = Hasher::default();
        assert_eq!(hasher.verify(GOOD.into(), None).await, Verified::No);
        let phc = hasher.hash(GOOD.into()).await.expect("hash");
        assert_eq!(hasher.verify(GOOD.into(), Some(phc)).await, Verified::Yes);
    }
}

//! Nonces, one sequence per key, each strictly greater than the last, and
//! requests on one key one at a time: Kraken refuses a nonce lower than
//! one already seen, which parallel requests on a key would produce.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The last nonce per key, with a lock held for the whole request.
#[derive(Debug, Default, Clone)]
pub struct Nonces {
    keys: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<u64>>>>>,
}

/// Held while one request on a key is signed and sent.
pub struct Turn {
    last: tokio::sync::OwnedMutexGuard<u64>,
}

impl Turn {
    /// The next nonce: the clock's reading, or one more than the last if
    /// the clock has not moved on (or went back).
    pub fn next(&mut self, now: u64) -> u64 {
        *self.last = now.max(*self.last + 1);
        *self.last
    }
}

impl Nonces {
    /// Waits for the key's turn. `key` is an identifier of the key (its
    /// connection id), never the secret.
    pub async fn turn(&self, key: &str) -> Turn {
        let slot = {
            let mut keys = match self.keys.lock() {
                Ok(keys) => keys,
                Err(poisoned) => poisoned.into_inner(),
            };
            keys.entry(key.to_string()).or_default().clone()
        };
        Turn {
            last: slot.lock_owned().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Nonces;

    #[tokio::test]
    async fn nonces_only_go_up_even_when_the_clock_does_not() {
        let nonces = Nonces::default();
        let mut turn = nonces.turn("kraken-1").await;
        assert_eq!(turn.next(1_000), 1_000);
        assert_eq!(turn.next(1_000), 1_001);
        assert_eq!(turn.next(900), 1_002, "a clock that went back");
        drop(turn);
        assert_eq!(nonces.turn("kraken-1").await.next(5_000), 5_000);
        assert_eq!(nonces.turn("kraken-2").await.next(10), 10, "keys are apart");
    }

    #[tokio::test]
    async fn a_key_serves_one_request_at_a_time() {
        let nonces = Nonces::default();
        let first = nonces.turn("k").await;
        let waiting =
            tokio::time::timeout(std::time::Duration::from_millis(50), nonces.turn("k")).await;
        assert!(
            waiting.is_err(),
            "a second turn waits while the first is held"
        );
        drop(first);
        let _second = nonces.turn("k").await;
    }
}

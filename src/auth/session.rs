//! Session and API tokens: random, stored only as a keyed hash, and alive
//! only within an idle timeout and an absolute lifetime. Pure.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The cookie that carries the session token. With TLS it gets the
/// `__Host-` prefix, which browsers accept only from a secure origin, for
/// path `/`, without a domain.
pub const COOKIE: &str = "ledgersys_session";
pub const COOKIE_TLS: &str = "__Host-ledgersys_session";
/// Prefix of API tokens, so they are recognisable in a leaked log or file.
pub const API_TOKEN_PREFIX: &str = "lsk_";

#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle_seconds: i64,
    pub absolute_seconds: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            idle_seconds: 30 * 60,
            absolute_seconds: 12 * 60 * 60,
        }
    }
}

impl Lifetimes {
    /// True while a session created at `created` and last used at `last_seen`
    /// is still valid at `now`.
    pub fn alive(&self, created: i64, last_seen: i64, now: i64) -> bool {
        now - last_seen < self.idle_seconds && now - created < self.absolute_seconds
    }
}

/// HMAC-SHA256 of a token under the server's key: what the database stores.
/// A stolen database holds no usable token.
pub fn token_hash(server_key: &[u8], token: &str) -> Vec<u8> {
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(server_key) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; this arm cannot be reached.
        Err(_) => return Vec::new(),
    };
    mac.update(token.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Compares two secrets in constant time.
pub fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_dies_when_idle_or_too_old() {
        let life = Lifetimes::default();
        assert!(life.alive(0, 0, 29 * 60));
        assert!(!life.alive(0, 0, 30 * 60), "idle for 30 minutes");
        let busy_until = 12 * 3600 - 1;
        assert!(life.alive(0, busy_until - 10, busy_until));
        assert!(!life.alive(0, 12 * 3600 - 5, 12 * 3600), "past 12 hours");
    }

    #[test]
    fn token_hashes_depend_on_the_server_key() {
        let a = token_hash(b"key-one", "token");
        assert_eq!(a.len(), 32);
        assert_eq!(a, token_hash(b"key-one", "token"));
        assert_ne!(a, token_hash(b"key-two", "token"));
        assert_ne!(a, token_hash(b"key-one", "other"));
    }

    #[test]
    fn comparison_needs_equal_values() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }
}

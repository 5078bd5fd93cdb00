//! Secrets at rest and the randomness behind every token.

mod keyfile;
pub mod keys;
mod secretbox;

pub use keyfile::{KeySource, load_or_create, write_key_file};
pub use secretbox::{DataKey, Secret, SecretBox};

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the system random number generator failed: {0}")]
    Random(String),
    #[error("a stored secret is malformed")]
    Malformed,
    #[error("a stored secret was sealed with key {0}, which is not loaded")]
    UnknownKey(String),
    #[error(
        "a stored secret does not decrypt with its key (wrong key, or the value was moved or altered)"
    )]
    Tampered,
    #[error("{0}")]
    Key(String),
}

/// Fills a fresh array from the operating system's generator.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| CryptoError::Random(e.to_string()))?;
    Ok(bytes)
}

/// A random token of 256 bits, URL-safe base64 without padding.
pub fn random_token() -> Result<String, CryptoError> {
    use base64::Engine;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// The last four characters of a secret, for display.
pub fn last4(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() <= 8 {
        // Too short to reveal any part of it safely.
        return "····".to_string();
    }
    chars[chars.len() - 4..].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_and_unique() {
        let a = random_token().expect("token");
        let b = random_token().expect("token");
        assert_eq!(a.len(), 43, "32 bytes in unpadded base64");
        assert_ne!(a, b);
    }

    #[test]
    fn last4_shows_only_the_end_of_long_secrets() {
        assert_eq!(last4("sk_live_abcdefgh1234"), "1234");
        assert_eq!(last4("short"), "····");
    }
}

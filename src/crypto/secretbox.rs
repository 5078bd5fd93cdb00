//! AES-256-GCM for secrets at rest. Each value gets a random 96-bit nonce and
//! is bound to its row by associated data, so a ciphertext copied into another
//! row does not decrypt. Every ciphertext names its key, so keys can rotate.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::{CryptoError, random_bytes};

const FORMAT: &str = "v1";
const KEY_CHECK_AAD: &str = "ledgersys:key-check";
const KEY_CHECK_TEXT: &[u8] = b"ledgersys key check";

/// A 256-bit data key and its short public id.
#[derive(Clone)]
pub struct DataKey {
    id: String,
    key: [u8; 32],
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKey({}, redacted)", self.id)
    }
}

impl DataKey {
    pub fn from_bytes(key: [u8; 32]) -> DataKey {
        let digest = Sha256::digest([b"ledgersys key id:".as_slice(), &key].concat());
        DataKey {
            id: hex::encode(&digest[..4]),
            key,
        }
    }

    pub fn generate() -> Result<DataKey, CryptoError> {
        Ok(DataKey::from_bytes(random_bytes()?))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.key)
    }

    pub fn from_base64(text: &str) -> Result<DataKey, CryptoError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| CryptoError::Key("the secret key is not valid base64".into()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CryptoError::Key("the secret key must be 32 bytes (256 bits)".into()))?;
        Ok(DataKey::from_bytes(key))
    }
}

/// A decrypted secret. Its `Debug` never shows the value.
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

/// Seals with the current key; opens with any loaded key.
#[derive(Clone, Debug)]
pub struct SecretBox {
    current: DataKey,
    previous: Vec<DataKey>,
}

impl SecretBox {
    pub fn new(current: DataKey) -> SecretBox {
        SecretBox {
            current,
            previous: Vec::new(),
        }
    }

    /// A box that can still open values sealed under `old` (for rotation).
    pub fn with_previous(mut self, old: DataKey) -> SecretBox {
        self.previous.push(old);
        self
    }

    pub fn key_id(&self) -> &str {
        self.current.id()
    }

    /// Encrypts `plaintext`, bound to `identity` (the row it belongs to).
    pub fn seal(&self, identity: &str, plaintext: &[u8]) -> Result<String, CryptoError> {
        let cipher = Aes256Gcm::new((&self.current.key).into());
        let nonce_bytes: [u8; 12] = random_bytes()?;
        let nonce = Nonce::from(nonce_bytes);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: identity.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Tampered)?;
        let mut blob = nonce_bytes.to_vec();
        blob.extend_from_slice(&sealed);
        Ok(format!(
            "{FORMAT}.{}.{}",
            self.current.id(),
            URL_SAFE_NO_PAD.encode(blob)
        ))
    }

    pub fn open(&self, identity: &str, sealed: &str) -> Result<Secret, CryptoError> {
        let bytes = self.open_bytes(identity, sealed)?;
        String::from_utf8(bytes)
            .map(Secret)
            .map_err(|_| CryptoError::Malformed)
    }

    fn open_bytes(&self, identity: &str, sealed: &str) -> Result<Vec<u8>, CryptoError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(FORMAT), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CryptoError::Malformed);
        };
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id() == key_id)
            .ok_or_else(|| CryptoError::UnknownKey(key_id.to_string()))?;
        let blob = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| CryptoError::Malformed)?;
        if blob.len() < 12 + 16 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ciphertext) = blob.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| CryptoError::Malformed)?;
        Aes256Gcm::new((&key.key).into())
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: identity.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Tampered)
    }

    /// A value stored beside the secrets that proves which key they need.
    pub fn key_check(&self) -> Result<String, CryptoError> {
        self.seal(KEY_CHECK_AAD, KEY_CHECK_TEXT)
    }

    /// Ok when `stored` was made by [`SecretBox::key_check`] with a loaded key.
    pub fn verify_key_check(&self, stored: &str) -> Result<(), CryptoError> {
        match self.open_bytes(KEY_CHECK_AAD, stored)? {
            bytes if bytes == KEY_CHECK_TEXT => Ok(()),
            _ => Err(CryptoError::Tampered),
        }
    }

    /// The id of the key a sealed value names, without opening it.
    pub fn sealed_key_id(sealed: &str) -> Option<&str> {
        sealed.split('.').nth(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> SecretBox {
        SecretBox::new(DataKey::generate().expect("key"))
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_own_row() {
        let b = sealer();
        let sealed = b
            .seal("secret:smtp.password", b"hunter2-but-longer")
            .expect("seal");
        assert!(!sealed.contains("hunter2"));
        assert_eq!(
            b.open("secret:smtp.password", &sealed)
                .expect("open")
                .expose(),
            "hunter2-but-longer"
        );
        assert!(matches!(
            b.open("secret:btcpay.1.api_key", &sealed),
            Err(CryptoError::Tampered)
        ));
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let b = sealer();
        let one = b.seal("row", b"same").expect("seal");
        let two = b.seal("row", b"same").expect("seal");
        assert_ne!(one, two);
    }

    #[test]
    fn a_flipped_bit_is_detected() {
        let b = sealer();
        let sealed = b.seal("row", b"value").expect("seal");
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        assert!(matches!(
            b.open("row", &tampered),
            Err(CryptoError::Tampered)
        ));
    }

    #[test]
    fn the_key_check_tells_the_right_key_from_a_wrong_one() {
        let right = sealer();
        let check = right.key_check().expect("check");
        right.verify_key_check(&check).expect("right key");
        let wrong = sealer();
        assert!(matches!(
            wrong.verify_key_check(&check),
            Err(CryptoError::UnknownKey(id)) if id == right.key_id()
        ));
    }

    #[test]
    fn rotation_opens_old_values_and_seals_with_the_new_key() {
        let old = DataKey::generate().expect("key");
        let sealed = SecretBox::new(old.clone()).seal("row", b"v").expect("seal");
        let rotated = SecretBox::new(DataKey::generate().expect("key")).with_previous(old.clone());
        assert_eq!(rotated.open("row", &sealed).expect("open").expose(), "v");
        let resealed = rotated.seal("row", b"v").expect("seal");
        assert_eq!(SecretBox::sealed_key_id(&resealed), Some(rotated.key_id()));
        assert_ne!(rotated.key_id(), old.id());
    }

    #[test]
    fn keys_round_trip_through_base64_and_never_print() {
        let key = DataKey::generate().expect("key");
        let again = DataKey::from_base64(&key.to_base64()).expect("parse");
        assert_eq!(again.id(), key.id());
        assert!(!format!("{key:?}").contains(&key.to_base64()));
        assert!(DataKey::from_base64("c2hvcnQ=").is_err());
    }
}

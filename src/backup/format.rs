//! The encrypted backup file: a header, then the plaintext cut into 64 KiB
//! chunks, each sealed with AES-256-GCM under a key derived from the user's
//! passphrase with argon2id. Chunk nonces carry a counter and a last-chunk
//! flag (the STREAM construction), so reordered, dropped or truncated chunks
//! fail to open; the header is bound to every chunk as associated data.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::crypto::random_bytes;

const MAGIC: &[u8; 17] = b"LEDGERSYS-BACKUP\n";
const VERSION: u8 = 1;
const CHUNK: usize = 64 * 1024;
/// Stronger than login hashing: a stolen backup can be attacked offline.
const M_COST_KIB: u32 = 64 * 1024;
const T_COST: u32 = 3;
const HEADER_LEN: usize = 17 + 1 + 12 + 16 + 7;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormatError {
    #[error("this is not a Ledgersys backup file")]
    NotABackup,
    #[error("this backup was made by a newer version of Ledgersys (format {0})")]
    NewerFormat(u8),
    #[error("the passphrase is wrong, or the backup file is damaged or incomplete")]
    CannotOpen,
    #[error("cannot derive the backup key: {0}")]
    Kdf(String),
    #[error("cannot read random bytes: {0}")]
    Random(String),
}

fn derive(passphrase: &str, salt: &[u8], m: u32, t: u32, p: u32) -> Result<Aes256Gcm, FormatError> {
    let params = Params::new(m, t, p, Some(32)).map_err(|e| FormatError::Kdf(e.to_string()))?;
    let mut key = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .map_err(|e| FormatError::Kdf(e.to_string()))?;
    Ok(Aes256Gcm::new((&key).into()))
}

fn nonce(prefix: &[u8], counter: u32, last: bool) -> Nonce<aes_gcm::aead::consts::U12> {
    let mut bytes = [0u8; 12];
    bytes[..7].copy_from_slice(prefix);
    bytes[7..11].copy_from_slice(&counter.to_be_bytes());
    bytes[11] = u8::from(last);
    Nonce::from(bytes)
}

/// Encrypts `plaintext` under `passphrase`.
pub fn seal(passphrase: &str, plaintext: &[u8]) -> Result<Vec<u8>, FormatError> {
    let random = |e: crate::crypto::CryptoError| FormatError::Random(e.to_string());
    let salt: [u8; 16] = random_bytes().map_err(random)?;
    let prefix: [u8; 7] = random_bytes().map_err(random)?;
    let mut out = Vec::with_capacity(plaintext.len() + plaintext.len() / CHUNK * 20 + 128);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    for n in [M_COST_KIB, T_COST, 1] {
        out.extend_from_slice(&n.to_be_bytes());
    }
    out.extend_from_slice(&salt);
    out.extend_from_slice(&prefix);
    let header = out.clone();
    let cipher = derive(passphrase, &salt, M_COST_KIB, T_COST, 1)?;
    let chunks: Vec<&[u8]> = if plaintext.is_empty() {
        vec![&[]]
    } else {
        plaintext.chunks(CHUNK).collect()
    };
    for (i, chunk) in chunks.iter().enumerate() {
        let last = i + 1 == chunks.len();
        let counter = u32::try_from(i).map_err(|_| FormatError::CannotOpen)?;
        let sealed = cipher
            .encrypt(
                &nonce(&prefix, counter, last),
                Payload {
                    msg: chunk,
                    aad: &header,
                },
            )
            .map_err(|_| FormatError::CannotOpen)?;
        let len = u32::try_from(sealed.len()).map_err(|_| FormatError::CannotOpen)?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&sealed);
    }
    Ok(out)
}

fn be32(bytes: &[u8]) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[..4]);
    u32::from_be_bytes(b)
}

/// Decrypts a backup; any damage, truncation or a wrong passphrase fails.
pub fn open(passphrase: &str, file: &[u8]) -> Result<Vec<u8>, FormatError> {
    if file.len() < HEADER_LEN || &file[..17] != MAGIC {
        return Err(FormatError::NotABackup);
    }
    if file[17] != VERSION {
        return Err(FormatError::NewerFormat(file[17]));
    }
    let (m, t, p) = (be32(&file[18..]), be32(&file[22..]), be32(&file[26..]));
    if m > 4 * 1024 * 1024 || t > 100 || p > 64 {
        return Err(FormatError::NotABackup);
    }
    let salt = &file[30..46];
    let prefix = &file[46..53];
    let header = &file[..HEADER_LEN];
    let cipher = derive(passphrase, salt, m, t, p)?;
    let mut rest = &file[HEADER_LEN..];
    let mut plain = Vec::with_capacity(file.len());
    let mut counter = 0u32;
    loop {
        if rest.len() < 4 {
            return Err(FormatError::CannotOpen);
        }
        let len = be32(rest) as usize;
        rest = &rest[4..];
        if rest.len() < len {
            return Err(FormatError::CannotOpen);
        }
        let (sealed, after) = rest.split_at(len);
        let last = after.is_empty();
        let chunk = cipher
            .decrypt(
                &nonce(prefix, counter, last),
                Payload {
                    msg: sealed,
                    aad: header,
                },
            )
            .map_err(|_| FormatError::CannotOpen)?;
        plain.extend_from_slice(&chunk);
        if last {
            return Ok(plain);
        }
        rest = after;
        counter = counter.checked_add(1).ok_or(FormatError::CannotOpen)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn a_backup_opens_with_its_passphrase_only() {
        let plain = data(CHUNK * 2 + 123);
        let sealed = seal("a long backup passphrase", &plain).expect("seal");
        assert_eq!(
            open("a long backup passphrase", &sealed).expect("open"),
            plain
        );
        assert_eq!(
            open("another passphrase", &sealed),
            Err(FormatError::CannotOpen)
        );
    }

    #[test]
    fn truncation_reordering_and_tampering_are_detected() {
        let plain = data(CHUNK * 3);
        let sealed = seal("pass phrase here", &plain).expect("seal");
        // Cut after the first two chunks: they open, but no chunk is marked last.
        let chunk_len = 4 + CHUNK + 16;
        let truncated = &sealed[..HEADER_LEN + 2 * chunk_len];
        assert_eq!(
            open("pass phrase here", truncated),
            Err(FormatError::CannotOpen)
        );
        let mut swapped = sealed.clone();
        let (a, b) = (HEADER_LEN, HEADER_LEN + chunk_len);
        let first: Vec<u8> = swapped[a..b].to_vec();
        let second: Vec<u8> = swapped[b..b + chunk_len].to_vec();
        swapped[a..b].copy_from_slice(&second);
        swapped[b..b + chunk_len].copy_from_slice(&first);
        assert_eq!(
            open("pass phrase here", &swapped),
            Err(FormatError::CannotOpen)
        );
        let mut flipped = sealed.clone();
        flipped[HEADER_LEN + 10] ^= 1;
        assert_eq!(
            open("pass phrase here", &flipped),
            Err(FormatError::CannotOpen)
        );
        let mut header = sealed;
        header[40] ^= 1;
        assert_eq!(
            open("pass phrase here", &header),
            Err(FormatError::CannotOpen)
        );
    }

    #[test]
    fn other_files_are_recognised_as_such() {
        assert_eq!(
            open(
                "x",
                b"SQLite format 3\0 and more bytes here to pass the length"
            ),
            Err(FormatError::NotABackup)
        );
    }
}

//! Loading the data key at start-up, proving it is the right one, and
//! rotating it.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{
    CryptoError, DataKey, KeySource, SecretBox, load_or_create, random_bytes, write_key_file,
};
use crate::config::{Config, SECRET_KEY_ENV};
use crate::store::secrets::{KEY_CHECK_SETTING, SealedSecret};
use crate::store::{AuditEntry, Store, StoreError};

pub const KEY_FILE: &str = "secret.key";
/// A new key written during rotation, before the database switches to it.
const NEXT_KEY_FILE: &str = "secret.key.next";
/// The systemd credential name (`LoadCredential=ledgersys-secret-key:...`).
const CREDENTIAL: &str = "ledgersys-secret-key";
const SESSION_KEY_SECRET: &str = "instance.session-key";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the secret key from {origin} (key {found}) is not the key this database was sealed with (key {expected}); \
         restore the right key file, or point LEDGERSYS_SECRET_KEY_FILE at it"
    )]
    WrongKey {
        origin: String,
        found: String,
        expected: String,
    },
}

/// The keys a running instance holds.
#[derive(Clone, Debug)]
pub struct Keys {
    pub secrets: SecretBox,
    /// Keys the HMAC that sessions and API tokens are stored under.
    pub session_key: [u8; 32],
}

/// Where the key comes from: `LEDGERSYS_SECRET_KEY`, a systemd credential,
/// the configured key file, or `secret.key` in the data directory.
pub fn key_source(config: &Config, data_dir: &Path) -> KeySource {
    if let Some(value) = &config.secret_key {
        return KeySource::Inline {
            value: value.clone(),
            origin: SECRET_KEY_ENV,
        };
    }
    if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
        let credential = PathBuf::from(dir).join(CREDENTIAL);
        if credential.exists() {
            return KeySource::File(credential);
        }
    }
    KeySource::File(
        config
            .secret_key_file
            .clone()
            .unwrap_or_else(|| data_dir.join(KEY_FILE)),
    )
}

/// Loads the key, checks it against the database and loads the session key.
/// A fresh database gets a new key file and key check.
pub async fn open(store: &Store, source: &KeySource, now: i64) -> Result<Keys, KeyError> {
    let check = store.setting(KEY_CHECK_SETTING).await?;
    let key = load_or_create(source, check.is_none())?;
    let secrets = match &check {
        None => {
            let secrets = SecretBox::new(key);
            store
                .set_setting(KEY_CHECK_SETTING, &secrets.key_check()?)
                .await?;
            secrets
        }
        Some(stored) => verified(key, stored, source)?,
    };
    let session_key = session_key(store, &secrets, now).await?;
    Ok(Keys {
        secrets,
        session_key,
    })
}

fn verified(key: DataKey, stored: &str, source: &KeySource) -> Result<SecretBox, KeyError> {
    let secrets = SecretBox::new(key);
    if secrets.verify_key_check(stored).is_ok() {
        return Ok(secrets);
    }
    // A rotation that wrote its new key and resealed the database but did not
    // get to rename the key file: finish it.
    if let KeySource::File(path) = source {
        let next = path.with_file_name(NEXT_KEY_FILE);
        if let Ok(next_key) = load_or_create(&KeySource::File(next.clone()), false) {
            let candidate = SecretBox::new(next_key);
            if candidate.verify_key_check(stored).is_ok() {
                std::fs::rename(&next, path).map_err(|e| {
                    CryptoError::Key(format!("cannot finish the key rotation: {e}"))
                })?;
                tracing::warn!("finished an interrupted key rotation");
                return Ok(candidate);
            }
        }
    }
    Err(KeyError::WrongKey {
        origin: source.to_string(),
        found: secrets.key_id().to_string(),
        expected: SecretBox::sealed_key_id(stored).unwrap_or("?").to_string(),
    })
}

/// The data key, checked against the database's key check.
pub async fn current_key(store: &Store, source: &KeySource) -> Result<DataKey, KeyError> {
    let check = store.setting(KEY_CHECK_SETTING).await?.ok_or_else(|| {
        CryptoError::Key("this database has no key yet; start Ledgersys once first".into())
    })?;
    let key = load_or_create(source, false)?;
    verified(key.clone(), &check, source)?;
    Ok(key)
}

async fn session_key(store: &Store, secrets: &SecretBox, now: i64) -> Result<[u8; 32], KeyError> {
    if let Some(stored) = store.secret(SESSION_KEY_SECRET).await? {
        let opened = secrets.open(SESSION_KEY_SECRET, &stored.sealed)?;
        let bytes = STANDARD
            .decode(opened.expose())
            .map_err(|_| CryptoError::Malformed)?;
        return bytes.try_into().map_err(|_| CryptoError::Malformed.into());
    }
    let key: [u8; 32] = random_bytes()?;
    let sealed = secrets.seal(SESSION_KEY_SECRET, STANDARD.encode(key).as_bytes())?;
    let audit = AuditEntry::new(now, None, "system", "secret.created").target(SESSION_KEY_SECRET);
    store
        .put_secret(SESSION_KEY_SECRET, &sealed, "····", &audit)
        .await?;
    Ok(key)
}

/// Re-encrypts every secret under a new key file. The old key is needed to
/// open them; the new one is written first as `secret.key.next`, the database
/// switches in one transaction, then the file replaces the old key.
pub async fn rotate(
    store: &Store,
    source: &KeySource,
    actor: &str,
    now: i64,
) -> Result<(String, String), KeyError> {
    let KeySource::File(path) = source else {
        return Err(CryptoError::Key(format!(
            "the key comes from {source}; rotate it by setting a new key file with LEDGERSYS_SECRET_KEY_FILE after \
             running `ledgersys admin rotate-key` on a copy that uses a key file"
        ))
        .into());
    };
    let stored = store.setting(KEY_CHECK_SETTING).await?.ok_or_else(|| {
        CryptoError::Key("this database has no key yet; start Ledgersys once first".into())
    })?;
    let old = verified(load_or_create(source, false)?, &stored, source)?;
    let new_key = DataKey::generate()?;
    let next = path.with_file_name(NEXT_KEY_FILE);
    let _ = std::fs::remove_file(&next);
    write_key_file(&next, &new_key)?;
    let rotated = SecretBox::new(new_key.clone());
    let mut resealed = Vec::new();
    for secret in store.all_secrets().await? {
        let plain = old.open(&secret.name, &secret.sealed)?;
        resealed.push(SealedSecret {
            sealed: rotated.seal(&secret.name, plain.expose().as_bytes())?,
            ..secret
        });
    }
    let audit = AuditEntry::new(now, None, actor, "secret_key.rotated").detail(format!(
        "from key {} to key {}",
        old.key_id(),
        rotated.key_id()
    ));
    store
        .reseal_all(&resealed, &rotated.key_check()?, &audit)
        .await?;
    std::fs::rename(&next, path)
        .map_err(|e| CryptoError::Key(format!("cannot replace the key file: {e}")))?;
    Ok((old.key_id().to_string(), rotated.key_id().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fresh() -> (tempfile::TempDir, Store, KeySource) {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(dir.path()).await.expect("store");
        let source = KeySource::File(dir.path().join(KEY_FILE));
        (dir, store, source)
    }

    #[tokio::test]
    async fn the_same_key_file_reopens_with_the_same_session_key() {
        let (_dir, store, source) = fresh().await;
        let first = open(&store, &source, 1).await.expect("first");
        let again = open(&store, &source, 2).await.expect("again");
        assert_eq!(first.session_key, again.session_key);
        assert_eq!(first.secrets.key_id(), again.secrets.key_id());
    }

    #[tokio::test]
    async fn a_wrong_key_is_a_clear_error_not_garbage() {
        let (dir, store, source) = fresh().await;
        let keys = open(&store, &source, 1).await.expect("first");
        std::fs::remove_file(dir.path().join(KEY_FILE)).expect("remove");
        write_key_file(
            &dir.path().join(KEY_FILE),
            &DataKey::generate().expect("key"),
        )
        .expect("write");
        let err = open(&store, &source, 2).await.expect_err("wrong key");
        let text = err.to_string();
        assert!(
            text.contains("is not the key this database was sealed with"),
            "{text}"
        );
        assert!(text.contains(keys.secrets.key_id()), "{text}");
    }

    #[tokio::test]
    async fn a_missing_key_file_is_not_replaced() {
        let (dir, store, source) = fresh().await;
        open(&store, &source, 1).await.expect("first");
        std::fs::remove_file(dir.path().join(KEY_FILE)).expect("remove");
        let err = open(&store, &source, 2).await.expect_err("missing");
        assert!(err.to_string().contains("restore the key file"), "{err}");
    }

    #[tokio::test]
    async fn rotation_reseals_every_secret_under_the_new_key() {
        let (_dir, store, source) = fresh().await;
        let keys = open(&store, &source, 1).await.expect("open");
        let sealed = keys
            .secrets
            .seal("smtp.password", b"mail-password-123")
            .expect("seal");
        let audit = AuditEntry::new(1, None, "test", "secret.created");
        store
            .put_secret("smtp.password", &sealed, "-123", &audit)
            .await
            .expect("put");

        let (old_id, new_id) = rotate(&store, &source, "test", 2).await.expect("rotate");
        assert_ne!(old_id, new_id);
        let reopened = open(&store, &source, 3)
            .await
            .expect("reopen with the new file");
        assert_eq!(reopened.secrets.key_id(), new_id);
        assert_eq!(reopened.session_key, keys.session_key);
        let stored = store
            .secret("smtp.password")
            .await
            .expect("get")
            .expect("present");
        assert_eq!(
            SecretBox::sealed_key_id(&stored.sealed),
            Some(new_id.as_str())
        );
        let plain = reopened
            .secrets
            .open("smtp.password", &stored.sealed)
            .expect("open");
        assert_eq!(plain.expose(), "mail-password-123");
    }

    #[tokio::test]
    async fn an_interrupted_rotation_is_finished_at_start() {
        let (dir, store, source) = fresh().await;
        open(&store, &source, 1).await.expect("open");
        // Simulate a crash after the database switched but before the rename.
        let next_key = DataKey::generate().expect("key");
        write_key_file(&dir.path().join(NEXT_KEY_FILE), &next_key).expect("next");
        let audit = AuditEntry::new(2, None, "test", "secret_key.rotated");
        let resealed_session = {
            let old = open(&store, &source, 2).await.expect("old");
            let s = store
                .secret(SESSION_KEY_SECRET)
                .await
                .expect("get")
                .expect("some");
            let plain = old
                .secrets
                .open(SESSION_KEY_SECRET, &s.sealed)
                .expect("open");
            SealedSecret {
                sealed: SecretBox::new(next_key.clone())
                    .seal(SESSION_KEY_SECRET, plain.expose().as_bytes())
                    .expect("seal"),
                ..s
            }
        };
        let check = SecretBox::new(next_key.clone()).key_check().expect("check");
        store
            .reseal_all(&[resealed_session], &check, &audit)
            .await
            .expect("switch");

        let keys = open(&store, &source, 3)
            .await
            .expect("finishes the rotation");
        assert_eq!(keys.secrets.key_id(), next_key.id());
        assert!(!dir.path().join(NEXT_KEY_FILE).exists());
    }
}

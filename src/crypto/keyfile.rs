//! Where the data key comes from: a key file in the data directory (created
//! 0600 on first run), a systemd credential, or an environment variable.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{CryptoError, DataKey};

#[derive(Clone)]
pub enum KeySource {
    /// A file holding the key in base64.
    File(PathBuf),
    /// The key itself, from the named environment variable.
    Inline { value: String, origin: &'static str },
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::File(path) => write!(f, "File({})", path.display()),
            KeySource::Inline { origin, .. } => write!(f, "Inline({origin}, redacted)"),
        }
    }
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::File(path) => write!(f, "key file {}", path.display()),
            KeySource::Inline { origin, .. } => write!(f, "environment variable {origin}"),
        }
    }
}

/// Loads the key. A missing key file is created only when `may_create` is
/// true, that is when the database holds nothing sealed yet; otherwise a new
/// key would silently make every stored secret unreadable.
pub fn load_or_create(source: &KeySource, may_create: bool) -> Result<DataKey, CryptoError> {
    match source {
        KeySource::Inline { value, origin } => DataKey::from_base64(value)
            .map_err(|e| CryptoError::Key(format!("environment variable {origin}: {e}"))),
        KeySource::File(path) if path.exists() => read_key_file(path),
        KeySource::File(path) if may_create => {
            let key = DataKey::generate()?;
            write_key_file(path, &key)?;
            tracing::info!(path = %path.display(), key_id = key.id(), "created a new secret key file; back it up with the database");
            Ok(key)
        }
        KeySource::File(path) => Err(CryptoError::Key(format!(
            "the secret key file {} is missing, but this database holds secrets sealed with a key; \
             restore the key file from your backup (it is not in the database, by design)",
            path.display()
        ))),
    }
}

fn read_key_file(path: &Path) -> Result<DataKey, CryptoError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        CryptoError::Key(format!(
            "cannot read the secret key file {}: {e}",
            path.display()
        ))
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(CryptoError::Key(format!(
            "the secret key file {} can be read by other users (mode {mode:o}); run `chmod 600 {}` and start again",
            path.display(),
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        CryptoError::Key(format!(
            "cannot read the secret key file {}: {e}",
            path.display()
        ))
    })?;
    DataKey::from_base64(&text)
        .map_err(|e| CryptoError::Key(format!("the secret key file {}: {e}", path.display())))
}

/// Writes a new key file, readable by its owner only. Never overwrites.
pub fn write_key_file(path: &Path, key: &DataKey) -> Result<(), CryptoError> {
    let fail = |e: std::io::Error| {
        CryptoError::Key(format!(
            "cannot write the secret key file {}: {e}",
            path.display()
        ))
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(fail)?;
    writeln!(file, "{}", key.to_base64()).map_err(fail)?;
    file.sync_all().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_file_is_private_and_reloads_to_the_same_key() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("secret.key");
        let source = KeySource::File(path.clone());
        let created = load_or_create(&source, true).expect("create");
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let loaded = load_or_create(&source, false).expect("load");
        assert_eq!(created.id(), loaded.id());
    }

    #[test]
    fn a_missing_key_file_is_not_recreated_when_secrets_exist() {
        let dir = tempfile::tempdir().expect("dir");
        let source = KeySource::File(dir.path().join("secret.key"));
        let err = load_or_create(&source, false).expect_err("must refuse");
        assert!(err.to_string().contains("restore the key file"), "{err}");
        assert!(!dir.path().join("secret.key").exists());
    }

    #[test]
    fn a_world_readable_key_file_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("secret.key");
        load_or_create(&KeySource::File(path.clone()), true).expect("create");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = load_or_create(&KeySource::File(path), false).expect_err("refuse");
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn an_inline_key_names_its_variable_when_invalid() {
        let source = KeySource::Inline {
            value: "not base64!".into(),
            origin: "LEDGERSYS_SECRET_KEY",
        };
        let err = load_or_create(&source, true).expect_err("invalid");
        assert!(err.to_string().contains("LEDGERSYS_SECRET_KEY"), "{err}");
    }
}

//! `ledgersys backup` and `ledgersys restore`: a consistent snapshot of the
//! database (`VACUUM INTO`) together with the data key, encrypted under a
//! passphrase (see [`format`]). One file and its passphrase bring an instance
//! back on a new machine; without the passphrase the file reveals nothing.

mod format;

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::auth::password;
use crate::config::Config;
use crate::crypto::keys::{self, KEY_FILE};
use crate::crypto::{DataKey, KeySource, write_key_file};
use crate::datadir::{self, DataDir};
use crate::store::{AuditEntry, DATABASE_FILE, MIGRATOR, Store};

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: u32,
    ledgersys_version: String,
    created_at: i64,
    schema_version: i64,
    secret_key: String,
}

fn err(context: &str) -> impl Fn(String) -> String + '_ {
    move |e| format!("{context}: {e}")
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Writes an encrypted backup of the instance to `out`. Safe while the
/// server runs.
pub async fn create(config: &Config, out: &Path, passphrase: &str) -> Result<String, String> {
    password::check_strength(passphrase, &[]).map_err(|e| format!("backup passphrase: {e}"))?;
    let data_dir = &config.data_dir;
    if absolute(out).starts_with(absolute(data_dir)) {
        return Err(
            "keep backups away from the data they protect: choose --out outside the data directory"
                .into(),
        );
    }
    datadir::ensure(data_dir).map_err(|e| e.to_string())?;
    let store = Store::open(data_dir).await.map_err(|e| e.to_string())?;
    let source = keys::key_source(config, data_dir);
    let key = keys::current_key(&store, &source)
        .await
        .map_err(|e| e.to_string())?;
    let now = crate::clock::now();
    let snapshot = data_dir.join(format!("backup-{}.sqlite3.tmp", std::process::id()));
    let _ = std::fs::remove_file(&snapshot);
    store
        .snapshot_into(&snapshot)
        .await
        .map_err(|e| e.to_string())?;
    let database =
        std::fs::read(&snapshot).map_err(|e| err("cannot read the snapshot")(e.to_string()));
    let _ = std::fs::remove_file(&snapshot);
    let database = database?;
    let manifest = Manifest {
        format: 1,
        ledgersys_version: env!("CARGO_PKG_VERSION").into(),
        created_at: now,
        schema_version: store.schema_version().await.map_err(|e| e.to_string())?,
        secret_key: key.to_base64(),
    };
    let mut plain = serde_json::to_vec(&manifest).map_err(|e| e.to_string())?;
    plain.push(b'\n');
    plain.extend_from_slice(&database);
    let sealed = format::seal(passphrase, &plain).map_err(|e| e.to_string())?;

    let partial = out.with_extension("partial");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)
        .map_err(|e| err(&format!("cannot write {}", partial.display()))(e.to_string()))?;
    file.write_all(&sealed)
        .and_then(|()| file.sync_all())
        .map_err(|e| err(&format!("cannot write {}", partial.display()))(e.to_string()))?;
    std::fs::rename(&partial, out)
        .map_err(|e| err("cannot finish the backup file")(e.to_string()))?;
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    store
        .audit(
            &AuditEntry::new(now, None, format!("cli:{user}"), "backup.created")
                .target(out.display().to_string()),
        )
        .await
        .map_err(|e| e.to_string())?;
    store.close().await;
    Ok(format!(
        "backup written to {} ({} bytes, schema {}); keep it and its passphrase apart from this machine",
        out.display(),
        sealed.len(),
        manifest.schema_version
    ))
}

/// Replaces the instance's database and key with those in a backup. The
/// server must be stopped; what was there is kept beside, renamed.
pub async fn restore(config: &Config, from: &Path, passphrase: &str) -> Result<String, String> {
    let dir = DataDir::open(&config.data_dir).map_err(|e| e.to_string())?;
    let KeySource::File(key_path) = keys::key_source(config, dir.path()) else {
        return Err(
            "restore writes the key file; unset LEDGERSYS_SECRET_KEY for the restore".into(),
        );
    };
    let file = std::fs::read(from)
        .map_err(|e| err(&format!("cannot read {}", from.display()))(e.to_string()))?;
    let plain = format::open(passphrase, &file).map_err(|e| e.to_string())?;
    let split = plain
        .iter()
        .position(|b| *b == b'\n')
        .ok_or("the backup has no manifest")?;
    let manifest: Manifest = serde_json::from_slice(&plain[..split])
        .map_err(|e| err("the backup manifest is damaged")(e.to_string()))?;
    let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    if manifest.schema_version > known {
        return Err(format!(
            "this backup was made by Ledgersys {} (schema {}); this build knows up to schema {known}: upgrade first",
            manifest.ledgersys_version, manifest.schema_version
        ));
    }
    let key = DataKey::from_base64(&manifest.secret_key).map_err(|e| e.to_string())?;

    // Prove the backup opens and migrates before touching the live files.
    let staging = dir.path().join("restore-staging");
    let _ = std::fs::remove_dir_all(&staging);
    datadir::ensure(&staging).map_err(|e| e.to_string())?;
    std::fs::write(staging.join(DATABASE_FILE), &plain[split + 1..]).map_err(|e| e.to_string())?;
    write_key_file(&staging.join(KEY_FILE), &key).map_err(|e| e.to_string())?;
    {
        let store = Store::open(&staging)
            .await
            .map_err(|e| err("the backed-up database does not open")(e.to_string()))?;
        keys::open(
            &store,
            &KeySource::File(staging.join(KEY_FILE)),
            crate::clock::now(),
        )
        .await
        .map_err(|e| err("the backed-up key does not match its database")(e.to_string()))?;
        store.close().await;
    }

    let stamp = crate::clock::now();
    let mut kept = Vec::new();
    for name in [
        DATABASE_FILE.to_string(),
        format!("{DATABASE_FILE}-wal"),
        format!("{DATABASE_FILE}-shm"),
    ] {
        let live = dir.path().join(&name);
        if live.exists() {
            let aside = dir.path().join(format!("{name}.before-restore-{stamp}"));
            std::fs::rename(&live, &aside).map_err(|e| e.to_string())?;
            kept.push(aside);
        }
    }
    if key_path.exists() {
        let aside = key_path.with_file_name(format!("{KEY_FILE}.before-restore-{stamp}"));
        std::fs::rename(&key_path, &aside).map_err(|e| e.to_string())?;
        kept.push(aside);
    }
    std::fs::rename(staging.join(DATABASE_FILE), dir.path().join(DATABASE_FILE))
        .map_err(|e| e.to_string())?;
    std::fs::rename(staging.join(KEY_FILE), &key_path).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&staging);

    let store = Store::open(dir.path()).await.map_err(|e| e.to_string())?;
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    store
        .audit(
            &AuditEntry::new(
                crate::clock::now(),
                None,
                format!("cli:{user}"),
                "backup.restored",
            )
            .target(from.display().to_string()),
        )
        .await
        .map_err(|e| e.to_string())?;
    store.close().await;
    let kept: Vec<String> = kept.iter().map(|p| p.display().to_string()).collect();
    Ok(match kept.is_empty() {
        true => format!(
            "restored the backup of {}",
            crate::clock::rfc3339(manifest.created_at)
        ),
        false => format!(
            "restored the backup of {}; the previous files are kept as {}",
            crate::clock::rfc3339(manifest.created_at),
            kept.join(", ")
        ),
    })
}

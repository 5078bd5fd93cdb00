//! The data directory: created private (0700) on first use, and locked by
//! the one server that may run on it at a time.

use std::fs::{self, DirBuilder, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

const LOCK_FILE: &str = "ledgersys.lock";

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error(
        "cannot create the data directory {path}: {source}; choose another with --data-dir or LEDGERSYS_DATA_DIR"
    )]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the data directory {path} exists but is not a directory; choose another with --data-dir or LEDGERSYS_DATA_DIR"
    )]
    NotADirectory { path: PathBuf },
    #[error(
        "the data directory {path} is not writable ({source}); fix its owner or permissions, or choose another with --data-dir"
    )]
    NotWritable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "another Ledgersys server{pid} is already running on the data directory {path}; stop it first, or choose another --data-dir"
    )]
    InUse { path: PathBuf, pid: String },
}

/// An open data directory. While it lives, no other server can take it.
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    _lock: File,
}

impl DataDir {
    /// Creates the directory (0700) if missing, checks that it is writable
    /// and takes its exclusive lock.
    pub fn open(path: &Path) -> Result<DataDir, DataDirError> {
        ensure(path)?;
        let lock_path = path.join(LOCK_FILE);
        let mut lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|source| DataDirError::NotWritable {
                path: path.to_path_buf(),
                source,
            })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = lock.read_to_string(&mut holder);
                let pid = match holder.trim() {
                    "" => String::new(),
                    pid => format!(" (pid {pid})"),
                };
                return Err(DataDirError::InUse {
                    path: path.to_path_buf(),
                    pid,
                });
            }
            Err(TryLockError::Error(source)) => {
                return Err(DataDirError::NotWritable {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
        let record_pid = |lock: &mut File| -> std::io::Result<()> {
            lock.set_len(0)?;
            lock.rewind()?;
            writeln!(lock, "{}", std::process::id())
        };
        record_pid(&mut lock).map_err(|source| DataDirError::NotWritable {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(DataDir {
            path: path.to_path_buf(),
            _lock: lock,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Makes `path` a file only its owner can read: created empty with mode 0600
/// when missing, its group and other bits cleared when present. SQLite gives
/// its `-wal` and `-shm` files the mode of the database file, so this one
/// call keeps all three private whatever the process umask is.
pub fn private_file(path: &Path) -> std::io::Result<()> {
    match fs::metadata(path) {
        Ok(meta) => {
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o700))?;
            }
            Ok(())
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map(drop),
        Err(err) => Err(err),
    }
}

/// Makes sure `path` is a private directory, without taking the server lock.
/// Offline commands use this: they may run beside a server, and SQLite's own
/// locking keeps them safe.
pub fn ensure(path: &Path) -> Result<(), DataDirError> {
    match fs::metadata(path) {
        Ok(meta) if !meta.is_dir() => {
            return Err(DataDirError::NotADirectory {
                path: path.to_path_buf(),
            });
        }
        Ok(meta) => {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{:o}", meta.permissions().mode() & 0o777),
                    "the data directory is readable by other users; `chmod 700` it to keep your books private"
                );
            }
        }
        Err(_) => {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(path)
                .map_err(|source| DataDirError::Create {
                    path: path.to_path_buf(),
                    source,
                })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_file_is_created_0600_and_tightened_when_open_to_others() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("books.sqlite3");
        let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        private_file(&path).expect("create");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(fs::metadata(&path).expect("stat").len(), 0);
        fs::write(&path, b"kept").expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o664)).expect("chmod");
        private_file(&path).expect("tighten");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(
            fs::read(&path).expect("read"),
            b"kept",
            "contents untouched"
        );
    }

    #[test]
    fn a_new_data_directory_is_private() {
        let parent = tempfile::tempdir().expect("temp dir");
        let path = parent.path().join("books");
        let dir = DataDir::open(&path).expect("open");
        let mode = fs::metadata(dir.path()).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn a_second_open_is_refused_with_the_holders_pid() {
        let parent = tempfile::tempdir().expect("temp dir");
        let _first = DataDir::open(parent.path()).expect("first");
        let err = DataDir::open(parent.path()).expect_err("second must fail");
        let text = err.to_string();
        assert!(text.contains("already running"), "{text}");
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
    }

    #[test]
    fn the_lock_is_released_when_dropped() {
        let parent = tempfile::tempdir().expect("temp dir");
        drop(DataDir::open(parent.path()).expect("first"));
        DataDir::open(parent.path()).expect("reopen after drop");
    }

    #[test]
    fn a_file_in_the_way_is_a_clear_error() {
        let parent = tempfile::tempdir().expect("temp dir");
        let file = parent.path().join("plain-file");
        fs::write(&file, "x").expect("write");
        let err = DataDir::open(&file).expect_err("not a directory");
        assert!(err.to_string().contains("is not a directory"), "{err}");
    }
}

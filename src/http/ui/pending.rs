//! Uploaded files waiting for the user to confirm their import. The bytes
//! sit in the data directory (`pending-imports/`, 0700, each file 0600), so
//! a preview can be checked again with another format or time zone without
//! uploading the file again, and so that waiting uploads do not hold memory.
//! What the server keeps in memory is who uploaded what, and when.
//!
//! A file is deleted when it is imported, when it expires (removed by the
//! next upload or check after that), when its uploader has too many waiting,
//! and at start-up: the records of an earlier run are gone with it.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::store::{UserId, WorkspaceId};

/// An upload waits this long for its confirmation.
pub const PENDING_SECONDS: i64 = 3600;
/// Uploads one user may have waiting; the oldest goes first.
const PER_USER: usize = 5;

/// The name of the directory under the data directory.
pub const DIR: &str = "pending-imports";

#[derive(Clone)]
pub struct PendingImports {
    dir: PathBuf,
    waiting: Arc<Mutex<HashMap<String, Pending>>>,
}

/// Who uploaded the file, where to, its name, and how its last preview
/// read it (which is how the import reads it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub user: UserId,
    pub workspace: WorkspaceId,
    pub file_name: String,
    pub created: i64,
    pub format: String,
    pub timezone: String,
}

impl PendingImports {
    /// Prepares `data_dir/pending-imports`, deleting what an earlier run
    /// left there.
    pub fn open(data_dir: &Path) -> std::io::Result<PendingImports> {
        let dir = data_dir.join(DIR);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)?;
        // An existing directory keeps its mode otherwise.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_file() {
                std::fs::remove_file(path)?;
            }
        }
        Ok(PendingImports {
            dir,
            waiting: Arc::default(),
        })
    }

    /// Keeps an upload; the answer is the id that names it from now on.
    pub fn put(&self, pending: Pending, bytes: &[u8]) -> std::io::Result<String> {
        let token = crate::crypto::random_token().map_err(std::io::Error::other)?;
        let path = self.path(&token);
        // No fsync: a waiting upload does not outlive the process anyway.
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut file| file.write_all(bytes));
        if let Err(error) = written {
            // A disk that filled up halfway leaves no part of the file.
            let _ = std::fs::remove_file(&path);
            return Err(error);
        }
        let mut gone = self.expired(pending.created);
        {
            let mut map = self.lock()?;
            let mut mine: Vec<(i64, String)> = map
                .iter()
                .filter(|(_, p)| p.user == pending.user)
                .map(|(t, p)| (p.created, t.clone()))
                .collect();
            mine.sort();
            let excess = (mine.len() + 1).saturating_sub(PER_USER);
            for (_, t) in mine.into_iter().take(excess) {
                map.remove(&t);
                gone.push(t);
            }
            map.insert(token.clone(), pending);
        }
        self.delete(&gone);
        Ok(token)
    }

    /// The upload named `token`, if it is this user's, for this workspace,
    /// and not expired.
    pub fn get(
        &self,
        token: &str,
        user: UserId,
        workspace: WorkspaceId,
        now: i64,
    ) -> Option<(Pending, Vec<u8>)> {
        let gone = self.expired(now);
        self.delete(&gone);
        let pending = self.lock().ok()?.get(token).cloned()?;
        if pending.user != user || pending.workspace != workspace {
            return None;
        }
        let bytes = std::fs::read(self.path(token)).ok()?;
        Some((pending, bytes))
    }

    /// Records how the upload was last previewed.
    pub fn read_as(&self, token: &str, format: &str, timezone: &str) {
        if let Ok(mut map) = self.lock()
            && let Some(p) = map.get_mut(token)
        {
            p.format = format.to_string();
            p.timezone = timezone.to_string();
        }
    }

    /// Forgets the upload and deletes its file.
    pub fn remove(&self, token: &str) {
        let known = self.lock().ok().and_then(|mut m| m.remove(token));
        if known.is_some() {
            self.delete(&[token.to_string()]);
        }
    }

    /// Forgets expired uploads; the answer is their tokens, to delete.
    fn expired(&self, now: i64) -> Vec<String> {
        let Ok(mut map) = self.lock() else {
            return Vec::new();
        };
        let old: Vec<String> = map
            .iter()
            .filter(|(_, p)| now - p.created >= PENDING_SECONDS)
            .map(|(t, _)| t.clone())
            .collect();
        for t in &old {
            map.remove(t);
        }
        old
    }

    fn delete(&self, tokens: &[String]) {
        for t in tokens {
            if let Err(error) = std::fs::remove_file(self.path(t)) {
                tracing::warn!(%error, "cannot delete a waiting upload");
            }
        }
    }

    /// Only tokens this server made reach here (they are looked up first),
    /// and those are URL-safe base64: no separators, no dots.
    fn path(&self, token: &str) -> PathBuf {
        self.dir.join(token)
    }

    fn lock(&self) -> std::io::Result<std::sync::MutexGuard<'_, HashMap<String, Pending>>> {
        self.waiting
            .lock()
            .map_err(|_| std::io::Error::other("pending imports poisoned"))
    }

    /// How many uploads are waiting (for tests).
    pub fn count(&self) -> usize {
        self.lock().map(|m| m.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(user: i64, created: i64) -> Pending {
        Pending {
            user: UserId(user),
            workspace: WorkspaceId(1),
            file_name: "a.csv".into(),
            created,
            format: "auto".into(),
            timezone: "UTC".into(),
        }
    }

    fn files(dir: &Path) -> usize {
        std::fs::read_dir(dir.join(DIR)).expect("dir").count()
    }

    #[test]
    fn uploads_are_private_owned_and_deleted_when_used_expired_or_too_many() {
        let temp = tempfile::tempdir().expect("temp");
        std::fs::create_dir(temp.path().join(DIR)).expect("dir");
        std::fs::write(temp.path().join(DIR).join("left-over"), b"x").expect("write");
        let p = PendingImports::open(temp.path()).expect("open");
        assert_eq!(files(temp.path()), 0, "an earlier run's files are gone");

        let token = p.put(pending(1, 100), b"a,b\n").expect("put");
        let meta = std::fs::metadata(temp.path().join(DIR).join(&token)).expect("stat");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let dir_mode = std::fs::metadata(temp.path().join(DIR))
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);

        let (got, bytes) = p.get(&token, UserId(1), WorkspaceId(1), 200).expect("get");
        assert_eq!(
            (got.file_name.as_str(), bytes.as_slice()),
            ("a.csv", &b"a,b\n"[..])
        );
        assert!(
            p.get(&token, UserId(2), WorkspaceId(1), 200).is_none(),
            "another user"
        );
        assert!(
            p.get(&token, UserId(1), WorkspaceId(2), 200).is_none(),
            "another workspace"
        );
        assert!(
            p.get("../../etc/passwd", UserId(1), WorkspaceId(1), 200)
                .is_none()
        );
        // Still there after a look: a preview may be checked again, and
        // the import reads it as the last preview did.
        p.read_as(&token, "strike", "Europe/Paris");
        let (again, _) = p.get(&token, UserId(1), WorkspaceId(1), 300).expect("get");
        assert_eq!(
            (again.format.as_str(), again.timezone.as_str()),
            ("strike", "Europe/Paris")
        );

        p.remove(&token);
        assert!(p.get(&token, UserId(1), WorkspaceId(1), 300).is_none());
        assert_eq!(files(temp.path()), 0, "deleted once imported");

        let old = p.put(pending(1, 100), b"old").expect("put");
        assert_eq!(files(temp.path()), 1);
        assert!(
            p.get(&old, UserId(1), WorkspaceId(1), 100 + PENDING_SECONDS)
                .is_none()
        );
        assert_eq!(files(temp.path()), 0, "deleted once expired");

        let tokens: Vec<String> = (0..PER_USER as i64 + 2)
            .map(|i| p.put(pending(1, 1000 + i), b"x").expect("put"))
            .collect();
        p.put(pending(2, 1000), b"y").expect("put");
        assert_eq!(p.count(), PER_USER + 1);
        assert_eq!(files(temp.path()), PER_USER + 1);
        assert!(
            p.get(&tokens[0], UserId(1), WorkspaceId(1), 1010).is_none(),
            "oldest first"
        );
        assert!(
            p.get(&tokens[PER_USER + 1], UserId(1), WorkspaceId(1), 1010)
                .is_some()
        );
    }
}

//! A consistent copy of the database inside the data directory, for backup
//! systems that copy the directory while the server runs: Umbrel's hourly
//! snapshots and StartOS's backups would otherwise copy a live SQLite file
//! and its WAL mid-write. The copy is `snapshot/ledgersys.sqlite3`, written
//! with `VACUUM INTO` to a temporary file, checked whole, then renamed over
//! the previous one, so the file there is always a complete database.
//!
//! `ledgersys snapshot` writes one now; `snapshot.interval` makes the server
//! write one on a schedule.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::store::Store;

pub const DIR: &str = "snapshot";
pub const FILE: &str = "ledgersys.sqlite3";

/// Writes the snapshot and returns its path.
pub async fn write(store: &Store, data_dir: &Path) -> Result<PathBuf, String> {
    let dir = data_dir.join(DIR);
    crate::datadir::ensure(&dir).map_err(|e| e.to_string())?;
    let target = dir.join(FILE);
    let partial = dir.join(format!("{FILE}.partial"));
    let _ = std::fs::remove_file(&partial);
    let result = async {
        store
            .snapshot_into(&partial)
            .await
            .map_err(|e| format!("cannot write the snapshot: {e}"))?;
        Store::check_file(&partial)
            .await
            .map_err(|e| format!("the snapshot does not check: {e}"))?;
        std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(|e| format!("cannot flush the snapshot: {e}"))?;
        std::fs::rename(&partial, &target)
            .map_err(|e| format!("cannot put the snapshot in place: {e}"))
    }
    .await;
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result.map(|()| target)
}

/// Writes a snapshot now and then every `every`; `None` writes none.
pub async fn periodically(store: Store, data_dir: PathBuf, every: Option<Duration>) {
    let Some(every) = every else { return };
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        match write(&store, &data_dir).await {
            Ok(path) => tracing::debug!(path = %path.display(), "database snapshot written"),
            Err(err) => {
                tracing::warn!(error = %err, "the database snapshot failed; the previous one is kept")
            }
        }
    }
}

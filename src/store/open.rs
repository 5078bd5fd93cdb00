//! Opening the database: pragmas, the schema-version check and migrations.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, SqlitePool};

use super::MIGRATOR;

pub const DATABASE_FILE: &str = "ledgersys.sqlite3";
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the database {path} is locked by another process; stop the other Ledgersys command or server using it and try again"
    )]
    Locked { path: PathBuf },
    #[error(
        "the database {path} was written by a newer version of Ledgersys (schema {found}, this build knows up to {known}); upgrade Ledgersys, or restore a backup made by this version"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("cannot open the database {path}: {source}")]
    Open { path: PathBuf, source: sqlx::Error },
    #[error("the database {path} failed its integrity check: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error("cannot back up the database before migrating it: {0}")]
    Backup(sqlx::Error),
    #[error("cannot apply database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    /// Free text refused before it was stored (too long, or a secret).
    #[error(transparent)]
    Text(#[from] crate::text::TextError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
}

impl StoreError {
    /// A unique-constraint violation becomes `Conflict` with `message`.
    pub fn conflict_or(err: sqlx::Error, message: String) -> StoreError {
        let unique = err
            .as_database_error()
            .is_some_and(|db| db.is_unique_violation());
        if unique {
            StoreError::Conflict(message)
        } else {
            StoreError::Sql(err)
        }
    }
}

/// A handle on the appliance's SQLite database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(super) pool: SqlitePool,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir`, checks that this
    /// build understands its schema, backs it up if migrations are pending,
    /// and migrates it.
    pub async fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Store::open_checked(data_dir, true).await
    }

    /// Opens the database for a one-off command (import, report, admin):
    /// everything [`Store::open`] does except the integrity scan, which
    /// reads the whole file and belongs to server start and backups.
    pub async fn open_for_command(data_dir: &Path) -> Result<Store, StoreError> {
        Store::open_checked(data_dir, false).await
    }

    async fn open_checked(data_dir: &Path, full_check: bool) -> Result<Store, StoreError> {
        let path = data_dir.join(DATABASE_FILE);
        crate::datadir::private_file(&path).map_err(|source| StoreError::Open {
            path: path.clone(),
            source: sqlx::Error::Io(source),
        })?;
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .log_statements(tracing::log::LevelFilter::Trace);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|source| classify(&path, source))?;
        let store = Store { pool, path };
        if full_check {
            store.check_integrity().await?;
        }
        store.check_schema_version().await?;
        store.backup_if_migrating().await?;
        MIGRATOR.run(&store.pool).await.map_err(|err| match err {
            sqlx::migrate::MigrateError::Execute(source) => classify(&store.path, source),
            other => StoreError::Migrate(other),
        })?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A transaction that takes the write lock at once (`BEGIN IMMEDIATE`).
    /// A deferred transaction that reads first and writes later fails at
    /// once with "database is locked" if another connection wrote in
    /// between, without waiting; this one waits its turn (the busy
    /// timeout) instead, so two writers (a sweep in the server and one
    /// from the command line, say) simply take turns.
    pub(super) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// True when the database answers a query; used by `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The newest migration applied to this database.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok(version.unwrap_or(0))
    }

    /// Writes a consistent copy of the whole database to `path` while other
    /// connections keep working (`VACUUM INTO`).
    pub async fn snapshot_into(&self, path: &Path) -> Result<(), StoreError> {
        // VACUUM INTO takes an empty file, which keeps the copy private.
        crate::datadir::private_file(path).map_err(sqlx::Error::Io)?;
        sqlx::query("VACUUM INTO ?")
            .bind(path.to_string_lossy().into_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Proves a database file written elsewhere (a snapshot) is whole: it
    /// opens read-only and passes SQLite's full `integrity_check`.
    pub async fn check_file(path: &Path) -> Result<(), StoreError> {
        let opened = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut connection = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .connect()
            .await
            .map_err(opened)?;
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&mut connection)
            .await
            .map_err(opened)?;
        let _ = sqlx::Connection::close(connection).await;
        if rows.len() == 1 && rows[0] == "ok" {
            Ok(())
        } else {
            Err(StoreError::Open {
                path: path.to_path_buf(),
                source: sqlx::Error::Protocol(rows.join("; ")),
            })
        }
    }

    /// Checkpoints the WAL and closes every connection.
    pub async fn close(&self) {
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await;
        self.pool.close().await;
    }

    async fn check_integrity(&self) -> Result<(), StoreError> {
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA quick_check")
            .fetch_all(&self.pool)
            .await
            .map_err(|source| classify(&self.path, source))?;
        if rows.len() == 1 && rows[0] == "ok" {
            return Ok(());
        }
        Err(StoreError::Corrupt {
            path: self.path.clone(),
            detail: rows.join("; "),
        })
    }

    async fn applied_versions(&self) -> Result<Vec<i64>, StoreError> {
        let exists: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|source| classify(&self.path, source))?;
        if exists == 0 {
            return Ok(Vec::new());
        }
        let versions = sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&self.pool)
            .await
            .map_err(|source| classify(&self.path, source))?;
        Ok(versions)
    }

    async fn check_schema_version(&self) -> Result<(), StoreError> {
        let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        let unknown = self
            .applied_versions()
            .await?
            .into_iter()
            .filter(|v| !MIGRATOR.iter().any(|m| m.version == *v))
            .max();
        match unknown {
            Some(found) => Err(StoreError::NewerSchema {
                path: self.path.clone(),
                found,
                known,
            }),
            None => Ok(()),
        }
    }

    /// Before a pending migration touches an existing database, copy it
    /// aside with `VACUUM INTO`, so an upgrade can always be undone.
    async fn backup_if_migrating(&self) -> Result<(), StoreError> {
        let applied = self.applied_versions().await?;
        if applied.is_empty() {
            return Ok(());
        }
        let pending = MIGRATOR.iter().any(|m| !applied.contains(&m.version));
        if !pending {
            return Ok(());
        }
        let from = applied.iter().max().copied().unwrap_or(0);
        let target = self
            .path
            .with_file_name(format!("ledgersys.pre-migration-v{from}.sqlite3"));
        if target.exists() {
            return Ok(());
        }
        tracing::info!(backup = %target.display(), "backing up the database before migrating it");
        crate::datadir::private_file(&target)
            .map_err(|source| StoreError::Backup(sqlx::Error::Io(source)))?;
        sqlx::query("VACUUM INTO ?")
            .bind(target.to_string_lossy().into_owned())
            .execute(&self.pool)
            .await
            .map_err(StoreError::Backup)?;
        Ok(())
    }
}

/// Turns SQLite's "busy"/"locked" codes into an error that says what to do.
fn classify(path: &Path, source: sqlx::Error) -> StoreError {
    let busy = source
        .as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| {
            // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
            code.parse::<i64>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
        });
    if busy {
        StoreError::Locked {
            path: path.to_path_buf(),
        }
    } else {
        StoreError::Open {
            path: path.to_path_buf(),
            source,
        }
    }
}

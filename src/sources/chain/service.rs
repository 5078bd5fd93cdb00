//! Wallet syncs in the running server: one at a time per wallet, started
//! on demand (API, UI) or by the schedule, with their progress kept here
//! for the pages and the API to read. A sync the server stopped in the
//! middle of is run again at the next start (see `sync_started_at`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use super::progress::{Phase, Tracker};
use super::status;
use super::sync::{self, Synced};
use crate::crypto::SecretBox;
use crate::store::Store;
use crate::store::wallets::WalletRecord;

/// Who the audit log names for syncs nobody asked for.
pub const SCHEDULE_ACTOR: &str = "schedule";

/// A wallet's latest sync in this server, running or finished.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub running: bool,
    /// queued, scanning, storing, done or failed.
    pub phase: &'static str,
    /// "full", "incremental" or "list" once the scan started.
    pub mode: Option<&'static str>,
    pub scripts_scanned: u64,
    pub transactions_found: u64,
    pub rows_added: Option<u64>,
    pub error: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

struct Job {
    tracker: Arc<Tracker>,
    running: bool,
    rows_added: Option<u64>,
    error: Option<String>,
    started_at: i64,
    finished_at: Option<i64>,
}

/// The wallet already has a sync running.
#[derive(Debug, thiserror::Error)]
#[error("wallet {0:?} is already syncing; wait for it to finish")]
pub struct Busy(pub String);

#[derive(Clone)]
pub struct SyncService {
    store: Store,
    /// Opens a sealed Bitcoin Core RPC password.
    secrets: SecretBox,
    jobs: Arc<Mutex<HashMap<i64, Job>>>,
}

impl SyncService {
    pub fn new(store: Store, secrets: SecretBox) -> SyncService {
        SyncService {
            store,
            secrets,
            jobs: Arc::default(),
        }
    }

    /// The key that seals a Bitcoin Core RPC password, for storing one.
    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    /// The latest sync of a wallet since the server started.
    pub fn status(&self, wallet: i64) -> Option<Status> {
        let jobs = self.jobs.lock().ok()?;
        let job = jobs.get(&wallet)?;
        let now = job.tracker.snapshot();
        Some(Status {
            running: job.running,
            phase: now.phase.as_str(),
            mode: now.mode,
            scripts_scanned: now.scripts_scanned,
            transactions_found: now.transactions_found,
            rows_added: job.rows_added,
            error: job.error.clone(),
            started_at: job.started_at,
            finished_at: job.finished_at,
        })
    }

    /// Claims the wallet for a sync, or says it is taken.
    fn claim(&self, record: &WalletRecord, now: i64) -> Result<Arc<Tracker>, Busy> {
        let mut jobs = self.jobs.lock().map_err(|_| Busy(record.name.clone()))?;
        if jobs.get(&record.id).is_some_and(|j| j.running) {
            return Err(Busy(record.name.clone()));
        }
        let tracker = Arc::new(Tracker::default());
        jobs.insert(
            record.id,
            Job {
                tracker: tracker.clone(),
                running: true,
                rows_added: None,
                error: None,
                started_at: now,
                finished_at: None,
            },
        );
        Ok(tracker)
    }

    fn finish(&self, id: i64, outcome: &Result<Synced, String>) {
        if let Ok(mut jobs) = self.jobs.lock()
            && let Some(job) = jobs.get_mut(&id)
        {
            job.running = false;
            job.finished_at = Some(crate::clock::now());
            match outcome {
                Ok(done) => job.rows_added = Some(done.rows_added),
                Err(e) => {
                    job.tracker.set_phase(Phase::Failed);
                    job.error = Some(e.clone());
                }
            }
        }
    }

    /// Starts a sync in the background; its progress is in [`Self::status`].
    pub fn start(&self, record: WalletRecord, actor: String) -> Result<(), Busy> {
        let now = crate::clock::now();
        let tracker = self.claim(&record, now)?;
        let this = self.clone();
        tokio::spawn(async move {
            this.run_claimed(&record, &actor, now, &tracker).await;
        });
        Ok(())
    }

    /// Syncs now and waits for it (the schedule); a wallet already syncing
    /// is left to that sync.
    pub async fn sync_now(&self, record: &WalletRecord, actor: &str) -> Result<(), Busy> {
        let now = crate::clock::now();
        let tracker = self.claim(record, now)?;
        self.run_claimed(record, actor, now, &tracker).await;
        Ok(())
    }

    async fn run_claimed(
        &self,
        record: &WalletRecord,
        actor: &str,
        now: i64,
        tracker: &Arc<Tracker>,
    ) {
        let quiet = |_: &str| {};
        let outcome = sync::sync_tracked(
            &self.store,
            Some(&self.secrets),
            record,
            actor,
            now,
            &quiet,
            tracker,
        )
        .await;
        // The Wallets page says when the chain source could not be reached,
        // whoever started the sync.
        let noted = match &outcome {
            Ok(_) => status::succeeded(&self.store).await,
            Err(err @ sync::SyncError::Unreachable { .. }) => {
                let failure = status::Failure {
                    at: now,
                    wallet: record.name.clone(),
                    message: err.to_string(),
                };
                status::failed(&self.store, &failure).await
            }
            Err(_) => Ok(()),
        };
        if let Err(e) = noted {
            tracing::warn!(error = %e, "cannot note the chain source's state");
        }
        let outcome = outcome.map_err(|e| e.to_string());
        match &outcome {
            Ok(done) => tracing::info!(
                wallet = %record.name,
                transactions = done.transactions,
                rows_added = done.rows_added,
                "wallet synced"
            ),
            Err(e) => tracing::warn!(wallet = %record.name, error = %e, "wallet sync failed"),
        }
        self.finish(record.id, &outcome);
    }

    /// Syncs every wallet, one after the other.
    async fn sync_all(&self, only: Option<&[i64]>) {
        // Without a chain source there is nothing to ask: no warning every
        // interval for an instance that watches no wallet yet.
        if let Err(e) = sync::source(&self.store).await {
            tracing::debug!(error = %e, "no wallet sync: no chain source");
            return;
        }
        let wallets = match self.store.wallets().await {
            Ok(wallets) => wallets,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list wallets to sync");
                return;
            }
        };
        for wallet in wallets
            .iter()
            .filter(|w| only.is_none_or(|ids| ids.contains(&w.id)))
        {
            if let Err(busy) = self.sync_now(wallet, SCHEDULE_ACTOR).await {
                tracing::debug!(%busy, "skipped by the schedule");
            }
        }
    }
}

/// Resumes the syncs the server stopped in the middle of, then, unless
/// `every` is `None` (the schedule is off), syncs every wallet each
/// `every`. The first scheduled run is one interval after start.
pub async fn sync_periodically(service: SyncService, every: Option<Duration>) {
    match service.store.interrupted_wallets().await {
        Ok(ids) if !ids.is_empty() => {
            tracing::info!(wallets = ids.len(), "resuming interrupted wallet syncs");
            service.sync_all(Some(&ids)).await;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read interrupted wallet syncs"),
    }
    let Some(every) = every else { return };
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        service.sync_all(None).await;
    }
}

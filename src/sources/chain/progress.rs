//! A running sync's progress as the UI and the API show it: the phase, the
//! scripts asked about so far and the transactions found. Counters are
//! atomics so the scan can bump them from BDK's inspect callback without a
//! lock.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Where a sync is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Asked for, not started.
    #[default]
    Queued,
    /// Asking the chain source about scripts.
    Scanning,
    /// Writing the ledger rows and BDK's state.
    Storing,
    Done,
    Failed,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Queued => "queued",
            Phase::Scanning => "scanning",
            Phase::Storing => "storing",
            Phase::Done => "done",
            Phase::Failed => "failed",
        }
    }
}

/// Shared between a running sync and whoever reads its progress.
#[derive(Debug, Default)]
pub struct Tracker {
    scripts: AtomicU64,
    transactions: AtomicU64,
    phase: Mutex<Phase>,
    /// "full", "incremental" or "list" (an address list), once known.
    mode: Mutex<Option<&'static str>>,
}

/// A copy of a tracker's state at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    pub phase: Phase,
    pub scripts_scanned: u64,
    pub transactions_found: u64,
    pub mode: Option<&'static str>,
}

impl Tracker {
    pub fn script_scanned(&self) {
        self.scripts.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add_scripts(&self, count: u64) {
        self.scripts.fetch_add(count, Ordering::Relaxed);
    }

    pub fn set_transactions(&self, found: u64) {
        self.transactions.store(found, Ordering::Relaxed);
    }

    pub fn set_phase(&self, phase: Phase) {
        if let Ok(mut p) = self.phase.lock() {
            *p = phase;
        }
    }

    pub fn set_mode(&self, mode: &'static str) {
        if let Ok(mut m) = self.mode.lock() {
            *m = Some(mode);
        }
    }

    pub fn scripts(&self) -> u64 {
        self.scripts.load(Ordering::Relaxed)
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            phase: self.phase.lock().map(|p| *p).unwrap_or(Phase::Failed),
            scripts_scanned: self.scripts(),
            transactions_found: self.transactions.load(Ordering::Relaxed),
            mode: self.mode.lock().ok().and_then(|m| *m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_reads_the_counters_and_the_phase() {
        let tracker = Tracker::default();
        assert_eq!(tracker.snapshot().phase, Phase::Queued);
        tracker.set_phase(Phase::Scanning);
        tracker.script_scanned();
        tracker.script_scanned();
        tracker.set_transactions(7);
        tracker.set_mode("incremental");
        assert_eq!(
            tracker.snapshot(),
            Snapshot {
                phase: Phase::Scanning,
                scripts_scanned: 2,
                transactions_found: 7,
                mode: Some("incremental"),
            }
        );
    }
}

//! The price table for the running server: the sealed CoinGecko key and
//! one background "fill gaps" run at a time, whose progress and per-range
//! outcome the Settings page and the API show.

use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::settings::{self, COINGECKO_KEY_SECRET};
use super::sync::{self, Fetcher, Progress, RangeReport};
use crate::crypto::SecretBox;
use crate::store::{AuditEntry, Store, StoreError};

/// The latest run, finished or not.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Job {
    pub running: bool,
    pub progress: Progress,
    pub reports: Vec<RangeReport>,
    pub notes: Vec<String>,
    pub error: Option<String>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

#[derive(Clone)]
pub struct Service {
    store: Store,
    secrets: SecretBox,
    job: Arc<Mutex<Job>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("a fill is already running")]
    Running,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Secret(String),
}

impl Service {
    pub fn new(store: Store, secrets: SecretBox) -> Service {
        Service {
            store,
            secrets,
            job: Arc::default(),
        }
    }

    pub fn job(&self) -> Job {
        self.job.lock().map(|j| j.clone()).unwrap_or_default()
    }

    /// Seals and stores the key; returns its last four characters.
    pub async fn set_coingecko_key(
        &self,
        key: &str,
        audit: &AuditEntry,
    ) -> Result<String, ServiceError> {
        let key = key.trim();
        if key.len() < 8 || key.chars().any(char::is_whitespace) {
            return Err(ServiceError::Invalid(
                "a CoinGecko key is a single word of at least 8 characters".into(),
            ));
        }
        let sealed = self
            .secrets
            .seal(COINGECKO_KEY_SECRET, key.as_bytes())
            .map_err(|e| ServiceError::Secret(e.to_string()))?;
        let last4 = crate::crypto::last4(key);
        self.store
            .put_secret(COINGECKO_KEY_SECRET, &sealed, &last4, audit)
            .await?;
        Ok(last4)
    }

    pub async fn coingecko_last4(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .store
            .secret(COINGECKO_KEY_SECRET)
            .await?
            .map(|s| s.last4))
    }

    /// Starts filling gaps in the background, from `from` for `currencies`.
    pub fn start(
        &self,
        currencies: Vec<String>,
        from: jiff::civil::Date,
        now: i64,
    ) -> Result<(), ServiceError> {
        {
            let mut job = self.job.lock().map_err(|_| ServiceError::Running)?;
            if job.running {
                return Err(ServiceError::Running);
            }
            *job = Job {
                running: true,
                started_at: Some(now),
                ..Job::default()
            };
        }
        let this = self.clone();
        tokio::spawn(async move {
            let outcome = this.run(&currencies, from, now).await;
            if let Ok(mut job) = this.job.lock() {
                job.running = false;
                job.finished_at = Some(crate::clock::now());
                match outcome {
                    Ok(reports) => job.reports = reports,
                    Err(e) => {
                        tracing::warn!(error = %e, "filling price gaps failed");
                        job.error = Some(e);
                    }
                }
            }
        });
        Ok(())
    }

    async fn run(
        &self,
        currencies: &[String],
        from: jiff::civil::Date,
        now: i64,
    ) -> Result<Vec<RangeReport>, String> {
        let stored = settings::load(&self.store)
            .await
            .map_err(|e| e.to_string())?;
        let key = sync::coingecko_key(&self.store, &self.secrets).await?;
        let (sources, notes) = sync::build(&stored, key, None);
        if let Ok(mut job) = self.job.lock() {
            job.notes = notes;
        }
        let fetcher = Fetcher::new()?;
        let job = self.job.clone();
        let progress = move |p: &Progress| {
            if let Ok(mut job) = job.lock() {
                job.progress = p.clone();
            }
        };
        sync::fill_gaps(
            &self.store,
            &fetcher,
            &sources,
            currencies,
            from,
            super::utc_day(now),
            now,
            &progress,
        )
        .await
        .map_err(|e| e.to_string())
    }
}

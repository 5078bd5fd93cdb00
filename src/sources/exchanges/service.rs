//! Exchange connections as the command line (and later the server) use
//! them: a key proven read-only before it is stored, sealed at once;
//! syncs that bring the history in through the file importer, so rows from
//! the API and from the exchange's own export are the same rows.

use sha2::{Digest, Sha256};

use crate::crypto::SecretBox;
use crate::ledger::Kind;
use crate::sources::generic;
use crate::store::exchanges::{Connection, NewConnection, key_secret, secret_secret};
use crate::store::transactions::{ImportMeta, Keyed};
use crate::store::{AuditEntry, Store};

pub use super::adapter::ExchangeError;
use super::adapter::{Client, Credentials, SUPPORTED, default_url};
use super::nonce::Nonces;

/// The exchanges that can be added today.
pub fn supported() -> Vec<&'static str> {
    SUPPORTED.iter().map(|(name, _)| *name).collect()
}
/// Named by the command line's contract, not yet readable.
pub const PLANNED: &[&str] = &["bitfinex", "gemini", "bitstamp", "bybit", "okx"];

/// A sync of the connection is already running.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("a sync of this exchange account is already running")]
pub struct Busy;

pub struct NewKey<'a> {
    pub exchange: &'a str,
    pub name: &'a str,
    pub workspace: crate::sources::import::Target<'a>,
    pub key: &'a str,
    pub secret: &'a str,
    pub api_url: Option<&'a str>,
}

#[derive(Debug, serde::Serialize)]
pub struct Added {
    #[serde(skip)]
    pub id: i64,
    pub name: String,
    pub exchange: String,
    pub permissions: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct Synced {
    pub name: String,
    pub exchange: String,
    pub new_rows: u64,
    pub total_rows: u64,
    pub balance_sat: i64,
    pub exchange_balance_sat: Option<i64>,
    pub complete: bool,
}

pub struct Exchanges {
    store: Store,
    secrets: SecretBox,
    nonces: Nonces,
    /// `exchanges.rate_budget = "off"`: no client-side rate budget (a test
    /// server or a proxy without limits).
    unbudgeted: bool,
    /// Where a scheduled sync tells the workspace's owners what went wrong.
    alerts: Option<crate::alerts::Alerts>,
    /// The last problem told per connection, so an hourly schedule does not
    /// repeat the same alert every hour.
    told: std::sync::Mutex<std::collections::HashMap<i64, String>>,
    /// Each connection's latest sync in this process, running or not: one
    /// at a time per connection, and what the Exchanges page shows.
    progress: std::sync::Mutex<std::collections::HashMap<i64, Progress>>,
}

/// A sync as the Exchanges page follows it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Progress {
    pub running: bool,
    /// Entries read in this sync, and how many there are when known.
    pub read: u64,
    pub total: u64,
    pub new_rows: Option<u64>,
    pub error: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

impl Exchanges {
    pub fn new(store: Store, secrets: SecretBox) -> Exchanges {
        Exchanges {
            store,
            secrets,
            nonces: Nonces::default(),
            unbudgeted: false,
            alerts: None,
            told: Default::default(),
            progress: Default::default(),
        }
    }

    pub fn without_rate_budget(self, off: bool) -> Exchanges {
        Exchanges {
            unbudgeted: off,
            ..self
        }
    }

    pub fn with_alerts(self, alerts: crate::alerts::Alerts) -> Exchanges {
        Exchanges {
            alerts: Some(alerts),
            ..self
        }
    }

    /// Syncs every connection once, as the server's schedule does: a
    /// failure or a balance that does not match is logged and raised as an
    /// alert to the workspace's owners.
    pub async fn sync_all(&self) {
        let connections = match self.store.exchange_connections().await {
            Ok(c) => c,
            Err(err) => {
                tracing::warn!(error = %err, "cannot list exchange connections");
                return;
            }
        };
        for connection in connections {
            let problem = match self.tracked_sync(&connection, "schedule").await {
                Err(Busy) => continue,
                Ok(outcome) => outcome,
            };
            let problem = match problem {
                Ok(synced) => {
                    tracing::info!(name = %synced.name, new_rows = synced.new_rows, "exchange synced");
                    match synced.exchange_balance_sat {
                        Some(theirs) if theirs != synced.balance_sat => Some(format!(
                            "The rows of {} add up to {} sat, but {} reports {} sat: part of the history may be missing.",
                            synced.name, synced.balance_sat, synced.exchange, theirs
                        )),
                        _ => None,
                    }
                }
                Err(err) => {
                    tracing::warn!(name = %connection.name, error = %err, "exchange sync failed");
                    Some(format!("Syncing {} failed: {err}", connection.name))
                }
            };
            let new = {
                let mut told = match self.told.lock() {
                    Ok(told) => told,
                    Err(poisoned) => poisoned.into_inner(),
                };
                match &problem {
                    Some(message) => {
                        told.insert(connection.id, message.clone()).as_ref() != Some(message)
                    }
                    None => {
                        told.remove(&connection.id);
                        false
                    }
                }
            };
            if let (true, Some(message), Some(alerts)) = (new, problem, &self.alerts) {
                self.alert_owners(alerts, &connection, message).await;
            }
        }
    }

    async fn alert_owners(
        &self,
        alerts: &crate::alerts::Alerts,
        connection: &Connection,
        message: String,
    ) {
        let Ok(members) = self.store.members(connection.workspace_id).await else {
            return;
        };
        for member in members
            .iter()
            .filter(|m| m.role == crate::auth::Role::Owner)
        {
            if let Err(err) = alerts
                .raise(
                    member.user_id,
                    "exchange sync",
                    message.clone(),
                    crate::clock::now(),
                )
                .await
            {
                tracing::warn!(error = %err, "cannot raise an exchange alert");
            }
        }
    }

    /// Asks the exchange about the key, and stores it (sealed) only when it
    /// can read and do nothing more.
    pub async fn add(&self, new: &NewKey<'_>, audit: &AuditEntry) -> Result<Added, ExchangeError> {
        let supported = supported();
        if PLANNED.contains(&new.exchange) {
            return Err(ExchangeError::Refused(format!(
                "{} accounts cannot be read over the API yet (only {}); import its export files instead",
                new.exchange,
                supported.join(", ")
            )));
        }
        let Some(default) = default_url(new.exchange) else {
            return Err(ExchangeError::Refused(format!(
                "unknown exchange {:?}; use one of {}",
                new.exchange,
                supported.join(", ")
            )));
        };
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(ExchangeError::Refused(
                "a connection name is 1 to 64 characters".into(),
            ));
        }
        crate::text::Field::Name
            .check("the connection name", name)
            .map_err(|e| ExchangeError::Refused(e.to_string()))?;
        let (key, secret) = (new.key.trim(), new.secret.trim());
        if key.is_empty() || secret.is_empty() {
            return Err(ExchangeError::Refused(
                "the key file or the secret file is empty".into(),
            ));
        }
        let api_url = checked_api_url(new.api_url.unwrap_or(default))?;
        let client = Client::new(
            new.exchange,
            &Credentials {
                api_url: &api_url,
                key,
                secret,
            },
            &self.nonces,
            self.unbudgeted,
        )?;
        let check = client.check_key().await?;
        if let Some(refusal) = check.verdict.refusal() {
            return Err(ExchangeError::Refused(refusal));
        }
        let workspace = match new.workspace {
            crate::sources::import::Target::Id(id) => id,
            crate::sources::import::Target::Named(named) => {
                self.store
                    .workspace_named(
                        named,
                        &AuditEntry::new(
                            audit.at,
                            audit.actor_id,
                            audit.actor.clone(),
                            "workspace.created",
                        )
                        .target(named),
                    )
                    .await?
            }
        };
        let secrets = self.secrets.clone();
        let (key_text, secret_text) = (key.to_string(), secret.to_string());
        let seal = Box::new(move |id: i64| {
            let key = secrets
                .seal(&key_secret(id), key_text.as_bytes())
                .map_err(|e| e.to_string())?;
            let secret = secrets
                .seal(&secret_secret(id), secret_text.as_bytes())
                .map_err(|e| e.to_string())?;
            Ok((key, secret))
        });
        let last4 = crate::crypto::last4(key);
        let id = self
            .store
            .add_exchange_connection(
                &NewConnection {
                    workspace,
                    name,
                    exchange: new.exchange,
                    api_url: &api_url,
                    key_last4: &last4,
                },
                seal,
                &audit
                    .clone()
                    .target(name)
                    .detail(format!("{} key ending in {last4}", new.exchange)),
            )
            .await?;
        Ok(Added {
            id,
            name: name.to_string(),
            exchange: new.exchange.to_string(),
            permissions: check.permissions,
            warnings: check.verdict.warnings,
        })
    }

    fn open(
        &self,
        name: &str,
        sealed: Option<crate::store::secrets::SealedSecret>,
    ) -> Result<String, ExchangeError> {
        let sealed =
            sealed.ok_or_else(|| ExchangeError::Failed(format!("the secret {name} is missing")))?;
        self.secrets
            .open(name, &sealed.sealed)
            .map(|s| s.expose().to_string())
            .map_err(|e| ExchangeError::Failed(e.to_string()))
    }

    /// The connection's latest sync in this process.
    pub fn status(&self, id: i64) -> Option<Progress> {
        self.progress_map().get(&id).cloned()
    }

    fn progress_map(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<i64, Progress>> {
        match self.progress.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Starts a sync in the background (the API and the Exchanges page),
    /// or says that one is running.
    pub fn start(
        self: &std::sync::Arc<Self>,
        connection: Connection,
        actor: String,
    ) -> Result<(), Busy> {
        self.claim(connection.id)?;
        let service = self.clone();
        tokio::spawn(async move {
            service.run_claimed(&connection, &actor).await.ok();
        });
        Ok(())
    }

    /// A sync that takes the connection's slot, with its progress kept.
    async fn tracked_sync(
        &self,
        connection: &Connection,
        actor: &str,
    ) -> Result<Result<Synced, ExchangeError>, Busy> {
        self.claim(connection.id)?;
        Ok(self.run_claimed(connection, actor).await)
    }

    fn claim(&self, id: i64) -> Result<(), Busy> {
        let mut map = self.progress_map();
        if map.get(&id).is_some_and(|p| p.running) {
            return Err(Busy);
        }
        map.insert(
            id,
            Progress {
                running: true,
                started_at: crate::clock::now(),
                ..Progress::default()
            },
        );
        Ok(())
    }

    async fn run_claimed(
        &self,
        connection: &Connection,
        actor: &str,
    ) -> Result<Synced, ExchangeError> {
        let id = connection.id;
        let report = |read: usize, total: usize| {
            if let Some(p) = self.progress_map().get_mut(&id) {
                p.read = read as u64;
                p.total = total as u64;
            }
        };
        let outcome = self.sync(connection, &report, actor).await;
        if let Some(p) = self.progress_map().get_mut(&id) {
            p.running = false;
            p.finished_at = Some(crate::clock::now());
            match &outcome {
                Ok(synced) => p.new_rows = Some(synced.new_rows),
                Err(err) => p.error = Some(err.to_string()),
            }
        }
        outcome
    }

    /// Reads what is new since the last finished sync (everything, the
    /// first time) into the connection's account, committing each batch
    /// with the cursor that follows it. A failure keeps the committed
    /// batches, is recorded for the Exchanges page, and the next sync goes
    /// on from the last cursor.
    pub async fn sync(
        &self,
        connection: &Connection,
        progress: &(dyn Fn(usize, usize) + Sync),
        actor: &str,
    ) -> Result<Synced, ExchangeError> {
        let outcome = self.sync_batches(connection, progress, actor).await;
        if let Err(err) = &outcome {
            let words = err.to_string();
            if let Err(e) = self
                .store
                .exchange_failed(connection.id, crate::clock::now(), &words)
                .await
            {
                tracing::warn!(error = %e, "cannot record an exchange sync failure");
            }
        }
        outcome
    }

    async fn sync_batches(
        &self,
        connection: &Connection,
        progress: &(dyn Fn(usize, usize) + Sync),
        actor: &str,
    ) -> Result<Synced, ExchangeError> {
        let key = self.open(
            &key_secret(connection.id),
            self.store.secret(&key_secret(connection.id)).await?,
        )?;
        let secret = self.open(
            &secret_secret(connection.id),
            self.store.secret(&secret_secret(connection.id)).await?,
        )?;
        let client = Client::new(
            &connection.exchange,
            &Credentials {
                api_url: &connection.api_url,
                key: &key,
                secret: &secret,
            },
            &self.nonces,
            self.unbudgeted,
        )?;
        let mut cursor: serde_json::Value =
            serde_json::from_str(&connection.state).unwrap_or(serde_json::Value::Null);
        let (mut added, mut imports) = (0, Vec::new());
        let file_name = format!("{} ({} API)", connection.name, connection.exchange);
        loop {
            let batch = client.next_batch(&cursor, &connection.name).await?;
            let now = crate::clock::now();
            let ids = generic::source_ids(&batch.rows);
            let keyed: Vec<Keyed> = ids
                .into_iter()
                .zip(&batch.rows)
                .map(|(source_id, tx)| Keyed { source_id, tx })
                .collect();
            let state = batch.cursor.to_string();
            let sha256 = hex::encode(Sha256::digest(state.as_bytes()));
            let meta = ImportMeta {
                file_name: &file_name,
                sha256: &sha256,
                format: &connection.exchange,
                actor,
                now,
            };
            let audit =
                AuditEntry::new(now, None, actor, "exchange.synced").target(&connection.name);
            let imported = self
                .store
                .commit_exchange_batch(connection, &meta, &keyed, &state, &audit)
                .await?;
            added += imported.added;
            imports.extend(imported.import_id);
            progress(batch.read, batch.total.unwrap_or(batch.read));
            cursor = batch.cursor;
            if batch.done {
                break;
            }
        }
        let exchange_balance = client.btc_balance().await?;
        self.store
            .exchange_synced(connection.id, crate::clock::now(), exchange_balance)
            .await?;
        let (total_rows, balance_sat, counted_once) =
            self.totals_after(connection, &imports).await?;
        Ok(Synced {
            name: connection.name.clone(),
            exchange: connection.exchange.clone(),
            // New entries, not new stored rows: a row that repeats one an
            // export brought in without ids adds nothing.
            new_rows: added.saturating_sub(counted_once),
            total_rows,
            balance_sat,
            exchange_balance_sat: exchange_balance,
            complete: true,
        })
    }

    /// How many entries the connection's account holds (its stored rows,
    /// less second copies of one entry from an export and the API), and
    /// the BTC balance the book adds up to there, in satoshis.
    pub async fn account_totals(
        &self,
        connection: &Connection,
    ) -> Result<(u64, i64), ExchangeError> {
        let (rows, balance, _) = self.totals_after(connection, &[]).await?;
        Ok((rows, balance))
    }

    /// [`Self::account_totals`], and how many second copies of one entry
    /// involve the rows these imports (a sync's batches) stored.
    async fn totals_after(
        &self,
        connection: &Connection,
        imports: &[i64],
    ) -> Result<(u64, i64, u64), ExchangeError> {
        let loaded = crate::review::load(&self.store, connection.workspace_id).await?;
        let copies: std::collections::HashSet<i64> = loaded
            .book
            .duplicates
            .iter()
            .map(|(copy, _, _)| *copy)
            .collect();
        let rows = loaded
            .stored
            .iter()
            .filter(|(id, tx)| tx.account == connection.name && !copies.contains(id))
            .count() as u64;
        let mut balance: i64 = 0;
        for tx in &loaded.book.rows {
            let (btc, fee) = (tx.btc.0, tx.fee_btc.0);
            if tx.account == connection.name {
                // An inflow's `btc` is what arrived, its fee already
                // taken (the generic format: information only), as the
                // tax engines count it.
                balance += if tx.kind.is_inflow() {
                    btc
                } else if tx.kind == Kind::Fee {
                    -fee
                } else {
                    -(btc + fee)
                };
            } else if tx.to_account.as_deref() == Some(connection.name.as_str()) {
                balance += btc;
            }
        }
        let mut counted_once = 0;
        if !loaded.book.duplicates.is_empty() {
            let mut mine = std::collections::HashSet::new();
            for id in imports {
                mine.extend(self.store.import_row_ids(*id).await?);
            }
            counted_once = loaded
                .book
                .duplicates
                .iter()
                .filter(|(copy, of, _)| mine.contains(copy) || mine.contains(of))
                .count() as u64;
        }
        Ok((rows, balance, counted_once))
    }

    pub async fn remove(&self, name: &str, audit: &AuditEntry) -> Result<bool, ExchangeError> {
        Ok(self
            .store
            .remove_exchange_connection(name, &audit.clone().target(name))
            .await?)
    }
}

/// The exchange's base URL: `https://`, or `http://` on a loopback address
/// only (a test server or a local proxy).
fn checked_api_url(url: &str) -> Result<String, ExchangeError> {
    let base = crate::outbound::http_base(url, "the API URL").map_err(ExchangeError::Refused)?;
    if base.starts_with("https://") {
        return Ok(base);
    }
    let host = url::Url::parse(&base)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(base)
    } else {
        Err(ExchangeError::Refused(
            "the API URL must be https:// (plain http:// only on this machine's loopback address)"
                .into(),
        ))
    }
}

/// The server's schedule (`exchanges.sync_interval`): every connection,
/// one after another, every `every`.
pub async fn sync_periodically(
    service: std::sync::Arc<Exchanges>,
    every: Option<std::time::Duration>,
) {
    let Some(every) = every else { return };
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        service.sync_all().await;
    }
}

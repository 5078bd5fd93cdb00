//! Syncing a watched wallet: BDK scans the configured chain source, the
//! wallet's confirmed transactions become ledger rows, and the rows and
//! BDK's new state are stored in one transaction.

use std::sync::Arc;

use bdk_wallet::chain::{ChainPosition, Merge};
use bdk_wallet::{ChangeSet, KeychainKind, Wallet};

use super::progress::{Phase, Tracker};
use super::rows::{self, WalletTx};
use super::source::{Client, Start};
use crate::crypto::SecretBox;
use crate::ledger::Sats;
use crate::store::transactions::Keyed;
use crate::store::wallets::{SyncResult, WalletRecord};
use crate::store::{AuditEntry, Store, StoreError};

/// The settings key of the instance's chain source.
pub const SOURCE_KEY: &str = "chain.source";

pub use super::source::{CORE_PASSWORD_SECRET, ChainSource, CoreAuth};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(
        "no chain source is set; an instance administrator sets one first (Settings, PUT /api/v1/instance/chain-source, or `ledgersys chain set` with --esplora, --electrum or --core-rpc)"
    )]
    NoSource,
    #[error("the chain source setting is unreadable: {0}")]
    BadSource(String),
    #[error("{name} cannot be used: {reason}")]
    Unreachable { name: String, reason: String },
    #[error("the stored state of wallet {0:?} does not load: {1}")]
    State(String, String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn source(store: &Store) -> Result<ChainSource, SyncError> {
    let text = store
        .setting(SOURCE_KEY)
        .await?
        .ok_or(SyncError::NoSource)?;
    serde_json::from_str(&text).map_err(|e| SyncError::BadSource(e.to_string()))
}

/// What one sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    pub scripts_scanned: u64,
    pub transactions: i64,
    pub rows_added: u64,
    pub balance_sat: i64,
}

fn network(record: &WalletRecord) -> Result<bitcoin::Network, SyncError> {
    record
        .network
        .parse()
        .map_err(|_| SyncError::State(record.name.clone(), "unknown network".into()))
}

/// How far past the last used script BDK watches: the gap limit, so that a
/// source handing over whole blocks (Bitcoin Core) finds exactly what a
/// per-script scan with that gap finds.
fn lookahead(record: &WalletRecord) -> u32 {
    u32::try_from(record.gap_limit).unwrap_or(20)
}

/// The wallet as BDK last left it, or new when it was never synced.
fn load(record: &WalletRecord) -> Result<(Wallet, ChangeSet), SyncError> {
    let bad = |e: String| SyncError::State(record.name.clone(), e);
    let network = network(record)?;
    if let Some(text) = &record.changeset {
        let changeset: ChangeSet = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let wallet = Wallet::load()
            .descriptor(
                KeychainKind::External,
                Some(record.external_descriptor.clone()),
            )
            .check_network(network)
            .lookahead(lookahead(record))
            .load_wallet_no_persist(changeset.clone())
            .map_err(|e| bad(e.to_string()))?
            .ok_or_else(|| bad("the stored state is empty".into()))?;
        return Ok((wallet, changeset));
    }
    let params = match &record.internal_descriptor {
        Some(internal) => Wallet::create(record.external_descriptor.clone(), internal.clone()),
        None => Wallet::create_single(record.external_descriptor.clone()),
    };
    let mut wallet = params
        .network(network)
        .lookahead(lookahead(record))
        .create_wallet_no_persist()
        .map_err(|e| bad(e.to_string()))?;
    let initial = wallet.take_staged().unwrap_or_default();
    Ok((wallet, initial))
}

/// Scans the wallet's scripts up to its gap limit, then stores what changed.
/// `secrets` opens a sealed RPC password, when the source has one.
/// `progress` hears a line now and then, for a human.
pub async fn sync(
    store: &Store,
    secrets: Option<&SecretBox>,
    record: &WalletRecord,
    actor: &str,
    now: i64,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Synced, SyncError> {
    let tracker = Arc::new(Tracker::default());
    sync_tracked(store, secrets, record, actor, now, progress, &tracker).await
}

/// [`sync`], reporting its phase and counts on `tracker` as it goes. The
/// wallet is marked as syncing until the result is stored (or the sync
/// fails), so a server stopped in the middle resumes it at start.
pub async fn sync_tracked(
    store: &Store,
    secrets: Option<&SecretBox>,
    record: &WalletRecord,
    actor: &str,
    now: i64,
    progress: &(dyn Fn(&str) + Sync),
    tracker: &Arc<Tracker>,
) -> Result<Synced, SyncError> {
    tracker.set_phase(Phase::Scanning);
    store.mark_sync_started(record.id, now).await?;
    let outcome = sync_marked(store, secrets, record, actor, now, progress, tracker).await;
    match &outcome {
        Ok(_) => tracker.set_phase(Phase::Done),
        Err(_) => {
            tracker.set_phase(Phase::Failed);
            store.clear_sync_mark(record.id).await?;
        }
    }
    outcome
}

async fn sync_marked(
    store: &Store,
    secrets: Option<&SecretBox>,
    record: &WalletRecord,
    actor: &str,
    now: i64,
    progress: &(dyn Fn(&str) + Sync),
    tracker: &Arc<Tracker>,
) -> Result<Synced, SyncError> {
    let configured = source(store).await?;
    let unreachable = |reason: String| SyncError::Unreachable {
        name: configured.to_string(),
        reason,
    };
    let client = Client::new(store, secrets, &configured)
        .await
        .map_err(unreachable)?;
    progress(&format!("{}: scanning {configured}", record.name));
    let start = Start {
        time: u64::try_from(now).unwrap_or_default(),
        gap: usize::try_from(record.gap_limit).unwrap_or(20),
        birthday: record.birthday.and_then(|b| u32::try_from(b).ok()),
    };
    let (found, balance, state, scripts) = if record.kind == "addresses" {
        let (found, balance, state, scripts) = super::addresses::scan(
            &client,
            network(record)?,
            &record.external_descriptor,
            record.changeset.as_deref(),
            start,
        )
        .await
        .map_err(unreachable)?;
        let state = serde_json::to_string(&state)
            .map_err(|e| SyncError::State(record.name.clone(), e.to_string()))?;
        // A list is always synced script by script: there is nothing to
        // discover past it.
        tracker.set_mode("list");
        tracker.add_scripts(scripts);
        (found, balance, state, scripts)
    } else {
        scan_wallet(&client, record, start, tracker)
            .await
            .map_err(|e| match e {
                Scan::Source(reason) => unreachable(reason),
                Scan::State(reason) => SyncError::State(record.name.clone(), reason),
            })?
    };
    let ledger: Vec<_> = found
        .iter()
        .filter_map(|tx| Some((rows::source_id(tx), rows::ledger_row(&record.name, tx)?)))
        .collect();
    let keyed: Vec<Keyed> = ledger
        .iter()
        .map(|(source_id, tx)| Keyed {
            source_id: source_id.clone(),
            tx,
        })
        .collect();
    tracker.set_transactions(found.len() as u64);
    tracker.set_phase(Phase::Storing);
    progress(&format!(
        "{}: {scripts} scripts scanned, {} confirmed transactions",
        record.name,
        found.len()
    ));
    let result = SyncResult {
        changeset: &state,
        balance_sat: balance,
        transactions: found.len() as i64,
        now,
        rows: &keyed,
    };
    let audit = AuditEntry::new(now, None, actor, "wallet.synced");
    let added = store.save_sync(record, &result, &audit).await?;
    Ok(Synced {
        scripts_scanned: scripts,
        transactions: found.len() as i64,
        rows_added: added,
        balance_sat: balance,
    })
}

enum Scan {
    Source(String),
    State(String),
}

/// Scans a descriptor wallet with BDK: its confirmed transactions, its
/// confirmed balance, its whole state as JSON, and how many scripts were
/// asked about.
async fn scan_wallet(
    client: &Client,
    record: &WalletRecord,
    start: Start,
    tracker: &Arc<Tracker>,
) -> Result<(Vec<WalletTx>, i64, String, u64), Scan> {
    let (wallet, mut changeset) = load(record).map_err(|e| match e {
        SyncError::State(_, reason) => Scan::State(reason),
        other => Scan::State(other.to_string()),
    })?;
    let wallet = if super::incremental::applies(record.changeset.as_deref()) {
        tracker.set_mode("incremental");
        client.sync_wallet(wallet, start, tracker).await
    } else {
        tracker.set_mode("full");
        client.scan_wallet(wallet, start, tracker).await
    };
    let mut wallet = wallet.map_err(Scan::Source)?;
    if let Some(staged) = wallet.take_staged() {
        changeset.merge(staged);
    }
    let found = confirmed(&wallet);
    let balance = i64::try_from(wallet.balance().confirmed.to_sat()).unwrap_or(i64::MAX);
    let state = serde_json::to_string(&changeset).map_err(|e| Scan::State(e.to_string()))?;
    Ok((found, balance, state, tracker.scripts()))
}

/// The wallet's confirmed transactions as the ledger needs them.
fn confirmed(wallet: &Wallet) -> Vec<WalletTx> {
    let sats = |a: bitcoin::Amount| Sats(i64::try_from(a.to_sat()).unwrap_or(i64::MAX));
    wallet
        .transactions()
        .filter_map(|c| {
            let ChainPosition::Confirmed { anchor, .. } = c.chain_position else {
                return None;
            };
            let tx = &c.tx_node.tx;
            let (sent, received) = wallet.sent_and_received(tx);
            let all_ours = tx.input.iter().all(|input| {
                wallet
                    .tx_graph()
                    .get_txout(input.previous_output)
                    .is_some_and(|out| wallet.is_mine(out.script_pubkey.clone()))
            });
            let own_fee = all_ours
                .then(|| wallet.calculate_fee(tx).ok())
                .flatten()
                .map(sats);
            Some(WalletTx {
                txid: c.tx_node.txid.to_string(),
                block_time: i64::try_from(anchor.confirmation_time).unwrap_or(i64::MAX),
                sent: sats(sent),
                received: sats(received),
                own_fee,
            })
        })
        .collect()
}

//! The chain sources behind one small interface: a descriptor wallet's full
//! scan and an address list's sync. Each source applies what it finds to
//! BDK's structures itself, because they find it differently: Esplora and
//! Electrum answer per script (a BDK update), Bitcoin Core hands over whole
//! blocks from the wallet's birthday.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bdk_wallet::chain::spk_client::{FullScanRequest, SyncRequest};
use bdk_wallet::{KeychainKind, Wallet};

use super::addresses::List;
use super::core_rpc::Core;
use super::electrum::Electrum;
use super::esplora::Esplora;
use super::sync::ChainSource;
use crate::crypto::SecretBox;
use crate::store::Store;

/// A connection to the configured source, ready to scan.
pub enum Client {
    Esplora(Esplora),
    Electrum(Electrum),
    Core(Core),
}

/// Where a scan starts and how far it looks.
#[derive(Debug, Clone, Copy)]
pub struct Start {
    /// Unix seconds: BDK's "seen at" for what it finds.
    pub time: u64,
    /// Unused scripts in a row before a keychain's scan stops.
    pub gap: usize,
    /// The wallet's first block, if known: Bitcoin Core reads blocks from
    /// here; the per-script sources do not need it.
    pub birthday: Option<u32>,
}

impl Client {
    /// Prepares the client for `source`. Nothing is asked of the server
    /// yet, except where the client's constructor insists.
    pub async fn new(
        store: &Store,
        secrets: Option<&SecretBox>,
        source: &ChainSource,
    ) -> Result<Client, String> {
        Ok(match source {
            ChainSource::Esplora { url } => Client::Esplora(Esplora::new(url)?),
            ChainSource::Electrum {
                host_port,
                tls,
                cert_sha256,
            } => Client::Electrum(Electrum::new(host_port, *tls, cert_sha256.as_deref())),
            ChainSource::CoreRpc { url, auth } => {
                Client::Core(Core::new(store, secrets, url, auth).await?)
            }
        })
    }

    /// Scans a descriptor wallet up to its gap limit and applies what was
    /// found. Returns the wallet and how many scripts were looked at.
    pub async fn scan_wallet(&self, wallet: Wallet, start: Start) -> Result<(Wallet, u64), String> {
        match self {
            Client::Esplora(c) => c.scan_wallet(wallet, start).await,
            Client::Electrum(c) => c.scan_wallet(wallet, start).await,
            Client::Core(c) => c.scan_wallet(wallet, start).await,
        }
    }

    /// Syncs a fixed list of scripts and applies what was found.
    pub async fn sync_list(&self, list: List, start: Start) -> Result<List, String> {
        match self {
            Client::Esplora(c) => c.sync_list(list, start).await,
            Client::Electrum(c) => c.sync_list(list, start).await,
            Client::Core(c) => c.sync_list(list, start).await,
        }
    }
}

/// A full-scan request for `wallet` and a counter of the scripts it yields.
pub fn full_scan_request(
    wallet: &Wallet,
    start: Start,
) -> (FullScanRequest<KeychainKind>, Arc<AtomicU64>) {
    let scanned = Arc::new(AtomicU64::new(0));
    let counter = scanned.clone();
    let request = wallet
        .start_full_scan_at(start.time)
        .inspect(move |_, _, _| {
            counter.fetch_add(1, Ordering::Relaxed);
        })
        .build();
    (request, scanned)
}

/// A sync request for the scripts of `list`.
pub fn sync_request(list: &List, start: Start) -> SyncRequest {
    SyncRequest::builder_at(start.time)
        .chain_tip(list.chain.tip())
        .spks(list.scripts.iter().cloned())
        .build()
}

pub fn count(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

//! The chain sources behind one small interface: a descriptor wallet's full
//! scan and an address list's sync. Each source applies what it finds to
//! BDK's structures itself, because they find it differently: Esplora and
//! Electrum answer per script (a BDK update), Bitcoin Core hands over whole
//! blocks from the wallet's birthday.

use std::sync::Arc;

use bdk_wallet::chain::spk_client::{FullScanRequest, SyncRequest};
use bdk_wallet::{KeychainKind, Wallet};

use super::addresses::List;
use super::core_rpc::Core;
use super::electrum::Electrum;
use super::esplora::Esplora;
use super::progress::Tracker;
use crate::crypto::SecretBox;
use crate::store::Store;

/// Where wallets are synced from. Only the user's own server: there is no
/// public fallback.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainSource {
    Esplora {
        url: String,
    },
    Electrum {
        host_port: String,
        tls: bool,
        /// The SHA-256 of the server's own certificate, pinned instead of
        /// checking it against public certificate authorities.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cert_sha256: Option<String>,
    },
    CoreRpc {
        url: String,
        auth: CoreAuth,
    },
}

/// How Bitcoin Core's RPC is signed in to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CoreAuth {
    /// The node's cookie file, read at each sync: the node writes a new one
    /// whenever it restarts.
    Cookie { path: String },
    /// A user whose password is a sealed secret named [`CORE_PASSWORD_SECRET`].
    User { user: String },
}

/// The name Bitcoin Core's RPC password is sealed under.
pub const CORE_PASSWORD_SECRET: &str = "chain.core_rpc_password";

impl std::fmt::Display for ChainSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainSource::Esplora { url } => write!(f, "the Esplora server at {url}"),
            ChainSource::Electrum { host_port, tls, .. } => {
                let tls = if *tls { " (TLS)" } else { "" };
                write!(f, "the Electrum server at {host_port}{tls}")
            }
            ChainSource::CoreRpc { url, .. } => write!(f, "Bitcoin Core's RPC at {url}"),
        }
    }
}

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
    /// found, counting the scripts looked at on `tracker`.
    pub async fn scan_wallet(
        &self,
        wallet: Wallet,
        start: Start,
        tracker: &Arc<Tracker>,
    ) -> Result<Wallet, String> {
        match self {
            Client::Esplora(c) => c.scan_wallet(wallet, start, tracker).await,
            Client::Electrum(c) => c.scan_wallet(wallet, start, tracker).await,
            Client::Core(c) => c.scan_wallet(wallet, start, tracker).await,
        }
    }

    /// Brings a wallet synced before up to date: its revealed scripts, then
    /// a scan past them to the gap limit (`incremental`). Bitcoin Core reads
    /// on from the wallet's last block, which is already incremental.
    pub async fn sync_wallet(
        &self,
        wallet: Wallet,
        start: Start,
        tracker: &Arc<Tracker>,
    ) -> Result<Wallet, String> {
        match self {
            Client::Esplora(c) => c.sync_wallet(wallet, start, tracker).await,
            Client::Electrum(c) => c.sync_wallet(wallet, start, tracker).await,
            Client::Core(c) => c.scan_wallet(wallet, start, tracker).await,
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

/// A full-scan request for `wallet` that counts the scripts it yields on
/// `tracker`, as they are asked about.
pub fn full_scan_request(
    wallet: &Wallet,
    start: Start,
    tracker: &Arc<Tracker>,
) -> FullScanRequest<KeychainKind> {
    let counter = tracker.clone();
    wallet
        .start_full_scan_at(start.time)
        .inspect(move |_, _, _| counter.script_scanned())
        .build()
}

/// A sync request for the scripts of `list`.
pub fn sync_request(list: &List, start: Start) -> SyncRequest {
    SyncRequest::builder_at(start.time)
        .chain_tip(list.chain.tip())
        .spks(list.scripts.iter().cloned())
        .build()
}

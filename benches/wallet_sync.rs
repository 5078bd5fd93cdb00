//! A watch-only wallet's first full scan, then a sync with nothing new,
//! against a loopback fake Esplora (the integration tests' own, indexed)
//! serving 10,000 confirmed payments into one wpkh wallet: 2,000 receive
//! addresses used five times each, 100 payments a block. Figures: time,
//! HTTP requests the sync made, ledger rows, and this process's peak
//! memory (which includes the fake and its chain; the figure before the
//! sync is printed beside it).
//!
//! Run: `cargo bench --bench wallet_sync` (release profile). Prints its
//! figures; the latest are recorded in docs/benchmarks.md.
#![allow(clippy::print_stdout)] // a benchmark reports on standard output

#[allow(dead_code)]
#[path = "../tests/it/fakes/chain.rs"]
mod chain;
#[allow(dead_code, unused_imports)]
#[path = "../tests/it/fakes/esplora.rs"]
mod esplora;

use std::time::Instant;

use bdk_wallet::{KeychainKind, Wallet};
use bitcoin::bip32::{Xpriv, Xpub};
use bitcoin::secp256k1::Secp256k1;
use bitcoin::{Network, ScriptBuf};
use ledgersys::sources::chain::add::{self, Kind, Settings};
use ledgersys::sources::chain::sync::{self, ChainSource, SOURCE_KEY};
use ledgersys::store::{AuditEntry, Store};

use esplora::{Chain, FakeEsplora};

const TRANSACTIONS: u32 = 10_000;
const ADDRESSES: u32 = 2_000;
const PER_BLOCK: u32 = 100;

/// `VmHWM` of this process, in MB.
fn peak_memory_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn receive_scripts(key: &Xpub) -> Vec<ScriptBuf> {
    let wallet = Wallet::create(format!("wpkh({key}/0/*)"), format!("wpkh({key}/1/*)"))
        .network(Network::Bitcoin)
        .create_wallet_no_persist()
        .expect("wallet");
    (0..ADDRESSES)
        .map(|i| {
            wallet
                .peek_address(KeychainKind::External, i)
                .script_pubkey()
        })
        .collect()
}

#[tokio::main]
async fn main() {
    let master = Xpriv::new_master(Network::Bitcoin, &[42; 32]).expect("master");
    let key = Xpub::from_priv(&Secp256k1::new(), &master);
    let scripts = receive_scripts(&key);
    let mut chain = Chain::new();
    let mut block = Vec::new();
    for n in 0..TRANSACTIONS {
        let mut source = [0u8; 32];
        source[..4].copy_from_slice(&n.to_le_bytes());
        source[31] = 1;
        let to = scripts[(n % ADDRESSES) as usize].clone();
        block.push(chain.pay_from(to, 10_000 + u64::from(n), source, (n % 251) as u8));
        if block.len() == PER_BLOCK as usize {
            chain.mine(std::mem::take(&mut block));
        }
    }
    let esplora = FakeEsplora::start(chain).await;

    let temp = tempfile::tempdir().expect("temp");
    let store = Store::open(temp.path()).await.expect("store");
    let now = 1_767_225_600;
    let source = serde_json::to_string(&ChainSource::Esplora {
        url: esplora.url.clone(),
    })
    .expect("json");
    store
        .set_setting_audited(
            SOURCE_KEY,
            &source,
            &AuditEntry::new(now, None, "bench", "chain.source_set"),
        )
        .await
        .expect("source");
    let workspace = store
        .workspace_named(
            "default",
            &AuditEntry::new(now, None, "bench", "workspace.created"),
        )
        .await
        .expect("workspace");
    let prepared = add::prepare(Kind::Descriptor, &format!("wpkh({key}/0/*)")).expect("descriptor");
    let settings = Settings {
        name: "Bench",
        gap_limit: 20,
        birthday: None,
    };
    add::save(
        &store,
        workspace,
        &prepared,
        &settings,
        &AuditEntry::new(now, None, "bench", "wallet.added"),
    )
    .await
    .expect("saved");
    let before = peak_memory_mb();

    println!(
        "wallet sync: {TRANSACTIONS} transactions to {ADDRESSES} addresses, fake Esplora on loopback"
    );
    println!(
        "| sync | time | HTTP requests | scripts scanned | transactions | new ledger rows | peak memory |"
    );
    println!("|---|---|---|---|---|---|---|");
    for label in ["first (full scan)", "again (incremental, nothing new)"] {
        let record = store
            .wallets_named("Bench")
            .await
            .expect("query")
            .pop()
            .expect("wallet");
        let requests = esplora.requests();
        let started = Instant::now();
        let done = sync::sync(&store, None, &record, "bench", now, &|_| {})
            .await
            .expect("sync");
        let elapsed = started.elapsed();
        println!(
            "| {label} | {:.2} s | {} | {} | {} | {} | {:.0} MB (before the sync: {before:.0} MB) |",
            elapsed.as_secs_f64(),
            esplora.requests() - requests,
            done.scripts_scanned,
            done.transactions,
            done.rows_added,
            peak_memory_mb(),
        );
        assert_eq!(done.transactions, i64::from(TRANSACTIONS));
    }
    store.close().await;
}

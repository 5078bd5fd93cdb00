//! Watch-only wallets through the command line, synced from a fake Esplora
//! serving a chain built here: receives, a send with change and its exact
//! fee, a self-transfer between two watched wallets, and an address beyond
//! the gap limit that only a larger limit finds.

use std::path::Path;
use std::process::Output;

use bdk_wallet::{KeychainKind, Wallet};
use bitcoin::bip32::{Xpriv, Xpub};
use bitcoin::secp256k1::Secp256k1;
use bitcoin::{Network, OutPoint, ScriptBuf, Transaction};
use ledgersys::ledger::{Kind, Sats, matching};
use ledgersys::store::Store;

use crate::fakes::esplora::{Chain, foreign_script, spend};
use crate::fakes::sources::{Source, Via};
use crate::support::{command, text};

pub(crate) fn master(seed: u8) -> Xpriv {
    Xpriv::new_master(Network::Bitcoin, &[seed; 32]).expect("master")
}

pub(crate) fn xpub(seed: u8) -> Xpub {
    Xpub::from_priv(&Secp256k1::new(), &master(seed))
}

/// The account key as a zpub, as Sparrow or a Coldcard shows it.
pub(crate) fn zpub(key: &Xpub) -> String {
    let mut bytes = key.encode();
    bytes[..4].copy_from_slice(&[0x04, 0xb2, 0x47, 0x46]);
    bitcoin::base58::encode_check(&bytes)
}

/// Scripts of a wpkh wallet, derived by BDK in the test's own process.
pub(crate) struct Keys(Wallet);

impl Keys {
    pub(crate) fn new(key: &Xpub) -> Keys {
        Keys::of(&format!("wpkh({key}/0/*)"), &format!("wpkh({key}/1/*)"))
    }
    pub(crate) fn of(external: &str, internal: &str) -> Keys {
        let wallet = Wallet::create(external.to_string(), internal.to_string())
            .network(Network::Bitcoin)
            .create_wallet_no_persist()
            .expect("wallet");
        Keys(wallet)
    }
    pub(crate) fn receive(&self, index: u32) -> ScriptBuf {
        self.0
            .peek_address(KeychainKind::External, index)
            .script_pubkey()
    }
    pub(crate) fn change(&self, index: u32) -> ScriptBuf {
        self.0
            .peek_address(KeychainKind::Internal, index)
            .script_pubkey()
    }
    pub(crate) fn change_address(&self, index: u32) -> String {
        self.0
            .peek_address(KeychainKind::Internal, index)
            .to_string()
    }
    pub(crate) fn address(&self, index: u32) -> String {
        self.0
            .peek_address(KeychainKind::External, index)
            .to_string()
    }
}

pub(crate) fn out(tx: &Transaction, vout: u32) -> OutPoint {
    OutPoint {
        txid: tx.compute_txid(),
        vout,
    }
}

pub(crate) fn cli(data: &Path, args: &[&str]) -> Output {
    command()
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("run")
}

pub(crate) fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\n{}",
        output.status.code(),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// The chain of the main scenario, and the txids of its spends.
struct Scenario {
    chain: Chain,
    send: String,
    transfer: String,
    far_receive: String,
}

fn scenario(cold: &Keys, spending: &Keys) -> Scenario {
    let mut chain = Chain::new();
    let first = chain.pay_from_outside(cold.receive(0), 500_000, 1);
    chain.mine(vec![first.clone()]);
    let second = chain.pay_from_outside(cold.receive(1), 250_000, 2);
    chain.mine(vec![second.clone()]);
    // Pays 300,000 out, 199,000 change, fee 1,000.
    let send = spend(
        &[out(&first, 0)],
        vec![(foreign_script(9), 300_000), (cold.change(0), 199_000)],
    );
    chain.mine(vec![send.clone()]);
    // Moves the second coin to the other watched wallet, fee 500.
    let transfer = spend(&[out(&second, 0)], vec![(spending.receive(0), 249_500)]);
    chain.mine(vec![transfer.clone()]);
    // Index 30 is beyond a gap limit of 20 after index 1.
    let far = chain.pay_from_outside(cold.receive(30), 70_000, 3);
    chain.mine(vec![far.clone()]);
    Scenario {
        chain,
        send: send.compute_txid().to_string(),
        transfer: transfer.compute_txid().to_string(),
        far_receive: far.compute_txid().to_string(),
    }
}

#[derive(serde::Deserialize, Debug, PartialEq)]
pub(crate) struct Listed {
    pub name: String,
    pub balance_sat: i64,
    pub transactions: i64,
    pub last_sync: Option<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synced_wallets_have_exact_balances_fees_and_a_transfer_between_them() {
    scenario_against(Via::Esplora).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scenario_is_the_same_over_electrum() {
    scenario_against(Via::Electrum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scenario_is_the_same_over_electrum_with_tls() {
    scenario_against(Via::ElectrumTls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scenario_is_the_same_over_bitcoin_core_rpc() {
    scenario_against(Via::CoreCookie).await;
}

/// Receives, a send with change, a self-transfer, a list of addresses and
/// an address beyond the gap limit, synced from the source `via`.
async fn scenario_against(via: Via) {
    let cold_key = xpub(21);
    let spending_key = xpub(22);
    let (cold, spending) = (Keys::new(&cold_key), Keys::new(&spending_key));
    let s = scenario(&cold, &spending);
    let source = Source::start(via, s.chain).await;
    let dir = tempfile::tempdir().expect("temp");
    let data = dir.path().join("data");

    ok(&cli(&data, &source.set_args()));
    let added = ok(&cli(
        &data,
        &[
            "wallet",
            "add",
            "--name",
            "Cold",
            "--xpub",
            &zpub(&cold_key),
        ],
    ));
    // The user sees the addresses to check against the hardware wallet.
    assert!(
        added.contains(&format!("0: {}", cold.address(0))),
        "{added}"
    );
    assert!(
        added.contains(&format!("4: {}", cold.address(4))),
        "{added}"
    );
    let descriptor = format!("wpkh({spending_key}/<0;1>/*)");
    ok(&cli(
        &data,
        &[
            "wallet",
            "add",
            "--name",
            "Spending",
            "--descriptor",
            &descriptor,
        ],
    ));
    // The same keys with a larger gap limit, in a workspace of their own.
    ok(&cli(
        &data,
        &[
            "wallet",
            "add",
            "--name",
            "Cold wide",
            "--xpub",
            &zpub(&cold_key),
            "--workspace",
            "wide",
            "--gap-limit",
            "40",
            "--birthday",
            "1",
        ],
    ));

    // A plain list: a receive and a change address of Cold, and the far one.
    let list = dir.path().join("addresses.txt");
    std::fs::write(
        &list,
        format!(
            "# paper\n{}\n{}\n{}\n",
            cold.address(0),
            cold.change_address(0),
            cold.address(30)
        ),
    )
    .expect("write");
    let paper = ok(&cli(
        &data,
        &[
            "wallet",
            "add",
            "--name",
            "Paper",
            "--addresses",
            &list.display().to_string(),
            "--workspace",
            "paper",
        ],
    ));
    assert!(
        paper.contains(&format!("0: {}", cold.address(0))),
        "{paper}"
    );

    let synced = cli(&data, &["wallet", "sync"]);
    let stdout = ok(&synced);
    assert!(
        text(&synced.stderr).contains("scripts scanned"),
        "{}",
        text(&synced.stderr)
    );
    assert!(
        stdout.contains("Cold: 4 transactions, balance 199000 sat, 4 new ledger rows"),
        "{stdout}"
    );

    let listed = ok(&cli(&data, &["wallet", "list", "--format", "json"]));
    let listed: Vec<Listed> = serde_json::from_str(&listed).expect("json");
    let summary: Vec<(&str, i64, i64)> = listed
        .iter()
        .map(|w| (w.name.as_str(), w.balance_sat, w.transactions))
        .collect();
    // Cold: 500,000 + 250,000 in; 300,000 + 1,000 fee out; 249,500 + 500
    // fee moved to Spending. The receive at index 30 is beyond its gap.
    assert_eq!(
        summary,
        [
            ("Cold", 199_000, 4),
            ("Cold wide", 269_000, 5),
            ("Paper", 269_000, 3),
            ("Spending", 249_500, 1)
        ]
    );
    assert!(listed.iter().all(|w| w.last_sync.is_some()));

    assert!(source.requests() > 0);
    // Syncing again changes nothing.
    let again = ok(&cli(&data, &["wallet", "sync", "--name", "Cold"]));
    assert!(
        again.contains("Cold: 4 transactions, balance 199000 sat, 0 new ledger rows"),
        "{again}"
    );

    let store = Store::open(&data).await.expect("store");
    let workspace = store
        .workspace_by_name("default")
        .await
        .expect("query")
        .expect("default workspace")
        .id;
    let rows = store.transactions(workspace).await.expect("rows");
    let view: Vec<(&str, Kind, Sats, Sats, &str)> = rows
        .iter()
        .map(|r| {
            (
                r.account.as_str(),
                r.kind,
                r.btc,
                r.fee_btc,
                r.txid.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(view.len(), 5, "{view:?}");
    assert!(view.contains(&(
        "Cold",
        Kind::Withdrawal,
        Sats(300_000),
        Sats(1_000),
        s.send.as_str()
    )));
    assert!(view.contains(&(
        "Cold",
        Kind::Withdrawal,
        Sats(249_500),
        Sats(500),
        s.transfer.as_str()
    )));
    assert!(view.contains(&(
        "Spending",
        Kind::Deposit,
        Sats(249_500),
        Sats(0),
        s.transfer.as_str()
    )));
    let deposits: Vec<Sats> = view
        .iter()
        .filter(|r| r.0 == "Cold" && r.1 == Kind::Deposit)
        .map(|r| r.2)
        .collect();
    assert_eq!(deposits, [Sats(500_000), Sats(250_000)]);
    assert!(!view.iter().any(|r| r.4 == s.far_receive));

    // The self-transfer pairs by txid; the outside send stays unmatched.
    let matched = matching::find(&rows);
    assert_eq!(matched.pairs.len(), 1, "{matched:?}");
    let (w, d, by_txid) = matched.pairs[0];
    assert!(by_txid);
    assert_eq!(rows[w].txid.as_deref(), Some(s.transfer.as_str()));
    assert_eq!(rows[d].account, "Spending");

    let wide = store
        .workspace_by_name("wide")
        .await
        .expect("query")
        .expect("wide")
        .id;
    let wide_rows = store.transactions(wide).await.expect("rows");
    assert!(
        wide_rows
            .iter()
            .any(|r| r.txid.as_deref() == Some(s.far_receive.as_str())
                && r.kind == Kind::Deposit
                && r.btc == Sats(70_000))
    );
    let paper = store
        .workspace_by_name("paper")
        .await
        .expect("query")
        .expect("paper")
        .id;
    let paper_rows: Vec<(Kind, Sats, Sats)> = store
        .transactions(paper)
        .await
        .expect("rows")
        .iter()
        .map(|r| (r.kind, r.btc, r.fee_btc))
        .collect();
    assert_eq!(
        paper_rows,
        [
            (Kind::Deposit, Sats(500_000), Sats(0)),
            (Kind::Withdrawal, Sats(300_000), Sats(1_000)),
            (Kind::Deposit, Sats(70_000), Sats(0)),
        ]
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_chain_source_is_an_error_and_nothing_changes() {
    let dir = tempfile::tempdir().expect("temp");
    let data = dir.path().join("data");
    let none = cli(&data, &["wallet", "sync"]);
    assert!(none.status.success(), "no wallets: nothing to do");
    ok(&cli(
        &data,
        &["chain", "set", "--esplora", "http://127.0.0.1:9"],
    ));
    ok(&cli(
        &data,
        &[
            "wallet",
            "add",
            "--name",
            "Cold",
            "--xpub",
            &zpub(&xpub(23)),
        ],
    ));
    let taken = cli(
        &data,
        &[
            "wallet",
            "add",
            "--name",
            "Cold",
            "--xpub",
            &zpub(&xpub(24)),
        ],
    );
    assert_eq!(taken.status.code(), Some(2));
    assert!(text(&taken.stderr).contains("already exists"));
    // A Specter export: its descriptor and its birthday.
    let export = dir.path().join("specter.json");
    let key = xpub(25);
    std::fs::write(
        &export,
        format!(
            "{{\"label\": \"Vault\", \"blockheight\": 800000, \"descriptor\": \"wpkh({key}/0/*)\"}}"
        ),
    )
    .expect("write");
    let added = ok(&cli(
        &data,
        &[
            "wallet",
            "add",
            "--name",
            "Vault",
            "--file",
            &export.display().to_string(),
        ],
    ));
    assert!(
        added.contains(&format!("0: {}", Keys::new(&key).address(0))),
        "{added}"
    );
    let failed = cli(&data, &["wallet", "sync"]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        text(&failed.stderr).contains("cannot be used"),
        "{}",
        text(&failed.stderr)
    );
    let listed = ok(&cli(&data, &["wallet", "list", "--format", "json"]));
    let listed: Vec<Listed> = serde_json::from_str(&listed).expect("json");
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .all(|w| w.last_sync.is_none() && w.balance_sat == 0)
    );
}

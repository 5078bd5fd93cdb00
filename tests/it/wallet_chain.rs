//! Watched wallets beyond single-sig: a multisig spend, a taproot receive,
//! and a reorg that takes a booked transaction out of the best chain.

use ledgersys::ledger::{Kind, Sats};
use ledgersys::store::Store;

use crate::fakes::esplora::{Chain, foreign_script, spend};
use crate::fakes::sources::{Source, Via};
use crate::wallets::{Keys, Listed, cli, ok, out, xpub, zpub};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multisig_spend_and_a_taproot_receive_are_exact() {
    multisig_and_taproot(Via::Esplora).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multisig_spend_and_a_taproot_receive_are_exact_over_electrum() {
    multisig_and_taproot(Via::Electrum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multisig_spend_and_a_taproot_receive_are_exact_over_bitcoin_core() {
    multisig_and_taproot(Via::CoreCookie).await;
}

async fn multisig_and_taproot(via: Via) {
    let (a, b, c) = (xpub(41), xpub(42), xpub(43));
    let multisig = |branch: u32| format!("wsh(sortedmulti(2,{a}/{branch}/*,{b}/{branch}/*))");
    let vault = Keys::of(&multisig(0), &multisig(1));
    let tap = Keys::of(&format!("tr({c}/0/*)"), &format!("tr({c}/1/*)"));
    assert!(tap.address(0).starts_with("bc1p"));

    let mut chain = Chain::new();
    let funding = chain.pay_from_outside(vault.receive(0), 1_000_000, 51);
    chain.mine(vec![funding.clone()]);
    // 400,000 out, 599,000 change, fee 1,000.
    let spent = spend(
        &[out(&funding, 0)],
        vec![(foreign_script(52), 400_000), (vault.change(0), 599_000)],
    );
    let tap_receive = chain.pay_from_outside(tap.receive(0), 123_456, 53);
    chain.mine(vec![spent.clone(), tap_receive]);
    let source = Source::start(via, chain).await;

    let dir = tempfile::tempdir().expect("temp");
    let data = dir.path().join("data");
    ok(&cli(&data, &source.set_args()));
    ok(&cli(
        &data,
        &[
            "wallet",
            "add",
            "--name",
            "Vault",
            "--descriptor",
            &multisig(0),
        ],
    ));
    let tr = format!("tr({c}/0/*)");
    ok(&cli(
        &data,
        &["wallet", "add", "--name", "Tap", "--descriptor", &tr],
    ));
    ok(&cli(&data, &["wallet", "sync"]));

    let listed = ok(&cli(&data, &["wallet", "list", "--format", "json"]));
    let listed: Vec<Listed> = serde_json::from_str(&listed).expect("json");
    let summary: Vec<(&str, i64, i64)> = listed
        .iter()
        .map(|w| (w.name.as_str(), w.balance_sat, w.transactions))
        .collect();
    assert_eq!(summary, [("Tap", 123_456, 1), ("Vault", 599_000, 2)]);

    let store = Store::open(&data).await.expect("store");
    let workspace = store
        .workspace_by_name("default")
        .await
        .expect("query")
        .expect("default")
        .id;
    let rows = store.transactions(workspace).await.expect("rows");
    let spend_txid = spent.compute_txid().to_string();
    let vault_spend: Vec<(Kind, Sats, Sats)> = rows
        .iter()
        .filter(|r| r.txid.as_deref() == Some(spend_txid.as_str()))
        .map(|r| (r.kind, r.btc, r.fee_btc))
        .collect();
    assert_eq!(
        vault_spend,
        [(Kind::Withdrawal, Sats(400_000), Sats(1_000))]
    );
    assert!(
        rows.iter()
            .any(|r| r.account == "Tap" && r.kind == Kind::Deposit && r.btc == Sats(123_456))
    );
    assert_eq!(rows.len(), 3);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_that_leaves_the_best_chain_leaves_the_ledger_with_an_audit_entry() {
    reorg(Via::Esplora).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_is_followed_over_electrum() {
    reorg(Via::Electrum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_is_followed_over_bitcoin_core() {
    reorg(Via::CoreCookie).await;
}

/// Block 2 is replaced after the first sync: its receive leaves the ledger.
async fn reorg(via: Via) {
    let key = xpub(61);
    let keys = Keys::new(&key);
    let mut chain = Chain::new();
    let kept = chain.pay_from_outside(keys.receive(0), 100_000, 62);
    chain.mine(vec![kept]);
    let orphaned = chain.pay_from_outside(keys.receive(1), 40_000, 63);
    chain.mine(vec![orphaned.clone()]);
    let source = Source::start(via, chain).await;

    let dir = tempfile::tempdir().expect("temp");
    let data = dir.path().join("data");
    ok(&cli(&data, &source.set_args()));
    ok(&cli(
        &data,
        &["wallet", "add", "--name", "Cold", "--xpub", &zpub(&key)],
    ));
    let first = ok(&cli(&data, &["wallet", "sync"]));
    assert!(
        first.contains("Cold: 2 transactions, balance 140000 sat, 2 new ledger rows"),
        "{first}"
    );

    // Block 2 is replaced by two empty blocks: the second receive is gone.
    {
        let mut chain = source.chain.lock().expect("lock");
        chain.rewind(1);
        chain.mine(Vec::new());
        chain.mine(Vec::new());
    }
    let second = ok(&cli(&data, &["wallet", "sync"]));
    assert!(
        second.contains("Cold: 1 transactions, balance 100000 sat, 0 new ledger rows"),
        "{second}"
    );

    let store = Store::open(&data).await.expect("store");
    let workspace = store
        .workspace_by_name("default")
        .await
        .expect("query")
        .expect("default")
        .id;
    let rows = store.transactions(workspace).await.expect("rows");
    let view: Vec<(Kind, Sats)> = rows.iter().map(|r| (r.kind, r.btc)).collect();
    assert_eq!(view, [(Kind::Deposit, Sats(100_000))]);
    let log = store.audit_log(Some(workspace), 50).await.expect("audit");
    let reorg: Vec<_> = log.iter().filter(|e| e.action == "wallet.reorg").collect();
    assert_eq!(reorg.len(), 1);
    assert!(
        reorg[0]
            .detail
            .contains(&orphaned.compute_txid().to_string())
    );
    store.close().await;
}

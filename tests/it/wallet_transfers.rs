//! A withdrawal from an exchange whose txid is a watched wallet's receive
//! is a transfer between the user's own accounts, not a disposal: the
//! exchange's CSV and the synced wallet's row pair up by txid, and the
//! bitcoin keeps its cost basis in the wallet.

use serde_json::{Value, json};

use crate::fakes::esplora::{Chain, FakeEsplora};
use crate::support::{Server, text};
use crate::wallet_api::{add, finished};
use crate::wallets::{Keys, xpub, zpub};

/// Bought on the exchange on the day Bitcoin began, before the chain's first
/// block after genesis (rows before that day are refused as misread dates).
const BUY: &str = "timestamp,type,account,btc,fiat_value,fiat_currency\n\
    2009-01-03T12:00:00Z,buy,binance,0.5,100,USD\n";

async fn capital_gains(owner: &crate::support::Session) -> Value {
    owner
        .get("/api/v1/workspaces/1/reports/detail/capital-gains?jurisdiction=us&basis=universal")
        .await
        .json()
        .await
        .expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exchange_withdrawal_into_a_watched_wallet_is_a_transfer_not_a_disposal() {
    let server = Server::start();
    let owner = server.owner().await;
    let key = xpub(95);
    let keys = Keys::new(&key);
    let mut chain = Chain::new();
    // The exchange pays 0.1 BTC into the wallet; its block is at
    // 2009-01-03T18:25:05Z, the withdrawal's time on the exchange five
    // minutes earlier.
    let withdrawal = chain.pay_from_outside(keys.receive(0), 10_000_000, 7);
    chain.mine(vec![withdrawal.clone()]);
    let txid = withdrawal.compute_txid().to_string();
    let esplora = FakeEsplora::start(chain).await;
    let set = server.cli(&["chain", "set", "--esplora", &esplora.url]);
    assert!(set.status.success(), "{}", text(&set.stderr));

    owner.import_csv(BUY).await;
    let binance = format!(
        "Date(UTC+8),Coin,Network,Amount,Fee,Address,TXID,Status\n\
         2009-01-04 02:20:00,BTC,BTC,0.1,0.0002,{},{txid},Completed\n",
        keys.address(0)
    );
    owner.import_csv(&binance).await;
    let before = capital_gains(&owner).await;
    // Alone, the withdrawal is unexplained: the user would have to say what
    // it was.
    assert_eq!(
        before["issues"][0]["message"],
        json!("an unexplained withdrawal: classify it (sell, spend, gift, transfer...)")
    );

    // The add starts the first sync.
    let id = add(&owner, "Cold", &zpub(&key)).await;
    let done = finished(&owner, id).await;
    assert_eq!(done["rows_added"], json!(1), "{done}");

    let after = capital_gains(&owner).await;
    // Paired by txid: a transfer. The only disposal is the 0.0002 BTC
    // network fee the exchange charged (basis 0.04 of the 100 paid for 0.5;
    // its value is unknown here, as there is no price table).
    let lines = after["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 1, "{after}");
    assert_eq!(lines[0]["type"], json!("fee"));
    assert_eq!(lines[0]["description"], json!("0.00020000 BTC"));
    assert_eq!(lines[0]["cost_basis"], json!("0.04"));
    assert_eq!(after["issues"][0]["type"], json!("transfer"), "{after}");
    let holdings: Value = owner
        .get("/api/v1/workspaces/1/reports/detail/holdings?jurisdiction=us&basis=universal&date=2009-12-31")
        .await
        .json()
        .await
        .expect("json");
    let held: Vec<(&str, &str)> = holdings["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["btc"].as_str().unwrap_or(""),
                l["cost_basis"].as_str().unwrap_or(""),
            )
        })
        .collect();
    // Nothing was sold: the lot bought for 100 is still held whole, less
    // the 0.0002 BTC fee and its 0.04 of basis.
    assert_eq!(held, vec![("0.49980000", "99.96")], "{holdings}");
}

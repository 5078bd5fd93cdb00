//! A BTCPay store whose wallet is also watched: the invoice's on-chain
//! payment is income once, held in the watched wallet, whether the wallet
//! was synced before the webhook came or after.

use std::sync::{Arc, Mutex};

use ledgersys::ledger::{Kind, Sats};
use serde_json::Value;

use crate::btcpay::{Setup, connected};
use crate::fakes::btcpay::{FakeInvoice, STORE};
use crate::fakes::esplora::{Chain, FakeEsplora};
use crate::support::text;
use crate::wallets::{Keys, xpub, zpub};

/// 0.00123457 BTC at 60,000 USD = 74.0742 → 74.07.
const PAID: u64 = 123_457;

pub struct Watched {
    pub setup: Setup,
    pub esplora: FakeEsplora,
    /// The chain the fake serves; tests mine more blocks into it.
    pub chain: Arc<Mutex<Chain>>,
    pub txid: String,
    pub keys: Keys,
    pub block_time: i64,
}

/// A connected store, a chain where an outsider pays the store's wallet
/// (watched as "Shop") for invoice `InvW`, and the invoice in BTCPay.
pub async fn watched(seed: u8) -> Watched {
    let setup = connected("2.4.1").await;
    let key = xpub(seed);
    let keys = Keys::new(&key);
    let mut chain = Chain::new();
    let paid = chain.pay_from_outside(keys.receive(0), PAID, seed.wrapping_add(1));
    chain.mine(vec![paid.clone()]);
    let block_time = i64::from(chain.tip_time());
    let txid = paid.compute_txid().to_string();
    // Seen ten minutes before it confirmed.
    let invoice = FakeInvoice::settled(
        "InvW",
        block_time - 660,
        "0.00123457",
        "60000",
        &format!("{txid}-0"),
    );
    setup.fake.set(|s| s.invoices.push(invoice));
    let chain = Arc::new(Mutex::new(chain));
    let esplora = FakeEsplora::serve(chain.clone()).await;
    ok(&setup, &["chain", "set", "--esplora", &esplora.url]);
    ok(
        &setup,
        &["wallet", "add", "--name", "Shop", "--xpub", &zpub(&key)],
    );
    Watched {
        setup,
        esplora,
        chain,
        txid,
        keys,
        block_time,
    }
}

pub fn ok(setup: &Setup, args: &[&str]) -> String {
    let out = setup.server.cli(args);
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The year's income in the US summary, and the exit code.
pub fn income(setup: &Setup, year: &str) -> (String, Option<i32>) {
    let out = setup.server.cli(&[
        "report",
        "summary",
        "--jurisdiction",
        "us",
        "--format",
        "json",
    ]);
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("summary: {}", text(&out.stderr)));
    let found = summary["years"]
        .as_array()
        .expect("years")
        .iter()
        .find(|y| y["year"] == year)
        .cloned()
        .unwrap_or_default();
    (
        found["income"].as_str().unwrap_or("none").to_string(),
        out.status.code(),
    )
}

/// Lots held at the end of `date`: (account, btc, cost basis).
pub fn holdings(setup: &Setup, date: &str) -> Vec<(String, String, String)> {
    let out = setup.server.cli(&[
        "report",
        "holdings",
        "--jurisdiction",
        "us",
        "--basis",
        "universal",
        "--date",
        date,
        "--format",
        "json",
    ]);
    let held: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("holdings: {}", text(&out.stderr)));
    held.as_array()
        .expect("lots")
        .iter()
        .map(|l| {
            (
                l["account"].as_str().unwrap_or("").to_string(),
                l["btc"].as_str().unwrap_or("").to_string(),
                l["cost_basis"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

async fn income_once(wallet_first: bool) {
    let w = watched(91).await;
    if wallet_first {
        ok(&w.setup, &["wallet", "sync"]);
        w.setup.deliver("InvoiceSettled", "InvW", None).await;
    } else {
        w.setup.deliver("InvoiceSettled", "InvW", None).await;
        ok(&w.setup, &["wallet", "sync"]);
    }
    // Both rows are stored: the BTCPay income and the wallet's deposit.
    let rows = w.setup.rows().await;
    let mut stored: Vec<(Kind, String, Sats, Option<String>)> = rows
        .iter()
        .map(|r| (r.kind, r.account.clone(), r.btc, r.txid.clone()))
        .collect();
    stored.sort();
    assert_eq!(
        stored,
        vec![
            (
                Kind::Income,
                format!("BTCPay {STORE}"),
                Sats(PAID as i64),
                Some(w.txid.clone())
            ),
            (
                Kind::Deposit,
                "Shop".to_string(),
                Sats(PAID as i64),
                Some(w.txid.clone())
            ),
        ]
    );
    // The reports see one event: income once, nothing left to review
    // (exit 0), and one lot, in the wallet that holds it.
    assert_eq!(income(&w.setup, "2009"), ("74.07".to_string(), Some(0)));
    let day = jiff::Timestamp::from_second(w.block_time + 86_400)
        .expect("time")
        .strftime("%Y-%m-%d")
        .to_string();
    assert_eq!(
        holdings(&w.setup, &day),
        vec![(
            "Shop".to_string(),
            "0.00123457".to_string(),
            "74.07".to_string()
        )]
    );
    // Again: redelivery, sweep and another sync change nothing.
    w.setup.sweep();
    ok(&w.setup, &["wallet", "sync"]);
    assert_eq!(w.setup.rows().await.len(), 2);
    assert_eq!(income(&w.setup, "2009"), ("74.07".to_string(), Some(0)));
    let _ = (&w.esplora, &w.keys);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_receive_synced_first_is_the_invoice_income_once() {
    income_once(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_first_then_the_wallet_sync_is_income_once() {
    income_once(false).await;
}

//! BTCPay payouts (refunds and other pull payments): a completed payout is a
//! disposal at its fiat value, booked once whether its webhook, a retry or
//! the sweep brings it; payouts not completed, or cancelled, book nothing.
//! Also: a payout paid from a watched store wallet is that wallet's spend.

use ledgersys::ledger::{Kind, Sats};
use serde_json::Value;

use crate::btcpay::{Setup, connected};
use crate::btcpay_wallet::{holdings, income, ok, watched};
use crate::fakes::btcpay::{FakeInvoice, FakePayout, STORE};
use crate::fakes::esplora::{foreign_script, spend};
use crate::support::text;
use crate::wallets::out;

const T0: i64 = 1_735_689_600; // 2025-01-01T00:00:00Z
const TXID_A: &str = "081a054ec7b76b58cbe77dff1792fec57036547df73b7da193cffd203c4165ab";
const TXID_P1: &str = "4c3b2a1908f7e6d5c4b3a2918070f6e5d4c3b2a1908f7e6d5c4b3a2918070f6e";

fn payout(id: &str, pp: &str, amount: &str, btc: &str, state: &str, lightning: bool) -> FakePayout {
    FakePayout {
        id: id.into(),
        pull_payment_id: Some(pp.into()),
        date: T0 + 86_400,
        amount: amount.into(),
        btc: Some(btc.into()),
        state: state.into(),
        txid: (!lightning && state == "Completed").then(|| TXID_P1.to_string()),
        lightning,
    }
}

/// (amount, fiat value, currency, txid) of a spend row.
type Spent = (Sats, Option<String>, Option<String>, Option<String>);

fn set_state(s: &Setup, id: &str, state: &str) {
    s.fake.set(|st| {
        for p in st.payouts.iter_mut().filter(|p| p.id == id) {
            p.state = state.into();
            p.txid = (!p.lightning && state == "Completed").then(|| TXID_P1.to_string());
        }
    });
}

fn summary_2025(s: &Setup) -> Value {
    let out = s.server.cli(&[
        "report",
        "summary",
        "--jurisdiction",
        "us",
        "--format",
        "json",
    ]);
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("summary: {}", text(&out.stderr)));
    summary["years"]
        .as_array()
        .expect("years")
        .iter()
        .find(|y| y["year"] == "2025")
        .cloned()
        .unwrap_or_default()
}

async fn refunds_are_disposals_once(version: &str) {
    let s = connected(version).await;
    s.fake.set(|st| {
        st.invoices = vec![FakeInvoice::settled(
            "InvA",
            T0,
            "0.00123457",
            "60000",
            &format!("{TXID_A}-1"),
        )];
        st.pull_payments = vec![("PPrefund1".into(), "USD".into())];
        st.payouts = vec![
            // A refund of 25.00 USD paid on chain with 0.0005 BTC.
            payout(
                "P1",
                "PPrefund1",
                "25.00",
                "0.0005",
                "AwaitingApproval",
                false,
            ),
            // Cancelled: never paid.
            payout("P2", "PPrefund1", "5.00", "0.0001", "Cancelled", false),
            // 10.00 USD over Lightning, whose webhook never comes.
            payout("P3", "PPrefund1", "10.00", "0.0002", "Completed", true),
        ];
    });
    s.deliver("InvoiceSettled", "InvA", None).await;

    let (_, created) = s.deliver("PayoutCreated", "P1", None).await;
    assert_eq!(
        (created["status"].as_str(), created["added"].as_u64()),
        (Some("applied"), Some(0))
    );
    set_state(&s, "P1", "InProgress");
    let (_, approved) = s.deliver("PayoutApproved", "P1", None).await;
    assert_eq!(approved["added"], 0);
    set_state(&s, "P1", "Completed");
    let (original, paid) = s.deliver("PayoutUpdated", "P1", None).await;
    assert_eq!(paid["added"], 1);
    let (_, retry) = s.deliver("PayoutUpdated", "P1", Some(&original)).await;
    assert_eq!(retry["status"], "duplicate");
    let (_, late) = s.deliver("PayoutApproved", "P1", None).await;
    assert_eq!(late["added"], 0);
    let (_, cancelled) = s.deliver("PayoutUpdated", "P2", None).await;
    assert_eq!(cancelled["added"], 0);

    let swept = s.sweep();
    assert_eq!(swept[0]["payouts"], 2, "{swept}");
    assert_eq!(swept[0]["added"], 1, "P3, which no webhook announced");
    let again = s.sweep();
    assert_eq!(again[0]["added"], 0);

    let rows = s.rows().await;
    let spends: Vec<Spent> = rows
        .iter()
        .filter(|r| r.kind == Kind::Spend)
        .map(|r| {
            (
                r.btc,
                r.fiat_value.map(|v| v.to_string()),
                r.currency.clone(),
                r.txid.clone(),
            )
        })
        .collect();
    assert_eq!(
        spends,
        vec![
            (
                Sats(50_000),
                Some("25.00".into()),
                Some("USD".into()),
                Some(TXID_P1.into())
            ),
            (Sats(20_000), Some("10.00".into()), Some("USD".into()), None),
        ]
    );
    assert!(rows.iter().all(|r| r.account == format!("BTCPay {STORE}")));
    assert_eq!(rows.len(), 3);
    let year = summary_2025(&s);
    assert_eq!(year["income"], "74.07");
    assert_eq!(year["disposals"], 2);
    assert_eq!(year["proceeds"], "35.00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completed_payouts_are_disposals_once_on_2x() {
    refunds_are_disposals_once("2.4.1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completed_payouts_are_disposals_once_on_1x() {
    refunds_are_disposals_once("1.13.7").await;
}

/// The store's wallet is watched: the invoice's receive and the refund's
/// send are the BTCPay rows, in the wallet, not a deposit and a withdrawal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payout_from_a_watched_wallet_is_its_spend_once() {
    let w = watched(95).await;
    let paid_txid = w.txid.clone();
    // The refund: 50,000 to the customer, 72,457 change, 1,000 fee.
    let refund = {
        let mut chain = w.chain.lock().expect("chain");
        let funding = chain
            .blocks
            .iter()
            .flat_map(|b| b.txdata.iter())
            .find(|t| t.compute_txid().to_string() == paid_txid)
            .cloned()
            .expect("funding");
        let refund = spend(
            &[out(&funding, 0)],
            vec![(foreign_script(96), 50_000), (w.keys.change(0), 72_457)],
        );
        chain.mine(vec![refund.clone()]);
        refund
    };
    let refund_txid = refund.compute_txid().to_string();
    w.setup.fake.set(|st| {
        st.pull_payments = vec![("PPrefund1".into(), "USD".into())];
        st.payouts = vec![FakePayout {
            id: "P9".into(),
            pull_payment_id: Some("PPrefund1".into()),
            date: w.block_time + 300,
            amount: "30.00".into(),
            btc: Some("0.0005".into()),
            state: "Completed".into(),
            txid: Some(refund_txid.clone()),
            lightning: false,
        }];
    });
    w.setup.deliver("InvoiceSettled", "InvW", None).await;
    ok(&w.setup, &["wallet", "sync"]);
    w.setup.deliver("PayoutUpdated", "P9", None).await;

    let rows = w.setup.rows().await;
    let mut kinds: Vec<(Kind, String)> = rows.iter().map(|r| (r.kind, r.account.clone())).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            (Kind::Income, format!("BTCPay {STORE}")),
            (Kind::Deposit, "Shop".into()),
            (Kind::Spend, format!("BTCPay {STORE}")),
            (Kind::Withdrawal, "Shop".into()),
        ]
    );
    // One income, one disposal, nothing to review; what is left is the
    // change, in the wallet: 123,457 − 50,000 − 1,000 fee.
    assert_eq!(income(&w.setup, "2009"), ("74.07".to_string(), Some(0)));
    let day = jiff::Timestamp::from_second(w.block_time + 86_400)
        .expect("time")
        .strftime("%Y-%m-%d")
        .to_string();
    let held = holdings(&w.setup, &day);
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(
        (held[0].0.as_str(), held[0].1.as_str()),
        ("Shop", "0.00072457")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_the_payouts_list_still_has_its_invoices_swept() {
    let s = connected("2.4.1").await;
    s.fake.set(|st| {
        st.invoices = vec![
            FakeInvoice::settled("InvA", T0, "0.00123457", "60000", &format!("{TXID_A}-1")),
            FakeInvoice::settled(
                "InvB",
                T0 + 100,
                "0.00020000",
                "50000",
                &format!("{TXID_P1}-0"),
            ),
        ];
        st.no_payouts_list = true;
    });
    let out = s.server.cli(&["btcpay", "sweep"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let swept: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(swept[0]["invoices"], 2, "{swept}");
    assert_eq!(swept[0]["added"], 2, "{swept}");
    assert_eq!(swept[0]["payouts"], 0, "{swept}");
    let requests = s.fake.state.lock().expect("state").requests.clone();
    assert!(
        requests.iter().any(|r| r.contains("/payouts")),
        "the list was asked for: {requests:?}"
    );
    let rows = s.rows().await;
    let sats: Vec<Sats> = rows
        .iter()
        .filter(|r| r.kind == Kind::Income)
        .map(|r| r.btc)
        .collect();
    assert_eq!(sats, vec![Sats(123_457), Sats(20_000)]);
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.matches("payouts were not swept").count(),
        1,
        "{stderr}"
    );
    // The next sweep carries on from its cursor and books nothing twice.
    assert_eq!(s.sweep()[0]["added"], 0);
}

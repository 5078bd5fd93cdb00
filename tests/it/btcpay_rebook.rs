//! An invoice settled, marked invalid (the income reversed), then marked
//! settled again is booked again exactly once, whatever the order in which
//! the three events and their redeliveries arrive.

use ledgersys::ledger::Kind;
use serde_json::Value;

use crate::btcpay::{Setup, connected};
use crate::fakes::btcpay::FakeInvoice;

const T0: i64 = 1_735_689_600; // 2025-01-01T00:00:00Z
const TXID: &str = "081a054ec7b76b58cbe77dff1792fec57036547df73b7da193cffd203c4165ab";
const EVENTS: [&str; 3] = ["InvoiceSettled", "InvoiceInvalid", "InvoiceSettled"];
const ORDERS: [[usize; 3]; 6] = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
];

fn invoice(id: &str) -> FakeInvoice {
    // 0.00123457 BTC at 60,000 USD = 74.07.
    FakeInvoice::settled(id, T0, "0.00123457", "60000", &format!("{TXID}-1"))
}

fn mark(s: &Setup, id: &str, status: &str) {
    s.fake.set(|st| {
        for i in st.invoices.iter_mut().filter(|i| i.id == id) {
            i.status = status.into();
        }
    });
}

async fn sources(s: &Setup, invoice: &str) -> Vec<(Kind, String)> {
    let mut found: Vec<(Kind, String)> = s
        .rows()
        .await
        .into_iter()
        .filter(|r| r.note.as_deref().is_some_and(|n| n.contains(invoice)))
        .map(|r| (r.kind, r.note.unwrap_or_default()))
        .collect();
    found.sort();
    found
}

fn counts(v: &Value) -> (u64, u64) {
    (
        v["added"].as_u64().unwrap_or(99),
        v["reversed"].as_u64().unwrap_or(99),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settled_again_after_invalid_is_booked_again_once() {
    let s = connected("2.4.1").await;
    s.fake.set(|st| st.invoices = vec![invoice("InvR")]);

    let (s1, first) = s.deliver(EVENTS[0], "InvR", None).await;
    assert_eq!(counts(&first), (1, 0));
    mark(&s, "InvR", "Invalid");
    let (inv, invalid) = s.deliver(EVENTS[1], "InvR", None).await;
    assert_eq!(counts(&invalid), (0, 1));
    // No income left in 2025: the year has nothing to report.
    assert_eq!(
        s.income_2025(),
        ("none".to_string(), Some(3)),
        "the reversal waits in review"
    );
    mark(&s, "InvR", "Settled");
    let (s2, again) = s.deliver(EVENTS[2], "InvR", None).await;
    assert_eq!(counts(&again), (1, 0));

    // BTCPay's retries of the three, in every order: duplicates.
    let originals = [s1, inv, s2];
    for order in ORDERS {
        for k in order {
            let (_, retry) = s.deliver(EVENTS[k], "InvR", Some(&originals[k])).await;
            assert_eq!(retry["status"], "duplicate");
        }
    }
    // New events about it, in every order, and the sweep: nothing new.
    for order in ORDERS {
        for k in order {
            let (_, fresh) = s.deliver(EVENTS[k], "InvR", None).await;
            assert_eq!(counts(&fresh), (0, 0), "{}", EVENTS[k]);
        }
    }
    let swept = s.sweep();
    assert_eq!(counts(&swept[0]), (0, 0));

    // The first income (now an unexplained deposit), its reversal, and the
    // income booked again: counted once, and the first two cancel out.
    let rows = sources(&s, "InvR").await;
    let kinds: Vec<Kind> = rows.iter().map(|r| r.0).collect();
    assert_eq!(kinds, [Kind::Income, Kind::Income, Kind::Withdrawal]);
    assert!(
        rows.iter().any(|r| r
            .1
            .contains("booked again: settled after it was marked invalid")),
        "{rows:?}"
    );
    assert_eq!(
        s.income_2025(),
        ("74.07".to_string(), Some(0)),
        "the undone reversal cancels out"
    );

    // Invalid again, then settled again: one more reversal, one more income.
    mark(&s, "InvR", "Invalid");
    assert_eq!(counts(&s.deliver(EVENTS[1], "InvR", None).await.1), (0, 1));
    assert_eq!(counts(&s.sweep()[0]), (0, 0));
    // No income left in 2025: the year has nothing to report.
    assert_eq!(s.income_2025(), ("none".to_string(), Some(3)));
    mark(&s, "InvR", "Settled");
    assert_eq!(counts(&s.sweep()[0]), (1, 0));
    assert_eq!(counts(&s.deliver(EVENTS[0], "InvR", None).await.1), (0, 0));
    assert_eq!(sources(&s, "InvR").await.len(), 5);
    assert_eq!(s.income_2025(), ("74.07".to_string(), Some(0)));
}

/// Deliveries that come late, after BTCPay has already moved on: each is
/// read back against the invoice as it is then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_deliveries_in_every_order_book_the_invoice_as_it_ends() {
    let s = connected("2.4.1").await;
    let ids: Vec<String> = (0..ORDERS.len()).map(|i| format!("InvL{i}")).collect();
    s.fake
        .set(|st| st.invoices = ids.iter().map(|id| invoice(id)).collect());
    for (order, id) in ORDERS.iter().zip(&ids) {
        // The first settlement is seen in time; the invalidation and the
        // second settlement both happen before their deliveries arrive.
        let (_, first) = s.deliver(EVENTS[0], id, None).await;
        assert_eq!(counts(&first), (1, 0));
        mark(&s, id, "Invalid");
        mark(&s, id, "Settled");
        for &k in order {
            s.deliver(EVENTS[k], id, None).await;
        }
    }
    s.sweep();
    // Never seen invalid: booked once, never reversed, for every order.
    for id in &ids {
        let kinds: Vec<Kind> = sources(&s, id).await.iter().map(|r| r.0).collect();
        assert_eq!(kinds, [Kind::Income], "{id}");
    }
    assert_eq!(s.income_2025(), ("444.42".to_string(), Some(0)));
}

//! BTCPay Server income: the real server and CLI against the in-repo fake
//! BTCPay on loopback, with webhooks signed as BTCPay signs them.

use ledgersys::ledger::{Kind, Sats, Tx};
use ledgersys::store::Store;
use reqwest::StatusCode;
use serde_json::Value;

use crate::fakes::btcpay::{FakeBtcpay, FakeInvoice, STORE, sign};
use crate::support::{Server, text};

/// 0.00123457 BTC at 60,000 USD = 74.0742 → 74.07.
const A_VALUE: &str = "0.00123457";
/// 0.0002 BTC at 50,000 USD = 10.00, over Lightning.
const B_VALUE: &str = "0.0002";
/// 0.01 BTC at 40,000.50 USD = 400.005 → 400.00 (half-even).
const C_VALUE: &str = "0.01";
const T0: i64 = 1_735_689_600; // 2025-01-01T00:00:00Z
const TXID_A: &str = "081a054ec7b76b58cbe77dff1792fec57036547df73b7da193cffd203c4165ab";
const HASH_B: &str = "5e1f0d6c2b3a49f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a291807";

pub fn read_only() -> Vec<String> {
    vec![format!("btcpay.store.canviewstoresettings:{STORE}")]
}

pub struct Setup {
    pub server: Server,
    pub fake: FakeBtcpay,
    pub id: i64,
    pub secret: String,
    pub hook: String,
}

/// A server with one store connected through `btcpay add`, secret generated.
pub async fn connected(version: &str) -> Setup {
    let server = Server::start();
    let fake = FakeBtcpay::start(version, &read_only()).await;
    let key = server.data_dir.with_extension("apikey");
    std::fs::write(&key, format!("{}\n", crate::fakes::btcpay::API_KEY)).expect("key");
    let out = server.cli(&[
        "btcpay",
        "add",
        "--url",
        &fake.url,
        "--store-id",
        STORE,
        "--api-key-file",
        key.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let added: Value = serde_json::from_slice(&out.stdout).expect("json");
    let id = added["integration_id"].as_i64().expect("id");
    assert_eq!(
        added["webhook_path"],
        format!("/api/v1/btcpay/webhook/{id}")
    );
    assert_eq!(added["server_version"], version);
    assert_eq!(added["api_key_last4"], "d5e6");
    let secret = added["webhook_secret"]
        .as_str()
        .expect("secret")
        .to_string();
    let hook = server.at(&format!("/api/v1/btcpay/webhook/{id}"));
    Setup {
        server,
        fake,
        id,
        secret,
        hook,
    }
}

impl Setup {
    pub async fn deliver(
        &self,
        kind: &str,
        invoice: &str,
        original: Option<&str>,
    ) -> (String, Value) {
        let (original, body) = self.fake.event(kind, invoice, original);
        let resp = self.fake.deliver(&self.hook, &self.secret, &body).await;
        assert_eq!(resp.status(), StatusCode::OK, "{kind} {invoice}");
        (original, resp.json().await.expect("json"))
    }

    pub async fn rows(&self) -> Vec<Tx> {
        let store = Store::open_for_command(&self.server.data_dir)
            .await
            .expect("open");
        let ws = store
            .workspace_by_name("default")
            .await
            .expect("read")
            .expect("workspace");
        let rows = store.transactions(ws.id).await.expect("rows");
        store.close().await;
        rows
    }

    /// The 2025 income of the US summary, and the exit code.
    pub fn income_2025(&self) -> (String, Option<i32>) {
        let (income, code, _) = self.summary_2025();
        (income, code)
    }

    fn summary_2025(&self) -> (String, Option<i32>, String) {
        let out = self.server.cli(&[
            "report",
            "summary",
            "--jurisdiction",
            "us",
            "--format",
            "json",
        ]);
        let summary: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("summary: {}", text(&out.stderr)));
        let year = summary["years"]
            .as_array()
            .expect("years")
            .iter()
            .find(|y| y["year"] == "2025")
            .cloned()
            .unwrap_or_default();
        (
            year["income"].as_str().unwrap_or("none").to_string(),
            out.status.code(),
            text(&out.stderr),
        )
    }

    pub fn sweep(&self) -> Value {
        let out = self.server.cli(&["btcpay", "sweep"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("json")
    }
}

fn invoices() -> Vec<FakeInvoice> {
    vec![
        FakeInvoice::settled("InvA", T0, A_VALUE, "60000", &format!("{TXID_A}-1")),
        FakeInvoice::settled("InvB", T0 + 100, B_VALUE, "50000", HASH_B),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_webhooks_book_each_payment_once_on_2x() {
    let s = connected("2.4.1").await;
    s.fake.set(|st| st.invoices = invoices());

    let (original, first) = s.deliver("InvoiceSettled", "InvA", None).await;
    assert_eq!(first["status"], "applied");
    assert_eq!(first["added"], 1);
    // A retry of the same delivery: BTCPay keeps originalDeliveryId.
    let (_, again) = s.deliver("InvoiceSettled", "InvA", Some(&original)).await;
    assert_eq!(again["status"], "duplicate");
    // Another event about the same payment adds nothing either.
    let (_, payment) = s.deliver("InvoicePaymentSettled", "InvA", None).await;
    assert_eq!(
        (payment["status"].as_str(), payment["added"].as_u64()),
        (Some("applied"), Some(0))
    );
    let (_, b) = s.deliver("InvoiceSettled", "InvB", None).await;
    assert_eq!(b["added"], 1);
    // Events that are not about income are taken in and book nothing.
    let (_, created) = s.deliver("InvoiceCreated", "InvB", None).await;
    assert_eq!(created["added"], 0);

    let rows = s.rows().await;
    assert_eq!(rows.len(), 2, "{rows:#?}");
    let a = &rows[0];
    assert_eq!(a.kind, Kind::Income);
    assert_eq!(a.account, format!("BTCPay {STORE}"));
    assert_eq!(a.btc, Sats(123_457));
    assert_eq!(a.fiat_value, Some("74.07".parse().expect("dec")));
    assert_eq!(a.currency.as_deref(), Some("USD"));
    assert_eq!(a.txid.as_deref(), Some(TXID_A));
    assert_eq!(a.time.as_second(), T0 + 60);
    assert_eq!(
        a.note.as_deref(),
        Some(format!("BTCPay invoice InvA, order order-InvA, outpoint {TXID_A}-1").as_str())
    );
    let b = &rows[1];
    assert_eq!(b.btc, Sats(20_000));
    assert_eq!(b.fiat_value, Some("10.00".parse().expect("dec")));
    assert_eq!(b.txid, None, "a payment hash is not a txid");
    assert!(b.note.as_deref().is_some_and(|n| n.contains(HASH_B)));
    assert_eq!(s.income_2025(), ("84.07".to_string(), Some(0)));

    // The sweep finds both invoices and books nothing twice.
    let swept = s.sweep();
    assert_eq!(swept[0]["invoices"], 2);
    assert_eq!(swept[0]["added"], 0);
    assert_eq!(s.rows().await.len(), 2);
    let requests = s.fake.state.lock().expect("state").requests.clone();
    assert!(
        requests
            .iter()
            .any(|r| r.contains("includePaymentMethods=true")),
        "2.4 lists payment methods with the invoices: {requests:?}"
    );
    assert!(
        !requests.iter().any(|r| r.ends_with("/payment-methods")),
        "2.4 gives payment methods with the invoice, in one request: {requests:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_signature_is_refused_audited_and_stores_nothing() {
    let s = connected("2.4.1").await;
    s.fake.set(|st| st.invoices = invoices());
    let (_, body) = s.fake.event("InvoiceSettled", "InvA", None);
    let forged = s.fake.deliver(&s.hook, "not-the-secret", &body).await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let err: Value = forged.json().await.expect("json");
    assert_eq!(err["code"], "bad_signature");
    // The right signature over other bytes (re-serialised JSON) fails too.
    let compact =
        serde_json::to_vec(&serde_json::from_slice::<Value>(&body).expect("json")).expect("json");
    let resp = crate::support::client()
        .post(&s.hook)
        .header("content-type", "application/json")
        .header("btcpay-sig", sign(&s.secret, &body))
        .body(compact)
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let unsigned = crate::support::client()
        .post(&s.hook)
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    assert!(s.rows().await.is_empty());
    let requests = s.fake.state.lock().expect("state").requests.clone();
    assert!(
        !requests.iter().any(|r| r.contains("/invoices/")),
        "nothing was asked of BTCPay before the signature held: {requests:?}"
    );

    let store = Store::open_for_command(&s.server.data_dir)
        .await
        .expect("open");
    let refused: Vec<_> = store
        .audit_log(None, 50)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "btcpay.webhook_refused")
        .collect();
    store.close().await;
    assert_eq!(refused.len(), 3, "{refused:?}");
    assert_eq!(refused[0].target, format!("btcpay integration {}", s.id));
    assert_eq!(refused[0].client_addr, "127.0.0.1");

    // Unknown integration, oversized body, malformed event.
    let unknown = s
        .fake
        .deliver(&s.server.at("/api/v1/btcpay/webhook/999"), &s.secret, &body)
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let huge = vec![b' '; 300 * 1024];
    let too_big = s.fake.deliver(&s.hook, &s.secret, &huge).await;
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let garbage = s
        .fake
        .deliver(&s.hook, &s.secret, b"{\"not\": \"an event\"}")
        .await;
    assert_eq!(garbage.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(s.rows().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_recovers_lost_webhooks_and_invalidation_reverses_on_1x() {
    let s = connected("1.13.7").await;
    let mut list = invoices();
    list.push(FakeInvoice::settled(
        "InvC",
        T0 + 200,
        C_VALUE,
        "40000.50",
        &format!("{TXID_A}-2"),
    ));
    s.fake.set(|st| st.invoices = list);

    // No webhook ever came: the sweep books all three.
    let swept = s.sweep();
    assert_eq!(swept[0]["invoices"], 3);
    assert_eq!(swept[0]["added"], 3);
    assert_eq!(s.income_2025(), ("484.07".to_string(), Some(0)));
    let requests = s.fake.state.lock().expect("state").requests.clone();
    assert!(
        requests
            .iter()
            .filter(|r| r.ends_with("/payment-methods"))
            .count()
            == 3,
        "1.x needs one payment-methods request per invoice: {requests:?}"
    );
    // A late webhook for a swept invoice adds nothing; a second sweep neither.
    let (_, late) = s.deliver("InvoiceSettled", "InvA", None).await;
    assert_eq!(late["added"], 0);
    assert_eq!(s.sweep()[0]["added"], 0);

    // InvC is marked invalid after settlement: its income is reversed, once.
    s.fake.set(|st| {
        if let Some(c) = st.invoices.iter_mut().find(|i| i.id == "InvC") {
            c.status = "Invalid".into();
        }
    });
    let (_, invalid) = s.deliver("InvoiceInvalid", "InvC", None).await;
    assert_eq!(invalid["reversed"], 1);
    // Out of order: the settled event for InvC arrives after the invalidation.
    let (_, stale) = s.deliver("InvoiceSettled", "InvC", None).await;
    assert_eq!(
        (stale["added"].as_u64(), stale["reversed"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(s.sweep()[0]["reversed"], 0);

    let rows = s.rows().await;
    assert_eq!(rows.len(), 4, "{rows:#?}");
    let reversal = rows
        .iter()
        .find(|r| r.kind == Kind::Withdrawal)
        .expect("a reversal row");
    assert_eq!(reversal.btc, Sats(1_000_000));
    assert!(reversal.note.as_deref().is_some_and(|n| n.contains("InvC")));
    // The reversed income no longer counts. The reversal is visible: the
    // report is incomplete (exit 3) until the user classifies the deposit
    // and withdrawal it leaves.
    let (income, code, problems) = s.summary_2025();
    assert_eq!((income.as_str(), code), ("84.07", Some(3)));
    assert!(
        problems.contains("deposit 0.01000000 BTC on BTCPay")
            && problems.contains("withdrawal 0.01000000 BTC on BTCPay"),
        "{problems}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_with_more_than_read_permissions_is_refused() {
    let server = Server::start();
    let mut perms = read_only();
    perms.push(format!("btcpay.store.canmodifystoresettings:{STORE}"));
    let fake = FakeBtcpay::start("2.4.1", &perms).await;
    let key = server.data_dir.with_extension("apikey");
    std::fs::write(&key, crate::fakes::btcpay::API_KEY).expect("key");
    let out = server.cli(&[
        "btcpay",
        "add",
        "--url",
        &fake.url,
        "--store-id",
        STORE,
        "--api-key-file",
        key.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("btcpay.store.canmodifystoresettings:{STORE}")),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    let swept = server.cli(&["btcpay", "sweep"]);
    assert_eq!(text(&swept.stdout).trim(), "[]", "nothing was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_given_webhook_secret_is_used_and_never_printed() {
    let server = Server::start();
    let fake = FakeBtcpay::start("2.0.0", &read_only()).await;
    let key = server.data_dir.with_extension("apikey");
    let secret = server.data_dir.with_extension("secret");
    std::fs::write(&key, crate::fakes::btcpay::API_KEY).expect("key");
    std::fs::write(&secret, "base58SecretFromBtcpayUi\n").expect("secret");
    let out = server.cli(&[
        "btcpay",
        "add",
        "--url",
        &fake.url,
        "--store-id",
        STORE,
        "--api-key-file",
        key.to_str().expect("utf-8"),
        "--webhook-secret-file",
        secret.to_str().expect("utf-8"),
        "--workspace",
        "shop",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("webhook_secret"), "{stdout}");
    assert!(!stdout.contains(crate::fakes::btcpay::API_KEY), "{stdout}");
    let added: Value = serde_json::from_str(&stdout).expect("json");
    let id = added["integration_id"].as_i64().expect("id");
    fake.set(|st| st.invoices = invoices());
    let (_, body) = fake.event("InvoiceSettled", "InvB", None);
    let hook = server.at(&format!("/api/v1/btcpay/webhook/{id}"));
    let resp = fake.deliver(&hook, "base58SecretFromBtcpayUi", &body).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let answer: Value = resp.json().await.expect("json");
    assert_eq!(answer["added"], 1);
    // The key is stored sealed: its text appears nowhere in the database.
    let db = std::fs::read(server.data_dir.join(ledgersys::store::DATABASE_FILE)).expect("db");
    let needle = crate::fakes::btcpay::API_KEY.as_bytes();
    assert!(!db.windows(needle.len()).any(|w| w == needle));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_type_is_answered_and_only_settled_payments_are_income() {
    let s = connected("2.0.0").await;
    let mut pending = FakeInvoice::settled("InvP", T0, C_VALUE, "40000.50", &format!("{TXID_A}-3"));
    pending.status = "Processing".into();
    pending.payments[0].status = "Processing".into();
    s.fake.set(|st| st.invoices = vec![pending]);

    let test = s.fake.test_event();
    let resp = s.fake.deliver(&s.hook, &s.secret, &test).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.json::<Value>().await.expect("json")["status"],
        "ignored"
    );

    for kind in [
        "InvoiceCreated",
        "InvoiceReceivedPayment",
        "InvoiceProcessing",
        "InvoiceExpired",
        // The payment is not settled yet: nothing to book.
        "InvoicePaymentSettled",
        "InvoiceSettled",
        "PayoutCreated",
        "PayoutApproved",
        "PayoutUpdated",
        "PaymentRequestCreated",
        "PaymentRequestUpdated",
        "PaymentRequestArchived",
        "PaymentRequestStatusChanged",
    ] {
        let (_, answer) = s.deliver(kind, "InvP", None).await;
        assert_eq!(
            (answer["status"].as_str(), answer["added"].as_u64()),
            (Some("applied"), Some(0)),
            "{kind}"
        );
    }
    assert!(s.rows().await.is_empty());

    // Confirmed: the payment and the invoice settle.
    s.fake.set(|st| {
        st.invoices[0].status = "Settled".into();
        st.invoices[0].payments[0].status = "Settled".into();
    });
    let (_, settled) = s.deliver("InvoicePaymentSettled", "InvP", None).await;
    assert_eq!(settled["added"], 1);
    let (_, again) = s.deliver("InvoiceSettled", "InvP", None).await;
    assert_eq!(again["added"], 0);
    assert_eq!(s.income_2025(), ("400.00".to_string(), Some(0)));
}

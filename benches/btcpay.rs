//! BTCPay webhook throughput: deliveries per second through the real
//! server, each with its signature check, the invoice read back from a
//! loopback BTCPay (a minimal in-process Greenfield 2.4 fake: one request,
//! the invoice with its payment methods) and the commit.
//! 2,000 invoices, each delivered as `InvoiceSettled`, plus a redelivery of
//! 30% of them, shuffled, 8 in flight at a time.
//!
//! Run: `cargo bench --bench btcpay` (release profile). Prints its figures;
//! the latest are recorded in docs/benchmarks.md.
#![allow(clippy::print_stdout)] // a benchmark reports on standard output

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use hmac::{Hmac, KeyInit, Mac};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::{Json, Path};
use poem::{Route, Server, get, handler};
use serde_json::{Value, json};
use sha2::Sha256;

const BUILT: &str = env!("CARGO_BIN_EXE_ledgersys");

/// The binary under test: the one cargo built, or `BENCH_BINARY`
/// (a static build from `scripts/dist`, to compare allocators and sizes).
fn bin() -> String {
    std::env::var("BENCH_BINARY").unwrap_or_else(|_| BUILT.to_string())
}
const STORE: &str = "BenchStore1";
const KEY: &str = "bench-api-key-0123456789abcdef";
const INVOICES: usize = 2_000;
const IN_FLIGHT: usize = 8;

#[handler]
fn current_key() -> Json<Value> {
    Json(json!({"apiKey": KEY, "label": "bench",
        "permissions": [format!("btcpay.store.canviewstoresettings:{STORE}")]}))
}

#[handler]
fn server_info() -> Json<Value> {
    Json(
        json!({"version": "2.4.1", "onion": null, "supportedPaymentMethods": ["BTC-CHAIN"],
        "fullySynched": true, "syncStatus": []}),
    )
}

fn number(id: &str) -> u64 {
    id.trim_start_matches("Inv").parse().unwrap_or(0)
}

fn payment_methods(n: u64) -> Value {
    json!([{"paymentMethodId": "BTC-CHAIN", "currency": "BTC", "rate": "50000",
        "payments": [{"id": format!("{n:064x}-0"), "receivedDate": 1_735_689_660 + n,
            "value": "0.0001", "fee": "0", "status": "Settled", "destination": "bc1q"}]}])
}

/// As 2.4 answers `?includePaymentMethods=true`: the invoice with its
/// payment methods, in one response.
#[handler]
fn invoice(Path((_, id)): Path<(String, String)>) -> Json<Value> {
    let n = number(&id);
    Json(
        json!({"id": id, "storeId": STORE, "amount": "10", "currency": "USD", "status": "Settled",
        "createdTime": 1_735_689_600 + n, "monitoringExpiration": 1_735_693_200 + n,
        "metadata": {"orderId": format!("o{n}")}, "paymentMethods": payment_methods(n)}),
    )
}

#[handler]
fn methods(Path((_, id)): Path<(String, String)>) -> Json<Value> {
    Json(payment_methods(number(&id)))
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::main]
async fn main() {
    let fake = Route::new()
        .at("/api/v1/api-keys/current", get(current_key))
        .at("/api/v1/server/info", get(server_info))
        .at("/api/v1/stores/:store/invoices/:id", get(invoice))
        .at(
            "/api/v1/stores/:store/invoices/:id/payment-methods",
            get(methods),
        );
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .expect("bind");
    let fake_addr = acceptor.local_addr()[0]
        .as_socket_addr()
        .copied()
        .expect("addr");
    tokio::spawn(Server::new_with_acceptor(acceptor).run(fake));

    let temp = tempfile::tempdir().expect("temp");
    let data = temp.path().join("data");
    let key_file = temp.path().join("key");
    std::fs::write(&key_file, KEY).expect("key");
    let mut server = Command::new(bin())
        .arg("--data-dir")
        .arg(&data)
        .args(["--log-level", "warn", "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut url = String::new();
    BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut url)
        .expect("url");
    let url = url.trim().trim_end_matches('/').to_string();
    let added = Command::new(bin())
        .arg("--data-dir")
        .arg(&data)
        .args([
            "btcpay",
            "add",
            "--url",
            &format!("http://{fake_addr}"),
            "--store-id",
            STORE,
        ])
        .arg("--api-key-file")
        .arg(&key_file)
        .output()
        .expect("add");
    let added: Value = serde_json::from_slice(&added.stdout).unwrap_or_else(|e| {
        panic!(
            "btcpay add printed no JSON ({e}): {}",
            String::from_utf8_lossy(&added.stderr)
        )
    });
    let secret = added["webhook_secret"]
        .as_str()
        .expect("secret")
        .to_string();
    let hook = format!("{url}{}", added["webhook_path"].as_str().expect("path"));

    let mut bodies = Vec::new();
    for n in 0..INVOICES {
        let body = |delivery: String| {
            serde_json::to_vec_pretty(&json!({
                "deliveryId": delivery, "webhookId": "W", "originalDeliveryId": format!("D{n}"),
                "isRedelivery": delivery != format!("D{n}"), "type": "InvoiceSettled",
                "timestamp": 1_735_689_700, "storeId": STORE, "invoiceId": format!("Inv{n}"),
                "metadata": {}, "manuallyMarked": false, "overPaid": false
            }))
            .expect("json")
        };
        bodies.push(body(format!("D{n}")));
        if n % 10 < 3 {
            bodies.push(body(format!("R{n}")));
        }
    }
    // A fixed shuffle (xorshift), so runs are comparable.
    let mut seed: u64 = 0x5eed;
    for i in (1..bodies.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        bodies.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    let total = bodies.len();
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (queue, client, hook, secret) =
            (queue.clone(), client.clone(), hook.clone(), secret.clone());
        workers.push(tokio::spawn(async move {
            let mut applied = 0;
            loop {
                let next = queue.lock().expect("queue").pop();
                let Some(body) = next else { break };
                let resp = client
                    .post(&hook)
                    .header("content-type", "application/json")
                    .header("btcpay-sig", sign(&secret, &body))
                    .body(body)
                    .send()
                    .await
                    .expect("deliver");
                assert!(resp.status().is_success(), "{}", resp.status());
                let answer: Value = resp.json().await.expect("json");
                applied += answer["added"].as_u64().unwrap_or(0);
            }
            applied
        }));
    }
    let mut added_rows = 0;
    for w in workers {
        added_rows += w.await.expect("worker");
    }
    let elapsed = started.elapsed();
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    assert_eq!(added_rows, INVOICES as u64, "each invoice booked once");
    println!(
        "webhooks: {total} deliveries ({INVOICES} invoices, {} redeliveries), {IN_FLIGHT} in flight: \
         {:.2} s, {:.0} deliveries/s",
        total - INVOICES,
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
}

//! BTCPay deliveries in bulk: duplicates and redeliveries in random order,
//! delivered concurrently, and a server killed (SIGKILL) in the middle of a
//! delivery stream. Income must come out exactly once either way.

use reqwest::StatusCode;
use serde_json::Value;
use tokio::task::JoinSet;

use crate::btcpay::{Setup, connected};
use crate::fakes::btcpay::FakeInvoice;
use crate::support::Server;

const T0: i64 = 1_735_689_600; // 2025-01-01T00:00:00Z

/// Invoice `i` is paid (i + 1) × 10,000 sats at 50,000 USD: (i + 1) × 5.00
/// USD. Even invoices on chain, odd ones over Lightning.
fn invoices(n: u64) -> Vec<FakeInvoice> {
    (0..n)
        .map(|i| {
            let sats = (i + 1) * 10_000;
            let value = format!("{}.{:08}", sats / 100_000_000, sats % 100_000_000);
            let payment = if i % 2 == 0 {
                format!("{i:064x}-0")
            } else {
                format!("{:064x}", i + 1_000_000)
            };
            FakeInvoice::settled(
                &format!("Inv{i:04}"),
                T0 + i as i64 * 60,
                &value,
                "50000",
                &payment,
            )
        })
        .collect()
}

/// The expected total: 5 × n(n+1)/2, in dollars.
fn expected_income(n: u64) -> String {
    format!("{}.00", 5 * n * (n + 1) / 2)
}

/// A deterministic shuffle (xorshift), so a failure can be replayed.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        items.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

/// Every invoice's settled and payment-settled events, and a redelivery of
/// about 30% of them, shuffled.
fn stream(s: &Setup, n: u64, seed: u64) -> (Vec<Vec<u8>>, usize) {
    let mut bodies = Vec::new();
    let mut originals = 0;
    for i in 0..n {
        let id = format!("Inv{i:04}");
        for (k, kind) in ["InvoiceSettled", "InvoicePaymentSettled"]
            .iter()
            .enumerate()
        {
            let (original, body) = s.fake.event(kind, &id, None);
            originals += 1;
            bodies.push(body);
            if (i * 2 + k as u64) % 10 < 3 {
                bodies.push(s.fake.event(kind, &id, Some(&original)).1);
            }
        }
    }
    shuffle(&mut bodies, seed);
    (bodies, originals)
}

async fn send_all(s: &Setup, bodies: Vec<Vec<u8>>, at_once: usize) -> Vec<Value> {
    let mut answers = Vec::new();
    for chunk in bodies.chunks(at_once) {
        let mut set = JoinSet::new();
        for body in chunk {
            let (hook, secret, body) = (s.hook.clone(), s.secret.clone(), body.clone());
            let sig = crate::fakes::btcpay::sign(&secret, &body);
            set.spawn(async move {
                let resp = crate::support::client()
                    .post(hook)
                    .header("content-type", "application/json")
                    .header("btcpay-sig", sig)
                    .body(body)
                    .send()
                    .await
                    .expect("deliver");
                assert_eq!(resp.status(), StatusCode::OK);
                resp.json::<Value>().await.expect("json")
            });
        }
        while let Some(answer) = set.join_next().await {
            answers.push(answer.expect("task"));
        }
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_and_redeliveries_in_random_order_book_each_payment_once() {
    const N: u64 = 60;
    let s = connected("2.4.1").await;
    s.fake.set(|st| st.invoices = invoices(N));
    let (bodies, originals) = stream(&s, N, 0x5eed_b7c0);
    let total = bodies.len();
    assert!(
        total > originals + originals / 4,
        "about 30% are redeliveries"
    );
    let answers = send_all(&s, bodies, 8).await;
    let count = |status: &str| answers.iter().filter(|a| a["status"] == status).count();
    assert_eq!(count("applied"), originals, "each original delivery once");
    assert_eq!(count("duplicate"), total - originals);
    let added: u64 = answers.iter().filter_map(|a| a["added"].as_u64()).sum();
    assert_eq!(added, N, "one income row per payment");

    let rows = s.rows().await;
    assert_eq!(rows.len(), N as usize);
    let sats: i64 = rows.iter().map(|r| r.btc.0).sum();
    assert_eq!(sats, 10_000 * (N * (N + 1) / 2) as i64);
    assert_eq!(
        rows.iter().filter(|r| r.txid.is_none()).count(),
        N as usize / 2
    );
    assert_eq!(s.income_2025(), (expected_income(N), Some(0)));
    assert_eq!(s.sweep()[0]["added"], 0, "the sweep finds nothing missing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_stream_loses_and_doubles_nothing_after_the_sweep() {
    const N: u64 = 30;
    let mut s = connected("2.4.1").await;
    s.fake.set(|st| st.invoices = invoices(N));
    let (bodies, _) = stream(&s, N, 42);
    let (first, rest) = bodies.split_at(bodies.len() / 3);
    send_all(&s, first.to_vec(), 4).await;

    // The rest is on its way while the server dies: some deliveries land,
    // some fail with a broken connection (BTCPay would retry those).
    let (hook, secret, rest) = (s.hook.clone(), s.secret.clone(), rest.to_vec());
    let (landed_tx, mut landed) = tokio::sync::mpsc::channel::<()>(64);
    let sender = tokio::spawn(async move {
        for body in rest {
            let sig = crate::fakes::btcpay::sign(&secret, &body);
            let sent = crate::support::client()
                .post(&hook)
                .header("content-type", "application/json")
                .header("btcpay-sig", sig)
                .body(body)
                .send()
                .await;
            if sent.is_ok() {
                let _ = landed_tx.send(()).await;
            }
        }
    });
    for _ in 0..3 {
        landed.recv().await;
    }
    s.server.child.kill().expect("SIGKILL");
    s.server.child.wait().expect("wait");
    sender.await.expect("sender");

    let data_dir = s.server.data_dir.clone();
    let restarted = Server::start_in(&data_dir).expect("restart");
    // Keep the killed one (and its temporary directory) until the end.
    let _killed = std::mem::replace(&mut s.server, restarted);
    s.hook = s.server.at(&format!("/api/v1/btcpay/webhook/{}", s.id));

    s.sweep();
    let rows = s.rows().await;
    assert_eq!(rows.len(), N as usize, "nothing lost, nothing doubled");
    assert_eq!(s.income_2025(), (expected_income(N), Some(0)));
    // BTCPay's retries of everything arrive afterwards: still nothing twice.
    let answers = send_all(&s, bodies, 4).await;
    assert!(answers.iter().all(|a| a["added"] == 0), "{answers:?}");
    assert_eq!(s.rows().await.len(), N as usize);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_connect_a_store_and_show_its_deliveries_and_sweeps() {
    let server = Server::start();
    let owner = server.owner().await;
    let fake = crate::fakes::btcpay::FakeBtcpay::start("2.4.1", &crate::btcpay::read_only()).await;
    fake.set(|st| st.invoices = invoices(2));
    let form = |key: &str| {
        vec![
            ("csrf_token", owner.csrf.clone()),
            ("url", fake.url.clone()),
            ("store_id", crate::fakes::btcpay::STORE.to_string()),
            ("api_key", key.to_string()),
            ("webhook_secret", String::new()),
        ]
    };
    // A key BTCPay does not know is refused before anything is stored.
    let wrong = owner
        .http
        .post(owner.url("/settings/btcpay"))
        .form(&form("not-the-key"))
        .send()
        .await
        .expect("post");
    assert_eq!(wrong.status(), StatusCode::BAD_GATEWAY);
    let page = owner
        .http
        .post(owner.url("/settings/btcpay"))
        .form(&form(crate::fakes::btcpay::API_KEY))
        .send()
        .await
        .expect("post");
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.expect("text");
    assert!(page.contains("/api/v1/btcpay/webhook/1"), "{page}");
    let secret = page
        .split("Webhook secret (shown once)</dt><dd><code>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the secret, once")
        .to_string();
    assert_eq!(secret.len(), 43);

    let hook = server.at("/api/v1/btcpay/webhook/1");
    let (_, body) = fake.event("InvoiceSettled", "Inv0000", None);
    assert_eq!(fake.deliver(&hook, &secret, &body).await.status(), 200);
    assert_eq!(fake.deliver(&hook, "forged", &body).await.status(), 401);
    let swept = owner
        .http
        .post(owner.url("/settings/btcpay/sweep"))
        .form(&[("csrf_token", owner.csrf.as_str())])
        .send()
        .await
        .expect("sweep");
    assert_eq!(swept.status(), StatusCode::OK, "followed to Settings");
    let settings = swept.text().await.expect("text");
    assert!(
        settings.contains("…<code>d5e6</code>"),
        "last four of the key"
    );
    assert!(!settings.contains(crate::fakes::btcpay::API_KEY));
    assert!(!settings.contains(&secret), "the secret is shown only once");
    assert!(
        settings.contains("<td>1<br><small class=\"muted\">last 20"),
        "one delivery taken in: {settings}"
    );
    assert!(
        settings.contains("<td class=\"refused\">1 (bad signature"),
        "one refused"
    );
    assert!(!settings.contains("<td>never</td>"), "the sweep is shown");
    // Inv0001 came only through the sweep; Inv0000's webhook came.
    assert!(
        settings.contains("<td><code>Inv0001</code></td>"),
        "{settings}"
    );
    assert!(!settings.contains("<code>Inv0000</code>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authorize_flow_returns_by_a_cross_site_post_with_a_one_time_state() {
    let server = Server::start();
    let owner = server.owner().await;
    let fake = crate::fakes::btcpay::FakeBtcpay::start("2.4.1", &crate::btcpay::read_only()).await;
    let no_redirects = reqwest::Client::builder()
        .no_proxy()
        .cookie_store(false)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    // Start from Settings, signed in: a 303 to BTCPay's consent page.
    let started = owner
        .http
        .post(owner.url("/settings/btcpay/authorize"))
        .form(&[
            ("csrf_token", owner.csrf.as_str()),
            ("url", fake.url.as_str()),
            ("store_id", crate::fakes::btcpay::STORE),
        ])
        .send()
        .await
        .expect("start");
    // The session client follows redirects: it landed on the fake, which
    // has no consent page; the address it went to is what matters.
    let consent = started.url().clone();
    assert!(
        consent
            .as_str()
            .starts_with(&format!("{}/api-keys/authorize?", fake.url))
    );
    let pairs: Vec<(String, String)> = consent.query_pairs().into_owned().collect();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .expect(k)
    };
    assert_eq!(
        get("permissions"),
        format!(
            "btcpay.store.canviewstoresettings:{}",
            crate::fakes::btcpay::STORE
        )
    );
    assert_eq!(get("strict"), "true");
    let back = get("redirect");
    assert!(
        back.contains("/settings/btcpay/authorized?state="),
        "{back}"
    );

    // BTCPay's auto-submitting form: a cross-site POST without our cookie.
    let post_back = |url: String| {
        no_redirects
            .post(url)
            .header("sec-fetch-site", "cross-site")
            .header("origin", fake.url.clone())
            .form(&[
                ("apiKey", crate::fakes::btcpay::API_KEY),
                ("userId", "u1"),
                ("permissions[]", "btcpay.store.canviewstoresettings"),
            ])
            .send()
    };
    let done = post_back(back.clone()).await.expect("callback");
    assert_eq!(done.status(), StatusCode::OK);
    let page = done.text().await.expect("text");
    assert!(page.contains("BTCPay store connected"), "{page}");
    assert!(page.contains("/api/v1/btcpay/webhook/1"), "{page}");
    // The state is used up; a made-up one never worked.
    let replay = post_back(back.clone()).await.expect("replay");
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    let forged = post_back(back.replace("state=", "state=x"))
        .await
        .expect("forged");
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    let swept = server.cli(&["btcpay", "sweep"]);
    let swept: Value = serde_json::from_slice(&swept.stdout).expect("json");
    assert_eq!(
        swept.as_array().map(Vec::len),
        Some(1),
        "one store connected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_and_secret_survive_a_key_rotation() {
    let mut s = connected("2.4.1").await;
    s.fake.set(|st| st.invoices = invoices(2));
    assert!(s.server.terminate().success());
    let rotated = s.server.cli(&["admin", "rotate-key"]);
    assert!(
        rotated.status.success(),
        "{}",
        crate::support::text(&rotated.stderr)
    );
    let restarted = Server::start_in(&s.server.data_dir.clone()).expect("restart");
    let _stopped = std::mem::replace(&mut s.server, restarted);
    s.hook = s.server.at(&format!("/api/v1/btcpay/webhook/{}", s.id));
    // The webhook secret still verifies and the API key still opens (the
    // server's start-up sweep may have booked the row first: 0 or 1 added).
    let (_, answer) = s_deliver(&s, "InvoiceSettled", "Inv0000").await;
    assert_eq!(answer["status"], "applied");
    s.sweep();
    assert_eq!(s.rows().await.len(), 2);
}

async fn s_deliver(s: &Setup, kind: &str, invoice: &str) -> (String, Value) {
    let (original, body) = s.fake.event(kind, invoice, None);
    let resp = s.fake.deliver(&s.hook, &s.secret, &body).await;
    assert_eq!(resp.status(), StatusCode::OK);
    (original, resp.json().await.expect("json"))
}

//! BTCPay integrations through the JSON API: connect (refused when the key
//! can write), list with last fours and delivery counts, sweep now.

use serde_json::{Value, json};

use crate::btcpay::read_only;
use crate::fakes::btcpay::{API_KEY, FakeBtcpay, FakeInvoice, STORE, sign};
use crate::support::{Server, client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_connects_lists_and_sweeps_a_store() {
    let server = Server::start();
    let owner = server.owner().await;
    let mut perms = read_only();
    perms.push("unrestricted".into());
    let fake = FakeBtcpay::start("2.4.1", &perms).await;
    fake.set(|st| {
        st.invoices = vec![FakeInvoice::settled(
            "InvA",
            1_735_689_600,
            "0.0001",
            "50000",
            "ab-0",
        )]
    });
    let connect = json!({"url": fake.url, "store_id": STORE, "api_key": API_KEY});
    let refused = owner
        .post("/api/v1/workspaces/1/btcpay", connect.clone())
        .await;
    assert_eq!(refused.status(), 422);
    let err: Value = refused.json().await.expect("json");
    assert_eq!(err["code"], "refused");
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("unrestricted")),
        "{err}"
    );

    fake.set(|st| st.permissions = read_only());
    let created = owner.post("/api/v1/workspaces/1/btcpay", connect).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    let secret = created["webhook_secret"]
        .as_str()
        .expect("secret")
        .to_string();
    let path = created["webhook_path"].as_str().expect("path").to_string();

    let forged = client()
        .post(server.at(&path))
        .header("btcpay-sig", sign("wrong", b"{}"))
        .body("{}")
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), 401);

    let swept: Value = owner
        .post("/api/v1/workspaces/1/btcpay/sweep", json!({}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(swept[0]["added"], 1);
    assert_eq!(swept[0]["invoices"], 1);

    let list: Value = owner
        .get("/api/v1/workspaces/1/btcpay")
        .await
        .json()
        .await
        .expect("json");
    let item = &list[0];
    assert_eq!(item["store_id"], STORE);
    assert_eq!(item["api_key_last4"], "d5e6");
    assert_eq!(item["webhook_secret_last4"], &secret[secret.len() - 4..]);
    assert_eq!(item["refused_deliveries"], 1);
    assert_eq!(item["deliveries"], 0);
    assert!(item["last_sweep_at"].as_i64().is_some());
    assert_eq!(item["invoices_without_webhook"], json!(["InvA"]));
    let text = list.to_string();
    assert!(!text.contains(API_KEY) && !text.contains(&secret));
}

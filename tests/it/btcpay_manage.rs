//! Managing a connected store through the API: Ledgersys registers its own
//! webhook only with a key that may and only when asked; the webhook secret
//! and the API key are replaced (the key checked again); removing the store
//! deletes its secrets and its registered webhook and keeps the income.

use ledgersys::store::Store;
use serde_json::{Value, json};

use crate::btcpay::read_only;
use crate::fakes::btcpay::{API_KEY, FakeBtcpay, FakeInvoice, STORE};
use crate::support::Server;

const WEBHOOKS: &str = "btcpay.store.webhooks.canmodifywebhooks";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_webhook_is_rekeyed_and_removed_with_the_store() {
    let server = Server::start();
    let owner = server.owner().await;
    let mut perms = read_only();
    perms.push(format!("{WEBHOOKS}:{STORE}"));
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
    let base = server.at("").trim_end_matches('/').to_string();
    let connect = json!({"url": fake.url, "store_id": STORE, "api_key": API_KEY});

    // The webhook permission without asking Ledgersys to register: refused.
    let refused = owner
        .post("/api/v1/workspaces/1/btcpay", connect.clone())
        .await;
    assert_eq!(refused.status(), 422);
    let err: Value = refused.json().await.expect("json");
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains(WEBHOOKS)),
        "{err}"
    );

    // Asked to register, with a key that cannot: refused, nothing stored.
    fake.set(|st| st.permissions = read_only());
    let mut register = connect.clone();
    register["register_webhook_at"] = json!(base);
    let cannot = owner
        .post("/api/v1/workspaces/1/btcpay", register.clone())
        .await;
    assert_eq!(cannot.status(), 422);
    assert!(fake.state.lock().expect("state").webhooks.is_empty());

    fake.set(|st| st.permissions = perms.clone());
    let created = owner.post("/api/v1/workspaces/1/btcpay", register).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    let id = created["integration_id"].as_i64().expect("id");
    let hook_url = format!("{base}/api/v1/btcpay/webhook/{id}");
    assert_eq!(created["webhook_registered"], hook_url.as_str());
    assert!(created["webhook_secret"].is_null(), "BTCPay was given it");
    let (hook_id, url, first_secret) = fake.state.lock().expect("state").webhooks[0].clone();
    assert_eq!(url, hook_url);
    assert_eq!(first_secret.len(), 43, "a 256-bit secret, base64url");

    // BTCPay delivers with the secret it was given.
    let (_, body) = fake.event("InvoiceSettled", "InvA", None);
    let applied = fake.deliver(&url, &first_secret, &body).await;
    assert_eq!(applied.status(), 200);

    // A new secret goes to BTCPay first; the old one is refused after.
    let replaced = owner
        .put(
            &format!("/api/v1/workspaces/1/btcpay/{id}/webhook-secret"),
            json!({}),
        )
        .await;
    assert_eq!(replaced.status(), 200);
    let replaced: Value = replaced.json().await.expect("json");
    assert!(replaced["webhook_secret"].is_null());
    let new_secret = fake.state.lock().expect("state").webhooks[0].2.clone();
    assert_ne!(new_secret, first_secret);
    assert_eq!(replaced["last4"], &new_secret[new_secret.len() - 4..]);
    let (_, body) = fake.event("InvoiceCreated", "InvA", None);
    assert_eq!(fake.deliver(&url, &first_secret, &body).await.status(), 401);
    assert_eq!(fake.deliver(&url, &new_secret, &body).await.status(), 200);

    // A new key is checked like the first: one that can write is refused.
    let key_path = format!("/api/v1/workspaces/1/btcpay/{id}/api-key");
    fake.set(|st| {
        st.permissions
            .push(format!("btcpay.store.canmodifystoresettings:{STORE}"))
    });
    let writes = owner.put(&key_path, json!({"api_key": API_KEY})).await;
    assert_eq!(writes.status(), 422);
    fake.set(|st| st.permissions = perms.clone());
    let rekeyed: Value = owner
        .put(&key_path, json!({"api_key": API_KEY}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(rekeyed["last4"], "d5e6");

    // Removing: the webhook goes in BTCPay, the secrets go here, the
    // income stays, and later deliveries find no integration.
    let removed = owner
        .delete(&format!("/api/v1/workspaces/1/btcpay/{id}"))
        .await;
    assert_eq!(removed.status(), 204);
    assert!(fake.state.lock().expect("state").webhooks.is_empty());
    let list: Value = owner
        .get("/api/v1/workspaces/1/btcpay")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list, json!([]));
    assert_eq!(fake.deliver(&url, &new_secret, &body).await.status(), 404);
    let again = owner
        .delete(&format!("/api/v1/workspaces/1/btcpay/{id}"))
        .await;
    assert_eq!(again.status(), 404);

    let store = Store::open_for_command(&server.data_dir)
        .await
        .expect("open");
    for name in [
        format!("btcpay.{id}.api-key"),
        format!("btcpay.{id}.webhook-secret"),
    ] {
        assert!(store.secret(&name).await.expect("read").is_none(), "{name}");
    }
    let rows = store
        .transactions(ledgersys::store::WorkspaceId(1))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1, "the booked income stays");
    let log = store
        .audit_log(Some(ledgersys::store::WorkspaceId(1)), 100)
        .await
        .expect("audit");
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    for action in [
        "btcpay.connected",
        "btcpay.webhook_secret_replaced",
        "btcpay.key_replaced",
        "btcpay.removed",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let _ = hook_id;
    store.close().await;
}

/// Through Settings → Integrations: a flood of forged deliveries is counted
/// exactly but audited only ten at a time; the secret is replaced and the
/// store removed from the page, the income staying.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_page_sums_up_a_flood_and_removes_a_store() {
    let server = Server::start();
    let owner = server.owner().await;
    let fake = FakeBtcpay::start("2.4.1", &read_only()).await;
    fake.set(|st| {
        st.invoices = vec![FakeInvoice::settled(
            "InvA",
            1_735_689_600,
            "0.0001",
            "50000",
            "ab-0",
        )]
    });
    let post = |path: &str, form: Vec<(&'static str, String)>| {
        owner.http.post(owner.url(path)).form(&form).send()
    };
    let csrf = || ("csrf_token", owner.csrf.clone());
    let page = post(
        "/settings/btcpay",
        vec![
            csrf(),
            ("url", fake.url.clone()),
            ("store_id", STORE.to_string()),
            ("api_key", API_KEY.to_string()),
            ("webhook_secret", String::new()),
            ("register_at", String::new()),
        ],
    )
    .await
    .expect("post");
    assert_eq!(page.status(), 200);
    let page = page.text().await.expect("text");
    let secret = page
        .split("Webhook secret (shown once)</dt><dd><code>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the secret, once")
        .to_string();
    let hook = server.at("/api/v1/btcpay/webhook/1");
    let (_, body) = fake.event("InvoiceSettled", "InvA", None);
    assert_eq!(fake.deliver(&hook, &secret, &body).await.status(), 200);
    for _ in 0..25 {
        assert_eq!(fake.deliver(&hook, "forged", &body).await.status(), 401);
    }
    let settings = owner.get("/settings").await.text().await.expect("text");
    assert!(
        settings.contains("<td class=\"refused\">25 (bad signature"),
        "{settings}"
    );

    // A new secret from the page, shown once; the old one is refused.
    let replaced = post("/settings/btcpay/1/secret", vec![csrf()])
        .await
        .expect("post")
        .text()
        .await
        .expect("text");
    let new_secret = replaced
        .split("New secret (shown once)</dt><dd><code>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the new secret, once")
        .to_string();
    assert_ne!(new_secret, secret);
    let (_, created) = fake.event("InvoiceCreated", "InvA", None);
    assert_eq!(fake.deliver(&hook, &secret, &created).await.status(), 401);
    assert_eq!(
        fake.deliver(&hook, &new_secret, &created).await.status(),
        200
    );

    assert!(settings.contains("The income and payouts already booked stay in the ledger."));
    // Only workspace admins: an accountant's form post is refused.
    server.add_member(&owner, "acct", "accountant").await;
    let acct = server.login("acct", crate::support::PASSWORD).await;
    for action in ["remove", "secret", "key"] {
        let refused = acct
            .http
            .post(acct.url(&format!("/settings/btcpay/1/{action}")))
            .form(&[("csrf_token", acct.csrf.as_str()), ("api_key", "x")])
            .send()
            .await
            .expect("post");
        assert_eq!(refused.status(), 403, "{action}");
    }
    let removed = post("/settings/btcpay/1/remove", vec![csrf()])
        .await
        .expect("post");
    assert_eq!(removed.status(), 200, "followed back to Settings");
    let after = removed.text().await.expect("text");
    assert!(!after.contains("Change store"), "{after}");
    assert_eq!(
        fake.deliver(&hook, &new_secret, &created).await.status(),
        404
    );

    let store = Store::open_for_command(&server.data_dir)
        .await
        .expect("open");
    let ws = ledgersys::store::WorkspaceId(1);
    assert_eq!(store.transactions(ws).await.expect("rows").len(), 1);
    let log = store.audit_log(Some(ws), 500).await.expect("audit");
    let count = |action: &str| log.iter().filter(|e| e.action == action).count();
    // 26 refused in all (25 + the old secret), 10 of them logged one by
    // one, and one entry saying the rest of the minute is summed up.
    assert_eq!(count("btcpay.webhook_refused"), 10);
    assert_eq!(count("btcpay.webhook_refused_flood"), 1);
    assert_eq!(count("btcpay.removed"), 1);
    store.close().await;
}

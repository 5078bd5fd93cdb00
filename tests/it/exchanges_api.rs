//! Exchange accounts through the server: the API with its roles, and the
//! Exchanges page in a browser at phone width, against the fake Kraken.
//! A planted key and secret never come back in a response, and never reach
//! the database files (WAL included) or the server's log.

use serde_json::{Value, json};

use crate::browser::{assert_clean_console, sign_in};
use crate::fakes::kraken::{self, FakeKraken, KEY, READ_ONLY, SECRET};
use crate::fakes::webdriver::Browser;
use crate::support::{PASSWORD, Server, sqlite_count};

/// Every byte under `dir` as lossy text.
fn everything_under(dir: &std::path::Path) -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            all.push_str(&everything_under(&path));
        } else {
            all.push_str(&String::from_utf8_lossy(
                &std::fs::read(&path).unwrap_or_default(),
            ));
        }
    }
    all
}

fn assert_no_secret(what: &str, text: &str) {
    assert!(!text.contains(KEY), "the key is in {what}");
    assert!(!text.contains(SECRET), "the secret is in {what}");
    // Nor the secret's decoded bytes, nor the key's start.
    assert!(
        !text.contains("secret-secret-secret"),
        "the decoded secret is in {what}"
    );
    assert!(!text.contains(&KEY[..20]), "part of the key is in {what}");
}

async fn until_synced(owner: &crate::support::Session) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let list: Value = owner
            .get("/api/v1/workspaces/1/exchanges")
            .await
            .json()
            .await
            .expect("json");
        let first = &list[0];
        if first["sync"]["running"] == false && !first["last_sync"].is_null() {
            return list;
        }
        assert!(std::time::Instant::now() < deadline, "never synced: {list}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_adds_only_read_only_keys_syncs_them_and_keeps_viewers_to_reading() {
    let fake = FakeKraken::start(READ_ONLY).await;
    fake.set(|s| {
        s.entries = kraken::history(120);
        s.btc_balance = "1.2000000000".into();
    });
    let data = tempfile::tempdir().expect("temp");
    let server = Server::start_in_with(data.path(), &[("LEDGERSYS_EXCHANGES_RATE_BUDGET", "off")])
        .expect("start");
    let owner = server.owner().await;
    server.add_member(&owner, "vera", "viewer").await;
    let viewer = server.login("vera", PASSWORD).await;
    let body = |permissions_key: &str| {
        json!({"exchange": "kraken", "name": "Kraken", "key": permissions_key,
               "secret": SECRET, "api_url": fake.url})
    };
    let mut responses = String::new();

    let refused = viewer
        .post("/api/v1/workspaces/1/exchanges", body(KEY))
        .await;
    assert_eq!(refused.status(), 403, "viewers cannot add keys");
    responses.push_str(&refused.text().await.unwrap_or_default());

    fake.set(|s| {
        s.permissions = [
            "query-funds",
            "query-ledger",
            "modify-trades",
            "withdraw-funds",
        ]
        .map(String::from)
        .to_vec();
    });
    let trading = owner
        .post("/api/v1/workspaces/1/exchanges", body(KEY))
        .await;
    assert_eq!(trading.status(), 422);
    let trading: Value = trading.json().await.expect("json");
    assert_eq!(trading["code"], "key_refused", "{trading}");
    let message = trading["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("remove Create & Modify Orders, Withdraw Funds"),
        "{message}"
    );
    responses.push_str(&trading.to_string());
    let db = data.path().join("ledgersys.sqlite3");
    assert_eq!(
        sqlite_count(&db, "SELECT COUNT(*) FROM exchange_connections").await,
        0
    );
    assert_eq!(
        sqlite_count(
            &db,
            "SELECT COUNT(*) FROM secrets WHERE name LIKE 'exchange.%'"
        )
        .await,
        0,
        "nothing stored for a refused key"
    );

    fake.set(|s| s.permissions = READ_ONLY.iter().map(|p| p.to_string()).collect());
    let added = owner
        .post("/api/v1/workspaces/1/exchanges", body(KEY))
        .await;
    assert_eq!(added.status(), 201);
    let added: Value = added.json().await.expect("json");
    assert_eq!(added["sync_started"], true, "{added}");
    responses.push_str(&added.to_string());
    let list = until_synced(&owner).await;
    responses.push_str(&list.to_string());
    let first = &list[0];
    assert_eq!(first["rows"], 120, "{list}");
    assert_eq!(first["balance_sat"], 120_000_000);
    assert_eq!(first["exchange_balance_sat"], 120_000_000);
    assert_eq!(first["balance_matches"], true);
    assert_eq!(first["complete"], true);
    assert_eq!(first["key_last4"], &KEY[KEY.len() - 4..]);
    assert_eq!(first["sync"]["new_rows"], 120);

    // A viewer sees the account but cannot sync or remove it.
    let id = first["id"].as_i64().expect("id");
    let seen: Value = viewer
        .get("/api/v1/workspaces/1/exchanges")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(seen[0]["rows"], 120);
    let sync = format!("/api/v1/workspaces/1/exchanges/{id}/sync");
    assert_eq!(viewer.post(&sync, json!({})).await.status(), 403);
    let gone = format!("/api/v1/workspaces/1/exchanges/{id}");
    assert_eq!(viewer.delete(&gone).await.status(), 403);

    // A second sync, after the exchange has one more purchase it does not
    // show in its balance: one new row, and the mismatch is reported.
    fake.set(|s| {
        s.entries = kraken::history(121);
        s.btc_balance = "1.2000000000".into();
    });
    let started = owner.post(&sync, json!({})).await;
    assert_eq!(started.status(), 202);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let list = until_synced(&owner).await;
    assert_eq!(list[0]["sync"]["new_rows"], 1, "{list}");
    assert_eq!(list[0]["rows"], 121);
    assert_eq!(list[0]["balance_sat"], 121_000_000);
    assert_eq!(list[0]["balance_matches"], false);
    responses.push_str(&list.to_string());

    assert_eq!(owner.delete(&gone).await.status(), 204);
    let after: Value = owner
        .get("/api/v1/workspaces/1/exchanges")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(after, json!([]));
    assert_eq!(
        sqlite_count(
            &db,
            "SELECT COUNT(*) FROM secrets WHERE name LIKE 'exchange.%'"
        )
        .await,
        0,
        "the key and secret go with the connection"
    );
    assert_eq!(
        sqlite_count(
            &db,
            "SELECT COUNT(*) FROM transactions WHERE account = 'Kraken'"
        )
        .await,
        121,
        "the synced rows stay"
    );

    assert_no_secret("the API's answers", &responses);
    assert_no_secret("the database files", &everything_under(data.path()));
    assert_no_secret("the server log", &server.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_adds_a_kraken_key_on_the_exchanges_page_and_watches_it_sync_on_a_phone() {
    let fake = FakeKraken::start(READ_ONLY).await;
    fake.set(|s| {
        s.entries = kraken::history(30);
        s.btc_balance = "0.3100000000".into(); // one purchase more than the rows
        s.ledgers_delay_ms = 2000;
    });
    let server = Server::start_with(&[("LEDGERSYS_EXCHANGES_RATE_BUDGET", "off")]);
    let _owner = server.owner().await;
    let phone = Browser::start(390, 844, false).await;
    sign_in(&phone, &server).await;
    phone.goto(&server.at("/exchanges")).await;
    let steps = phone
        .script("return document.querySelector('details.howto').innerText")
        .await;
    let steps = steps.as_str().unwrap_or_default();
    assert!(
        steps.contains("Query Ledger Entries") && steps.contains("Withdraw Funds"),
        "{steps}"
    );

    // A key that can trade: refused in words, nothing stored.
    fake.set(|s| s.permissions = vec!["query-ledger".into(), "modify-trades".into()]);
    phone.type_into("input[name=name]", "Kraken").await;
    phone.type_into("input[name=key]", KEY).await;
    phone.type_into("input[name=secret]", SECRET).await;
    phone.click("details.advanced summary").await;
    phone.type_into("input[name=api_url]", &fake.url).await;
    phone.click("#add-exchange button[type=submit]").await;
    phone
        .wait_until("document.querySelector('.notice.error') !== null")
        .await;
    let error = phone
        .script("return document.querySelector('.notice.error').innerText")
        .await;
    let error = error.as_str().unwrap_or_default().to_string();
    assert!(
        error.contains("nothing was stored") && error.contains("remove Create & Modify Orders"),
        "{error}"
    );
    assert_eq!(
        phone
            .script("return document.querySelectorAll('section.exchange').length")
            .await,
        0
    );

    fake.set(|s| s.permissions = READ_ONLY.iter().map(|p| p.to_string()).collect());
    phone.type_into("input[name=name]", "Kraken").await;
    phone.type_into("input[name=key]", KEY).await;
    phone.type_into("input[name=secret]", SECRET).await;
    phone.click("details.advanced summary").await;
    phone.type_into("input[name=api_url]", &fake.url).await;
    phone.click("#add-exchange button[type=submit]").await;
    phone
        .wait_until("document.querySelector('.notice.success') !== null")
        .await;
    let added = phone
        .script("return document.querySelector('.notice.success').innerText")
        .await;
    assert!(
        added.as_str().unwrap_or_default().contains("Added Kraken"),
        "{added}"
    );
    // The page follows the sync, then shows the outcome.
    phone.goto(&server.at("/exchanges")).await;
    let running = phone
        .wait_until("document.querySelector('.exchange .sync-status').innerText.includes('Reading the history')")
        .await;
    assert!(
        running,
        "progress shown while it runs: {}",
        phone.script("return document.body.innerText").await
    );
    assert!(
        phone
            .wait_until("document.querySelector('.exchange .sync-status').innerText.includes('added 30 rows')")
            .await,
        "the page reloads when the sync is done"
    );
    let card = phone
        .script("return document.querySelector('section.exchange').innerText")
        .await;
    let card = card.as_str().unwrap_or_default().to_string();
    assert!(card.contains("0.30000000 BTC"), "{card}");
    assert!(card.contains("0.31000000 BTC"), "{card}");
    assert!(
        card.contains("part of the history may be missing"),
        "{card}"
    );
    assert!(
        !card.contains(KEY) && card.contains(&KEY[KEY.len() - 4..]),
        "{card}"
    );
    let overflow = phone
        .script("return document.documentElement.scrollWidth - window.innerWidth")
        .await;
    assert_eq!(overflow, 0, "nothing wider than the phone");
    crate::browser::keep_screenshot("exchanges-phone.png", &phone.screenshot().await);
    assert_clean_console(&phone.console().await);
    phone.quit().await;
}

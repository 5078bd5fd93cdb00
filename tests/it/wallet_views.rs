//! Watched wallets as members see them: the API list and the Wallets page.

use crate::support::text;
use crate::wallets::{xpub, zpub};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_read_a_workspaces_wallets_without_their_keys() {
    let server = crate::support::Server::start();
    let owner = server.owner().await;
    let key = xpub(71);
    let added = server.cli(&[
        "wallet",
        "add",
        "--name",
        "Cold",
        "--xpub",
        &zpub(&key),
        "--gap-limit",
        "50",
    ]);
    assert!(added.status.success(), "{}", text(&added.stderr));
    let response = owner.get("/api/v1/workspaces/1/wallets").await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.expect("body");
    let wallets: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        wallets,
        serde_json::json!([{
            "id": 1,
            "name": "Cold",
            "network": "bitcoin",
            "kind": "descriptor",
            "balance_sat": 0,
            "transactions": 0,
            "last_sync": null,
            "gap_limit": 50,
            "birthday": null,
        }])
    );
    assert!(!body.contains(&key.to_string()[4..30]), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wallets_page_lists_the_workspaces_wallets() {
    let server = crate::support::Server::start();
    let owner = server.owner().await;
    let empty = owner.get("/wallets").await.text().await.expect("page");
    assert!(empty.contains("No wallets yet"), "{empty}");
    let added = server.cli(&[
        "wallet",
        "add",
        "--name",
        "Cold storage",
        "--xpub",
        &zpub(&xpub(72)),
    ]);
    assert!(added.status.success(), "{}", text(&added.stderr));
    let page = owner.get("/wallets").await.text().await.expect("page");
    assert!(page.contains("<td>Cold storage</td>"), "{page}");
    assert!(page.contains("never"), "{page}");
}

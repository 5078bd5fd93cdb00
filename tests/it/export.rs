//! The export: the whole ledger as generic CSV, as the user decided it,
//! imported into a fresh workspace as the same ledger with the same reports.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::imports::{bytes, import};
use crate::support::Server;

#[tokio::test]
async fn the_exported_ledger_imports_back_into_a_fresh_workspace_identically() {
    let first = Server::start();
    let owner = first.owner().await;
    for (name, zone) in [
        ("coinbase-2021.csv", "UTC"),
        ("kraken-ledgers.csv", "UTC"),
        ("river.csv", "America/New_York"),
        ("strike.csv", "UTC"),
        ("swan.csv", "UTC"),
    ] {
        let done = import(&owner, 1, &format!("timezone={zone}"), bytes(name)).await;
        assert_eq!(done.status(), StatusCode::OK, "{name}");
    }
    let exported = owner.get("/api/v1/workspaces/1/transactions.csv").await;
    assert_eq!(exported.status(), StatusCode::OK);
    assert!(
        exported.headers()["content-disposition"]
            .to_str()
            .expect("cd")
            .contains("attachment")
    );
    let csv = exported.text().await.expect("csv");
    assert_eq!(csv.lines().count(), 1 + 9 + 7 + 9 + 9 + 7);

    let second = Server::start();
    let fresh = second.owner().await;
    let back: Value = import(&fresh, 1, "file_name=export.csv", csv.clone().into_bytes())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(back["format"], "generic");
    assert_eq!(back["added"], 41);
    let again = fresh
        .get("/api/v1/workspaces/1/transactions.csv")
        .await
        .text()
        .await
        .expect("csv");
    assert_eq!(again, csv, "the same ledger, row for row");
    for query in [
        "jurisdiction=us&method=fifo&basis=universal",
        "jurisdiction=us&method=hifo&basis=per-wallet",
        "jurisdiction=uk",
        "jurisdiction=de&currency=EUR",
    ] {
        let path = format!("/api/v1/workspaces/1/reports/summary?{query}");
        let a: Value = owner.get(&path).await.json().await.expect("json");
        let b: Value = fresh.get(&path).await.json().await.expect("json");
        assert_eq!(a, b, "{query}");
        assert!(
            a["years"].as_array().is_some_and(|y| !y.is_empty()),
            "{query}: {a}"
        );
    }
}

/// Rows 1..=8 in file order: two buys; a withdrawal and a deposit too far
/// apart to match (paired by hand); a deposit from nowhere (reclassified as
/// income with a value); mining income without a value (priced by hand);
/// a withdrawal and deposit with one txid (paired automatically); a sale.
const DECIDED: &str = "id,timestamp,type,account,btc,fiat_value,fiat_currency,txid\n\
    b1,2020-01-01T12:00:00Z,buy,exchange,1,10000,USD,\n\
    b2,2020-02-01T12:00:00Z,buy,exchange,1,30000,USD,\n\
    w1,2020-03-01T12:00:00Z,withdrawal,exchange,1,,,\n\
    d1,2020-03-06T12:00:00Z,deposit,cold,0.9999,,,\n\
    d2,2020-04-01T12:00:00Z,deposit,cold,0.1,,,\n\
    i1,2020-05-01T12:00:00Z,income,mining,0.02,,,\n\
    w2,2020-06-01T12:00:00Z,withdrawal,exchange,0.3,,,ab12\n\
    d3,2020-06-01T13:00:00Z,deposit,cold,0.2999,,,ab12\n\
    s1,2021-06-01T12:00:00Z,sell,exchange,0.5,25000,USD,\n";

#[tokio::test]
async fn the_export_carries_the_users_decisions_and_imports_back_to_the_same_reports() {
    let first = Server::start();
    let owner = first.owner().await;
    owner.import_csv(DECIDED).await;
    for (decision, id) in [
        (json!({"action": "pair", "withdrawal": 3, "deposit": 4}), 1),
        (
            json!({"action": "reclassify", "row": 5, "kind": "income", "fiat_value": "900", "currency": "USD"}),
            2,
        ),
    ] {
        let made = owner.post("/api/v1/workspaces/1/decisions", decision).await;
        assert_eq!(made.status(), StatusCode::CREATED);
        assert_eq!(made.json::<Value>().await.expect("json")["id"], id);
    }
    let priced = owner
        .put(
            "/api/v1/workspaces/1/price-overrides",
            json!({"account": "mining", "id": "i1", "price": "50000", "currency": "USD"}),
        )
        .await;
    assert_eq!(priced.status(), StatusCode::NO_CONTENT);

    // The book as decided: both pairs are transfers (the hand-made one
    // keeps its 0.0001 BTC fee), row 5 is income of 900 USD, the mining
    // income is valued at the manual price, in time order.
    let csv = owner
        .get("/api/v1/workspaces/1/transactions.csv")
        .await
        .text()
        .await
        .expect("csv");
    assert_eq!(
        csv,
        "id,timestamp,type,account,btc,fiat_value,fiat_currency,fee_btc,fee_fiat,to_account,txid,note\n\
         b1,2020-01-01T12:00:00Z,buy,exchange,1.00000000,10000,USD,,,,,\n\
         b2,2020-02-01T12:00:00Z,buy,exchange,1.00000000,30000,USD,,,,,\n\
         w1,2020-03-01T12:00:00Z,transfer,exchange,0.99990000,,,0.00010000,,cold,,matched transfer\n\
         d2,2020-04-01T12:00:00Z,income,cold,0.10000000,900,USD,,,,,\n\
         i1,2020-05-01T12:00:00Z,income,mining,0.02000000,1000.00000000,USD,,,,,\n\
         w2,2020-06-01T12:00:00Z,transfer,exchange,0.29990000,,,0.00010000,,cold,ab12,matched transfer\n\
         s1,2021-06-01T12:00:00Z,sell,exchange,0.50000000,25000,USD,,,,,\n"
    );

    let second = Server::start();
    let fresh = second.owner().await;
    let back: Value = import(&fresh, 1, "file_name=export.csv", csv.clone().into_bytes())
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(back["added"], 7);
    let decisions: Value = fresh
        .get("/api/v1/workspaces/1/decisions")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(decisions, json!([]), "the fresh workspace decided nothing");
    for session in [&owner, &fresh] {
        let queue: Value = session
            .get("/api/v1/workspaces/1/review")
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(queue, json!([]), "nothing left to review in either");
    }
    let again = fresh
        .get("/api/v1/workspaces/1/transactions.csv")
        .await
        .text()
        .await
        .expect("csv");
    assert_eq!(again, csv, "the same ledger, row for row");
    for query in [
        "jurisdiction=us&method=fifo&transfer_fee=non-taxable",
        "jurisdiction=us&method=hifo&basis=per-wallet&transfer_fee=non-taxable",
        "jurisdiction=us",
        "jurisdiction=uk&currency=USD&transfer_fee=non-taxable",
    ] {
        let path = format!("/api/v1/workspaces/1/reports/summary?{query}");
        let a: Value = owner.get(&path).await.json().await.expect("json");
        let b: Value = fresh.get(&path).await.json().await.expect("json");
        assert_eq!(a, b, "{query}");
    }
    // The numbers themselves: income 900 + 1000; the 2021 sale of 0.5 BTC
    // takes half of the first lot (FIFO): basis 5,000, gain 20,000.
    let path = "/api/v1/workspaces/1/reports/summary?jurisdiction=us&transfer_fee=non-taxable";
    let s: Value = fresh.get(path).await.json().await.expect("json");
    assert_eq!(s["complete"], true, "{s}");
    assert_eq!(s["years"][0]["income"], "1900.00");
    assert_eq!(s["years"][1]["proceeds"], "25000.00");
    assert_eq!(s["years"][1]["cost_basis"], "5000.00");
    assert_eq!(s["years"][1]["long_term_gain"], "20000.00");
}

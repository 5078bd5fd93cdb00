//! The review queue and the user's decisions, through the API, the CLI and
//! the reports: pair, unpair, reclassify, pick lots, undo; and the
//! workspace's time zone.

use serde_json::{Value, json};

use crate::support::{Server, Session, text};

/// Rows (ids 1..=6 in file order on a fresh workspace):
/// 1. buy 1 BTC on the exchange for 10,000 USD;
/// 2. buy 1 BTC on the exchange for 30,000 USD;
/// 3. withdrawal of 1 BTC from the exchange (no txid);
/// 4. deposit of 0.9999 BTC into cold storage 5 days later: too late to
///    match on amounts and times, so both stay in review;
/// 5. a deposit of 0.1 BTC into cold storage from nowhere (a payment);
/// 6. sale of 0.5 BTC on the exchange for 25,000 USD in 2021.
const FILE: &str = "timestamp,type,account,btc,fiat_value,fiat_currency\n\
    2020-01-01T12:00:00Z,buy,exchange,1,10000,USD\n\
    2020-02-01T12:00:00Z,buy,exchange,1,30000,USD\n\
    2020-03-01T12:00:00Z,withdrawal,exchange,1,,\n\
    2020-03-06T12:00:00Z,deposit,cold,0.9999,,\n\
    2020-04-01T12:00:00Z,deposit,cold,0.1,,\n\
    2021-06-01T12:00:00Z,sell,exchange,0.5,25000,USD\n";

async fn imported(server: &Server) -> Session {
    let owner = server.owner().await;
    owner.import_csv(FILE).await;
    owner
}

async fn json(session: &Session, path: &str) -> Value {
    let resp = session.get(path).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.expect("json")
}

fn queue_rows(queue: &Value) -> Vec<(i64, String)> {
    queue
        .as_array()
        .expect("list")
        .iter()
        .map(|i| {
            (
                i["row_id"].as_i64().expect("id"),
                i["reason"].as_str().expect("reason").to_string(),
            )
        })
        .collect()
}

async fn summary(session: &Session, query: &str) -> Value {
    json(
        session,
        &format!("/api/v1/workspaces/1/reports/summary?jurisdiction=us&{query}"),
    )
    .await
}

#[tokio::test]
async fn decisions_explain_the_queue_change_the_report_and_can_be_undone() {
    let server = Server::start();
    let owner = imported(&server).await;
    let page = json(&owner, "/api/v1/workspaces/1/transactions?offset=2&limit=2").await;
    assert_eq!(page["total"], 6);
    assert_eq!(page["rows"][0]["id"], 3);
    assert_eq!(page["rows"][0]["row"]["type"], "withdrawal");
    assert_eq!(page["rows"][1]["id"], 4);
    assert_eq!(page["rows"].as_array().map(Vec::len), Some(2));
    let queue = json(&owner, "/api/v1/workspaces/1/review").await;
    assert_eq!(
        queue_rows(&queue),
        vec![
            (3, "unmatched".into()),
            (4, "unmatched".into()),
            (5, "unmatched".into())
        ]
    );
    assert_eq!(summary(&owner, "").await["complete"], false);

    // A deposit cannot be paired as if it were the withdrawal, and the
    // reason comes back as JSON.
    let wrong = owner
        .post(
            "/api/v1/workspaces/1/decisions",
            json!({"action": "pair", "withdrawal": 4, "deposit": 3}),
        )
        .await;
    assert_eq!(wrong.status(), 422);
    let body: Value = wrong.json().await.expect("json");
    assert_eq!(body["code"], "decision_refused");
    assert_eq!(body["message"], "row 4 is a deposit, not a withdrawal");
    let garbled = owner
        .post("/api/v1/workspaces/1/decisions", json!({"action": "merge"}))
        .await;
    assert_eq!(garbled.status(), 400);

    // Pair 3 and 4 by hand; reclassify 5 as income worth 900 USD.
    let paired = owner
        .post(
            "/api/v1/workspaces/1/decisions",
            json!({"action": "pair", "withdrawal": 3, "deposit": 4}),
        )
        .await;
    assert_eq!(paired.status(), 201);
    let pair_id = paired.json::<Value>().await.expect("json")["id"].clone();
    let income = owner
        .post(
            "/api/v1/workspaces/1/decisions",
            json!({"action": "reclassify", "row": 5, "kind": "income", "fiat_value": "900", "currency": "USD"}),
        )
        .await;
    assert_eq!(income.status(), 201);
    assert!(queue_rows(&json(&owner, "/api/v1/workspaces/1/review").await).is_empty());
    let transfers = json(&owner, "/api/v1/workspaces/1/transfers").await;
    assert_eq!(
        transfers,
        json!([{"withdrawal_id": 3, "deposit_id": 4, "paired_by": "user"}])
    );

    // FIFO, universal basis: the 2021 sale of 0.5 BTC takes half of the
    // first lot: basis 5,000, proceeds 25,000, long-term gain 20,000. The
    // transfer's 0.0001 BTC fee is a disposal with no fiat value: the
    // report says so, so switch fees to non-taxable to get a complete one.
    let s = summary(&owner, "transfer_fee=non-taxable").await;
    assert_eq!(s["complete"], true, "{s}");
    let years = s["years"].as_array().expect("years");
    assert_eq!(years[0]["year"], "2020");
    assert_eq!(years[0]["income"], "900.00");
    assert_eq!(years[1]["year"], "2021");
    assert_eq!(years[1]["proceeds"], "25000.00");
    assert_eq!(years[1]["cost_basis"], "5000.00");
    assert_eq!(years[1]["long_term_gain"], "20000.00");

    // The CLI reads the same book.
    let out = server.cli(&[
        "report",
        "summary",
        "--jurisdiction",
        "us",
        "--transfer-fee",
        "non-taxable",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let cli: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(cli["years"], s["years"]);
    assert_eq!(cli["input_sha256"], s["input_sha256"]);

    // Undo the pair: both rows are back in review, and the history keeps
    // the decision with who made it and who undid it.
    let undone = owner
        .post(
            &format!("/api/v1/workspaces/1/decisions/{pair_id}/undo"),
            json!({}),
        )
        .await;
    assert_eq!(undone.status(), 204);
    let again = owner
        .post(
            &format!("/api/v1/workspaces/1/decisions/{pair_id}/undo"),
            json!({}),
        )
        .await;
    assert_eq!(again.status(), 404);
    assert_eq!(
        queue_rows(&json(&owner, "/api/v1/workspaces/1/review").await),
        vec![(3, "unmatched".into()), (4, "unmatched".into())]
    );
    let history = json(&owner, "/api/v1/workspaces/1/decisions").await;
    let history = history.as_array().expect("list");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["action"], "pair");
    assert_eq!(history[0]["actor"], "owner");
    assert_eq!(history[0]["undone_by"], "owner");
    assert!(history[0]["undone_at"].as_i64().is_some());
    assert_eq!(history[1]["action"], "reclassify");
    assert_eq!(history[1]["undone_by"], Value::Null);

    // Every decision is in the audit log too.
    let audit = json(&owner, "/api/v1/workspaces/1/audit").await;
    let actions: Vec<&str> = audit
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("review."))
        .collect();
    assert_eq!(
        actions,
        vec!["review.undone", "review.reclassified", "review.paired"]
    );
}

#[tokio::test]
async fn an_automatic_pair_can_be_taken_apart() {
    let server = Server::start();
    let owner = server.owner().await;
    let file = "timestamp,type,account,btc,txid\n\
        2020-01-02T12:00:00Z,withdrawal,exchange,1,abc\n\
        2020-01-02T12:40:00Z,deposit,cold,1,abc\n";
    owner.import_csv(file).await;
    assert_eq!(
        json(&owner, "/api/v1/workspaces/1/transfers").await,
        json!([{"withdrawal_id": 1, "deposit_id": 2, "paired_by": "txid"}])
    );
    let unpair = owner
        .post(
            "/api/v1/workspaces/1/decisions",
            json!({"action": "unpair", "withdrawal": 1, "deposit": 2}),
        )
        .await;
    assert_eq!(unpair.status(), 201);
    assert_eq!(
        json(&owner, "/api/v1/workspaces/1/transfers").await,
        json!([])
    );
    assert_eq!(
        queue_rows(&json(&owner, "/api/v1/workspaces/1/review").await),
        vec![(1, "unpaired".into()), (2, "unpaired".into())]
    );
}

#[tokio::test]
async fn picked_lots_drive_specific_identification() {
    let server = Server::start();
    let owner = imported(&server).await;
    let paired = owner
        .post(
            "/api/v1/workspaces/1/decisions",
            json!({"action": "pair", "withdrawal": 3, "deposit": 4}),
        )
        .await;
    assert_eq!(paired.status(), 201);
    // Row 6 sells 0.5 BTC: pick it from the 30,000 lot (row 2): basis
    // 15,000, proceeds 25,000, long-term gain 10,000 (bought 2020-02-01,
    // sold 2021-06-01).
    let pick = owner
        .post(
            "/api/v1/workspaces/1/decisions",
            json!({"action": "pick_lots", "disposal": 6, "lots": [[2, 50_000_000]]}),
        )
        .await;
    assert_eq!(pick.status(), 201);
    let specific = summary(&owner, "method=specific&transfer_fee=non-taxable").await;
    let fifo = summary(&owner, "method=fifo&transfer_fee=non-taxable").await;
    let year = |s: &Value| {
        s["years"]
            .as_array()
            .expect("years")
            .last()
            .cloned()
            .expect("2021")
    };
    assert_eq!(year(&specific)["cost_basis"], "15000.00");
    assert_eq!(year(&specific)["long_term_gain"], "10000.00");
    assert_eq!(year(&fifo)["cost_basis"], "5000.00");
    assert_ne!(specific["input_sha256"], fifo["input_sha256"]);

    // A pick later than the disposal is refused.
    let later = owner
        .post(
            "/api/v1/workspaces/1/decisions",
            json!({"action": "pick_lots", "disposal": 1, "lots": [[2, 1]]}),
        )
        .await;
    assert_eq!(later.status(), 422);
}

#[tokio::test]
async fn days_are_judged_in_the_workspace_time_zone() {
    let server = Server::start();
    let owner = server.owner().await;
    // Bought and sold an hour apart around midnight UTC on New Year: in UTC
    // the sale is in 2021; in Los Angeles it is still 2020.
    let file = "timestamp,type,account,btc,fiat_value,fiat_currency\n\
        2020-12-31T20:00:00Z,buy,a,1,100,USD\n\
        2021-01-01T01:00:00Z,sell,a,1,150,USD\n";
    owner.import_csv(file).await;
    assert_eq!(summary(&owner, "").await["years"][0]["year"], "2021");
    let bad = owner
        .put(
            "/api/v1/workspaces/1/settings",
            json!({"timezone": "Mars/Olympus"}),
        )
        .await;
    assert_eq!(bad.status(), 422);
    let set = owner
        .put(
            "/api/v1/workspaces/1/settings",
            json!({"timezone": "America/Los_Angeles"}),
        )
        .await;
    assert_eq!(set.status(), 200);
    assert_eq!(
        json(&owner, "/api/v1/workspaces/1/settings").await,
        json!({"timezone": "America/Los_Angeles"})
    );
    let s = summary(&owner, "").await;
    assert_eq!(s["years"][0]["year"], "2020");
    assert_eq!(s["years"][0]["gain"], "50.00");
    let out = server.cli(&[
        "report",
        "summary",
        "--jurisdiction",
        "us",
        "--format",
        "json",
    ]);
    let cli: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(cli["years"][0]["year"], "2020");
}

#[tokio::test]
async fn the_2025_basis_allocation_can_be_overridden() {
    let server = Server::start();
    let owner = server.owner().await;
    // The same history as the engine's unit test: by default wallet b's
    // 2025 sale has a basis of 30,000; allocating lot 1 (row 1) to b makes
    // it 10,000.
    let file = "timestamp,type,account,btc,fiat_value,fiat_currency,to_account\n\
        2024-01-01T12:00:00Z,buy,a,1,10000,USD,\n\
        2024-02-01T12:00:00Z,buy,a,1,30000,USD,\n\
        2024-06-01T12:00:00Z,transfer,a,1,,,b\n\
        2025-03-01T12:00:00Z,sell,b,1,50000,USD,\n";
    owner.import_csv(file).await;
    let basis = |s: Value| s["years"][0]["cost_basis"].clone();
    assert_eq!(
        basis(summary(&owner, "transfer_fee=non-taxable").await),
        "30000.00"
    );
    let allocate = owner
        .post(
            "/api/v1/workspaces/1/decisions",
            json!({"action": "allocate", "lots": [["b", 1, 100_000_000]]}),
        )
        .await;
    assert_eq!(allocate.status(), 201);
    assert_eq!(
        basis(summary(&owner, "transfer_fee=non-taxable").await),
        "10000.00"
    );
    let refused = owner
        .post(
            "/api/v1/workspaces/1/decisions",
            json!({"action": "allocate", "lots": [["b", 4, 1]]}),
        )
        .await;
    assert_eq!(refused.status(), 422);
}

#[tokio::test]
async fn the_review_page_offers_the_fitting_deposits_and_pairs_by_form() {
    let server = Server::start();
    let owner = server.owner().await;
    // One withdrawal, two deposits that both fit it: ambiguous.
    let file = "timestamp,type,account,btc\n\
        2020-03-01T00:00:00Z,withdrawal,exchange,0.5\n\
        2020-03-01T01:00:00Z,deposit,cold,0.5\n\
        2020-03-01T02:00:00Z,deposit,phone,0.5\n";
    owner.import_csv(file).await;
    let page = owner.get("/review").await.text().await.expect("html");
    assert!(page.contains("more than one counterpart fits"), "{page}");
    assert!(page.contains("<option value=\"2\">"), "{page}");
    assert!(page.contains("<option value=\"3\">"), "{page}");
    let no_csrf = owner
        .http
        .post(owner.url("/review/decide"))
        .form(&[("action", "pair"), ("withdrawal", "1"), ("deposit", "3")])
        .send()
        .await
        .expect("post");
    assert_eq!(
        no_csrf.status(),
        403,
        "a form without its CSRF token is refused"
    );
    let paired = owner
        .http
        .post(owner.url("/review/decide"))
        .form(&[
            ("csrf_token", owner.csrf.as_str()),
            ("action", "pair"),
            ("withdrawal", "1"),
            ("deposit", "3"),
        ])
        .send()
        .await
        .expect("post");
    assert!(paired.status().is_success(), "{}", paired.status());
    assert_eq!(
        json(&owner, "/api/v1/workspaces/1/transfers").await,
        json!([{"withdrawal_id": 1, "deposit_id": 3, "paired_by": "user"}])
    );
    // The other deposit is now unexplained on its own.
    assert_eq!(
        queue_rows(&json(&owner, "/api/v1/workspaces/1/review").await),
        vec![(2, "unmatched".into())]
    );
    let wrong = owner
        .http
        .post(owner.url("/review/decide"))
        .form(&[
            ("csrf_token", owner.csrf.as_str()),
            ("action", "pair"),
            ("withdrawal", "2"),
            ("deposit", "1"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(wrong.status(), 422);
    assert!(
        wrong
            .text()
            .await
            .expect("html")
            .contains("Not done: row 1 is already paired")
    );
}

#[tokio::test]
async fn lots_are_picked_on_their_page_by_form() {
    let server = Server::start();
    let owner = imported(&server).await;
    // Row 6 (a sale of 0.5 BTC in 2021) can draw on the rows acquired
    // before it: the two buys (rows 1 and 2) and the deposits (4 and 5).
    let page = owner
        .get("/review/lots?disposal=6")
        .await
        .text()
        .await
        .expect("html");
    for field in [
        "name=\"lot_1\"",
        "name=\"lot_2\"",
        "name=\"lot_4\"",
        "name=\"lot_5\"",
    ] {
        assert!(page.contains(field), "{field} missing");
    }
    assert!(
        !page.contains("name=\"lot_6\""),
        "the sale itself is no lot"
    );
    let picked = owner
        .http
        .post(owner.url("/review/decide"))
        .form(&[
            ("csrf_token", owner.csrf.as_str()),
            ("action", "pick_lots"),
            ("disposal", "6"),
            ("lot_1", ""),
            ("lot_2", "0.5"),
        ])
        .send()
        .await
        .expect("post");
    assert!(picked.status().is_success(), "{}", picked.status());
    let history = json(&owner, "/api/v1/workspaces/1/decisions").await;
    assert_eq!(
        history[0]["decision"],
        json!({"action": "pick_lots", "disposal": 6, "lots": [[2, 50_000_000]]})
    );
    let missing = owner.get("/review/lots?disposal=999").await;
    assert_eq!(missing.status(), 404);
}

/// The same exchange account twice: rows 1-3 as an exchange's API brings
/// them (with ids), rows 4-7 from an export without ids. Row 4 is row 1's
/// copy dated 40 s off; rows 5 and 6 both fit row 2 (a second export of
/// the same sale, its time cut differently); row 7 is an entry of its own.
const TWICE: &str = "id,timestamp,type,account,btc,fiat_value,fiat_currency\n\
    api-1,2024-01-01T10:00:40Z,buy,Exchange,0.5,20000,USD\n\
    api-2,2024-02-01T10:00:30Z,sell,Exchange,0.1,4500,USD\n\
    api-3,2024-03-01T10:00:00Z,buy,Exchange,0.2,12000,USD\n\
    ,2024-01-01T10:00:00Z,buy,Exchange,0.5,20000,USD\n\
    ,2024-02-01T10:00:00Z,sell,Exchange,0.1,4500,USD\n\
    ,2024-02-01T10:01:00Z,sell,Exchange,0.1,4500,USD\n\
    ,2024-04-01T10:00:00Z,buy,Exchange,0.3,21000,USD\n";

#[tokio::test]
async fn a_file_without_ids_and_the_api_count_each_entry_once_and_doubt_is_decided_in_review() {
    let server = Server::start();
    let owner = server.owner().await;
    owner.import_csv(TWICE).await;
    assert_eq!(
        json(&owner, "/api/v1/workspaces/1/duplicates").await,
        json!([{"copy_id": 4, "of_id": 1, "found_by": "amounts"}])
    );
    let queue = json(&owner, "/api/v1/workspaces/1/review").await;
    assert_eq!(
        queue_rows(&queue),
        vec![
            (5, "suspected_duplicate".into()),
            (6, "suspected_duplicate".into())
        ]
    );
    assert_eq!(queue[0]["candidate_ids"], json!([2]));
    let report = summary(&owner, "").await;
    assert_eq!(report["complete"], false);
    // Bought 1.0 (0.5 once, 0.2, 0.3); the sale counted three times until
    // decided: 4,500 proceeds each against 0.1 of the 20,000 lot.
    assert_eq!(report["years"][0]["proceeds"], "13500.00");

    // The page says why and offers both answers.
    let page = owner.get("/review").await.text().await.expect("html");
    assert!(page.contains("may be a second copy"), "{page}");
    assert!(page.contains("Counted once: 1"), "{page}");
    let decide = |fields: Vec<(&'static str, String)>| {
        let mut form = vec![("csrf_token", owner.csrf.clone())];
        form.extend(fields);
        owner
            .http
            .post(owner.url("/review/decide"))
            .form(&form)
            .send()
    };
    let same = decide(vec![
        ("action", "duplicate".into()),
        ("row", "5".into()),
        ("of", "2".into()),
    ])
    .await
    .expect("post");
    let status = same.status();
    assert!(
        status.is_success(),
        "{status} {}",
        same.text().await.unwrap_or_default()
    );
    let resp = owner
        .http
        .post(owner.url("/api/v1/workspaces/1/decisions"))
        .header("x-csrf-token", &owner.csrf)
        .json(&json!({"action": "duplicate", "row": 6, "of": 7}))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 422, "a sale cannot copy a purchase");
    let own = decide(vec![("action", "distinct".into()), ("row", "6".into())])
        .await
        .expect("post");
    assert!(own.status().is_success(), "{}", own.status());

    assert!(queue_rows(&json(&owner, "/api/v1/workspaces/1/review").await).is_empty());
    let report = summary(&owner, "").await;
    assert_eq!(report["complete"], true, "{report}");
    assert_eq!(report["years"][0]["proceeds"], "9000.00");
    assert_eq!(
        json(&owner, "/api/v1/workspaces/1/duplicates").await,
        json!([
            {"copy_id": 4, "of_id": 1, "found_by": "amounts"},
            {"copy_id": 5, "of_id": 2, "found_by": "user"}
        ])
    );

    // A later export holding row 3's entry: stored, counted once, and the
    // import's answer says so.
    let resp = owner
        .http
        .post(owner.url("/api/v1/workspaces/1/imports"))
        .header("x-csrf-token", &owner.csrf)
        .header("content-type", "application/octet-stream")
        .body("timestamp,type,account,btc,fiat_value,fiat_currency\n2024-03-01T10:00:00Z,buy,Exchange,0.2,12000,USD\n")
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.expect("json");
    assert_eq!(answer["added"], 1, "{answer}");
    assert_eq!(answer["counted_once"], 1, "{answer}");
    assert_eq!(summary(&owner, "").await["complete"], true);
}

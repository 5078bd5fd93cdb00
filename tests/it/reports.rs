//! Detailed reports through the API and the pages: Form 8949 lines, the
//! TurboTax layout, income, holdings, the matching trail and the
//! print-ready page.

use serde_json::{Value, json};

use crate::support::{Server, Session};

/// Two lots, then a 2025 sale of 1.5 BTC: FIFO takes lot 1 whole (long
/// term, bought 2020) and half of lot 2 (short term, bought 2025-01-10).
/// Income of 0.01 BTC worth 500 in 2025.
const FILE: &str = "timestamp,type,account,btc,fiat_value,fiat_currency,fee_fiat\n\
    2020-01-01T12:00:00Z,buy,exchange,1,10000,USD,10\n\
    2025-01-10T12:00:00Z,buy,exchange,1,90000,USD,\n\
    2025-03-01T12:00:00Z,income,exchange,0.01,500,USD,\n\
    2025-06-01T12:00:00Z,sell,exchange,1.5,150000,USD,15\n";

async fn imported(server: &Server) -> Session {
    let owner = server.owner().await;
    owner.import_csv(FILE).await;
    owner
}

#[tokio::test]
async fn capital_gains_come_as_form_8949_lines_and_in_turbotax_layout() {
    let server = Server::start();
    let owner = imported(&server).await;
    let resp = owner
        .get("/api/v1/workspaces/1/reports/detail/capital-gains?jurisdiction=us&basis=universal")
        .await;
    assert_eq!(resp.status(), 200);
    let report: Value = resp.json().await.expect("json");
    assert_eq!(report["complete"], true);
    assert_eq!(report["input_sha256"].as_str().map(str::len), Some(64));
    let lines = report["lines"].as_array().expect("lines");
    // Proceeds net of the fee: 149,985, shared by satoshis: 2/3 = 99,990 to
    // lot 1 (basis 10,010: long gain 89,980), 1/3 = 49,995 to half of lot 2
    // (basis 45,000: short gain 4,995). From 2025 the digital-asset boxes:
    // L for long term, I for short term, not reported on Form 1099-DA.
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["date_acquired"], "01/01/2020");
    assert_eq!(lines[0]["proceeds"], "99990.00");
    assert_eq!(lines[0]["cost_basis"], "10010.00");
    assert_eq!(lines[0]["box"], "L");
    assert_eq!(lines[1]["proceeds"], "49995.00");
    assert_eq!(lines[1]["cost_basis"], "45000.00");
    assert_eq!(lines[1]["box"], "I");

    let resp = owner
        .get("/api/v1/workspaces/1/reports/csv/capital-gains?jurisdiction=us&basis=universal&layout=turbotax")
        .await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .expect("header")
            .contains("ledgersys-capital-gains-us-turbotax.csv")
    );
    assert_eq!(
        resp.text().await.expect("text"),
        "Currency Name,Purchase Date,Cost Basis,Date Sold,Proceeds\n\
         BTC,01/01/2020,10010.00,06/01/2025,99990.00\n\
         BTC,01/10/2025,45000.00,06/01/2025,49995.00\n"
    );
    let uk = owner
        .get("/api/v1/workspaces/1/reports/csv/capital-gains?jurisdiction=uk&layout=turbotax")
        .await;
    assert_eq!(uk.status(), 400);
    let income = owner
        .get("/api/v1/workspaces/1/reports/csv/income?jurisdiction=us")
        .await
        .text()
        .await
        .expect("text");
    assert_eq!(
        income,
        "date,year,account,btc,value,currency,note\n2025-03-01,2025,exchange,0.01000000,500.00,USD,\n"
    );
    // Australian income years start on 1 July (Sydney dates).
    let au: Value = owner
        .get("/api/v1/workspaces/1/reports/detail/income?jurisdiction=au&currency=USD&year=2024")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(au["lines"][0]["year"], "2024-25");
    // A German report does not count USD income as euros: the line keeps its
    // own currency and the report says what to do.
    let de: Value = owner
        .get("/api/v1/workspaces/1/reports/detail/income?jurisdiction=de")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(de["lines"][0]["currency"], "USD", "{de}");
    assert_eq!(de["lines"][0]["value"], "500.00", "{de}");
    let issues = de["issues"].to_string();
    assert!(issues.contains("valued in USD, not EUR"), "{de}");
    let no_date = owner
        .get("/api/v1/workspaces/1/reports/detail/holdings?jurisdiction=us")
        .await;
    assert_eq!(no_date.status(), 400);
    let holdings: Value = owner
        .get("/api/v1/workspaces/1/reports/detail/holdings?jurisdiction=us&basis=universal&date=2025-12-31")
        .await
        .json()
        .await
        .expect("json");
    let held: Vec<(&str, &str)> = holdings["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["btc"].as_str().unwrap_or(""),
                l["cost_basis"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        held,
        vec![("0.50000000", "45000.00"), ("0.01000000", "500.00")]
    );
    let unknown = owner
        .get("/api/v1/workspaces/1/reports/detail/gossip?jurisdiction=us")
        .await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn the_trail_names_the_lots_each_disposal_drew_on() {
    let server = Server::start();
    let owner = imported(&server).await;
    // Pick half a bitcoin of lot 2 (row 2) for the sale (row 4); FIFO fills
    // the remaining 1 BTC from lot 1 (row 1).
    let pick = owner
        .post(
            "/api/v1/workspaces/1/decisions",
            json!({"action": "pick_lots", "disposal": 4, "lots": [[2, 50_000_000]]}),
        )
        .await;
    assert_eq!(pick.status(), 201);
    let trail: Value = owner
        .get("/api/v1/workspaces/1/reports/trail?jurisdiction=us&method=specific&basis=universal")
        .await
        .json()
        .await
        .expect("json");
    let d = &trail["disposals"][0];
    assert_eq!(d["row_ids"], json!([4]));
    assert_eq!(d["proceeds"], "149985.00");
    assert_eq!(d["allowable_costs"], "55010.00");
    let matches: Vec<(Value, Value, Value)> = d["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .map(|m| (m["rule"].clone(), m["lot_row_id"].clone(), m["btc"].clone()))
        .collect();
    assert_eq!(
        matches,
        vec![
            (json!("picked"), json!(2), json!("0.50000000")),
            (json!("specific"), json!(1), json!("1.00000000")),
        ]
    );
    let uk: Value = owner
        .get("/api/v1/workspaces/1/reports/trail?jurisdiction=uk&currency=USD")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(uk["disposals"][0]["matches"][0]["rule"], "section-104-pool");
    let page = owner
        .get("/reports/trail?jurisdiction=us&method=specific&basis=universal")
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains("lot of row 2"), "{page}");
}

#[tokio::test]
async fn the_print_ready_page_has_the_summary_every_disposal_and_the_income() {
    let server = Server::start();
    let owner = imported(&server).await;
    let resp = owner
        .get("/reports/print?jurisdiction=us&basis=universal")
        .await;
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.expect("html");
    assert!(page.contains("US capital gains and income"), "{page}");
    assert!(page.contains("<body class=\"printable\">"), "{page}");
    assert!(
        !page.contains("aria-label=\"Main\""),
        "no navigation on paper"
    );
    // The summary's gain (89,980 + 4,995) and both disposal lines.
    for figure in [
        "94975.00",
        "99990.00",
        "49995.00",
        "500.00",
        "Inputs SHA-256",
    ] {
        assert!(page.contains(figure), "{figure} missing");
    }
    // The Reports page links every download, holdings at the last year's end.
    let reports = owner
        .get("/reports?jurisdiction=us&basis=universal")
        .await
        .text()
        .await
        .expect("html");
    for link in [
        "/reports/print?",
        "/reports/trail?",
        "/reports/csv/capital-gains?",
        "layout=turbotax",
        "/reports/csv/income?",
        "/reports/csv/holdings?",
        "date=2025-12-31",
    ] {
        assert!(reports.contains(link), "{link} missing");
    }
}

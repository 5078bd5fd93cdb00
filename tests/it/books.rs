//! Importing files and reporting on them from the command line, as the
//! command-line contract describes.

use serde_json::Value;

use crate::support::{run, text};

const HISTORY: &str = "id,timestamp,type,account,btc,fiat_value,fiat_currency,fee_btc,fee_fiat,to_account\n\
b1,2020-01-01T12:00:00Z,buy,exchange,1,10000,USD,,10,\n\
b2,2020-06-01T12:00:00Z,buy,exchange,1,20000,USD,,,\n\
s1,2021-03-01T12:00:00Z,sell,exchange,1.5,45000,USD,,15,\n\
i1,2021-05-01T12:00:00Z,income,exchange,0.1,5000,USD,,,\n";

struct Books {
    _temp: tempfile::TempDir,
    dir: String,
    file: String,
}

impl Books {
    fn new(content: &str) -> Books {
        let temp = tempfile::tempdir().expect("temp");
        let file = temp.path().join("history.csv");
        std::fs::write(&file, content).expect("write");
        Books {
            dir: temp.path().join("data").display().to_string(),
            file: file.display().to_string(),
            _temp: temp,
        }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        run(&[&["--data-dir", self.dir.as_str()], args].concat())
    }

    fn summary(&self, extra: &[&str]) -> (Option<i32>, Value) {
        let out = self.run(&[&["report", "summary", "--format", "json"], extra].concat());
        let json = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stderr)));
        (out.status.code(), json)
    }
}

#[test]
fn an_imported_history_reports_exact_yearly_totals() {
    let books = Books::new(HISTORY);
    let out = books.run(&["import", &books.file]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        "imported 4 new rows into workspace default; 0 were already present"
    );

    let (code, json) = books.summary(&[
        "--jurisdiction",
        "us",
        "--method",
        "fifo",
        "--basis",
        "universal",
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(json["jurisdiction"], "us");
    assert_eq!(json["currency"], "USD");
    assert_eq!(json["method"], "fifo");
    assert_eq!(json["basis"], "universal");
    assert_eq!(json["complete"], true);
    assert_eq!(json["input_sha256"].as_str().expect("hash").len(), 64);
    let year = &json["years"][0];
    assert_eq!(year["year"], "2021");
    assert_eq!(year["disposals"], 1);
    assert_eq!(year["proceeds"], "44985.00");
    assert_eq!(year["cost_basis"], "20010.00");
    assert_eq!(year["gain"], "24975.00");
    assert_eq!(year["short_term_gain"], "4995.00");
    assert_eq!(year["long_term_gain"], "19980.00");
    assert_eq!(year["income"], "5000.00");

    // The same inputs give the identical report.
    let (_, again) = books.summary(&[
        "--jurisdiction",
        "us",
        "--method",
        "fifo",
        "--basis",
        "universal",
    ]);
    assert_eq!(json, again);
    let (_, lifo) = books.summary(&[
        "--jurisdiction",
        "us",
        "--method",
        "lifo",
        "--basis",
        "universal",
    ]);
    assert_ne!(
        json["input_sha256"], lifo["input_sha256"],
        "settings are part of the inputs"
    );
}

#[test]
fn re_importing_a_file_is_a_no_op() {
    // Two identical fills and a sale of both: if the fills collapsed into
    // one, or doubled on re-import, the report would be wrong.
    let books = Books::new(
        "timestamp,type,account,btc,fiat_value,fiat_currency\n\
        2021-01-01T00:00:00Z,buy,a,1,100,USD\n\
        2021-01-01T00:00:00Z,buy,a,1,100,USD\n\
        2021-02-01T00:00:00Z,sell,a,2,500,USD\n",
    );
    assert!(books.run(&["import", &books.file]).status.success());
    let again = books.run(&["import", &books.file]);
    assert_eq!(
        text(&again.stdout).trim(),
        "imported 0 new rows into workspace default; 3 were already present"
    );
    let (code, json) = books.summary(&["--jurisdiction", "us"]);
    assert_eq!(code, Some(0), "both fills are there to sell");
    assert_eq!(json["years"][0]["cost_basis"], "200.00");
    assert_eq!(json["years"][0]["gain"], "300.00");
}

#[test]
fn a_file_with_a_bad_line_is_refused_whole_with_its_line_number() {
    let books = Books::new(
        "timestamp,type,account,btc,fiat_value,fiat_currency\n\
        2021-01-01T00:00:00Z,buy,a,1,100,USD\n\
        2021-01-02T00:00:00Z,sell,a,0.5,,USD\n",
    );
    let out = books.run(&["import", &books.file]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("line 3: a sell row needs fiat_value"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was stored"), "{stderr}");
    assert!(out.stdout.is_empty());
    let (_, json) = books.summary(&["--jurisdiction", "us"]);
    assert_eq!(
        json["years"],
        Value::Array(vec![]),
        "the good first line was not stored either"
    );
}

#[test]
fn a_dry_run_stores_nothing() {
    let books = Books::new(HISTORY);
    let out = books.run(&["import", "--dry-run", &books.file]);
    assert_eq!(
        text(&out.stdout).trim(),
        "4 rows are valid; nothing was stored (dry run)"
    );
    let (_, json) = books.summary(&["--jurisdiction", "us"]);
    assert_eq!(json["years"], Value::Array(vec![]));
}

#[test]
fn an_incomplete_report_is_printed_and_exits_3() {
    let books = Books::new(
        "timestamp,type,account,btc,fiat_value,fiat_currency\n\
        2021-01-01T00:00:00Z,buy,a,1,100,USD\n\
        2021-02-01T00:00:00Z,sell,a,2,500,USD\n",
    );
    assert!(books.run(&["import", &books.file]).status.success());
    let (code, json) = books.summary(&["--jurisdiction", "us"]);
    assert_eq!(code, Some(3));
    assert_eq!(json["complete"], false);
    assert_eq!(json["years"][0]["proceeds"], "500.00");
}

#[test]
fn the_uk_report_follows_tax_years_and_share_matching() {
    let books = Books::new(
        "timestamp,type,account,btc,fiat_value,fiat_currency\n\
        2021-01-01T12:00:00Z,buy,a,2,20000,GBP\n\
        2021-06-01T12:00:00Z,sell,a,1,15000,GBP\n\
        2021-06-20T12:00:00Z,buy,a,1,14000,GBP\n\
        2021-09-01T12:00:00Z,sell,a,2,30000,GBP\n",
    );
    assert!(books.run(&["import", &books.file]).status.success());
    let (code, json) = books.summary(&["--jurisdiction", "uk"]);
    assert_eq!(code, Some(0));
    assert_eq!(json["currency"], "GBP");
    let year = &json["years"][0];
    assert_eq!(year["year"], "2021/22");
    assert_eq!(year["proceeds"], "45000.00");
    assert_eq!(year["allowable_costs"], "34000.00");
    assert_eq!(year["gain"], "11000.00");
    assert_eq!(year["annual_exempt_amount"], "12300.00");
    let csv = books.run(&[
        "report",
        "summary",
        "--jurisdiction",
        "uk",
        "--format",
        "csv",
    ]);
    let csv = text(&csv.stdout);
    assert!(csv.starts_with("year,disposals,proceeds,"), "{csv}");
    assert!(csv.contains("2021/22,2,45000.00,"), "{csv}");
}

#[test]
fn the_german_report_exempts_long_holdings_and_applies_the_freigrenze() {
    let books = Books::new(
        "timestamp,type,account,btc,fiat_value,fiat_currency\n\
        2021-03-01T10:00:00Z,buy,a,1,10000,EUR\n\
        2022-03-01T10:00:00Z,sell,a,0.5,20000,EUR\n\
        2022-03-02T10:00:00Z,sell,a,0.5,20000,EUR\n",
    );
    assert!(books.run(&["import", &books.file]).status.success());
    let (code, json) = books.summary(&["--jurisdiction", "de"]);
    assert_eq!(code, Some(0));
    assert_eq!(json["currency"], "EUR");
    assert_eq!(json["years"][0]["taxable_gain"], "15000.00");
    assert_eq!(json["years"][0]["long_term_gain"], "15000.00");
    assert_eq!(json["years"][0]["freigrenze_applies"], false);
}

#[test]
fn the_german_report_applies_fifo_per_wallet_unless_universal_is_chosen() {
    // The finance ministry's per-wallet reading (BMF, 10 May 2022, Rz. 61 f.):
    // January's coin went to cold storage, so the exchange's sale in
    // February 2024 draws September's coin, held five months: taxable.
    let books = Books::new(
        "timestamp,type,account,btc,fiat_value,fiat_currency,to_account\n\
        2023-01-10T10:00:00Z,buy,exchange,1,20000,EUR,\n\
        2023-02-01T10:00:00Z,transfer,exchange,1,,,cold\n\
        2023-09-10T10:00:00Z,buy,exchange,1,25000,EUR,\n\
        2024-02-15T10:00:00Z,sell,exchange,1,45000,EUR,\n",
    );
    assert!(books.run(&["import", &books.file]).status.success());
    let year_2024 = |json: &Value| {
        json["years"]
            .as_array()
            .expect("years")
            .iter()
            .find(|y| y["year"] == "2024")
            .cloned()
            .expect("2024")
    };
    let out = books.run(&[
        "report",
        "summary",
        "--jurisdiction",
        "de",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["basis"], "per-wallet");
    let y = year_2024(&json);
    assert_eq!(y["short_term_gain"], "20000.00");
    assert_eq!(y["taxable_gain"], "20000.00");
    assert!(
        !text(&out.stderr).contains("note:"),
        "{}",
        text(&out.stderr)
    );

    // Universal FIFO draws January's coin, held over a year: tax-free, and
    // the report says the choice departs from the ministry's reading.
    let out = books.run(&[
        "report",
        "summary",
        "--jurisdiction",
        "de",
        "--basis",
        "universal",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let universal: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(universal["basis"], "universal");
    let y = year_2024(&universal);
    assert_eq!(y["long_term_gain"], "25000.00");
    assert_eq!(y["taxable_gain"], "0.00");
    assert!(
        text(&out.stderr).contains("note: universal basis: FIFO across all wallets"),
        "{}",
        text(&out.stderr)
    );
    assert_ne!(json["input_sha256"], universal["input_sha256"]);

    let auto = books.run(&[
        "report",
        "summary",
        "--jurisdiction",
        "de",
        "--basis",
        "auto",
        "--format",
        "json",
    ]);
    assert_eq!(
        auto.status.code(),
        Some(2),
        "auto is the US transition rule"
    );
}

#[test]
fn the_australian_report_uses_income_years_and_the_discount() {
    let books = Books::new(
        "timestamp,type,account,btc,fiat_value,fiat_currency\n\
        2020-01-10T00:00:00Z,buy,a,1,10000,AUD\n\
        2021-03-01T00:00:00Z,sell,a,1,30000,AUD\n",
    );
    assert!(books.run(&["import", &books.file]).status.success());
    let (code, json) = books.summary(&["--jurisdiction", "au", "--year", "2020"]);
    assert_eq!(code, Some(0));
    assert_eq!(json["currency"], "AUD");
    assert_eq!(json["years"][0]["year"], "2020-21");
    assert_eq!(json["years"][0]["discounted_gain"], "10000.00");
}

#[test]
fn the_canadian_report_uses_the_average_cost_and_denies_superficial_losses() {
    let books = Books::new(
        "timestamp,type,account,btc,fiat_value,fiat_currency\n\
        2022-01-01T17:00:00Z,buy,a,1,50000,CAD\n\
        2022-06-01T17:00:00Z,sell,a,1,40000,CAD\n\
        2022-06-15T17:00:00Z,buy,a,1,41000,CAD\n",
    );
    assert!(books.run(&["import", &books.file]).status.success());
    let (code, json) = books.summary(&["--jurisdiction", "ca"]);
    assert_eq!(code, Some(0));
    assert_eq!(json["currency"], "CAD");
    assert_eq!(json["years"][0]["denied_superficial_losses"], "10000.00");
    assert_eq!(json["years"][0]["gain"], "0.00");
    let held = books.run(&[
        "report",
        "holdings",
        "--jurisdiction",
        "ca",
        "--date",
        "2022-12-31",
        "--format",
        "json",
    ]);
    let held: Value = serde_json::from_slice(&held.stdout).expect("json");
    assert_eq!(held[0]["adjusted_cost_base"], "51000.00");
}

#[test]
fn an_unknown_jurisdiction_is_a_usage_error() {
    let books = Books::new(HISTORY);
    let out = books.run(&[
        "report",
        "summary",
        "--jurisdiction",
        "fr",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown jurisdiction \"fr\""));
}

#[tokio::test]
async fn the_api_previews_imports_and_reports() {
    use reqwest::StatusCode;
    let server = crate::support::Server::start();
    let owner = server.owner().await;
    let post = |query: &'static str, body: &'static str| {
        owner
            .http
            .post(owner.url(&format!(
                "/api/v1/workspaces/1/imports?file_name=history.csv{query}"
            )))
            .header("x-csrf-token", &owner.csrf)
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
    };
    let preview = post("&dry_run=true", HISTORY).await.expect("post");
    assert_eq!(preview.status(), StatusCode::OK);
    let preview: Value = preview.json().await.expect("json");
    assert_eq!(preview["rows"], 4);
    assert_eq!(preview["dry_run"], true);
    assert_eq!(preview["preview"][2]["type"], "sell");
    assert_eq!(preview["preview"][2]["btc"], "1.50000000");
    let empty: Value = owner
        .get("/api/v1/workspaces/1/reports/summary?jurisdiction=us")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        empty["years"],
        Value::Array(vec![]),
        "a dry run stores nothing"
    );

    let done: Value = post("", HISTORY)
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(done["added"], 4);
    let again: Value = post("", HISTORY)
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (again["added"].clone(), again["already_present"].clone()),
        (Value::from(0), Value::from(4))
    );

    let refused = post(
        "",
        "timestamp,type,account,btc\n2021-01-01T00:00:00Z,buy,a,1\n",
    )
    .await
    .expect("post");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = refused.json().await.expect("json");
    assert_eq!(refused["code"], "file_refused");
    assert_eq!(refused["errors"][0]["line"], 2);
    assert_eq!(
        refused["errors"][0]["message"],
        "a buy row needs fiat_value"
    );

    let summary: Value = owner
        .get("/api/v1/workspaces/1/reports/summary?jurisdiction=us&method=fifo&basis=universal")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(summary["complete"], true);
    assert_eq!(summary["years"][0]["gain"], "24975.00");
    assert_eq!(summary["issues"], Value::Array(vec![]));
    let csv = owner
        .get("/api/v1/workspaces/1/reports/summary.csv?jurisdiction=us&basis=universal")
        .await;
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .expect("cd")
            .contains("attachment")
    );
    assert!(
        csv.text()
            .await
            .expect("csv")
            .contains("2021,1,44985.00,20010.00,24975.00,")
    );
}

#[tokio::test]
async fn a_person_checks_a_file_then_imports_it_and_reads_the_report() {
    use reqwest::StatusCode;
    use reqwest::multipart::{Form, Part};
    let server = crate::support::Server::start();
    let owner = server.owner().await;
    let upload = |content: &'static str, csrf: Option<String>| {
        let mut form = Form::new()
            .part(
                "file",
                Part::bytes(content.as_bytes().to_vec()).file_name("history.csv"),
            )
            .text("timezone", "UTC");
        if let Some(token) = csrf {
            form = form.text("csrf_token", token);
        }
        owner
            .http
            .post(owner.url("/imports/preview"))
            .multipart(form)
            .send()
    };
    let forged = upload(HISTORY, None).await.expect("post");
    assert_eq!(
        forged.status(),
        StatusCode::FORBIDDEN,
        "an upload needs the CSRF token too"
    );

    let bad = upload(
        "timestamp,type,account,btc\n2021-01-01T00:00:00Z,buy,a,1\n",
        Some(owner.csrf.clone()),
    )
    .await
    .expect("post");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.text()
            .await
            .expect("html")
            .contains("Line 2: a buy row needs fiat_value")
    );

    let checked = upload(HISTORY, Some(owner.csrf.clone()))
        .await
        .expect("post");
    assert_eq!(checked.status(), StatusCode::OK);
    let html = checked.text().await.expect("html");
    assert!(html.contains("history.csv: 4 rows"), "{html}");
    assert!(html.contains("<td>sell</td>"), "{html}");
    let token = html
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a confirmation token")
        .to_string();
    let empty: Value = owner
        .get("/api/v1/workspaces/1/reports/summary?jurisdiction=us")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        empty["years"],
        Value::Array(vec![]),
        "nothing is stored before the person confirms"
    );

    let done = owner
        .http
        .post(owner.url("/imports/commit"))
        .form(&[
            ("token", token.as_str()),
            ("csrf_token", owner.csrf.as_str()),
        ])
        .send()
        .await
        .expect("commit");
    assert_eq!(done.url().path(), "/imports");
    assert!(
        done.text()
            .await
            .expect("html")
            .contains("Imported 4 new rows; 0 were already present.")
    );
    let reused = owner
        .http
        .post(owner.url("/imports/commit"))
        .form(&[
            ("token", token.as_str()),
            ("csrf_token", owner.csrf.as_str()),
        ])
        .send()
        .await
        .expect("commit");
    assert_eq!(
        reused.status(),
        StatusCode::GONE,
        "a confirmation works once"
    );

    let report = owner
        .get("/reports?jurisdiction=us&basis=universal")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        report.contains("24975.00") && report.contains("44985.00"),
        "{report}"
    );

    server.add_member(&owner, "viewer1", "viewer").await;
    let viewer = server.login("viewer1", crate::support::PASSWORD).await;
    let form = Form::new()
        .part(
            "file",
            Part::bytes(HISTORY.as_bytes().to_vec()).file_name("h.csv"),
        )
        .text("csrf_token", viewer.csrf.clone());
    let refused = viewer
        .http
        .post(viewer.url("/imports/preview"))
        .multipart(form)
        .send()
        .await
        .expect("post");
    assert_eq!(
        refused.status(),
        StatusCode::FORBIDDEN,
        "viewers read; they do not import"
    );
}

#[test]
fn detailed_reports_list_every_disposal_income_and_lot() {
    let books = Books::new(HISTORY);
    assert!(books.run(&["import", &books.file]).status.success());
    let gains = books.run(&[
        "report",
        "capital-gains",
        "--jurisdiction",
        "us",
        "--method",
        "fifo",
        "--basis",
        "universal",
        "--format",
        "csv",
    ]);
    assert!(gains.status.success(), "{}", text(&gains.stderr));
    let csv = text(&gains.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "description,date_acquired,date_sold,proceeds,cost_basis,gain,term,form_8949_part,box,account,type,basis_known"
    );
    // The hand-worked sale: a long-term whole lot and a short-term half lot.
    assert_eq!(
        lines[1],
        "1.00000000 BTC,01/01/2020,03/01/2021,29990.00,10010.00,19980.00,long,II,F,exchange,sell,true"
    );
    assert_eq!(
        lines[2],
        "0.50000000 BTC,06/01/2020,03/01/2021,14995.00,10000.00,4995.00,short,I,C,exchange,sell,true"
    );
    assert_eq!(lines.len(), 3);

    let income = books.run(&[
        "report",
        "income",
        "--jurisdiction",
        "us",
        "--format",
        "json",
    ]);
    let income: Value = serde_json::from_slice(&income.stdout).expect("json");
    assert_eq!(income[0]["value"], "5000.00");
    assert_eq!(income[0]["year"], "2021");

    let held = books.run(&[
        "report",
        "holdings",
        "--jurisdiction",
        "us",
        "--basis",
        "universal",
        "--date",
        "2021-12-31",
        "--format",
        "json",
    ]);
    let held: Value = serde_json::from_slice(&held.stdout).expect("json");
    assert_eq!(held.as_array().expect("lots").len(), 2, "{held}");
    assert_eq!(held[0]["btc"], "0.50000000");
    assert_eq!(held[0]["cost_basis"], "10000.00");
    assert_eq!(held[1]["btc"], "0.10000000");
    let before = books.run(&[
        "report",
        "holdings",
        "--jurisdiction",
        "us",
        "--basis",
        "universal",
        "--date",
        "2020-03-01",
        "--format",
        "json",
    ]);
    let before: Value = serde_json::from_slice(&before.stdout).expect("json");
    assert_eq!(before[0]["btc"], "1.00000000");
    assert_eq!(before[0]["cost_basis"], "10010.00");

    let uk = books.run(&[
        "report",
        "holdings",
        "--jurisdiction",
        "uk",
        "--currency",
        "USD",
        "--date",
        "2021-12-31",
        "--format",
        "json",
    ]);
    let uk: Value = serde_json::from_slice(&uk.stdout).expect("json");
    assert_eq!(uk[0]["btc"], "0.60000000");
    let no_date = books.run(&[
        "report",
        "holdings",
        "--jurisdiction",
        "us",
        "--format",
        "json",
    ]);
    assert_eq!(no_date.status.code(), Some(2));
}

#[test]
fn a_withdrawal_and_its_deposit_become_one_transfer() {
    // Bought on the exchange, withdrawn to cold storage (the exchange and
    // the wallet each report their side), sold from cold storage two years
    // later: matched by txid, the coins keep their basis and date.
    let books = Books::new(
        "timestamp,type,account,btc,fiat_value,fiat_currency,fee_btc,txid\n\
        2020-01-01T12:00:00Z,buy,exchange,1,10000,USD,,\n\
        2020-01-02T12:00:00Z,withdrawal,exchange,0.9999,,,0.0001,abc123\n\
        2020-01-02T12:40:00Z,deposit,cold,0.9999,,,,abc123\n\
        2022-01-05T12:00:00Z,sell,cold,0.9999,40000,USD,,\n\
        2022-02-01T12:00:00Z,deposit,cold,0.5,,,,\n",
    );
    assert!(books.run(&["import", &books.file]).status.success());
    let out = books.run(&[
        "report",
        "summary",
        "--jurisdiction",
        "us",
        "--basis",
        "per-wallet",
        "--transfer-fee",
        "non-taxable",
        "--format",
        "json",
    ]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    let year = &json["years"][0];
    assert_eq!(year["year"], "2022");
    assert_eq!(year["cost_basis"], "9999.00", "0.9999 of a 10,000 lot");
    assert_eq!(year["long_term_gain"], "30001.00");
    // The later deposit has no counterpart: the report says so and is incomplete.
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(json["complete"], false);
    assert!(
        text(&out.stderr).contains("an unexplained deposit"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn the_review_queue_lists_what_matching_could_not_explain() {
    let server = crate::support::Server::start();
    let owner = server.owner().await;
    let file = "timestamp,type,account,btc,txid\n\
        2020-01-02T12:00:00Z,withdrawal,exchange,1,abc\n\
        2020-01-02T12:40:00Z,deposit,cold,1,abc\n\
        2020-03-01T00:00:00Z,withdrawal,exchange,0.5,\n\
        2020-03-01T01:00:00Z,deposit,cold,0.5,\n\
        2020-03-01T02:00:00Z,deposit,phone,0.5,\n\
        2021-01-01T00:00:00Z,deposit,cold,2,\n";
    owner.import_csv(file).await;
    let review: Value = owner
        .get("/api/v1/workspaces/1/review")
        .await
        .json()
        .await
        .expect("json");
    let items = review.as_array().expect("list");
    assert_eq!(items.len(), 2, "{review}");
    assert_eq!(items[0]["reason"], "ambiguous");
    assert_eq!(items[0]["row"]["btc"], "0.50000000");
    assert_eq!(
        items[0]["candidates"].as_array().expect("candidates").len(),
        2
    );
    assert_eq!(items[1]["reason"], "unmatched");
    assert_eq!(items[1]["row"]["btc"], "2.00000000");
    let page = owner.get("/transactions").await.text().await.expect("html");
    assert!(page.contains("2 row(s) need review"), "{page}");
    let page = owner.get("/review").await.text().await.expect("html");
    assert!(page.contains("Needs review: 2"), "{page}");
}

#[test]
fn a_report_says_how_long_it_took_when_asked() {
    let books = Books::new(
        "timestamp,type,account,btc,fiat_value,fiat_currency\n\
         2020-01-01T12:00:00Z,buy,a,1,100,USD\n",
    );
    assert!(books.run(&["import", &books.file]).status.success());
    let quiet = books.run(&[
        "report",
        "summary",
        "--jurisdiction",
        "us",
        "--format",
        "json",
    ]);
    assert!(!text(&quiet.stderr).contains("timings:"));
    let timed = crate::support::command()
        .args([
            "--data-dir",
            &books.dir,
            "report",
            "summary",
            "--jurisdiction",
            "us",
            "--format",
            "json",
        ])
        .env("LEDGERSYS_TIMINGS", "1")
        .output()
        .expect("run");
    assert_eq!(timed.status.code(), Some(0), "{}", text(&timed.stderr));
    let err = text(&timed.stderr);
    assert!(
        err.contains("timings: load ") && err.contains("(1 rows), compute "),
        "{err}"
    );
}

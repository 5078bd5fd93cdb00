//! Exchange and wallet exports as a user drops them: recognised from their
//! header, previewed with what is skipped and why, imported once, converted
//! on the command line; a kept upload checked again with another format.
//! The export and its round trip are in `export.rs`.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{Server, Session, command, text};

pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture")
}

pub async fn import(session: &Session, ws: i64, query: &str, body: Vec<u8>) -> reqwest::Response {
    session
        .http
        .post(session.url(&format!("/api/v1/workspaces/{ws}/imports?{query}")))
        .header("x-csrf-token", &session.csrf)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .expect("post")
}

#[test]
fn convert_prints_the_generic_rows_and_lists_what_it_skipped() {
    let out = command()
        .args([
            "convert",
            &fixture("kraken-ledgers.csv"),
            "--account",
            "kraken-main",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 8, "{stdout}");
    assert_eq!(
        lines[0],
        "id,timestamp,type,account,btc,fiat_value,fiat_currency,fee_btc,fee_fiat,to_account,txid,note"
    );
    assert_eq!(
        lines[2],
        "T1,2024-01-04T12:00:00.1234Z,buy,kraken-main,0.10000000,4400.0000,USD,,11.4400,,,"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("read as Kraken ledgers (7 rows, 5 skipped)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 3: skipped: a pending entry (no txid yet)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 9: skipped: a move between Kraken wallets"),
        "{stderr}"
    );

    // The override wins over detection, and says when it does not fit.
    let wrong = command()
        .args([
            "convert",
            &fixture("kraken-ledgers.csv"),
            "--format",
            "coinbase",
        ])
        .output()
        .expect("run");
    assert_eq!(wrong.status.code(), Some(3));
    assert!(wrong.stdout.is_empty());
    assert!(text(&wrong.stderr).contains("no Coinbase transaction history header found"));

    let unknown = command()
        .args([
            "convert",
            &fixture("kraken-ledgers.csv"),
            "--format",
            "mtgox",
        ])
        .output()
        .expect("run");
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn convert_refuses_a_file_with_a_bad_row_and_prints_nothing() {
    let temp = tempfile::tempdir().expect("temp");
    let file = temp.path().join("river.csv");
    let good = std::fs::read_to_string(fixture("river.csv")).expect("fixture");
    std::fs::write(&file, good.replace("0.01500000,BTC", "lots,BTC")).expect("write");
    let out = command()
        .args([
            "convert",
            &file.display().to_string(),
            "--timezone",
            "America/New_York",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("line 4: \"lots\" is not a number"),
        "{}",
        text(&out.stderr)
    );
}

/// Strike's annual export as its format describes it: `Amount BTC` is the
/// signed balance change, so a send's network fee is inside it.
const STRIKE_SEND: &str = "Reference,Date & Time (UTC),Transaction Type,Amount USD,Fee USD,Amount BTC,Fee BTC,BTC Price,Cost Basis (USD),Destination,Description,Transaction Hash,Note\n\
    P-1,Jan 03 2024 10:00:00,Purchase,-2000.00,0.00,0.05000000,,40000.00,2000.00,,,,\n\
    W-1,Feb 01 2024 8:00:00,Send,,,-0.01002150,-0.00002150,,,bc1qcoldstorage0000000000000000000000000,On-chain withdrawal,aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11,\n";

#[test]
fn a_strike_send_debits_its_fee_once_in_convert_and_import() {
    let temp = tempfile::tempdir().expect("temp");
    let file = temp.path().join("strike.csv");
    std::fs::write(&file, STRIKE_SEND).expect("write");
    let file = file.display().to_string();

    let out = command().args(["convert", &file]).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    // 0.01002150 left the balance: 0.01000000 reached the address and
    // 0.00002150 went to the miners.
    assert_eq!(
        lines[2],
        format!(
            "W-1,2024-02-01T08:00:00Z,withdrawal,strike,0.01000000,,,0.00002150,,,{},",
            "aa11".repeat(16)
        ),
        "{stdout}"
    );
    assert_eq!(lines.len(), 3, "{stdout}");

    let data = temp.path().join("data").display().to_string();
    let books = |args: &[&str]| {
        command()
            .args([&["--data-dir", data.as_str()], args].concat())
            .output()
            .expect("run")
    };
    let imported = books(&["import", &file]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    let held = books(&[
        "report",
        "holdings",
        "--jurisdiction",
        "us",
        "--basis",
        "per-wallet",
        "--date",
        "2024-12-31",
        "--format",
        "json",
    ]);
    let held: Value = serde_json::from_slice(&held.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&held.stderr)));
    let lots = held.as_array().expect("lots");
    assert_eq!(lots.len(), 1, "{held}");
    // 0.05000000 bought less the 0.01002150 the balance went down by; the
    // fee counted twice would leave 0.03995700.
    assert_eq!(lots[0]["btc"], "0.03997850", "{held}");
}

#[tokio::test]
async fn an_export_is_recognised_previewed_and_imported_once() {
    let server = Server::start();
    let owner = server.owner().await;
    let preview: Value = import(&owner, 1, "dry_run=true", bytes("coinbase-2024.csv"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(preview["format"], "coinbase");
    assert_eq!(preview["format_label"], "Coinbase transaction history");
    assert_eq!(preview["timezone"], "UTC");
    assert_eq!(preview["rows"], 9);
    assert_eq!(preview["already_present"], 0);
    let skipped: Vec<(i64, String)> = preview["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| {
            (
                s["line"].as_i64().unwrap_or(0),
                s["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        vec![
            (
                6,
                "Deposit of USD: a fiat-only row, no bitcoin moves".to_string()
            ),
            (9, "Convert of ETH: not bitcoin".to_string()),
            (
                15,
                "Withdrawal of USD: a fiat-only row, no bitcoin moves".to_string()
            ),
        ]
    );
    assert_eq!(preview["preview"][1]["type"], "sell");
    assert_eq!(preview["preview"][1]["fiat_value"], "3050.00");

    let done: Value = import(&owner, 1, "", bytes("coinbase-2024.csv"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        (done["added"].clone(), done["already_present"].clone()),
        (Value::from(9), Value::from(0))
    );
    let again: Value = import(&owner, 1, "dry_run=true", bytes("coinbase-2024.csv"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        again["already_present"], 9,
        "the preview says what is already there"
    );

    // Naming a format that does not fit refuses the file and stores nothing.
    let wrong = import(
        &owner,
        1,
        "format=kraken-ledgers",
        bytes("coinbase-2024.csv"),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let wrong: Value = wrong.json().await.expect("json");
    assert_eq!(
        wrong["errors"][0]["message"],
        "no Kraken ledgers header found in the file"
    );

    let binary = import(&owner, 1, "", vec![0x89, b'P', b'N', b'G', 0, 0, 1, 2]).await;
    assert_eq!(binary.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let binary: Value = binary.json().await.expect("json");
    assert!(
        binary["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("not CSV text")
    );

    // Deposits and withdrawals of the exchange reach the review queue.
    let review: Value = owner
        .get("/api/v1/workspaces/1/review")
        .await
        .json()
        .await
        .expect("json");
    let kinds: Vec<&str> = review
        .as_array()
        .expect("queue")
        .iter()
        .filter_map(|i| i["row"]["type"].as_str())
        .collect();
    assert_eq!(kinds, vec!["deposit", "withdrawal"], "{review}");
}

#[tokio::test]
async fn the_upload_limit_is_configurable_and_clear() {
    let server = Server::start_with(&[("LEDGERSYS_IMPORT_MAX_UPLOAD_MB", "1")]);
    let owner = server.owner().await;
    let big = vec![b'a'; 1024 * 1024 + 1];
    let refused = import(&owner, 1, "", big).await;
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["code"], "payload_too_large");
    assert!(
        body["message"].as_str().unwrap_or("").contains("1 MB"),
        "{body}"
    );
}

#[tokio::test]
async fn the_preview_page_names_the_format_and_lists_skipped_lines() {
    use reqwest::multipart::{Form, Part};
    let server = Server::start();
    let owner = server.owner().await;
    let form = Form::new()
        .part(
            "file",
            Part::bytes(bytes("strike.csv")).file_name("strike.csv"),
        )
        .text("timezone", "UTC")
        .text("format", "auto")
        .text("csrf_token", owner.csrf.clone());
    let page = owner
        .http
        .post(owner.url("/imports/preview"))
        .multipart(form)
        .send()
        .await
        .expect("post");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("strike.csv: 9 rows"), "{html}");
    assert!(
        html.contains(
            "Read as <strong>Strike annual transactions</strong> (recognised from its header)"
        ),
        "{html}"
    );
    assert!(html.contains("Skipped: 2"), "{html}");
    assert!(
        html.contains("Line 11: Withdrawal: a fiat-only row, no bitcoin moves"),
        "{html}"
    );
    assert!(
        html.contains("<option value=\"strike\" selected>"),
        "{html}"
    );
}

/// The value of the hidden `token` field of a page's forms.
fn token_in(html: &str) -> String {
    html.split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a token")
        .to_string()
}

/// The files waiting in the data directory, with their modes.
fn waiting(server: &Server) -> Vec<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::read_dir(server.data_dir.join("pending-imports"))
        .expect("dir")
        .map(|e| {
            e.expect("entry")
                .metadata()
                .expect("stat")
                .permissions()
                .mode()
                & 0o777
        })
        .collect()
}

#[tokio::test]
async fn a_kept_upload_is_checked_again_with_another_format_then_imported() {
    use reqwest::multipart::{Form, Part};
    let server = Server::start();
    let owner = server.owner().await;
    // The person picks the wrong format: refused, every problem listed,
    // and the upload kept for another try.
    let form = Form::new()
        .part(
            "file",
            Part::bytes(bytes("strike.csv")).file_name("strike.csv"),
        )
        .text("timezone", "UTC")
        .text("format", "kraken-trades")
        .text("csrf_token", owner.csrf.clone());
    let wrong = owner
        .http
        .post(owner.url("/imports/preview"))
        .multipart(form)
        .send()
        .await
        .expect("post");
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = wrong.text().await.expect("html");
    assert!(
        html.contains("The file strike.csv was not imported"),
        "{html}"
    );
    assert!(html.contains("action=\"/imports/recheck\""), "{html}");
    assert!(
        html.contains("<option value=\"kraken-trades\" selected>"),
        "{html}"
    );
    let token = token_in(&html);
    assert_eq!(waiting(&server), vec![0o600], "one private file waits");

    let recheck = |format: &'static str, csrf: &str| {
        owner
            .http
            .post(owner.url("/imports/recheck"))
            .form(&[
                ("token", token.as_str()),
                ("format", format),
                ("timezone", "America/New_York"),
                ("csrf_token", csrf),
            ])
            .send()
    };
    let forged = recheck("auto", "forged").await.expect("post");
    assert_eq!(
        forged.status(),
        StatusCode::FORBIDDEN,
        "the form needs CSRF"
    );

    // Checked again, recognised from its header, without uploading again.
    let again = recheck("auto", &owner.csrf).await.expect("post");
    assert_eq!(again.status(), StatusCode::OK);
    let html = again.text().await.expect("html");
    assert!(html.contains("strike.csv: 9 rows"), "{html}");
    assert!(
        html.contains(
            "Read as <strong>Strike annual transactions</strong> (recognised from its header)"
        ),
        "{html}"
    );
    assert!(html.contains("read in America/New_York"), "{html}");
    assert!(
        html.contains("<option value=\"strike\" selected>"),
        "{html}"
    );
    assert_eq!(token_in(&html), token, "the same upload");
    let stored: Value = owner
        .get("/api/v1/workspaces/1/transactions")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(stored["total"], 0, "nothing stored before the confirmation");

    let commit = || {
        owner
            .http
            .post(owner.url("/imports/commit"))
            .form(&[("token", token.as_str()), ("csrf_token", &owner.csrf)])
            .send()
    };
    let done = commit().await.expect("commit");
    assert_eq!(done.url().path(), "/imports");
    assert_eq!(done.url().query(), Some("added=9&present=0"));
    assert!(
        waiting(&server).is_empty(),
        "the file is deleted once imported"
    );
    let stored: Value = owner
        .get("/api/v1/workspaces/1/transactions")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(stored["total"], 9);
    assert_eq!(commit().await.expect("commit").status(), StatusCode::GONE);
    let late = recheck("auto", &owner.csrf).await.expect("post");
    assert_eq!(late.status(), StatusCode::GONE);
}

#[test]
fn the_command_line_imports_an_export_once_with_the_format_named_or_detected() {
    let temp = tempfile::tempdir().expect("temp");
    let dir = temp.path().join("data").display().to_string();
    let file = fixture("swan.csv");
    let run = |extra: &[&str]| {
        command()
            .args(
                [
                    &["--data-dir", dir.as_str(), "import", file.as_str()],
                    extra,
                ]
                .concat(),
            )
            .output()
            .expect("run")
    };
    let checked = run(&["--dry-run"]);
    assert_eq!(checked.status.code(), Some(0), "{}", text(&checked.stderr));
    assert_eq!(
        text(&checked.stdout).trim(),
        "7 rows are valid; nothing was stored (dry run)"
    );
    let done = run(&["--format", "swan", "--account", "swan-main"]);
    assert_eq!(
        text(&done.stdout).trim(),
        "imported 7 new rows into workspace default; 0 were already present"
    );
    let stderr = text(&done.stderr);
    assert!(
        stderr.contains("read as Swan deposits and purchases"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 9: skipped: purchase is pending, not settled (pending)"),
        "{stderr}"
    );
    let again = run(&["--account", "swan-main"]);
    assert_eq!(
        text(&again.stdout).trim(),
        "imported 0 new rows into workspace default; 7 were already present"
    );
    let recheck = run(&["--dry-run", "--account", "swan-main"]);
    assert!(text(&recheck.stderr).contains("7 rows are already present"));
    let holdings = command()
        .args([
            "--data-dir",
            dir.as_str(),
            "report",
            "holdings",
            "--jurisdiction",
            "us",
            "--date",
            "2023-12-31",
            "--format",
            "json",
        ])
        .output()
        .expect("run");
    let lots: Value = serde_json::from_slice(&holdings.stdout).expect("json");
    let sats: i64 = lots
        .as_array()
        .expect("lots")
        .iter()
        .filter_map(|l| l["btc"].as_str())
        // Eight decimal places: whole satoshis without the point.
        .map(|b| b.replace('.', "").parse::<i64>().unwrap_or(0))
        .sum();
    assert_eq!(
        sats,
        590_000 + 470_000 + 280_000 + 10_000_000 + 4_000_000 + 1_071_395 + 350_000
    );
}

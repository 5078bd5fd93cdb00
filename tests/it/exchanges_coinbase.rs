//! Coinbase over the command line, against a fake Coinbase that verifies
//! every JWT as Coinbase does: read-only keys of both kinds accepted, keys
//! that can trade or transfer refused with nothing stored, every BTC
//! account's history synced whole and then only what is new, resumed
//! after a failure or a kill without doubles, the same rows from the CSV
//! and the API, and the key never written anywhere.

use std::path::Path;

use serde_json::{Value, json};

use crate::fakes::coinbase::{self, Account, FakeCoinbase, TestKey};
use crate::support::{command, text};

struct Dir {
    data: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        Dir {
            data: tempfile::tempdir().expect("temp"),
        }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        command()
            .arg("--data-dir")
            .arg(self.data.path().join("data"))
            .args(args)
            .output()
            .expect("run")
    }

    fn add_as(
        &self,
        fake: &FakeCoinbase,
        name: &str,
        key: &str,
        secret: &str,
    ) -> std::process::Output {
        let k = self.data.path().join("key.txt");
        let s = self.data.path().join("secret.txt");
        std::fs::write(&k, format!("{key}\n")).expect("key");
        std::fs::write(&s, format!("{secret}\n")).expect("secret");
        self.run(&[
            "exchange",
            "add",
            "coinbase",
            "--name",
            name,
            "--key-file",
            k.to_str().expect("utf-8"),
            "--secret-file",
            s.to_str().expect("utf-8"),
            "--api-url",
            &fake.url,
        ])
    }

    fn add(&self, fake: &FakeCoinbase, key: &TestKey) -> std::process::Output {
        self.add_as(fake, "Coinbase", &key.name, &key.secret)
    }

    fn list(&self) -> Value {
        json_of(&self.run(&["exchange", "list", "--format", "json"]))
    }
}

fn json_of(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

/// Every byte under `dir` (database, WAL, logs) as lossy text, the key
/// files left out.
fn everything_under(dir: &Path) -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            all.push_str(&everything_under(&path));
        } else if !path.ends_with("key.txt") && !path.ends_with("secret.txt") {
            all.push_str(&String::from_utf8_lossy(
                &std::fs::read(&path).unwrap_or_default(),
            ));
        }
    }
    all
}

fn btc_account(id: &str, balance: &str, transactions: Vec<Value>) -> Account {
    Account {
        id: id.into(),
        currency: "BTC",
        balance: balance.into(),
        transactions,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_keys_of_both_kinds_are_accepted_with_either_issuer_and_then_sync() {
    for (key, issuer) in [
        (TestKey::es256(), "cdp"),
        (TestKey::es256(), "coinbase-cloud"),
        (TestKey::ed25519(), "cdp"),
        (TestKey::ed25519(), "coinbase-cloud"),
    ] {
        let fake = FakeCoinbase::start(&key, issuer).await;
        fake.set(|s| {
            s.accounts = vec![btc_account("acct-btc", "0.03000000", coinbase::buys(3))];
        });
        let dir = Dir::new();
        let added = json_of(&dir.add(&fake, &key));
        assert_eq!(added["exchange"], "coinbase", "{} {issuer}", key.alg);
        assert_eq!(added["permissions"], json!(["can_view"]));
        assert!(
            added["warnings"][0]
                .as_str()
                .unwrap_or("")
                .contains("one portfolio"),
            "{added}"
        );
        let listed = dir.list();
        assert_eq!(listed[0]["name"], "Coinbase");
        assert_eq!(listed[0]["key_last4"], &key.name[key.name.len() - 4..]);
        let synced = json_of(&dir.run(&["exchange", "sync"]));
        let c = &synced["connections"][0];
        assert_eq!(c["new_rows"], 3, "{} {issuer}: {synced}", key.alg);
        assert_eq!(c["balance_sat"], 3_000_000);
        assert_eq!(c["exchange_balance_sat"], 3_000_000);
        // Only the `cdp` fake ever sees a refused token (the first try of
        // `coinbase-cloud` keys); the sync goes on with the `iss` that
        // worked.
        let refused = fake.refused();
        assert_eq!(refused, if issuer == "cdp" { 0 } else { 2 }, "{issuer}");
    }
    // A read-only answer with fields this code does not know, for a
    // portfolio that is not the default one.
    let key = TestKey::es256();
    let fake = FakeCoinbase::start(&key, "cdp").await;
    fake.set(|s| s.permissions = coinbase::read_only_with_more());
    let added = json_of(&Dir::new().add(&fake, &key));
    assert!(
        added["warnings"][0]
            .as_str()
            .unwrap_or("")
            .contains("UNDEFINED portfolio only"),
        "{added}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_that_can_trade_or_transfer_are_refused_naming_what_to_remove_with_nothing_stored() {
    let key = TestKey::es256();
    let fake = FakeCoinbase::start(&key, "cdp").await;
    let dir = Dir::new();
    for (answer, named) in [
        (coinbase::can_trade(), "remove the Trade permission"),
        (coinbase::can_transfer(), "remove the Transfer permission"),
    ] {
        fake.set(|s| s.permissions = answer);
        let refused = dir.add(&fake, &key);
        assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
        let why = text(&refused.stderr);
        assert!(why.contains(named), "{why}");
        assert!(why.contains("nothing was stored"), "{why}");
        assert!(!why.contains(&key.name), "{why}");
        assert_eq!(dir.list(), json!([]));
    }
    let stored = everything_under(dir.data.path());
    assert!(!stored.contains(&key.name));
    assert!(!stored.contains(key.secret.lines().nth(1).expect("line")));
    assert_eq!(fake.pages(), 0);
    assert_eq!(
        fake.calls()
            .iter()
            .filter(|c| *c == "GET /api/v3/brokerage/key_permissions")
            .count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_of_another_key_or_no_key_at_all_is_refused_in_plain_words() {
    let key = TestKey::es256();
    let other = TestKey::es256();
    let fake = FakeCoinbase::start(&key, "cdp").await;
    let dir = Dir::new();
    let out = dir.add_as(&fake, "Coinbase", &key.name, &other.secret);
    assert_eq!(out.status.code(), Some(2));
    let why = text(&out.stderr);
    assert!(
        why.contains("Coinbase refused the key: the secret does not belong to this key name"),
        "{why}"
    );
    assert!(
        !why.contains(&key.name) && !why.contains("Unauthorized"),
        "{why}"
    );
    // Both `iss` values were tried, once each.
    assert_eq!(fake.refused(), 2);

    let calls = fake.calls().len();
    let out = dir.add_as(&fake, "Coinbase", &key.name, "hunter2-not-a-key");
    assert_eq!(out.status.code(), Some(2));
    let why = text(&out.stderr);
    assert!(why.contains("not a Coinbase API private key"), "{why}");
    assert!(!why.contains("hunter2"), "{why}");
    assert_eq!(
        fake.calls().len(),
        calls,
        "nothing is sent with a bad secret"
    );
    assert_eq!(dir.list(), json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_btc_account_is_synced_through_a_rate_limit_then_only_what_is_new_and_balances_compared()
 {
    let key = TestKey::ed25519();
    let fake = FakeCoinbase::start(&key, "cdp").await;
    fake.set(|s| {
        s.accounts = coinbase::other_accounts();
        s.accounts
            .push(btc_account("acct-btc", "2.50000000", coinbase::buys(250)));
        s.accounts.push(btc_account(
            "acct-vault",
            "0.10000000",
            coinbase::every_kind(300),
        ));
        s.accounts_page = 2; // two pages of accounts
    });
    let dir = Dir::new();
    json_of(&dir.add(&fake, &key));
    fake.set(|s| s.rate_limited = 1);
    let first = dir.run(&["exchange", "sync"]);
    let synced = json_of(&first);
    let c = &synced["connections"][0];
    assert_eq!(c["new_rows"], 255, "{synced}");
    assert_eq!(c["total_rows"], 255);
    // 2.5 bought; +0.1 +0.05 -0.02 +0.0001 -(0.03 + 0.0001 fee).
    assert_eq!(c["balance_sat"], 260_000_000);
    assert_eq!(c["exchange_balance_sat"], 260_000_000);
    assert!(
        !text(&first.stderr).contains("warning"),
        "{}",
        text(&first.stderr)
    );
    let calls = fake.calls();
    assert!(
        calls
            .iter()
            .all(|c| !c.contains("acct-usd") && !c.contains("acct-eth")),
        "{calls:?}"
    );
    // The first call of the sync was refused for the rate limit and asked
    // again; then the second page of accounts, one page of the vault and
    // three of the other account (100, 100, 50).
    assert_eq!(calls[1], "GET /v2/accounts?limit=100");
    assert_eq!(calls[2], calls[1]);
    assert_eq!(
        calls[3],
        "GET /v2/accounts?limit=100&starting_after=acct-btc"
    );
    assert_eq!(fake.pages(), 4, "{calls:?}");
    assert!(
        calls
            .iter()
            .all(|c| !c.contains("/transactions") || c.contains("order=asc"))
    );

    let second = json_of(&dir.run(&["exchange", "sync"]));
    assert_eq!(second["connections"][0]["new_rows"], 0, "{second}");
    assert_eq!(second["connections"][0]["total_rows"], 255);
    let after = fake.calls();
    let resumed: Vec<&String> = after[calls.len()..]
        .iter()
        .filter(|c| c.contains("/transactions"))
        .collect();
    assert_eq!(resumed.len(), 2, "{resumed:?}");
    assert!(
        resumed[1].contains("starting_after=cb-buy-00249"),
        "{resumed:?}"
    );
    // The pending send holds the vault's place: it is asked for again.
    assert!(
        resumed[0].contains("starting_after=cb-mix-5"),
        "{resumed:?}"
    );

    // The pending send completes: the next sync brings it, once.
    fake.set(|s| {
        let vault = s
            .accounts
            .iter_mut()
            .find(|a| a.id == "acct-vault")
            .expect("vault");
        vault.transactions[5]["status"] = json!("completed");
        vault.balance = "0.09000000".into();
    });
    let third = json_of(&dir.run(&["exchange", "sync"]));
    assert_eq!(third["connections"][0]["new_rows"], 1, "{third}");
    assert_eq!(third["connections"][0]["balance_sat"], 259_000_000);
    assert_eq!(third["connections"][0]["exchange_balance_sat"], 259_000_000);

    // Coinbase says more than the rows add up to: the user is told.
    fake.set(|s| s.accounts[2].balance = "2.60000000".into());
    let fourth = dir.run(&["exchange", "sync"]);
    let out = json_of(&fourth);
    assert_eq!(out["connections"][0]["balance_sat"], 259_000_000);
    assert_eq!(out["connections"][0]["exchange_balance_sat"], 269_000_000);
    let warning = text(&fourth.stderr);
    assert!(
        warning.contains("add up to 259000000 sat, but coinbase reports 269000000 sat"),
        "{warning}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_failed_on_a_page_keeps_its_batches_and_the_next_goes_on_without_doubles() {
    let key = TestKey::es256();
    let fake = FakeCoinbase::start(&key, "cdp").await;
    fake.set(|s| {
        s.accounts = vec![btc_account("acct-btc", "25.00000000", coinbase::buys(2500))];
        s.fail_from = Some(2200); // the 23rd page fails, again and again
    });
    let dir = Dir::new();
    json_of(&dir.add(&fake, &key));
    let failed = dir.run(&["exchange", "sync"]);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed.stderr));
    assert!(
        text(&failed.stderr).contains("Coinbase answered HTTP 500"),
        "{}",
        text(&failed.stderr)
    );
    let listed = dir.list();
    assert_eq!(
        listed[0]["rows"], 2000,
        "the first batch stays, whole: {listed}"
    );
    assert_eq!(listed[0]["last_sync"], Value::Null);
    let before = fake.pages();

    fake.set(|s| s.fail_from = None);
    let synced = json_of(&dir.run(&["exchange", "sync"]));
    let c = &synced["connections"][0];
    assert_eq!(c["new_rows"], 500, "{synced}");
    assert_eq!(c["total_rows"], 2500);
    assert_eq!(c["balance_sat"], 2_500_000_000_i64);
    assert_eq!(c["exchange_balance_sat"], 2_500_000_000_i64);
    assert_eq!(fake.pages() - before, 5, "resumed at the 21st page");
    let again = json_of(&dir.run(&["exchange", "sync"]));
    assert_eq!(again["connections"][0]["new_rows"], 0);
    assert_eq!(again["connections"][0]["total_rows"], 2500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_part_way_resumes_to_the_same_rows() {
    let key = TestKey::ed25519();
    let fake = FakeCoinbase::start(&key, "cdp").await;
    fake.set(|s| {
        s.accounts = vec![btc_account("acct-btc", "25.00000000", coinbase::buys(2500))];
        s.delay_ms = 40;
    });
    let dir = Dir::new();
    json_of(&dir.add(&fake, &key));
    let mut child = command()
        .arg("--data-dir")
        .arg(dir.data.path().join("data"))
        .args(["exchange", "sync"])
        .env("LEDGERSYS_EXCHANGES_RATE_BUDGET", "off")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while fake.pages() < 23 {
        assert!(std::time::Instant::now() < deadline, "the sync never paged");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    crate::support::signal(&child, "KILL");
    let _ = child.wait();
    let kept = dir.list()[0]["rows"].as_u64().expect("rows");
    assert_eq!(
        kept, 2000,
        "the first batch is committed, the second is not"
    );

    fake.set(|s| s.delay_ms = 0);
    let synced = json_of(&dir.run(&["exchange", "sync"]));
    assert_eq!(synced["connections"][0]["new_rows"], 500, "{synced}");
    assert_eq!(synced["connections"][0]["total_rows"], 2500);
    assert_eq!(synced["connections"][0]["balance_sat"], 2_500_000_000_i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_coinbase_csv_and_the_api_of_one_account_bring_each_transaction_once() {
    let key = TestKey::es256();
    let fake = FakeCoinbase::start(&key, "coinbase-cloud").await;
    let mut history = coinbase::buys(10);
    history.extend(coinbase::every_kind(10));
    fake.set(|s| s.accounts = vec![btc_account("acct-btc", "0.20000000", history.clone())]);
    let dir = Dir::new();
    // Coinbase's own 2024 CSV of the first six purchases and the
    // receive, with their ids.
    let mut csv = String::from(
        "\u{feff}\nTransactions\nUser,Test User,00000000-0000-4000-8000-000000000000\n\
         ID,Timestamp,Transaction Type,Asset,Quantity Transacted,Price Currency,Price at Transaction,Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes,Sender Address,Recipient Address\n",
    );
    for (i, tx) in history.iter().take(6).enumerate() {
        let time = jiff::Timestamp::from_second(1_704_067_200 + 3600 * i as i64)
            .expect("time")
            .strftime("%Y-%m-%d %H:%M:%S UTC");
        csv.push_str(&format!(
            "{},{time},Buy,BTC,0.01,USD,\"$40,000.00\",$395.00,$400.00,$5.00,,,\n",
            tx["id"].as_str().expect("id")
        ));
    }
    csv.push_str(
        "cb-mix-2,2024-01-01 11:00:00 UTC,Receive,BTC,0.05,USD,\"$42,000.00\",\"$2,100.00\",\"$2,100.00\",$0.00,,,\n",
    );
    let file = dir.data.path().join("coinbase.csv");
    std::fs::write(&file, csv).expect("csv");
    let imported = dir.run(&[
        "import",
        file.to_str().expect("utf-8"),
        "--account",
        "Coinbase",
    ]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    json_of(&dir.add(&fake, &key));
    let synced = json_of(&dir.run(&["exchange", "sync"]));
    let c = &synced["connections"][0];
    // 15 completed entries, 7 of them already from the file.
    assert_eq!(c["new_rows"], 8, "{synced}");
    assert_eq!(c["total_rows"], 15);
    // 0.1 bought in ten, then every_kind's net 0.1.
    assert_eq!(c["balance_sat"], 20_000_000);
    assert_eq!(c["exchange_balance_sat"], 20_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coinbase_s_older_csv_without_ids_and_the_api_bring_each_purchase_once() {
    let key = TestKey::es256();
    let fake = FakeCoinbase::start(&key, "coinbase-cloud").await;
    let history = coinbase::buys(10);
    fake.set(|s| s.accounts = vec![btc_account("acct-btc", "0.10000000", history.clone())]);
    let dir = Dir::new();
    // The 2021-2023 layout has no id column: its first six purchases can
    // meet the API's only by account, type, amount and time (here cut to
    // the minute, as some exports are).
    let mut csv = String::from(
        "Transactions\nUser,Test User,5f1e2d3c0000400080000001\n\n\
         Timestamp,Transaction Type,Asset,Quantity Transacted,USD Spot Price at Transaction,USD Subtotal,USD Total (inclusive of fees),USD Fees,Notes\n",
    );
    for i in 0..6 {
        let time = jiff::Timestamp::from_second(1_704_067_200 + 3600 * i - 30).expect("time");
        csv.push_str(&format!(
            "{},Buy,BTC,0.01,40000.00,395.00,400.00,5.00,Bought 0.01 BTC\n",
            time.strftime("%Y-%m-%dT%H:%M:00Z")
        ));
    }
    let file = dir.data.path().join("coinbase-2022.csv");
    std::fs::write(&file, csv).expect("csv");
    let imported = dir.run(&[
        "import",
        file.to_str().expect("utf-8"),
        "--account",
        "Coinbase",
    ]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    json_of(&dir.add(&fake, &key));
    let synced = json_of(&dir.run(&["exchange", "sync"]));
    let c = &synced["connections"][0];
    assert_eq!(
        c["new_rows"], 4,
        "six of the ten were in the file: {synced}"
    );
    assert_eq!(c["total_rows"], 10);
    assert_eq!(c["balance_sat"], 10_000_000);
    assert_eq!(c["exchange_balance_sat"], 10_000_000);
    let report = dir.run(&[
        "report",
        "summary",
        "--jurisdiction",
        "us",
        "--format",
        "json",
    ]);
    assert!(report.status.success(), "{}", text(&report.stderr));
    let summary: Value = serde_json::from_slice(&report.stdout).expect("json");
    assert_eq!(summary["complete"], true, "{summary}");
    let holdings = dir.run(&[
        "report",
        "holdings",
        "--date",
        "2024-12-31",
        "--jurisdiction",
        "us",
        "--format",
        "json",
    ]);
    let lots: Value = serde_json::from_slice(&holdings.stdout).expect("json");
    let lots = lots.as_array().expect("lots");
    assert_eq!(lots.len(), 10, "one lot per purchase, none twice: {lots:?}");
    assert!(lots.iter().all(|l| l["btc"] == "0.01000000"));

    // An export of the last four purchases, after the sync: new to the
    // store, but the same entries as the API's, and the import says so.
    let mut rest = String::from(
        "Transactions\nUser,Test User,5f1e2d3c0000400080000001\n\n\
         Timestamp,Transaction Type,Asset,Quantity Transacted,USD Spot Price at Transaction,USD Subtotal,USD Total (inclusive of fees),USD Fees,Notes\n",
    );
    for i in 6..10 {
        let time = jiff::Timestamp::from_second(1_704_067_200 + 3600 * i).expect("time");
        rest.push_str(&format!(
            "{},Buy,BTC,0.01,40000.00,395.00,400.00,5.00,Bought 0.01 BTC\n",
            time.strftime("%Y-%m-%dT%H:%M:%SZ")
        ));
    }
    let again = dir.data.path().join("coinbase-2022-rest.csv");
    std::fs::write(&again, rest).expect("csv");
    let imported = dir.run(&[
        "import",
        again.to_str().expect("utf-8"),
        "--account",
        "Coinbase",
    ]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    assert!(
        text(&imported.stderr).contains("4 of the rows are entries already in the books"),
        "{}",
        text(&imported.stderr)
    );
    let list = dir.list();
    assert_eq!(list[0]["rows"], 10, "{list}");
    assert_eq!(list[0]["balance_sat"], 10_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_key_name_and_secret_never_appear_in_files_or_output() {
    let key = TestKey::es256();
    let fake = FakeCoinbase::start(&key, "cdp").await;
    fake.set(|s| {
        s.accounts = vec![btc_account(
            "acct-btc",
            "9.99000000",
            coinbase::every_kind(0),
        )];
        s.rate_limited = 1;
    });
    let dir = Dir::new();
    let mut said = String::new();
    let mut keep = |out: std::process::Output| {
        said.push_str(&text(&out.stdout));
        said.push_str(&text(&out.stderr));
        out
    };
    keep(dir.add_as(&fake, "Coinbase", &key.name, &TestKey::es256().secret));
    json_of(&keep(dir.add(&fake, &key)));
    json_of(&keep(dir.run(&["exchange", "sync"]))); // with a balance warning
    fake.set(|s| s.fail_from = Some(0));
    keep(dir.run(&["exchange", "sync"]));
    json_of(&keep(dir.run(&["exchange", "list", "--format", "json"])));
    let stored = everything_under(dir.data.path());
    let id = key.name.rsplit('/').next().expect("id");
    let secret_lines: Vec<&str> = key
        .secret
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    for (what, haystack) in [("the data directory", &stored), ("the output", &said)] {
        assert!(!haystack.contains(&key.name), "the key name is in {what}");
        assert!(
            !haystack.contains(&id[..id.len() - 4]),
            "the key id is in {what}"
        );
        for line in &secret_lines {
            assert!(!haystack.contains(line), "the secret is in {what}");
        }
    }
    assert!(said.contains("coinbase reports 999000000 sat"), "{said}");
}

//! Exchange accounts over the command line, against a fake Kraken that
//! checks signatures and nonces as Kraken does: keys proven read-only
//! before anything is stored, history synced whole and then only what is
//! new, the same rows whether they came from the API or the export file.

use std::path::Path;

use serde_json::Value;

use crate::fakes::kraken::{self, FakeKraken, KEY, READ_ONLY, SECRET};
use crate::support::{command, text};

pub(crate) struct Dir {
    pub(crate) data: tempfile::TempDir,
}

impl Dir {
    pub(crate) fn new() -> Dir {
        Dir {
            data: tempfile::tempdir().expect("temp"),
        }
    }

    pub(crate) fn run(&self, args: &[&str]) -> std::process::Output {
        command()
            .arg("--data-dir")
            .arg(self.data.path().join("data"))
            .args(args)
            .output()
            .expect("run")
    }

    fn files(&self, key: &str, secret: &str) -> (String, String) {
        let k = self.data.path().join("key.txt");
        let s = self.data.path().join("secret.txt");
        std::fs::write(&k, format!("{key}\n")).expect("key");
        std::fs::write(&s, format!("{secret}\n")).expect("secret");
        (k.display().to_string(), s.display().to_string())
    }

    pub(crate) fn add(&self, fake: &FakeKraken, key: &str, secret: &str) -> std::process::Output {
        let (k, s) = self.files(key, secret);
        self.run(&[
            "exchange",
            "add",
            "kraken",
            "--name",
            "Kraken",
            "--key-file",
            &k,
            "--secret-file",
            &s,
            "--api-url",
            &fake.url,
        ])
    }
}

pub(crate) fn json(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

/// Every byte under `dir` (database, WAL, logs) as lossy text.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_key_is_stored_sealed_and_a_trading_key_is_refused_with_nothing_stored() {
    let fake = FakeKraken::start(&[
        "query-funds",
        "query-ledger",
        "withdraw-funds",
        "modify-trades",
    ])
    .await;
    let dir = Dir::new();
    let refused = dir.add(&fake, KEY, SECRET);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    let why = text(&refused.stderr);
    assert!(
        why.contains("remove Withdraw Funds, Create & Modify Orders"),
        "{why}"
    );
    assert!(why.contains("nothing was stored"), "{why}");
    assert_eq!(
        json(&dir.run(&["exchange", "list", "--format", "json"])),
        serde_json::json!([])
    );

    fake.set(|s| s.permissions = READ_ONLY.iter().map(|p| p.to_string()).collect());
    let added = json(&dir.add(&fake, KEY, SECRET));
    assert_eq!(added["name"], "Kraken");
    assert_eq!(added["exchange"], "kraken");
    assert_eq!(added["permissions"], serde_json::json!(READ_ONLY));
    assert!(
        added["warnings"][0]
            .as_str()
            .unwrap_or("")
            .contains("any IP address"),
        "{added}"
    );
    let listed = json(&dir.run(&["exchange", "list", "--format", "json"]));
    assert_eq!(listed[0]["key_last4"], &KEY[KEY.len() - 4..]);
    assert_eq!(fake.calls(), vec!["GetApiKeyInfo", "GetApiKeyInfo"]);

    let stored = everything_under(dir.data.path());
    assert!(!stored.contains(KEY), "the key is in the data directory");
    assert!(
        !stored.contains(SECRET),
        "the secret is in the data directory"
    );
    assert!(!stored.contains(&SECRET[..20]));

    let removed = dir.run(&["exchange", "remove", "--name", "Kraken"]);
    assert!(removed.status.success(), "{}", text(&removed.stderr));
    assert_eq!(
        json(&dir.run(&["exchange", "list", "--format", "json"])),
        serde_json::json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_that_does_not_belong_to_the_key_is_refused_in_plain_words() {
    let fake = FakeKraken::start(READ_ONLY).await;
    let dir = Dir::new();
    let other =
        "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC1vdGhlci1zZWNyZXQtb3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA==";
    let out = dir.add(&fake, KEY, other);
    assert_eq!(out.status.code(), Some(2));
    let why = text(&out.stderr);
    assert!(why.contains("refused the signature"), "{why}");
    assert!(!why.contains(other) && !why.contains(KEY), "{why}");
    let plain = dir.add(&fake_with_url("https://127.0.0.1:9"), KEY, SECRET);
    assert_eq!(
        plain.status.code(),
        Some(1),
        "an unreachable exchange is not the user's mistake"
    );
}

fn fake_with_url(url: &str) -> FakeKraken {
    FakeKraken::unstarted(url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_sync_reads_everything_the_second_nothing_and_balances_are_compared() {
    let fake = FakeKraken::start(READ_ONLY).await;
    let entries = kraken::history(80); // 161 entries: four pages
    fake.set(|s| {
        s.entries = entries;
        s.btc_balance = "0.8000000000".into();
    });
    let dir = Dir::new();
    json(&dir.add(&fake, KEY, SECRET));
    // The sync's first call (asking for an export, which this key may not
    // make) is refused for the rate limit.
    fake.set(|s| s.rate_limited = 1);
    let first = dir.run(&["exchange", "sync"]);
    let synced = json(&first);
    let c = &synced["connections"][0];
    assert_eq!(c["name"], "Kraken");
    assert_eq!(c["new_rows"], 80, "{synced}");
    assert_eq!(c["total_rows"], 80);
    assert_eq!(c["balance_sat"], 80_000_000);
    assert_eq!(c["exchange_balance_sat"], 80_000_000);
    assert_eq!(c["complete"], true);
    assert!(
        !text(&first.stderr).contains("warning"),
        "{}",
        text(&first.stderr)
    );
    assert!(
        text(&first.stderr).contains("161 of 161 entries"),
        "{}",
        text(&first.stderr)
    );
    let calls = fake.calls();
    let of = |m: &str| calls.iter().filter(|c| *c == m).count();
    assert_eq!(of("AddExport"), 2, "tried again after the rate limit");
    assert_eq!(of("Ledgers"), 4, "then four pages");

    let second = json(&dir.run(&["exchange", "sync", "--name", "Kraken"]));
    assert_eq!(second["connections"][0]["new_rows"], 0);
    assert_eq!(second["connections"][0]["total_rows"], 80);

    // Kraken says more than the rows add up to: the user is told.
    fake.set(|s| s.btc_balance = "0.9000000000".into());
    let third = dir.run(&["exchange", "sync"]);
    assert!(third.status.success());
    let warning = text(&third.stderr);
    assert!(
        warning.contains("add up to 80000000 sat, but kraken reports 90000000 sat"),
        "{warning}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_from_the_export_file_and_from_the_api_are_the_same_rows() {
    let fake = FakeKraken::start(READ_ONLY).await;
    let entries = kraken::history(10);
    fake.set(|s| {
        s.entries = entries.clone();
        s.btc_balance = "0.1000000000".into();
    });
    let dir = Dir::new();
    // The first six purchases arrived earlier as Kraken's own ledgers.csv.
    let mut csv = String::from(
        "\"txid\",\"refid\",\"time\",\"type\",\"subtype\",\"aclass\",\"asset\",\"wallet\",\"amount\",\"fee\",\"balance\"\n",
    );
    for e in entries.iter().take(13) {
        let time = jiff::Timestamp::from_second(e.time)
            .expect("time")
            .strftime("%Y-%m-%d %H:%M:%S");
        csv.push_str(&format!(
            "\"{}\",\"{}\",\"{time}\",\"{}\",\"\",\"currency\",\"{}\",\"spot / main\",{},{},\"\"\n",
            e.id, e.refid, e.kind, e.asset, e.amount, e.fee
        ));
    }
    let file = dir.data.path().join("ledgers.csv");
    std::fs::write(&file, csv).expect("csv");
    let imported = dir.run(&[
        "import",
        file.to_str().expect("utf-8"),
        "--account",
        "Kraken",
    ]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    json(&dir.add(&fake, KEY, SECRET));
    let synced = json(&dir.run(&["exchange", "sync"]));
    let c = &synced["connections"][0];
    assert_eq!(
        c["new_rows"], 4,
        "only the four purchases the file did not have: {synced}"
    );
    assert_eq!(c["total_rows"], 10);
    assert_eq!(c["balance_sat"], 10_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_half_way_keeps_its_committed_batches_and_the_next_goes_on_without_doubles() {
    let fake = FakeKraken::start(READ_ONLY).await;
    fake.set(|s| {
        s.entries = kraken::history(1100); // 2201 entries: 45 pages, two batches
        s.btc_balance = "11.0000000000".into();
    });
    let dir = Dir::new();
    json(&dir.add(&fake, KEY, SECRET));
    fake.set(|s| s.ledgers_delay_ms = 40);
    let mut child = command()
        .arg("--data-dir")
        .arg(dir.data.path().join("data"))
        .args(["exchange", "sync"])
        .env("LEDGERSYS_EXCHANGES_RATE_BUDGET", "off")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    // Killed in the second batch: the first (40 pages) is committed by
    // the time the 41st page is asked for.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while fake.calls().iter().filter(|c| *c == "Ledgers").count() < 42 {
        assert!(std::time::Instant::now() < deadline, "the sync never paged");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    crate::support::signal(&child, "KILL");
    let _ = child.wait();
    let listed = json(&dir.run(&["exchange", "list", "--format", "json"]));
    let kept = listed[0]["rows"].as_u64().expect("rows");
    assert!(
        kept > 900 && kept < 1100,
        "the first batch stays, whole: {listed}"
    );
    assert_eq!(listed[0]["last_sync"], Value::Null, "not complete yet");
    // Reports say the account is only partly in the books (exit 3, as for
    // any report with missing data), naming it.
    let partial = dir.run(&[
        "report",
        "summary",
        "--jurisdiction",
        "us",
        "--format",
        "json",
    ]);
    assert_eq!(partial.status.code(), Some(3), "{}", text(&partial.stderr));
    let summary: Value = serde_json::from_slice(&partial.stdout).expect("json");
    assert_eq!(summary["complete"], false, "{summary}");
    assert!(
        text(&partial.stderr)
            .contains("Kraken: the first sync of this exchange account has not finished"),
        "{}",
        text(&partial.stderr)
    );
    let before = fake.calls().iter().filter(|c| *c == "Ledgers").count();

    fake.set(|s| s.ledgers_delay_ms = 0);
    let synced = json(&dir.run(&["exchange", "sync"]));
    assert_eq!(
        synced["connections"][0]["new_rows"].as_u64(),
        Some(1100 - kept),
        "{synced}"
    );
    assert_eq!(synced["connections"][0]["total_rows"], 1100);
    assert_eq!(synced["connections"][0]["balance_sat"], 1_100_000_000);
    assert_eq!(
        synced["connections"][0]["exchange_balance_sat"],
        1_100_000_000
    );
    let resumed = fake.calls().iter().filter(|c| *c == "Ledgers").count() - before;
    assert!(
        resumed < 10,
        "resumed from the cursor, not the start: {resumed} pages"
    );
    let again = json(&dir.run(&["exchange", "sync"]));
    assert_eq!(again["connections"][0]["new_rows"], 0);
    assert_eq!(again["connections"][0]["total_rows"], 1100);
    let whole = json(&dir.run(&[
        "report",
        "summary",
        "--jurisdiction",
        "us",
        "--format",
        "json",
    ]));
    assert_eq!(whole["complete"], true, "{whole}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_syncs_on_its_schedule_and_tells_the_owner_when_balances_differ() {
    let fake = FakeKraken::start(READ_ONLY).await;
    fake.set(|s| {
        s.entries = kraken::history(5);
        s.btc_balance = "0.0600000000".into(); // one purchase more than the rows
    });
    let dir = Dir::new();
    let server = crate::support::Server::start_in_with(
        &dir.data.path().join("data"),
        &[("LEDGERSYS_EXCHANGES_SYNC_INTERVAL", "1s")],
    )
    .expect("start");
    let owner = server.owner().await;
    json(&dir.add(&fake, KEY, SECRET));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let alerts = loop {
        let alerts: Value = owner
            .get("/api/v1/me/alerts")
            .await
            .json()
            .await
            .expect("json");
        let found = alerts.as_array().into_iter().flatten().any(|a| {
            a.to_string()
                .contains("add up to 5000000 sat, but kraken reports 6000000 sat")
        });
        if found {
            break alerts;
        }
        assert!(std::time::Instant::now() < deadline, "no alert: {alerts}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert!(alerts.to_string().contains("exchange sync"), "{alerts}");
    // Later syncs find the same difference: it is told once.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let later: Value = owner
        .get("/api/v1/me/alerts")
        .await
        .json()
        .await
        .expect("json");
    let told = later
        .to_string()
        .matches("kraken reports 6000000 sat")
        .count();
    assert_eq!(told, 1, "{later}");
    let listed = json(&dir.run(&["exchange", "list", "--format", "json"]));
    assert_eq!(listed[0]["rows"], 5, "{listed}");
}

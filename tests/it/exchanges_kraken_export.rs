//! A Kraken key with the Export Data permission gets its first sync from
//! one export report (Kraken's `ledgers.csv` in a zip) and pages only what
//! came after it; a sync killed while Kraken prepares the export asks about
//! the same export when it starts again; without the permission, or when
//! the export fails, the sync pages the whole history instead. The rows are
//! the same either way.

use serde_json::Value;

use crate::exchanges::{Dir, json};
use crate::fakes::kraken::{self, FakeKraken, KEY, READ_ONLY, SECRET};
use crate::support::command;

fn with_export() -> Vec<&'static str> {
    let mut permissions = READ_ONLY.to_vec();
    permissions.push("export-data");
    permissions
}

fn count(fake: &FakeKraken, method: &str) -> usize {
    fake.calls().iter().filter(|c| *c == method).count()
}

/// `exchange sync` without the client-side budget, so the export's status
/// is asked every 50 ms rather than every 5 s.
fn sync(dir: &Dir) -> Value {
    json(
        &command()
            .arg("--data-dir")
            .arg(dir.data.path().join("data"))
            .args(["exchange", "sync"])
            .env("LEDGERSYS_EXCHANGES_RATE_BUDGET", "off")
            .output()
            .expect("run"),
    )
}

fn listed_rows(dir: &Dir) -> u64 {
    let listed = json(&dir.run(&["exchange", "list", "--format", "json"]));
    listed[0]["rows"].as_u64().expect("rows")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_sync_comes_from_one_export_and_paging_takes_only_what_is_new() {
    let fake = FakeKraken::start(&with_export()).await;
    fake.set(|s| {
        s.entries = kraken::history(1100); // 2201 entries: 45 pages if paged
        s.btc_balance = "11.0000000000".into();
    });
    let dir = Dir::new();
    json(&dir.add(&fake, KEY, SECRET));
    let synced = sync(&dir);
    let c = &synced["connections"][0];
    assert_eq!(c["new_rows"], 1100, "{synced}");
    assert_eq!(c["total_rows"], 1100);
    assert_eq!(c["balance_sat"], 1_100_000_000);
    assert_eq!(c["exchange_balance_sat"], 1_100_000_000);
    assert_eq!(c["complete"], true);
    assert_eq!(count(&fake, "AddExport"), 1);
    assert_eq!(
        count(&fake, "ExportStatus"),
        3,
        "two 'Processing', then 'Processed'"
    );
    assert_eq!(count(&fake, "RetrieveExport"), 1);
    assert_eq!(
        count(&fake, "RemoveExport"),
        1,
        "the report is removed once read"
    );
    assert_eq!(
        count(&fake, "Ledgers"),
        1,
        "paging only from the export's newest entry"
    );

    // Later purchases come by paging; no second export.
    fake.set(|s| {
        let mut more = kraken::history(1102);
        s.entries.extend(more.drain(more.len() - 4..));
        s.btc_balance = "11.0200000000".into();
    });
    let again = sync(&dir);
    assert_eq!(again["connections"][0]["new_rows"], 2, "{again}");
    assert_eq!(again["connections"][0]["total_rows"], 1102);
    assert_eq!(again["connections"][0]["balance_sat"], 1_102_000_000);
    assert_eq!(count(&fake, "AddExport"), 1);
    let nothing = sync(&dir);
    assert_eq!(nothing["connections"][0]["new_rows"], 0);

    // The same history downloaded by hand adds nothing.
    let file = dir.data.path().join("ledgers.csv");
    std::fs::write(&file, kraken::ledgers_csv(&kraken::history(1102))).expect("csv");
    let imported = dir.run(&[
        "import",
        file.to_str().expect("utf-8"),
        "--account",
        "Kraken",
    ]);
    assert!(imported.status.success());
    assert_eq!(listed_rows(&dir), 1102);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_while_kraken_prepares_the_export_follows_the_same_export_after() {
    let fake = FakeKraken::start(&with_export()).await;
    fake.set(|s| {
        s.entries = kraken::history(300);
        s.btc_balance = "3.0000000000".into();
        s.export_polls = 1_000_000; // never ready while the first sync runs
    });
    let dir = Dir::new();
    json(&dir.add(&fake, KEY, SECRET));
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
    while count(&fake, "ExportStatus") < 3 {
        assert!(std::time::Instant::now() < deadline, "the sync never asked");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    crate::support::signal(&child, "KILL");
    let _ = child.wait();
    assert_eq!(
        listed_rows(&dir),
        0,
        "nothing is stored until the export is read"
    );

    fake.set(|s| {
        for e in &mut s.exports {
            e.polls_left = 0;
        }
    });
    let synced = sync(&dir);
    assert_eq!(synced["connections"][0]["new_rows"], 300, "{synced}");
    assert_eq!(synced["connections"][0]["complete"], true);
    assert_eq!(
        count(&fake, "AddExport"),
        1,
        "the same export, not a new one"
    );
    assert_eq!(count(&fake, "RetrieveExport"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_export_data_or_with_a_failed_export_the_whole_history_is_paged() {
    for (permissions, fails) in [(READ_ONLY.to_vec(), false), (with_export(), true)] {
        let fake = FakeKraken::start(&permissions).await;
        fake.set(|s| {
            s.entries = kraken::history(100); // 201 entries: 5 pages
            s.btc_balance = "1.0000000000".into();
            s.export_fails = fails;
        });
        let dir = Dir::new();
        json(&dir.add(&fake, KEY, SECRET));
        let synced = sync(&dir);
        let c: &Value = &synced["connections"][0];
        assert_eq!(c["new_rows"], 100, "{synced}");
        assert_eq!(c["balance_sat"], 100_000_000);
        assert_eq!(count(&fake, "AddExport"), 1);
        assert_eq!(count(&fake, "RetrieveExport"), 0);
        assert_eq!(count(&fake, "Ledgers"), 5, "paged whole (fails: {fails})");
        if fails {
            assert_eq!(
                count(&fake, "RemoveExport"),
                1,
                "the failed report is tidied up"
            );
        }
    }
}

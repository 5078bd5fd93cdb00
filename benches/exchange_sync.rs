//! A Kraken account's first sync of 100,000 ledger entries, as a user
//! meets it, paged and through the Export API: the release binary's `exchange add` and `exchange sync`
//! against the integration tests' fake Kraken on loopback (signatures and
//! nonces checked on every call, 50 entries a page, no rate limit, and the
//! client-side budget off with `exchanges.rate_budget = "off"`). Then a
//! second sync with nothing new. Figures: wall time, pages asked, rows, and
//! the sync process's peak memory (from `/usr/bin/time` when present).
//!
//! Run: `cargo bench --bench exchange_sync` (release profile; an argument
//! sets the number of purchases, each two entries). Prints its figures;
//! the latest are recorded in docs/benchmarks.md.
#![allow(clippy::print_stdout)] // a benchmark reports on standard output

#[allow(dead_code)]
#[path = "../tests/it/fakes/kraken.rs"]
mod kraken;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

use kraken::{FakeKraken, KEY, READ_ONLY, SECRET};

fn binary() -> String {
    std::env::var("BENCH_BINARY").unwrap_or_else(|_| env!("CARGO_BIN_EXE_ledgersys").to_string())
}

/// Runs the binary on `data`, under `/usr/bin/time -f %M` when it exists;
/// returns the output, the wall time and the peak memory in MB.
fn run(data: &Path, args: &[&str]) -> (Output, f64, Option<f64>) {
    let timed = Path::new("/usr/bin/time").exists();
    let mut command = if timed {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "peak-kb %M"]).arg(binary());
        c
    } else {
        Command::new(binary())
    };
    command
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("LEDGERSYS_EXCHANGES_RATE_BUDGET", "off");
    let started = Instant::now();
    let out = command.output().expect("run ledgersys");
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peak = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("peak-kb "))
        .filter_map(|kb| kb.trim().parse::<f64>().ok())
        .next_back()
        .map(|kb| kb / 1024.0);
    (out, seconds, peak)
}

#[tokio::main]
async fn main() {
    let buys: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(50_000);
    let history = kraken::history(buys);
    let entries = history.len();
    println!(
        "{entries} Kraken ledger entries ({buys} purchases), binary {}",
        binary()
    );
    println!(
        "| first sync by | sync | time | pages | exports read | new rows | total rows | balance matches | peak memory |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---|---:|");
    let mut with_export = READ_ONLY.to_vec();
    with_export.push("export-data");
    for (how, permissions) in [
        ("Ledgers paging", READ_ONLY.to_vec()),
        ("Export API", with_export),
    ] {
        let fake = FakeKraken::start(&permissions).await;
        let history = history.clone();
        fake.set(|s| {
            s.entries = history;
            s.btc_balance = format!("{}.{:08}", buys / 100, (buys % 100) * 1_000_000);
        });
        let dir = tempfile::tempdir().expect("temp");
        let data = dir.path().join("data");
        let (key, secret) = (dir.path().join("key"), dir.path().join("secret"));
        std::fs::write(&key, KEY).expect("key");
        std::fs::write(&secret, SECRET).expect("secret");
        let (k, s) = (key.display().to_string(), secret.display().to_string());
        run(
            &data,
            &[
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
            ],
        );
        for label in ["first (whole history)", "again (nothing new)"] {
            let count = |m: &str| fake.calls().iter().filter(|c| *c == m).count();
            let (pages_before, exports_before) = (count("Ledgers"), count("RetrieveExport"));
            let (out, seconds, peak) = run(&data, &["exchange", "sync"]);
            let pages = count("Ledgers") - pages_before;
            let exports = count("RetrieveExport") - exports_before;
            let synced: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
            let c = &synced["connections"][0];
            println!(
                "| {how} | {label} | {seconds:.2} s | {pages} | {exports} | {} | {} | {} | {} |",
                c["new_rows"],
                c["total_rows"],
                c["balance_sat"] == c["exchange_balance_sat"],
                peak.map_or_else(|| "n/a".to_string(), |mb| format!("{mb:.0} MB")),
            );
        }
    }
}

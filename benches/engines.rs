//! Engine benchmark: a deterministic generator of realistic histories
//! (buys, sells, income and transfers with network fees across three
//! accounts), then for 1,000 to 1,000,000 rows: parsing the generic CSV,
//! importing into SQLite (one transaction), and a full recompute by each
//! engine, with the process's peak memory. First, transfer matching on
//! 50,000 withdrawals and 50,000 deposits.
//!
//! Run: `cargo bench --bench engines` (release profile). Optional argument:
//! the largest size (default 1000000). Results go in docs/benchmarks.md.
#![allow(clippy::print_stdout)] // a benchmark reports on standard output

use std::time::Instant;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ledgersys::ledger::{Kind, Sats, Tx, matching};
use ledgersys::store::transactions::{ImportMeta, Keyed};
use ledgersys::store::{AuditEntry, Store};
use ledgersys::tax::lots::Method;
use ledgersys::tax::{FeePolicy, uk, us};

/// A small deterministic generator (xorshift), so every run sees the same
/// history.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A history of `n` rows as generic CSV, starting in 2015, one row every
/// few minutes to hours, with a price that wanders.
pub fn history(n: usize, seed: u64) -> String {
    let mut rng = Rng(seed | 1);
    let accounts = ["exchange", "cold", "phone"];
    let mut held = [0i64; 3];
    let mut price_cents: i64 = 3_000_000;
    let mut time: i64 = 1_420_070_400;
    let mut out = String::with_capacity(n * 90);
    out.push_str(
        "id,timestamp,type,account,btc,fiat_value,fiat_currency,fee_btc,fee_fiat,to_account\n",
    );
    let btc = |sats: i64| format!("{}.{:08}", sats / 100_000_000, sats % 100_000_000);
    let fiat = |cents: i64| format!("{}.{:02}", cents / 100, cents % 100);
    let mut i = 0;
    while i < n {
        time += 60 + rng.below(4 * 3600) as i64;
        let drift = rng.below(2001) as i64 - 1000;
        price_cents = (price_cents + price_cents * drift / 100_000).max(10_000);
        let ts = jiff::Timestamp::from_second(time)
            .map(|t| t.to_string())
            .unwrap_or_default();
        let a = rng.below(3) as usize;
        let roll = rng.below(100);
        let line = if roll < 45 || held[a] < 10_000 {
            let sats = 10_000 + rng.below(50_000_000) as i64;
            held[a] += sats;
            let value = price_cents * sats / 100_000_000;
            format!(
                "r{i},{ts},buy,{},{},{},USD,,{},",
                accounts[a],
                btc(sats),
                fiat(value),
                fiat(value / 200)
            )
        } else if roll < 75 {
            let sats = 1 + rng.below(held[a] as u64) as i64;
            held[a] -= sats;
            let value = price_cents * sats / 100_000_000;
            format!(
                "r{i},{ts},sell,{},{},{},USD,,{},",
                accounts[a],
                btc(sats),
                fiat(value),
                fiat(value / 200)
            )
        } else if roll < 85 {
            let sats = 1_000 + rng.below(5_000_000) as i64;
            held[a] += sats;
            format!(
                "r{i},{ts},income,{},{},{},USD,,,",
                accounts[a],
                btc(sats),
                fiat(price_cents * sats / 100_000_000)
            )
        } else {
            let to = (a + 1 + rng.below(2) as usize) % 3;
            let fee = 1_000 + rng.below(5_000) as i64;
            if held[a] <= fee + 1 {
                continue;
            }
            let sats = 1 + rng.below((held[a] - fee) as u64) as i64;
            held[a] -= sats + fee;
            held[to] += sats;
            let value = price_cents * sats / 100_000_000;
            format!(
                "r{i},{ts},transfer,{},{},{},USD,{},,{}",
                accounts[a],
                btc(sats),
                fiat(value),
                btc(fee),
                accounts[to]
            )
        };
        out.push_str(&line);
        out.push('\n');
        i += 1;
    }
    out
}

/// `pairs` withdrawals and as many deposits between three accounts, one
/// withdrawal every two hours or so from 2015: seven in ten deposits are a
/// withdrawal's counterpart, arriving a minute to six hours later less a
/// network fee (one in five of those share its txid; the rest must be
/// matched on amount and time), and the others have none. A third of the
/// amounts are round, as people send them, so equal amounts are common.
fn transfers(pairs: usize, seed: u64) -> Vec<Tx> {
    let mut rng = Rng(seed | 1);
    let accounts = ["exchange", "cold", "phone"];
    let round = [1_000_000, 5_000_000, 10_000_000, 50_000_000, 100_000_000];
    let start: i64 = 1_420_070_400;
    let span = pairs as i64 * 3600;
    let at = |s: i64| Timestamp::from_second(s).expect("time");
    let tx =
        |id: String, time: i64, kind: Kind, account: &str, sats: i64, txid: Option<String>| Tx {
            id: Some(id),
            time: at(time),
            kind,
            account: account.into(),
            btc: Sats(sats),
            fee_btc: Sats::ZERO,
            fiat_value: None,
            currency: None,
            fee_fiat: rust_decimal::Decimal::ZERO,
            to_account: None,
            txid,
            note: None,
        };
    let mut rows = Vec::with_capacity(pairs * 2);
    let mut time = start;
    for i in 0..pairs {
        time += rng.below(2 * 3600) as i64;
        let sats = if rng.below(3) == 0 {
            round[rng.below(round.len() as u64) as usize]
        } else {
            10_000 + rng.below(200_000_000) as i64
        };
        let from = rng.below(3) as usize;
        let to = (from + 1 + rng.below(2) as usize) % 3;
        let txid = (rng.below(5) == 0).then(|| format!("{i:064x}"));
        rows.push(tx(
            format!("w{i}"),
            time,
            Kind::Withdrawal,
            accounts[from],
            sats,
            txid.clone(),
        ));
        if rng.below(10) < 7 {
            let fee = 500 + rng.below(20_000) as i64;
            let later = time + 60 + rng.below(6 * 3600) as i64;
            rows.push(tx(
                format!("d{i}"),
                later,
                Kind::Deposit,
                accounts[to],
                (sats - fee).max(1),
                txid,
            ));
        } else {
            let when = start + rng.below(span as u64) as i64;
            let sats = 10_000 + rng.below(200_000_000) as i64;
            rows.push(tx(
                format!("d{i}"),
                when,
                Kind::Deposit,
                accounts[to],
                sats,
                None,
            ));
        }
    }
    rows
}

fn peak_memory_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed().as_secs_f64())
}

/// The median of three runs: the first run of a process also pays for
/// growing its heap, which a server recomputing on demand does not.
fn median(mut run: impl FnMut() -> f64) -> f64 {
    let mut times = [run(), run(), run()];
    times.sort_by(f64::total_cmp);
    times[1]
}

fn main() {
    let largest: usize = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rows = transfers(50_000, 7);
    let (found, secs) = timed(|| matching::find(&rows));
    println!(
        "transfer matching, 50,000 withdrawals + 50,000 deposits: {:.1} ms ({} pairs, {} by txid; {} ambiguous; {} unmatched)\n",
        secs * 1000.0,
        found.pairs.len(),
        found.pairs.iter().filter(|p| p.2).count(),
        found.ambiguous.len(),
        found.unmatched.len()
    );
    drop(rows);
    println!(
        "| rows | parse | import (parse + SQLite) | load from SQLite | US FIFO | US LIFO | US HIFO | US FIFO per wallet | UK | peak memory |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut n = 1_000;
    while n <= largest {
        let csv = history(n, 42);
        let (rows, parse_s) = timed(|| {
            ledgersys::sources::generic::parse(csv.as_bytes(), &TimeZone::UTC).expect("valid")
        });
        let rows: Vec<_> = rows.into_iter().map(|(_, t)| t).collect();

        let dir = tempfile::tempdir().expect("temp");
        let (_, import_s) = timed(|| {
            runtime.block_on(async {
                let parsed = ledgersys::sources::generic::parse(csv.as_bytes(), &TimeZone::UTC)
                    .expect("valid");
                let rows: Vec<_> = parsed.into_iter().map(|(_, t)| t).collect();
                let ids = ledgersys::sources::generic::source_ids(&rows);
                let keyed: Vec<Keyed> = ids
                    .into_iter()
                    .zip(&rows)
                    .map(|(source_id, tx)| Keyed { source_id, tx })
                    .collect();
                let store = Store::open(dir.path()).await.expect("store");
                let audit = AuditEntry::new(0, None, "bench", "import.completed");
                let ws = store
                    .workspace_named("bench", &audit)
                    .await
                    .expect("workspace");
                let meta = ImportMeta {
                    file_name: "bench.csv",
                    sha256: "",
                    format: "generic",
                    actor: "bench",
                    now: 0,
                };
                store
                    .import_transactions(ws, &meta, &keyed, &audit)
                    .await
                    .expect("import");
                store.close().await;
            })
        });

        let (loaded, load_s) = timed(|| {
            runtime.block_on(async {
                let store = Store::open_for_command(dir.path()).await.expect("store");
                let audit = AuditEntry::new(0, None, "bench", "import.completed");
                let ws = store
                    .workspace_named("bench", &audit)
                    .await
                    .expect("workspace");
                let rows = store.transactions(ws).await.expect("rows");
                store.close().await;
                rows.len()
            })
        });
        assert_eq!(loaded, n);

        let us_run = |method, basis| {
            let s = us::Settings {
                method,
                basis,
                transfer_fee: FeePolicy::Disposal,
                currency: "USD".into(),
                zone: TimeZone::UTC,
            };
            median(|| {
                let (out, secs) = timed(|| us::compute(&rows, &s));
                assert!(
                    out.issues.is_empty(),
                    "the generated history is complete: {:?}",
                    out.issues.first()
                );
                secs
            })
        };
        let fifo = us_run(Method::Fifo, us::BasisMode::Universal);
        let lifo = us_run(Method::Lifo, us::BasisMode::Universal);
        let hifo = us_run(Method::Hifo, us::BasisMode::Universal);
        let wallet = us_run(Method::Fifo, us::BasisMode::PerWallet);
        let uk_settings = uk::Settings {
            transfer_fee: FeePolicy::Disposal,
            currency: "USD".into(),
        };
        let uk_s = median(|| {
            let (uk_out, secs) = timed(|| uk::compute(&rows, &uk_settings));
            assert!(uk_out.issues.is_empty());
            secs
        });
        let ms = |s: f64| {
            if s < 1.0 {
                format!("{:.1} ms", s * 1000.0)
            } else {
                format!("{s:.2} s")
            }
        };
        println!(
            "| {n} | {} | {} ({:.0} rows/s) | {} | {} | {} | {} | {} | {} | {:.0} MB |",
            ms(parse_s),
            ms(import_s),
            n as f64 / import_s,
            ms(load_s),
            ms(fifo),
            ms(lifo),
            ms(hifo),
            ms(wallet),
            ms(uk_s),
            peak_memory_mb()
        );
        n *= 10;
    }
}

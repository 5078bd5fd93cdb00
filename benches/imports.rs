//! Import benchmark: a 200 MB Kraken ledger and a 200 MB Coinbase
//! transaction history, generated deterministically, each recognised,
//! parsed into ledger rows and previewed (the first rows written back as
//! generic CSV) exactly as an upload is checked. Prints throughput and the
//! process's memory.
//!
//! Run: `cargo bench --bench imports` (release profile). Optional
//! arguments: `kraken` or `coinbase` to run one, and a size in MB
//! (default 200). Results go in docs/benchmarks.md.
#![allow(clippy::print_stdout)] // a benchmark reports on standard output

use std::fmt::Write;
use std::time::Instant;

use ledgersys::sources::{generic, import};

/// xorshift: the same file on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn btc(sats: u64) -> String {
    format!("{}.{:010}", sats / 100_000_000, (sats % 100_000_000) * 100)
}

fn stamp(second: i64) -> String {
    jiff::Timestamp::from_second(second)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Kraken's ledgers.csv: trades as two legs sharing a refid, with some
/// deposits and withdrawals.
fn kraken(bytes: usize) -> String {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = String::with_capacity(bytes + 4096);
    out.push_str("\"txid\",\"refid\",\"time\",\"type\",\"subtype\",\"aclass\",\"asset\",\"wallet\",\"amount\",\"fee\",\"balance\"\n");
    let (mut time, mut n) = (1_500_000_000i64, 0u64);
    while out.len() < bytes {
        n += 1;
        time += 30 + rng.below(3600) as i64;
        let t = stamp(time);
        let sats = 10_000 + rng.below(50_000_000);
        let price = 20_000 + rng.below(50_000);
        let usd = sats * price / 100_000_000;
        match rng.below(10) {
            0 => {
                let _ = writeln!(
                    out,
                    "\"L{n}A\",\"D{n}\",\"{t}\",\"deposit\",\"\",\"currency\",\"XXBT\",\"spot / main\",{},0.0000000000,1.0000000000",
                    btc(sats)
                );
            }
            1 => {
                let _ = writeln!(
                    out,
                    "\"L{n}A\",\"W{n}\",\"{t}\",\"withdrawal\",\"\",\"currency\",\"XXBT\",\"spot / main\",-{},0.0000500000,1.0000000000",
                    btc(sats)
                );
            }
            roll => {
                let sign = if roll % 2 == 0 { "" } else { "-" };
                let other = if roll % 2 == 0 { "-" } else { "" };
                let _ = writeln!(
                    out,
                    "\"L{n}A\",\"T{n}\",\"{t}\",\"trade\",\"tradespot\",\"currency\",\"ZUSD\",\"spot / main\",{other}{usd}.{:04},{}.{:04},10000.0000",
                    rng.below(10_000),
                    usd / 400,
                    rng.below(10_000)
                );
                let _ = writeln!(
                    out,
                    "\"L{n}B\",\"T{n}\",\"{t}\",\"trade\",\"tradespot\",\"currency\",\"XXBT\",\"spot / main\",{sign}{},0.0000000000,1.0000000000",
                    btc(sats)
                );
            }
        }
    }
    out
}

/// Coinbase's 2024 transaction history, newest first, with its preamble.
fn coinbase(bytes: usize) -> String {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut out = String::with_capacity(bytes + 4096);
    out.push_str("\r\nTransactions\r\nUser,Bench User,0000\r\nID,Timestamp,Transaction Type,Asset,Quantity Transacted,Price Currency,Price at Transaction,Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes\r\n");
    let (mut time, mut n) = (1_700_000_000i64, 0u64);
    let money = |cents: u64| {
        let whole = cents / 100;
        if whole >= 1000 {
            format!(
                "\"${},{:03}.{:02}\"",
                whole / 1000,
                whole % 1000,
                cents % 100
            )
        } else {
            format!("${whole}.{:02}", cents % 100)
        }
    };
    while out.len() < bytes {
        n += 1;
        time -= 30 + rng.below(3600) as i64;
        let sats = 10_000 + rng.below(50_000_000);
        let price = 2_000_000 + rng.below(5_000_000);
        let sub = sats * price / 100_000_000;
        let fee = sub / 100;
        let (kind, sign, total) = match rng.below(10) {
            0 => ("Send", "-", sub),
            1 => ("Receive", "", sub),
            2..=5 => ("Sell", "-", sub - fee),
            _ => ("Buy", "", sub + fee),
        };
        let _ = write!(
            out,
            "cb-{n},{} UTC,{kind},BTC,{sign}{},USD,{},{},{},{},\r\n",
            stamp(time),
            btc(sats),
            money(price),
            money(sub),
            money(total),
            money(fee)
        );
    }
    out
}

/// `VmRSS` and `VmHWM` of this process, in MB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn run(name: &str, text: String) {
    let mb = text.len() as f64 / 1_000_000.0;
    let (rss_before, _) = memory();
    let start = Instant::now();
    let converted = match import::read(text.as_bytes(), "auto", "UTC", None) {
        Ok(c) => c,
        Err(e) => {
            println!("{name}: refused: {e:?}");
            return;
        }
    };
    let rows: Vec<_> = converted
        .rows
        .iter()
        .take(100)
        .map(|(_, t)| t.clone())
        .collect();
    let preview = generic::write(&rows).unwrap_or_default();
    let seconds = start.elapsed().as_secs_f64();
    let (rss_after, hwm) = memory();
    println!(
        "{name}: {mb:.0} MB read as {} into {} rows ({} skipped) in {seconds:.2} s = {:.0} MB/s; \
         memory: {rss_before} MB with the file, {rss_after} MB with the rows, peak {hwm} MB; preview {} bytes",
        converted.format.label,
        converted.rows.len(),
        converted.skipped.len(),
        mb / seconds,
        preview.len()
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let which = args
        .iter()
        .find(|a| *a == "kraken" || *a == "coinbase")
        .cloned();
    let size_mb: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(200);
    let bytes = size_mb * 1_000_000;
    if which.as_deref() != Some("coinbase") {
        run("kraken ledgers", kraken(bytes));
    }
    if which.as_deref() != Some("kraken") {
        run("coinbase history", coinbase(bytes));
    }
}

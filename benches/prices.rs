//! Price table benchmark: 15 years of daily prices for 7 currencies as a
//! wide price file — parsed, stored in SQLite (one transaction), read back
//! into a lookup book — then 1,000,000 income rows valued against it.
//!
//! Run: `cargo bench --bench prices` (release profile). Optional argument:
//! the number of valuations (default 1000000). Results go in
//! docs/benchmarks.md.
#![allow(clippy::print_stdout)] // a benchmark reports on standard output

use std::time::Instant;

use ledgersys::ledger::{Kind, Sats, Tx};
use ledgersys::prices::book::PriceBook;
use ledgersys::prices::valuation::{self, Method, Rule};
use ledgersys::prices::{CURRENCIES, day_start};
use ledgersys::store::Store;
use rust_decimal::Decimal;

const YEARS: i64 = 15;

/// A wide price file from 2011-01-01, one line a day, prices wandering
/// deterministically, two decimals.
fn price_file() -> (String, usize) {
    let first = jiff::civil::date(2011, 1, 1);
    let days = YEARS * 365 + YEARS / 4;
    let mut out = String::from("Date");
    for c in CURRENCIES {
        out.push_str(&format!(",BTC_{c}"));
    }
    out.push('\n');
    let mut cents: i64 = 30_000;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..days {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        cents = (cents + cents * ((seed % 2001) as i64 - 990) / 100_000).max(100);
        let day = first
            .checked_add(jiff::Span::new().days(i))
            .unwrap_or(first);
        out.push_str(&day.to_string());
        for (k, _) in CURRENCIES.iter().enumerate() {
            let c = cents * (80 + 17 * k as i64) / 100;
            out.push_str(&format!(",{}.{:02}", c / 100, c % 100));
        }
        out.push('\n');
    }
    (out, days as usize)
}

fn ms(t: Instant) -> String {
    format!("{:.1} ms", t.elapsed().as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let lookups: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let (file, days) = price_file();
    println!(
        "{days} days x {} currencies = {} prices, file {} KB",
        CURRENCIES.len(),
        days * CURRENCIES.len(),
        file.len() / 1024
    );

    let t = Instant::now();
    let points = ledgersys::prices::file::parse(file.as_bytes()).expect("parses");
    println!("parse:              {}", ms(t));

    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).await.expect("store");
    let t = Instant::now();
    let stored = store
        .put_prices(&points, "file", true, 0, None)
        .await
        .expect("store");
    println!("store (one tx):     {} ({stored} rows)", ms(t));

    let t = Instant::now();
    let mut all = Vec::new();
    for c in CURRENCIES {
        all.extend(store.prices_of(c).await.expect("read"));
    }
    let book = PriceBook::new(all);
    println!("load book (7 cur):  {} ({} prices)", ms(t), book.len());

    // Income rows spread over the 15 years, a few minutes to hours apart.
    let start = day_start(jiff::civil::date(2011, 1, 1));
    let span = days as i64 * 86_400;
    let rows: Vec<Tx> = (0..lookups as i64)
        .map(|i| Tx {
            id: None,
            time: jiff::Timestamp::from_second(start + (i * 7_919 * 60) % span).expect("time"),
            kind: Kind::Income,
            account: "mining".into(),
            btc: Sats(1_000 + i % 5_000_000),
            fee_btc: Sats::ZERO,
            fiat_value: None,
            currency: None,
            fee_fiat: Decimal::ZERO,
            to_account: None,
            txid: None,
            note: None,
        })
        .collect();
    for (label, zone) in [("UTC", "UTC"), ("Europe/Berlin", "Europe/Berlin")] {
        let rule = Rule {
            method: Method::DayClose,
            zone: jiff::tz::TimeZone::get(zone).expect("zone"),
        };
        let t = Instant::now();
        let valued = valuation::value_rows(&rows, "EUR", &rule, &book);
        let elapsed = t.elapsed().as_secs_f64();
        let found = valued.iter().filter(|(_, v)| v.is_ok()).count();
        println!(
            "value {lookups} rows, day close {label}: {:.1} ms ({:.0} ns each, {found} valued)",
            elapsed * 1000.0,
            elapsed * 1e9 / lookups as f64
        );
    }
    store.close().await;
}

//! Filling the price table from each source's fake: paging limits, the
//! 429 rule, malformed and cut-off answers, and reports per source and range.

use ledgersys::prices::sources::{
    Source, bitstamp::Bitstamp, coinbase::Coinbase, coingecko::CoinGecko, kraken::Kraken,
    mempool::Mempool,
};
use ledgersys::prices::sync::{self, Fetcher, Outcome, RangeReport};
use ledgersys::prices::{Resolution, day_start};
use ledgersys::store::Store;
use rust_decimal::Decimal;

use crate::fakes::prices::{DAY, FakePrices, price};

fn day(y: i16, m: i8, d: i8) -> jiff::civil::Date {
    jiff::civil::date(y, m, d)
}

struct Table {
    _dir: tempfile::TempDir,
    store: Store,
}

impl Table {
    async fn new() -> Table {
        let dir = tempfile::tempdir().expect("temp");
        let store = Store::open(dir.path()).await.expect("store");
        Table { _dir: dir, store }
    }

    async fn fill(
        &self,
        sources: Vec<Box<dyn Source>>,
        currency: &str,
        from: jiff::civil::Date,
        today: jiff::civil::Date,
    ) -> Vec<RangeReport> {
        let fetcher = Fetcher::new().expect("client");
        sync::fill_gaps(
            &self.store,
            &fetcher,
            &sources,
            &[currency.to_string()],
            from,
            today,
            1,
            &|_| {},
        )
        .await
        .expect("fill")
    }

    async fn price(&self, currency: &str, d: jiff::civil::Date) -> Option<(Decimal, String)> {
        self.store
            .price(currency, Resolution::Day, day_start(d))
            .await
            .expect("read")
    }

    async fn days(&self, currency: &str) -> usize {
        self.store
            .price_days(currency, 0, i64::MAX)
            .await
            .expect("days")
            .len()
    }
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

fn summary(reports: &[RangeReport]) -> Vec<String> {
    reports.iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn coinbase_pages_by_300_candles_and_a_day_without_trades_stays_a_gap() {
    let today = day(2024, 6, 1);
    let fake = FakePrices::start(day_start(today)).await;
    let quiet = day_start(day(2023, 3, 5));
    fake.state.lock().expect("lock").no_trade_days.insert(quiet);
    let table = Table::new().await;
    let coinbase = Box::new(Coinbase {
        base: fake.base("coinbase"),
        hourly: false,
    });
    let reports = table
        .fill(vec![coinbase], "EUR", day(2023, 1, 1), today)
        .await;
    // 2023-01-01..2024-05-31 is 517 days: 300 + 217 candles.
    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(requests[0].ends_with(&format!(
        "/products/BTC-EUR/candles?granularity=86400&start={}&end={}",
        day_start(day(2023, 1, 1)),
        day_start(day(2023, 1, 1)) + 299 * DAY
    )));
    assert_eq!(
        summary(&reports),
        vec![
            "coinbase EUR 2023-01-01..2023-10-27: partial, 299 prices stored, 1 days still missing",
            "coinbase EUR 2023-10-28..2024-05-31: complete, 217 prices stored",
            "none EUR 2023-03-05..2023-03-05: no source has these days",
        ]
    );
    let d = day(2023, 7, 14);
    assert_eq!(
        table.price("EUR", d).await,
        Some((dec(&price("EUR", day_start(d))), "coinbase".into()))
    );
    assert_eq!(table.price("EUR", day(2023, 3, 5)).await, None);
    assert_eq!(
        table.price("EUR", today).await,
        None,
        "today's close is not known yet"
    );
}

#[tokio::test]
async fn kraken_serves_only_its_720_most_recent_candles_and_never_the_open_one() {
    let today = day(2024, 6, 1);
    let fake = FakePrices::start(day_start(today)).await;
    let table = Table::new().await;
    let kraken = Box::new(Kraken {
        base: fake.base("kraken"),
    });
    let reports = table
        .fill(vec![kraken], "CHF", day(2020, 1, 1), today)
        .await;
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(reports.len(), 3, "{reports:?}");
    assert!(
        matches!(&reports[0].outcome, Outcome::Unservable { reason } if reason.contains("720"))
    );
    assert_eq!(reports[0].to, "2022-06-12");
    assert_eq!(
        reports[1].to_string(),
        "kraken CHF 2022-06-13..2024-05-31: complete, 719 prices stored"
    );
    assert_eq!(reports[2].outcome, Outcome::Missing);
    assert_eq!(table.days("CHF").await, 719);
    let d = day(2022, 6, 13);
    assert_eq!(
        table.price("CHF", d).await.map(|p| p.0),
        Some(dec(&price("CHF", day_start(d))))
    );
}

#[tokio::test]
async fn bitstamp_pages_by_1000_and_waits_out_a_429() {
    let today = day(2024, 6, 1);
    let fake = FakePrices::start(day_start(today)).await;
    fake.state.lock().expect("lock").throttle = 1;
    let table = Table::new().await;
    let bitstamp = Box::new(Bitstamp {
        base: fake.base("bitstamp"),
    });
    let reports = table
        .fill(vec![bitstamp], "USD", day(2017, 7, 1), today)
        .await;
    let requests = fake.requests();
    // 2017-07-01..2024-05-31 is 2527 days: 3 windows, the first asked twice.
    assert_eq!(requests.len(), 4, "{requests:?}");
    assert_eq!(requests[0], requests[1], "the throttled request is retried");
    assert!(requests.iter().all(|r| r.contains("step=86400")));
    assert!(
        reports
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Complete { .. })),
        "{reports:?}"
    );
    assert_eq!(table.days("USD").await, 2527);
    let d = day(2019, 2, 3);
    assert_eq!(
        table.price("USD", d).await,
        Some((dec(&price("USD", day_start(d))), "bitstamp".into()))
    );
}

#[tokio::test]
async fn mempool_answers_the_whole_history_at_once_and_zero_is_no_price() {
    let today = day(2024, 6, 1);
    let fake = FakePrices::start(day_start(today)).await;
    let table = Table::new().await;
    let mempool = Box::new(Mempool {
        base: fake.base("mempool"),
    });
    let reports = table
        .fill(vec![mempool], "JPY", day(2010, 7, 18), today)
        .await;
    let requests = fake.requests();
    assert_eq!(
        requests,
        vec!["/mempool/api/v1/historical-price?currency=JPY"]
    );
    assert!(!requests[0].contains("timestamp"), "no date is revealed");
    assert!(
        matches!(reports[0].outcome, Outcome::Partial { .. }),
        "weekly history leaves gaps: {reports:?}"
    );
    assert_eq!(
        table.price("JPY", day(2010, 7, 18)).await,
        None,
        "the 0 placeholder is not a price"
    );
    let d = day(2015, 8, 9);
    assert_eq!(
        table.price("JPY", d).await,
        Some((dec(&price("JPY", day_start(d))), "mempool".into()))
    );
    // Weekly before 2013: 2011-03-02 has no point, 2011-03-06 does.
    assert_eq!(table.price("JPY", day(2011, 3, 2)).await, None);
    assert!(table.price("JPY", day(2011, 3, 6)).await.is_some());
}

#[tokio::test]
async fn coingecko_sends_the_key_and_a_demo_key_reaches_back_365_days() {
    let today = day(2024, 6, 1);
    let fake = FakePrices::start(day_start(today)).await;
    let key = fake.state.lock().expect("lock").coingecko_key.clone();
    let table = Table::new().await;
    let gecko = |key: &str| -> Box<dyn Source> {
        Box::new(CoinGecko {
            base: fake.base("coingecko"),
            key: key.into(),
            pro: false,
        })
    };
    let wrong = table
        .fill(vec![gecko("CG-wrong")], "CAD", day(2024, 1, 1), today)
        .await;
    assert!(
        matches!(&wrong[0].outcome, Outcome::Failed { reason } if reason.contains("HTTP 401")),
        "{wrong:?}"
    );
    assert_eq!(
        table.days("CAD").await,
        0,
        "a failure stores nothing, never a zero"
    );

    let reports = table
        .fill(vec![gecko(&key)], "CAD", day(2022, 1, 1), today)
        .await;
    assert!(
        matches!(&reports[0].outcome, Outcome::Unservable { reason } if reason.contains("365"))
    );
    assert_eq!(reports[0].to, "2023-06-02");
    assert_eq!(
        reports[1].to_string(),
        "coingecko CAD 2023-06-03..2024-05-27: complete, 360 prices stored"
    );
    assert!(fake.state.lock().expect("lock").keys_seen.contains(&key));
    let d = day(2024, 5, 31);
    assert_eq!(
        table.price("CAD", d).await.map(|p| p.0),
        Some(dec(&price("CAD", day_start(d))))
    );
}

#[tokio::test]
async fn a_malformed_or_cut_off_answer_fails_its_range_and_the_next_source_fills_it() {
    let today = day(2024, 6, 1);
    let fake = FakePrices::start(day_start(today)).await;
    let first = day_start(day(2023, 1, 1));
    {
        let mut s = fake.state.lock().expect("lock");
        s.malformed
            .push(format!("candles?granularity=86400&start={first}"));
        s.cut_off.push(format!(
            "/candles?granularity=86400&start={}",
            first + 300 * DAY
        ));
    }
    let table = Table::new().await;
    let sources: Vec<Box<dyn Source>> = vec![
        Box::new(Coinbase {
            base: fake.base("coinbase"),
            hourly: false,
        }),
        Box::new(Bitstamp {
            base: fake.base("bitstamp"),
        }),
    ];
    let reports = table.fill(sources, "GBP", day(2023, 1, 1), today).await;
    let lines = summary(&reports);
    assert!(
        lines[0].starts_with("coinbase GBP 2023-01-01..2023-10-27: failed: malformed answer"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("coinbase GBP 2023-10-28..2024-05-31: failed: the answer was cut off"),
        "{lines:?}"
    );
    assert_eq!(
        lines[2..],
        ["bitstamp GBP 2023-01-01..2024-05-31: complete, 517 prices stored"]
    );
    assert_eq!(table.days("GBP").await, 517);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prices_sync_on_the_command_line_reports_each_source_and_range() {
    use ledgersys::prices::settings::{self, PriceSettings, SourceSetting};
    let today = ledgersys::prices::utc_day(ledgersys::clock::now());
    let fake = FakePrices::start(day_start(today)).await;
    fake.state
        .lock()
        .expect("lock")
        .cut_off
        .push("historical-price".into());
    let temp = tempfile::tempdir().expect("temp");
    let data = temp.path().join("data");
    std::fs::create_dir_all(&data).expect("dir");
    {
        let store = Store::open(&data).await.expect("store");
        let source = |name: &str| SourceSetting {
            name: name.into(),
            enabled: true,
            base_url: Some(fake.base(name)),
        };
        let prices = PriceSettings {
            sources: vec![source("mempool"), source("coinbase")],
            ..PriceSettings::default()
        };
        let audit = ledgersys::store::AuditEntry::new(1, None, "test", "settings.prices_changed");
        settings::save(&store, &prices, &audit).await.expect("save");
        store.close().await;
    }
    let from = today
        .checked_sub(jiff::Span::new().days(400))
        .expect("date");
    let dir = data.display().to_string();
    let from_text = from.to_string();
    let run = move |args: Vec<String>| {
        let mut all = vec!["--data-dir".to_string(), dir.clone()];
        all.extend(args);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        crate::support::run(&all)
    };
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let sync_args = args(&["prices", "sync", "--currency", "eur", "--from", &from_text]);
    let r = run.clone();
    let out = tokio::task::spawn_blocking(move || r(sync_args))
        .await
        .expect("run");
    let stdout = crate::support::text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        crate::support::text(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].starts_with(&format!("mempool EUR {from}..")),
        "{stdout}"
    );
    assert!(
        lines[0].contains("failed: the answer was cut off"),
        "{stdout}"
    );
    assert!(
        lines[1].ends_with("complete, 300 prices stored"),
        "{stdout}"
    );
    assert!(
        lines[2].ends_with("complete, 100 prices stored"),
        "{stdout}"
    );
    assert!(crate::support::text(&out.stderr).contains("[3/3] coinbase EUR"));

    let get_args = args(&["prices", "get", "--date", &from_text, "--currency", "EUR"]);
    let r = run.clone();
    let out = tokio::task::spawn_blocking(move || r(get_args))
        .await
        .expect("run");
    assert_eq!(
        crate::support::text(&out.stdout).trim(),
        dec(&price("EUR", day_start(from))).to_string()
    );
    let bad = args(&["prices", "sync", "--source", "bitcoincharts"]);
    let out = tokio::task::spawn_blocking(move || run(bad))
        .await
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn coinbase_hourly_candles_fill_hours_and_value_by_the_nearest_hour_or_the_local_close() {
    use ledgersys::prices::book::PriceBook;
    use ledgersys::prices::valuation::{Method, Rule, price_at};
    let today = day(2024, 1, 21);
    let fake = FakePrices::start(day_start(today)).await;
    let table = Table::new().await;
    let hourly: Vec<Box<dyn Source>> = vec![Box::new(Coinbase {
        base: fake.base("coinbase"),
        hourly: true,
    })];
    let reports = table.fill(hourly, "USD", day(2024, 1, 1), today).await;
    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "12 days of 288 hourly candles, then 8");
    assert!(requests[0].contains("granularity=3600"), "{requests:?}");
    assert_eq!(
        summary(&reports),
        vec![
            "coinbase_hourly USD 2024-01-01..2024-01-12: complete, 288 prices stored",
            "coinbase_hourly USD 2024-01-13..2024-01-20: complete, 192 prices stored",
        ],
        "no daily prices were asked for, and none are reported missing"
    );
    assert_eq!(table.days("USD").await, 0);

    let book = PriceBook::new(table.store.prices_of("USD").await.expect("prices"));
    let nearest = Rule {
        method: Method::NearestHour,
        zone: jiff::tz::TimeZone::UTC,
    };
    let t: jiff::Timestamp = "2024-01-05T10:20:00Z".parse().expect("t");
    let at_ten = day_start(day(2024, 1, 5)) + 10 * 3600;
    assert_eq!(
        price_at(t, "USD", &nearest, &book),
        Ok(dec(&crate::fakes::prices::hourly_price("USD", at_ten)))
    );
    // 2024-01-05 in New York ends at 05:00 UTC on the 6th.
    let new_york = Rule {
        method: Method::DayClose,
        zone: jiff::tz::TimeZone::get("America/New_York").expect("zone"),
    };
    let close = day_start(day(2024, 1, 6)) + 5 * 3600;
    assert_eq!(
        price_at(t, "USD", &new_york, &book),
        Ok(dec(&crate::fakes::prices::hourly_price("USD", close)))
    );
}

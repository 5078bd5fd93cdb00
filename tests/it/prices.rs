//! The price table: the shared daily price file imported through the real
//! CLI, income valued from it exactly, and lookups.

use std::str::FromStr;

use ledgersys::ledger::{Kind, Sats, Tx};
use ledgersys::prices::book::PriceBook;
use ledgersys::prices::valuation::{self, Method, Rule};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::support::{run, text};

/// The shared test data: daily prices 2012-01-01..2026-08-22, wide layout.
pub const PRICE_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/btc-daily-prices.csv"
);

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

fn income(time: &str, btc: &str) -> Tx {
    Tx {
        id: None,
        time: time.parse().expect("time"),
        kind: Kind::Income,
        account: "mining".into(),
        btc: Sats::parse_btc(btc).expect("btc"),
        fee_btc: Sats::ZERO,
        fiat_value: None,
        currency: None,
        fee_fiat: Decimal::ZERO,
        to_account: None,
        txid: None,
        note: None,
    }
}

#[test]
fn income_is_valued_exactly_from_the_shared_price_file() {
    let bytes = std::fs::read(PRICE_FILE).expect("the shared price file");
    let points = ledgersys::prices::file::parse(&bytes).expect("the file parses");
    assert_eq!(points.len(), 5348 * 12, "12 currencies, every day");
    let book = PriceBook::new(points);
    let rows = vec![
        income("2013-04-10T09:00:00Z", "0.5"),
        income("2017-12-17T18:30:00Z", "0.01234567"),
        income("2020-03-12T23:59:59Z", "0.1"),
        income("2021-11-10T00:00:00Z", "0.001"),
        income("2024-01-02T12:00:00Z", "0.25"),
        // After the file's last day: missing, never zero.
        income("2026-09-01T12:00:00Z", "0.1"),
    ];
    let usd = valuation::value_rows(&rows, "USD", &Rule::default(), &book);
    let values: Vec<Option<Decimal>> = usd
        .iter()
        .map(|(_, v)| v.as_ref().ok().map(|v| v.value))
        .collect();
    assert_eq!(
        values,
        vec![
            Some(dec("113.805")),
            Some(dec("236.5527902793")),
            Some(dec("796.384")),
            Some(dec("66.97206")),
            Some(dec("11049.25")),
            None,
        ]
    );
    let missing = usd[5].1.as_ref().expect_err("missing");
    assert!(
        missing.message.contains("no USD price for 2026-09-01"),
        "{missing:?}"
    );

    // The same instants in GBP, and on a Tokyo calendar: 23:59:59 UTC on
    // 2020-03-12 is already the 13th there.
    let gbp = valuation::value_rows(&rows[1..5], "GBP", &Rule::default(), &book);
    assert_eq!(
        gbp[0].1.as_ref().map(|v| v.value),
        Ok(dec("176.0993776202"))
    );
    assert_eq!(gbp[3].1.as_ref().map(|v| v.value), Ok(dec("8680.5125")));
    let tokyo = Rule {
        method: Method::DayClose,
        zone: jiff::tz::TimeZone::get("Asia/Tokyo").expect("zone"),
    };
    let in_tokyo = valuation::value_rows(&rows[2..3], "USD", &tokyo, &book);
    let price_13th = valuation::price_at(rows[2].time, "USD", &tokyo, &book).expect("price");
    assert_eq!(
        in_tokyo[0].1.as_ref().map(|v| v.value),
        Ok(price_13th * dec("0.1"))
    );
    assert_ne!(price_13th, dec("7963.84"));
}

const INCOME: &str = "id,timestamp,type,account,btc,fiat_value,fiat_currency\n\
i1,2013-04-10T09:00:00Z,income,mining,0.5,,\n\
i2,2017-12-17T18:30:00Z,income,mining,0.01234567,,\n\
i3,2020-03-12T23:59:59Z,income,mining,0.1,,\n\
i4,2021-05-01T12:00:00Z,income,mining,0.1,5000,USD\n\
i5,2021-11-10T00:00:00Z,income,mining,0.001,,\n\
i6,2024-01-02T12:00:00Z,income,mining,0.25,,\n";

struct Books {
    temp: tempfile::TempDir,
    dir: String,
}

impl Books {
    fn new() -> Books {
        let temp = tempfile::tempdir().expect("temp");
        let dir = temp.path().join("data").display().to_string();
        Books { temp, dir }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        run(&[&["--data-dir", self.dir.as_str()], args].concat())
    }

    fn file(&self, name: &str, content: &str) -> String {
        let path = self.temp.path().join(name);
        std::fs::write(&path, content).expect("write");
        path.display().to_string()
    }
}

#[test]
fn prices_import_and_get_follow_the_cli_contract() {
    let books = Books::new();
    let out = books.run(&["prices", "import", PRICE_FILE]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        "stored 64176 prices from btc-daily-prices.csv; 0 were already present"
    );
    let again = books.run(&["prices", "import", PRICE_FILE]);
    assert_eq!(
        text(&again.stdout).trim(),
        "stored 0 prices from btc-daily-prices.csv; 64176 were already present"
    );
    let get = |date: &str, currency: &str| {
        let out = books.run(&["prices", "get", "--date", date, "--currency", currency]);
        (
            out.status.code(),
            text(&out.stdout).trim().to_string(),
            text(&out.stderr),
        )
    };
    assert_eq!(get("2022-06-18", "GBP").1, "16534.58");
    assert_eq!(get("2024-01-02", "usd").1, "44197");
    assert_eq!(get("2026-08-22", "JPY").1, "11646111");
    let (code, stdout, stderr) = get("2011-06-01", "USD");
    assert_eq!(code, Some(3));
    assert!(stdout.is_empty());
    assert!(stderr.contains("missing price"), "{stderr}");
    assert_eq!(get("2024-13-01", "USD").0, Some(2));

    // A long-layout file replaces the days it names, and only those.
    let long = books.file("mine.csv", "date,currency,price\n2024-01-02,USD,44200.5\n");
    let out = books.run(&["prices", "import", &long]);
    assert_eq!(
        text(&out.stdout).trim(),
        "stored 1 prices from mine.csv; 0 were already present"
    );
    assert_eq!(get("2024-01-02", "USD").1, "44200.5");
    assert_eq!(get("2024-01-02", "EUR").1, "40038.06");

    let bad = books.file(
        "bad.csv",
        "date,currency,price\n2024-01-03,USD,1\n2024-01-04,USD,0\n",
    );
    let out = books.run(&["prices", "import", &bad]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("line 3: USD price \"0\" is not a positive decimal"));
    assert_eq!(
        get("2024-01-03", "USD").1,
        "45025",
        "nothing of a refused file is stored"
    );
}

#[test]
fn reports_value_income_from_the_table_and_flag_missing_prices() {
    let books = Books::new();
    let history = books.file("income.csv", INCOME);
    assert!(books.run(&["import", &history]).status.success());

    // Before any prices: every unvalued row is a missing price.
    let out = books.run(&[
        "report",
        "summary",
        "--jurisdiction",
        "us",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["complete"], false);
    assert_eq!(
        text(&out.stderr).matches("missing price").count(),
        5,
        "{}",
        text(&out.stderr)
    );

    assert!(
        books
            .run(&["prices", "import", PRICE_FILE])
            .status
            .success()
    );
    let out = books.run(&[
        "report",
        "summary",
        "--jurisdiction",
        "us",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["complete"], true);
    let income: Vec<(String, String)> = json["years"]
        .as_array()
        .expect("years")
        .iter()
        .map(|y| {
            (
                y["year"].as_str().unwrap_or("").into(),
                y["income"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    let expect = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    // 113.805 rounds half-even to 113.80; 5000 + 66.97206 in 2021.
    assert_eq!(
        income,
        expect(&[
            ("2013", "113.80"),
            ("2017", "236.55"),
            ("2020", "796.38"),
            ("2021", "5066.97"),
            ("2024", "11049.25"),
        ])
    );

    // The income lines in GBP, valued from the GBP column.
    let out = books.run(&[
        "report",
        "income",
        "--jurisdiction",
        "uk",
        "--format",
        "json",
    ]);
    let lines: Value = serde_json::from_slice(&out.stdout).expect("json");
    let values: Vec<Value> = lines
        .as_array()
        .expect("lines")
        .iter()
        .filter(|l| l["date"] != "2021-05-01")
        .map(|l| l["value"].clone())
        .collect();
    assert_eq!(
        values,
        vec![
            Value::from("74.27"),
            Value::from("176.10"),
            Value::from("621.29"),
            Value::from("49.39"),
            Value::from("8680.51"),
        ]
    );
}

//! Binance over the command line and the server, against a fake Binance
//! that checks signatures, timestamps, weights and windows as Binance
//! does: a read-only key accepted, every key that can do more refused with
//! nothing stored, the whole history (fills of the BTC pairs, deposits,
//! withdrawals, card purchases, Convert, rewards, dust) synced and then
//! only what is new, through rate limits, a failure and a kill without
//! doubles, the same rows from Binance's export files and the API, and the
//! key never written anywhere.

use std::path::Path;

use serde_json::{Value, json};

use crate::fakes::binance::{
    self, FakeBinance, JAN_2024_MS, KEY, RIGHTS, SECRET, deposit, fill, withdrawal,
};
use crate::support::{PASSWORD, Server, command, sqlite_count, text};

struct Dir {
    data: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        Dir {
            data: tempfile::tempdir().expect("temp"),
        }
    }

    fn db(&self) -> std::path::PathBuf {
        self.data.path().join("data").join("ledgersys.sqlite3")
    }

    /// The binary on this directory, without the client-side rate budget:
    /// Binance's weights would have a first sync wait for minutes, and the
    /// fake's own limits are what these tests exercise.
    fn run(&self, args: &[&str]) -> std::process::Output {
        command()
            .arg("--data-dir")
            .arg(self.data.path().join("data"))
            .args(args)
            .env("LEDGERSYS_EXCHANGES_RATE_BUDGET", "off")
            .output()
            .expect("run")
    }

    fn add_with(&self, fake: &FakeBinance, key: &str, secret: &str) -> std::process::Output {
        let k = self.data.path().join("key.txt");
        let s = self.data.path().join("secret.txt");
        std::fs::write(&k, format!("{key}\n")).expect("key");
        std::fs::write(&s, format!("{secret}\n")).expect("secret");
        self.run(&[
            "exchange",
            "add",
            "binance",
            "--name",
            "Binance",
            "--key-file",
            k.to_str().expect("utf-8"),
            "--secret-file",
            s.to_str().expect("utf-8"),
            "--api-url",
            &fake.url,
        ])
    }

    fn add(&self, fake: &FakeBinance) -> std::process::Output {
        self.add_with(fake, KEY, SECRET)
    }

    fn sync(&self) -> Value {
        json_of(&self.run(&["exchange", "sync"]))
    }

    fn list(&self) -> Value {
        json_of(&self.run(&["exchange", "list", "--format", "json"]))
    }

    fn import(&self, name: &str, csv: &str) {
        let file = self.data.path().join(name);
        std::fs::write(&file, csv).expect("csv");
        let out = self.run(&[
            "import",
            file.to_str().expect("utf-8"),
            "--account",
            "Binance",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
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

fn assert_no_secret(what: &str, haystack: &str) {
    assert!(!haystack.contains(KEY), "the key is in {what}");
    assert!(!haystack.contains(SECRET), "the secret is in {what}");
    assert!(
        !haystack.contains(&KEY[..20]),
        "part of the key is in {what}"
    );
    assert!(
        !haystack.contains(&SECRET[20..40]),
        "part of the secret is in {what}"
    );
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

const DAY_MS: i64 = 86_400_000;

/// One of each kind of entry Binance keeps, and some it does not count.
/// The rows add up to 127,179,542 sat; the pending deposit (0.2 BTC, ten
/// days old) is not among them.
fn every_kind(fake: &FakeBinance) {
    let recent = now_ms() - 10 * DAY_MS;
    fake.set(|s| {
        s.fills.insert(
            "BTCUSDT".into(),
            binance::buys("BTCUSDT", 1, 3, JAN_2024_MS),
        );
        s.fills.insert(
            "BTCEUR".into(),
            vec![
                fill("BTCEUR", 7, JAN_2024_MS, true, "0.02000000", "800.00", "0.00002000", "BTC"),
                fill("BTCEUR", 8, JAN_2024_MS + 60_000, false, "0.00500000", "210.00", "0.21", "EUR"),
            ],
        );
        s.fills.insert(
            "ETHBTC".into(),
            vec![
                // 1 ETH sold for 0.05 BTC, commission in BTC.
                fill("ETHBTC", 31, JAN_2024_MS, false, "1.0000", "0.05000000", "0.00005000", "BTC"),
                // 0.5 ETH bought for 0.025 BTC, commission in ETH.
                fill("ETHBTC", 32, JAN_2024_MS + 1000, true, "0.5000", "0.02500000", "0.00050000", "ETH"),
            ],
        );
        // Listed, but a pair the client does not ask about.
        s.listed.insert("DOGEUSDT".into());
        s.fills.insert("DOGEUSDT".into(), binance::buys("DOGEUSDT", 1, 2, JAN_2024_MS));
        s.deposits = vec![
            deposit("dep-1", &"a1".repeat(32), "1.00000000", 1_502_000_000_000, 1), // August 2017
            deposit("dep-2", &"a2".repeat(32), "0.50000000", JAN_2024_MS + DAY_MS, 6),
            deposit("dep-3", &"a3".repeat(32), "0.20000000", recent, 0),
            deposit("dep-4", &"a4".repeat(32), "0.70000000", JAN_2024_MS + 2 * DAY_MS, 7),
        ];
        s.withdrawals = vec![
            withdrawal("wd-1", &"b1".repeat(32), "0.30000000", "0.00020000", JAN_2024_MS + 3 * DAY_MS, 6),
            withdrawal("wd-2", "", "0.10000000", "0.00020000", JAN_2024_MS + 4 * DAY_MS, 1),
        ];
        s.payments = vec![
            (0, json!({"orderNo": "pay-1", "sourceAmount": "40.40", "fiatCurrency": "EUR",
                       "obtainAmount": "0.00100000", "cryptoCurrency": "BTC", "totalFee": "0.40",
                       "price": "40000.00", "status": "Completed", "paymentMethod": "Credit Card",
                       "createTime": JAN_2024_MS + 5 * DAY_MS, "updateTime": JAN_2024_MS + 5 * DAY_MS})),
            (0, json!({"orderNo": "pay-2", "sourceAmount": "20.00", "fiatCurrency": "EUR",
                       "obtainAmount": "0.00050000", "cryptoCurrency": "BTC", "totalFee": "0.20",
                       "price": "39600.00", "status": "Failed", "paymentMethod": "Credit Card",
                       "createTime": JAN_2024_MS + 6 * DAY_MS, "updateTime": JAN_2024_MS + 6 * DAY_MS})),
        ];
        s.converts = vec![
            json!({"quoteId": "q1", "orderId": 933_256_278_426_274_426_i64, "orderStatus": "SUCCESS",
                   "fromAsset": "BTC", "fromAmount": "0.00200000", "toAsset": "USDT", "toAmount": "80",
                   "ratio": "40000", "inverseRatio": "0.000025", "createTime": JAN_2024_MS + 7 * DAY_MS}),
            json!({"quoteId": "q2", "orderId": 933_256_278_426_274_427_i64, "orderStatus": "SUCCESS",
                   "fromAsset": "EUR", "fromAmount": "120.00", "toAsset": "BTC", "toAmount": "0.00300000",
                   "ratio": "0.000025", "inverseRatio": "40000", "createTime": JAN_2024_MS + 8 * DAY_MS}),
        ];
        s.dividends = vec![
            json!({"id": 1_637_366_104_i64, "amount": "0.00010000", "asset": "BTC",
                   "divTime": JAN_2024_MS + 9 * DAY_MS, "enInfo": "Bonus Tiered APR Rewards",
                   "tranId": 2_968_885_920_i64, "direction": 1}),
            json!({"id": 1_637_366_105_i64, "amount": "0.01000000", "asset": "ETH",
                   "divTime": JAN_2024_MS + 9 * DAY_MS, "enInfo": "ETH distribution",
                   "tranId": 2_968_885_921_i64, "direction": 1}),
        ];
        s.earn = vec![
            json!({"asset": "BTC", "rewards": "0.00000042", "projectId": "BTC001",
                   "type": "REALTIME", "time": JAN_2024_MS + 10 * DAY_MS}),
            // The same bonus the dividend record holds: not asked for.
            json!({"asset": "BTC", "rewards": "0.00010000", "projectId": "BTC001",
                   "type": "BONUS", "time": JAN_2024_MS + 9 * DAY_MS}),
        ];
        s.dust = json!({"total": 1, "userAssetDribblets": [{
            "operateTime": JAN_2024_MS + 11 * DAY_MS, "totalTransferedAmount": "0.00010000",
            "totalServiceChargeAmount": "0.00000200", "transId": 45_178_372_831_i64,
            "userAssetDribbletDetails": [
                {"transId": 4_359_321, "serviceChargeAmount": "0.00000100", "amount": "0.00000500",
                 "operateTime": JAN_2024_MS + 11 * DAY_MS, "transferedAmount": "0.00005000", "fromAsset": "BTC"},
                {"transId": 4_359_322, "serviceChargeAmount": "0.00000100", "amount": "3.2",
                 "operateTime": JAN_2024_MS + 11 * DAY_MS, "transferedAmount": "0.00005000", "fromAsset": "ADA"}]}]});
        s.btc = ("1.17179542".into(), "0.10000000".into());
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_key_is_accepted_and_every_key_that_can_do_more_is_refused_with_nothing_stored()
{
    let fake = FakeBinance::start(binance::read_only()).await;
    let dir = Dir::new();
    let mut refusals = 0;
    for (field, label) in RIGHTS {
        fake.set(|s| s.restrictions = binance::with(field, json!(true)));
        let refused = dir.add(&fake);
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{field}: {}",
            text(&refused.stderr)
        );
        let why = text(&refused.stderr);
        assert!(why.contains(&format!("remove {label}")), "{field}: {why}");
        assert!(why.contains("nothing was stored"), "{why}");
        refusals += 1;
    }
    for (answer, named) in [
        (
            binance::with("enableTeleport", json!(true)),
            "\"enableTeleport\", which Ledgersys does not know",
        ),
        (
            binance::with("enableWithdrawals", json!("false")),
            "remove Enable Withdrawals",
        ),
        (
            binance::with("enableReading", json!(false)),
            "the key needs Enable Reading",
        ),
        (json!([]), "a permission answer Ledgersys can read"),
    ] {
        fake.set(|s| s.restrictions = answer);
        let refused = dir.add(&fake);
        assert_eq!(refused.status.code(), Some(2));
        assert!(
            text(&refused.stderr).contains(named),
            "{}",
            text(&refused.stderr)
        );
        refusals += 1;
    }
    assert_eq!(dir.list(), json!([]));
    assert_eq!(
        sqlite_count(&dir.db(), "SELECT COUNT(*) FROM exchange_connections").await,
        0
    );
    assert_eq!(
        sqlite_count(
            &dir.db(),
            "SELECT COUNT(*) FROM secrets WHERE name LIKE 'exchange.%'"
        )
        .await,
        0,
        "nothing stored for a refused key"
    );
    // Only the key check was asked, once a refusal.
    assert_eq!(fake.calls().len(), refusals);
    assert!(
        fake.calls()
            .iter()
            .all(|c| c == "GET /sapi/v1/account/apiRestrictions"),
        "{:?}",
        fake.calls()
    );

    // Keys made before the newer rights existed, with a trading expiry.
    fake.set(|s| s.restrictions = binance::older_read_only());
    let added = json_of(&dir.add(&fake));
    assert_eq!(added["exchange"], "binance");
    assert_eq!(added["permissions"], json!(["enableReading"]));
    assert!(
        !added.to_string().contains("any IP address"),
        "IP-restricted: {added}"
    );
    assert!(
        dir.run(&["exchange", "remove", "--name", "Binance"])
            .status
            .success()
    );

    fake.set(|s| s.restrictions = binance::read_only());
    let added = json_of(&dir.add(&fake));
    assert_eq!(added["name"], "Binance");
    assert_eq!(
        added["permissions"],
        json!(["enableFixReadOnly", "enableReading"])
    );
    let warnings = added["warnings"].to_string();
    assert!(warnings.contains("any IP address"), "{warnings}");
    assert!(warnings.contains("fixed list of BTC pairs"), "{warnings}");
    assert!(warnings.contains("Spot wallet only"), "{warnings}");
    let listed = dir.list();
    assert_eq!(listed[0]["exchange"], "binance");
    assert_eq!(listed[0]["key_last4"], &KEY[KEY.len() - 4..]);
    assert_eq!(listed[0]["rows"], 0);
    assert_no_secret("the data directory", &everything_under(dir.data.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_an_unknown_key_and_a_wrong_clock_are_refused_in_plain_words() {
    let fake = FakeBinance::start(binance::read_only()).await;
    let dir = Dir::new();
    let other = "Zk3n9Qw2Lr8Tv5Yx1Cb7Hm4Jp6Ds0Fg2Kq8Wn5Et1Ru7Io3Pa9Sd4Lf6Gh0Jk2Mz";
    for (key, secret, words) in [
        (KEY, other, "the secret does not belong to this API key"),
        (other, SECRET, "restricted to other IP addresses"),
        (
            "not-a-binance-key",
            SECRET,
            "does not read this as an API key",
        ),
    ] {
        let out = dir.add_with(&fake, key, secret);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        let why = text(&out.stderr);
        assert!(why.contains(words), "{why}");
        assert!(
            !why.contains(other) && !why.contains(KEY) && !why.contains(SECRET),
            "{why}"
        );
        assert!(
            !why.contains("Signature for this request"),
            "Binance's own text: {why}"
        );
    }
    fake.set(|s| s.skew_ms = 90_000);
    let out = dir.add(&fake);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("clock"), "{}", text(&out.stderr));
    assert_eq!(dir.list(), json!([]));
    // The time and window Ledgersys signs with are within Binance's rules.
    fake.set(|s| s.skew_ms = 0);
    json_of(&dir.add(&fake));

    let gone = Dir::new();
    let unreachable = gone.add_with(&FakeBinance::unstarted("https://127.0.0.1:9"), KEY, SECRET);
    assert_eq!(
        unreachable.status.code(),
        Some(1),
        "an unreachable exchange is not the user's mistake"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_sync_reads_every_kind_of_entry_the_second_nothing_and_balances_are_compared() {
    let fake = FakeBinance::start(binance::read_only()).await;
    every_kind(&fake);
    let dir = Dir::new();
    json_of(&dir.add(&fake));
    let first = dir.run(&["exchange", "sync"]);
    let synced = json_of(&first);
    let c = &synced["connections"][0];
    assert_eq!(c["exchange"], "binance");
    // 7 fills, 2 deposits, a withdrawal, a card purchase, 2 conversions, a
    // dividend, a reward and a dust sweep.
    assert_eq!(c["new_rows"], 16, "{synced}");
    assert_eq!(c["total_rows"], 16);
    assert_eq!(c["balance_sat"], 127_179_542);
    assert_eq!(c["exchange_balance_sat"], 127_179_542);
    assert_eq!(c["complete"], true);
    assert!(
        !text(&first.stderr).contains("warning"),
        "{}",
        text(&first.stderr)
    );

    let calls = fake.calls();
    // The history is read from July 2017 in windows Binance takes (the
    // fake refuses longer ones): about 36 of 89 days for each of deposits
    // and withdrawals.
    let deposits = fake.distinct("/sapi/v1/capital/deposit/hisrec");
    assert!((30..60).contains(&deposits), "{deposits} deposit windows");
    assert_eq!(fake.distinct("/sapi/v1/capital/withdraw/history"), deposits);
    assert!(
        calls.iter().any(|c| c.starts_with(
            "GET /sapi/v1/capital/deposit/hisrec?coin=BTC&startTime=1499990400000&endTime=1507679999999&offset=0&limit=1000"
        )),
        "{calls:?}"
    );
    // Only BTC pairs, from the first fill; only real-time Earn rewards
    // (the bonus ones are the dividend record's); no fiat orders (they move
    // no bitcoin); nothing off the allow-list.
    assert!(
        calls
            .iter()
            .any(|c| c == "GET /api/v3/myTrades?symbol=BTCUSDT&fromId=0&limit=1000")
    );
    assert!(
        calls.iter().any(|c| c.contains("symbol=XMRBTC")),
        "unlisted pairs are asked and skipped"
    );
    assert!(!calls.iter().any(|c| c.contains("DOGEUSDT")));
    assert!(
        calls
            .iter()
            .filter(|c| c.contains("rewardsRecord"))
            .all(|c| c.contains("type=REALTIME") && c.contains("asset=BTC"))
    );
    assert_eq!(fake.count("/sapi/v1/fiat/orders"), 0);
    assert_eq!(fake.count("/api/v3/account"), 1);
    let rows = sqlite_count(
        &dir.db(),
        "SELECT COUNT(*) FROM transactions WHERE account = 'Binance' AND \
         ((kind = 'buy' AND currency = 'EUR') OR (kind = 'sell' AND currency = 'EUR'))",
    )
    .await;
    assert_eq!(
        rows, 4,
        "BTCEUR buy and sell, the card purchase, the EUR conversion"
    );
    assert_eq!(
        sqlite_count(
            &dir.db(),
            "SELECT COUNT(*) FROM transactions WHERE account = 'Binance' AND kind = 'withdrawal' \
             AND sats = 30000000 AND fee_sats = 20000 AND txid = source_id",
        )
        .await,
        1,
        "the withdrawal: amount, fee on top, keyed by its txid"
    );
    assert_eq!(
        sqlite_count(
            &dir.db(),
            "SELECT COUNT(*) FROM transactions WHERE kind = 'income'"
        )
        .await,
        2
    );

    let before = fake.calls().len();
    let second = dir.sync();
    assert_eq!(second["connections"][0]["new_rows"], 0, "{second}");
    assert_eq!(second["connections"][0]["total_rows"], 16);
    let again = &fake.calls()[before..];
    assert!(
        again
            .iter()
            .any(|c| c == "GET /api/v3/myTrades?symbol=BTCUSDT&fromId=3&limit=1000"),
        "the last second's fills are asked again: {again:?}"
    );
    assert!(
        again
            .iter()
            .filter(|c| c.contains("deposit/hisrec"))
            .count()
            <= 2,
        "only the newest windows: {again:?}"
    );

    // The pending deposit is credited: the next sync brings it, once.
    fake.set(|s| {
        s.deposits[2]["status"] = json!(1);
        s.btc.0 = "1.37179542".into();
    });
    let third = dir.sync();
    assert_eq!(third["connections"][0]["new_rows"], 1, "{third}");
    assert_eq!(third["connections"][0]["balance_sat"], 147_179_542);
    assert_eq!(third["connections"][0]["exchange_balance_sat"], 147_179_542);

    // Binance reports more than the rows add up to: the user is told.
    fake.set(|s| s.btc.1 = "0.20000000".into());
    let fourth = dir.run(&["exchange", "sync"]);
    let out = json_of(&fourth);
    assert_eq!(out["connections"][0]["exchange_balance_sat"], 157_179_542);
    let warning = text(&fourth.stderr);
    assert!(
        warning.contains("add up to 147179542 sat, but binance reports 157179542 sat"),
        "{warning}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_waited_out_a_ban_and_a_failure_stop_the_sync_and_the_next_goes_on() {
    let fake = FakeBinance::start(binance::read_only()).await;
    every_kind(&fake);
    let dir = Dir::new();
    json_of(&dir.add(&fake));
    // Weight limits per second rather than per minute: the sync runs into
    // them several times, waits each out as told, and is never banned.
    fake.set(|s| {
        s.window_ms = 1000;
        s.ip_limit = 600;
        s.uid_limit = 300_000;
    });
    let synced = dir.sync();
    let c = &synced["connections"][0];
    assert_eq!(c["new_rows"], 16, "{synced}");
    assert_eq!(c["balance_sat"], 127_179_542);
    let (limited, ignored) = fake.get(|s| (s.limited, s.ignored_retry_after));
    assert!(limited >= 2, "rate limited {limited} times");
    assert_eq!(ignored, 0, "a call came before Retry-After had passed");

    // Banned: the sync stops at once, saying until when.
    fake.set(|s| {
        s.window_ms = 1000;
        s.ip_limit = 6000;
        s.uid_limit = 180_000;
        s.ban_secs = Some(600);
        s.deposits[2]["status"] = json!(1);
    });
    let calls = fake.calls().len();
    let banned = dir.run(&["exchange", "sync"]);
    assert_eq!(banned.status.code(), Some(1), "{}", text(&banned.stderr));
    let why = text(&banned.stderr);
    assert!(why.contains("banned this server's IP address"), "{why}");
    assert!(why.contains("until 20"), "{why}");
    assert_eq!(fake.calls().len(), calls + 1, "no second try while banned");

    // A page that fails again and again: the sync stops, nothing is lost.
    fake.set(|s| {
        s.ban_secs = None;
        s.fail_from = Some(s.pages + 3);
    });
    let failed = dir.run(&["exchange", "sync"]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        text(&failed.stderr).contains("Binance answered HTTP 503"),
        "{}",
        text(&failed.stderr)
    );
    assert_eq!(dir.list()[0]["rows"], 16);

    fake.set(|s| s.fail_from = None);
    let resumed = dir.sync();
    assert_eq!(resumed["connections"][0]["new_rows"], 1, "{resumed}");
    assert_eq!(resumed["connections"][0]["total_rows"], 17);
    assert_eq!(resumed["connections"][0]["balance_sat"], 147_179_542);
}

/// 4,500 fills of BTCUSDT, ids 1 to 4500. Ids 1998 to 2003 are the same
/// fill six times in one second, across the second page's end and where a
/// pager that split seconds would end its first batch; so are ids 2996 to
/// 3001, where this one ends it.
fn many_fills() -> Vec<Value> {
    let mut fills = binance::buys("BTCUSDT", 1, 4500, JAN_2024_MS);
    for first in [1997, 2995] {
        let second = fills[first]["time"].as_i64().expect("time");
        for (i, f) in fills[first..first + 6].iter_mut().enumerate() {
            f["time"] = json!(second + i as i64);
        }
    }
    fills
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_half_way_keeps_its_committed_batch_and_resumes_to_the_same_rows() {
    let fake = FakeBinance::start(binance::read_only()).await;
    fake.set(|s| {
        s.fills.insert("BTCUSDT".into(), many_fills());
        s.btc.0 = "44.95500000".into();
        s.delay_ms = 40;
    });
    let dir = Dir::new();
    json_of(&dir.add(&fake));
    let mut child = command()
        .arg("--data-dir")
        .arg(dir.data.path().join("data"))
        .args(["exchange", "sync"])
        .env("LEDGERSYS_EXCHANGES_RATE_BUDGET", "off")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    // Three pages make the first batch; it is committed before the
    // fourth is asked for.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while fake.count("/api/v3/myTrades") < 4 {
        assert!(std::time::Instant::now() < deadline, "the sync never paged");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    crate::support::signal(&child, "KILL");
    let _ = child.wait();
    let listed = dir.list();
    // 999 + 998 + 998: each page holds back its last second.
    assert_eq!(listed[0]["rows"], 2995, "the first batch, whole: {listed}");
    assert_eq!(listed[0]["last_sync"], Value::Null, "not complete yet");
    let calls = fake.calls();
    assert!(
        calls
            .iter()
            .any(|c| c == "GET /api/v3/myTrades?symbol=BTCUSDT&fromId=2996&limit=1000"),
        "{calls:?}"
    );

    fake.set(|s| s.delay_ms = 0);
    let btcusdt = || {
        fake.calls()
            .iter()
            .filter(|c| c.starts_with("GET /api/v3/myTrades?symbol=BTCUSDT&"))
            .count()
    };
    let before = btcusdt();
    let synced = dir.sync();
    let c = &synced["connections"][0];
    assert_eq!(c["new_rows"], 1505, "{synced}");
    assert_eq!(c["total_rows"], 4500, "six same fills are six rows");
    assert_eq!(c["balance_sat"], 4_495_500_000_i64);
    assert_eq!(c["exchange_balance_sat"], 4_495_500_000_i64);
    assert_eq!(
        btcusdt() - before,
        2,
        "resumed at the cursor, not the start"
    );
    let again = dir.sync();
    assert_eq!(again["connections"][0]["new_rows"], 0);
    assert_eq!(again["connections"][0]["total_rows"], 4500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binances_export_files_and_the_api_bring_each_entry_once() {
    let fake = FakeBinance::start(binance::read_only()).await;
    let fills = many_fills();
    let deposits = vec![
        deposit(
            "dep-1",
            &"c1".repeat(32),
            "2.00000000",
            JAN_2024_MS - DAY_MS,
            1,
        ),
        deposit(
            "dep-2",
            &"c2".repeat(32),
            "1.00000000",
            JAN_2024_MS + 40 * DAY_MS,
            1,
        ),
    ];
    let withdrawals = vec![withdrawal(
        "wd-1",
        &"d1".repeat(32),
        "0.50000000",
        "0.00010000",
        JAN_2024_MS + 41 * DAY_MS,
        6,
    )];
    fake.set(|s| {
        s.fills.insert("BTCUSDT".into(), fills.clone());
        s.deposits = deposits.clone();
        s.withdrawals = withdrawals.clone();
        s.btc.0 = "47.45490000".into();
    });
    let dir = Dir::new();
    // The user exported the first 3,000 fills (the first six same ones,
    // and five of the second six, among them), the first deposit and the
    // withdrawal before connecting.
    let mut trades = String::from("Date(UTC),Pair,Side,Price,Executed,Amount,Fee\n");
    for f in &fills[..3000] {
        let time = jiff::Timestamp::from_millisecond(f["time"].as_i64().expect("time"))
            .expect("time")
            .strftime("%Y-%m-%d %H:%M:%S");
        trades.push_str(&format!(
            "{time},BTCUSDT,BUY,40000.00000000,{}BTC,{}USDT,{}BTC\n",
            f["qty"].as_str().expect("qty"),
            f["quoteQty"].as_str().expect("quote"),
            f["commission"].as_str().expect("fee"),
        ));
    }
    dir.import("binance-trades.csv", &trades);
    let civil = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .expect("time")
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    dir.import(
        "binance-deposits.csv",
        &format!(
            "Date(UTC+0),Coin,Network,Amount,Address,TXID,Status\n{},BTC,BTC,2.00000000,bc1qfakedepositaddress0000000000000000000,{},Completed\n",
            civil(JAN_2024_MS - DAY_MS),
            "c1".repeat(32)
        ),
    );
    dir.import(
        "binance-withdrawals.csv",
        &format!(
            "Date(UTC+0),Coin,Network,Amount,Fee,Address,TXID,Status\n{},BTC,BTC,0.5,0.0001,bc1qfakewithdrawaladdress000000000000000,{},Completed\n",
            civil(JAN_2024_MS + 41 * DAY_MS),
            "d1".repeat(32)
        ),
    );
    json_of(&dir.add(&fake));
    let synced = dir.sync();
    let c = &synced["connections"][0];
    assert_eq!(
        c["new_rows"], 1501,
        "only what the files did not have: {synced}"
    );
    assert_eq!(c["total_rows"], 4503);
    // 4,500 × 0.00999 + 2 + 1 − 0.5001.
    assert_eq!(c["balance_sat"], 4_745_490_000_i64);
    assert_eq!(c["exchange_balance_sat"], 4_745_490_000_i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_key_and_secret_never_reach_files_logs_or_answers() {
    let fake = FakeBinance::start(binance::with("enableWithdrawals", json!(true))).await;
    every_kind(&fake);
    let data = tempfile::tempdir().expect("temp");
    let server = Server::start_in_with(data.path(), &[("LEDGERSYS_EXCHANGES_RATE_BUDGET", "off")])
        .expect("start");
    let owner = server.owner().await;
    server.add_member(&owner, "vera", "viewer").await;
    let viewer = server.login("vera", PASSWORD).await;
    let body = |secret: &str| {
        json!({"exchange": "binance", "name": "Binance", "key": KEY, "secret": secret,
               "api_url": fake.url})
    };
    let mut said = String::new();

    let refused = owner
        .post("/api/v1/workspaces/1/exchanges", body(SECRET))
        .await;
    assert_eq!(refused.status(), 422);
    let refused: Value = refused.json().await.expect("json");
    assert!(
        refused["message"]
            .as_str()
            .unwrap_or("")
            .contains("remove Enable Withdrawals"),
        "{refused}"
    );
    said.push_str(&refused.to_string());
    fake.set(|s| s.restrictions = binance::read_only());
    let wrong = owner
        .post(
            "/api/v1/workspaces/1/exchanges",
            body(&SECRET.replace('N', "M")),
        )
        .await;
    assert_eq!(wrong.status(), 422);
    said.push_str(&wrong.text().await.unwrap_or_default());
    let db = data.path().join("ledgersys.sqlite3");
    assert_eq!(
        sqlite_count(&db, "SELECT COUNT(*) FROM exchange_connections").await,
        0
    );

    let added = owner
        .post("/api/v1/workspaces/1/exchanges", body(SECRET))
        .await;
    assert_eq!(added.status(), 201);
    said.push_str(&added.text().await.unwrap_or_default());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let list = loop {
        let list: Value = owner
            .get("/api/v1/workspaces/1/exchanges")
            .await
            .json()
            .await
            .expect("json");
        if list[0]["sync"]["running"] == false && !list[0]["last_sync"].is_null() {
            break list;
        }
        assert!(std::time::Instant::now() < deadline, "never synced: {list}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(list[0]["rows"], 16, "{list}");
    assert_eq!(list[0]["balance_sat"], 127_179_542);
    assert_eq!(list[0]["balance_matches"], true);
    said.push_str(&list.to_string());
    said.push_str(
        &viewer
            .get("/api/v1/workspaces/1/exchanges")
            .await
            .text()
            .await
            .unwrap_or_default(),
    );
    let page = owner
        .get("/exchanges")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(page.contains("Binance: making a read-only key"), "{page}");
    assert!(page.contains("Enable Reading"), "{page}");
    said.push_str(&page);

    assert_no_secret("the answers", &said);
    assert_no_secret("the database files", &everything_under(data.path()));
    assert_no_secret("the server log", &server.log());
}

//! Which part of a Binance account's history is read, in what order, and
//! where each part has got to. Binance has no single ledger to page: the
//! history is many endpoints, each paged its own way. A sync reads them in
//! a fixed order (the fills of each BTC pair by `fromId`, then the
//! time-windowed histories from July 2017 on), and the cursor keeps each
//! one's place, so a sync stopped anywhere carries on where its last
//! committed batch ended.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::adapter::{Batch, ExchangeError, checked, rows_from_export};
use super::binance_api::{Binance, BinanceError, Weight};
use super::binance_rows::{self as rows, Fill, text};
use crate::ledger::Tx;

/// The BTC pairs whose fills are read, base and quote. Binance has no
/// endpoint listing the pairs an account traded, and `exchangeInfo` is not
/// on the read allow-list, so the list is fixed: bitcoin against fiat and
/// stablecoins, and the larger coins against bitcoin. A pair Binance does
/// not list (or no longer does) is skipped. Fills of other pairs come from
/// an export file; the balance check after each sync shows when some are
/// missing.
pub const PAIRS: &[(&str, &str)] = &[
    ("BTC", "USDT"),
    ("BTC", "USDC"),
    ("BTC", "FDUSD"),
    ("BTC", "TUSD"),
    ("BTC", "BUSD"),
    ("BTC", "USDP"),
    ("BTC", "DAI"),
    ("BTC", "EUR"),
    ("BTC", "GBP"),
    ("BTC", "TRY"),
    ("BTC", "BRL"),
    ("BTC", "AUD"),
    ("BTC", "JPY"),
    ("BTC", "PLN"),
    ("BTC", "RON"),
    ("BTC", "ZAR"),
    ("BTC", "ARS"),
    ("BTC", "MXN"),
    ("BTC", "UAH"),
    ("BTC", "RUB"),
    ("BTC", "NGN"),
    ("BTC", "IDRT"),
    ("BTC", "BIDR"),
    ("BTC", "EURI"),
    ("BTC", "AEUR"),
    ("ETH", "BTC"),
    ("BNB", "BTC"),
    ("SOL", "BTC"),
    ("XRP", "BTC"),
    ("ADA", "BTC"),
    ("DOGE", "BTC"),
    ("LTC", "BTC"),
    ("DOT", "BTC"),
    ("LINK", "BTC"),
    ("TRX", "BTC"),
    ("AVAX", "BTC"),
    ("MATIC", "BTC"),
    ("POL", "BTC"),
    ("BCH", "BTC"),
    ("XLM", "BTC"),
    ("ATOM", "BTC"),
    ("ETC", "BTC"),
    ("XMR", "BTC"),
    ("UNI", "BTC"),
    ("NEAR", "BTC"),
    ("FIL", "BTC"),
    ("TON", "BTC"),
    ("SUI", "BTC"),
    ("PAXG", "BTC"),
    ("WBTC", "BTC"),
];

/// 2017-07-14 00:00 UTC: Binance's capital history starts here.
pub const HISTORY_BEGINS_MS: i64 = 1_499_990_400_000;
/// 2023-01-01 00:00 UTC: Simple Earn, and its rewards record, began in 2023.
const EARN_BEGINS_MS: i64 = 1_672_531_200_000;
const DAY_MS: i64 = 86_400_000;
/// A finished sync asks again from a day before it began: entries Binance
/// files a little late are not missed (ids keep them from doubling).
const OVERLAP_MS: i64 = DAY_MS;
/// A pending deposit or withdrawal holds its part's place this long at
/// most.
const HOLD_MS: i64 = 90 * DAY_MS;

/// Entries read before a batch is committed (as for Kraken and Coinbase).
const BATCH: usize = 2000;
/// `myTrades` answers at most this many fills.
const TRADES_PAGE: usize = 1000;

/// One part of the history, in the order a sync reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Trades(usize),
    Deposits,
    Withdrawals,
    Buys,
    Sells,
    Converts,
    Dividends,
    Earn,
    Dust,
}

fn parts() -> Vec<Part> {
    let mut parts: Vec<Part> = (0..PAIRS.len()).map(Part::Trades).collect();
    parts.extend([
        Part::Deposits,
        Part::Withdrawals,
        Part::Buys,
        Part::Sells,
        Part::Converts,
        Part::Dividends,
        Part::Earn,
        Part::Dust,
    ]);
    parts
}

/// A history read in time windows: its endpoint, the longest window
/// Binance takes there, and what a call weighs.
struct Windowed {
    name: &'static str,
    path: &'static str,
    span_ms: i64,
    weight: Weight,
    begins_ms: i64,
}

fn windowed(part: Part) -> Option<Windowed> {
    let w = |name, path, days: i64, weight, begins_ms| {
        Some(Windowed {
            name,
            path,
            span_ms: days * DAY_MS,
            weight,
            begins_ms,
        })
    };
    let (deposits, withdrawals) = (
        "/sapi/v1/capital/deposit/hisrec",
        "/sapi/v1/capital/withdraw/history",
    );
    match part {
        // "Under 90 days" for both.
        Part::Deposits => w("deposits", deposits, 89, Weight::Ip(1), HISTORY_BEGINS_MS),
        Part::Withdrawals => w(
            "withdrawals",
            withdrawals,
            89,
            Weight::Uid(18_000),
            HISTORY_BEGINS_MS,
        ),
        // Binance documents no limit here; clients report one near 30 days.
        Part::Buys => w(
            "buys",
            "/sapi/v1/fiat/payments",
            30,
            Weight::Ip(1),
            HISTORY_BEGINS_MS,
        ),
        Part::Sells => w(
            "sells",
            "/sapi/v1/fiat/payments",
            30,
            Weight::Ip(1),
            HISTORY_BEGINS_MS,
        ),
        Part::Converts => w(
            "converts",
            "/sapi/v1/convert/tradeFlow",
            30,
            Weight::Uid(3_000),
            HISTORY_BEGINS_MS,
        ),
        // At most 180 days.
        Part::Dividends => w(
            "dividends",
            "/sapi/v1/asset/assetDividend",
            179,
            Weight::Ip(10),
            HISTORY_BEGINS_MS,
        ),
        // At most three months.
        Part::Earn => w(
            "earn",
            "/sapi/v1/simple-earn/flexible/history/rewardsRecord",
            89,
            Weight::Ip(150),
            EARN_BEGINS_MS,
        ),
        Part::Trades(_) | Part::Dust => None,
    }
}

/// Where each part has got to, stored as the connection's cursor.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Cursor {
    /// Per pair, the `fromId` the next page starts at.
    #[serde(default)]
    trades: BTreeMap<String, u64>,
    /// Per windowed part, the time (ms) its next window starts at.
    #[serde(default)]
    since: BTreeMap<String, i64>,
    /// Part way through a sync: the part being read, the time the sync
    /// reads up to, the oldest still-pending entry per part, entries read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    until: Option<i64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    held: BTreeMap<String, i64>,
    #[serde(default, skip_serializing_if = "is_zero")]
    read: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What a batch has read so far.
struct Taken<'a> {
    account: &'a str,
    fills: Vec<Fill>,
    deposits: Vec<Value>,
    withdrawals: Vec<Value>,
    rows: Vec<Tx>,
    /// Entries read, kept or not.
    count: usize,
}

fn unreadable(e: String) -> ExchangeError {
    ExchangeError::Failed(format!("a Binance entry does not read: {e}"))
}

fn malformed(what: &str) -> ExchangeError {
    ExchangeError::from(BinanceError::Malformed(format!("{what} is not a list")))
}

impl Taken<'_> {
    fn keep(&mut self, row: Result<Option<Tx>, String>) -> Result<(), ExchangeError> {
        if let Some(row) = row.map_err(unreadable)? {
            self.rows.push(row);
        }
        Ok(())
    }

    /// The rows: fills, deposits and withdrawals through the export
    /// importers, the rest as built.
    fn into_rows(self) -> Result<Vec<Tx>, ExchangeError> {
        let mut out = Vec::new();
        if !self.fills.is_empty() {
            let csv = rows::trades_csv(&self.fills).map_err(unreadable)?;
            out.extend(rows_from_export("binance-trades", &csv, self.account)?);
        }
        if !self.deposits.is_empty() {
            let csv = rows::deposits_csv(&self.deposits).map_err(unreadable)?;
            out.extend(rows_from_export("binance-transfers", &csv, self.account)?);
        }
        if !self.withdrawals.is_empty() {
            let csv = rows::withdrawals_csv(&self.withdrawals).map_err(unreadable)?;
            out.extend(rows_from_export("binance-transfers", &csv, self.account)?);
        }
        out.extend(checked(self.rows)?);
        Ok(out)
    }
}

/// The next batch after `cursor` (`null`: the first sync).
pub async fn next_batch(
    client: &Binance,
    cursor: &Value,
    account: &str,
) -> Result<Batch, ExchangeError> {
    // A cursor that does not read starts over: ids keep rows from doubling.
    let mut c: Cursor = serde_json::from_value(cursor.clone()).unwrap_or_default();
    let until = *c
        .until
        .get_or_insert_with(|| i64::try_from(crate::clock::now_ms()).unwrap_or(i64::MAX));
    let parts = parts();
    let mut at = c.at.unwrap_or(0);
    let mut taken = Taken {
        account,
        fills: Vec::new(),
        deposits: Vec::new(),
        withdrawals: Vec::new(),
        rows: Vec::new(),
        count: 0,
    };
    while at < parts.len() && taken.count < BATCH {
        let caught_up = match parts[at] {
            Part::Trades(pair) => trades(client, &mut c, pair, &mut taken).await?,
            Part::Dust => {
                let log = client
                    .get("/sapi/v1/asset/dribblet", &[], Weight::Ip(1))
                    .await?;
                let dust = rows::dust_rows(&log, account).map_err(unreadable)?;
                taken.count += dust.len();
                taken.rows.extend(dust);
                true
            }
            part => window(client, &mut c, part, until, &mut taken).await?,
        };
        if caught_up {
            at += 1;
        }
    }
    c.read += taken.count;
    let read = c.read;
    let done = at >= parts.len();
    if done {
        c.at = None;
        c.until = None;
        c.held.clear();
        c.read = 0;
    } else {
        c.at = Some(at);
    }
    let cursor = serde_json::to_value(&c)
        .map_err(|e| ExchangeError::Failed(format!("the Binance cursor: {e}")))?;
    Ok(Batch {
        rows: taken.into_rows()?,
        cursor,
        done,
        read,
        total: None,
    })
}

/// Pages of one pair's fills from its `fromId`; true once caught up.
///
/// Fills without ids in the file are told apart by their content and
/// their place among identical fills, so the fills of one second always
/// travel together: a full page holds back its last second for the next
/// page, and a caught-up pair asks again from the first fill of its last
/// second (the ones already stored are recognised and dropped).
async fn trades(
    client: &Binance,
    c: &mut Cursor,
    pair: usize,
    taken: &mut Taken<'_>,
) -> Result<bool, ExchangeError> {
    let (base, quote) = PAIRS[pair];
    let symbol = format!("{base}{quote}");
    loop {
        let from = c.trades.get(&symbol).copied().unwrap_or(0);
        let params = [
            ("symbol", symbol.clone()),
            ("fromId", from.to_string()),
            ("limit", TRADES_PAGE.to_string()),
        ];
        let page = match client
            .get("/api/v3/myTrades", &params, Weight::Ip(20))
            .await
        {
            Err(BinanceError::UnknownSymbol(_)) => return Ok(true),
            other => other?,
        };
        let list = page.as_array().ok_or_else(|| malformed("myTrades"))?;
        let full = list.len() >= TRADES_PAGE;
        let mut fills = list
            .iter()
            .map(|e| {
                Ok(Fill {
                    id: text(e, "id")
                        .parse()
                        .map_err(|_| "a fill without an id".to_string())?,
                    time_ms: rows::millis(e, "time")?,
                    symbol: symbol.clone(),
                    base,
                    quote,
                    entry: e.clone(),
                })
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(unreadable)?;
        fills.retain(|f| f.id >= from);
        fills.sort_by_key(|f| f.id);
        let second = |f: &Fill| f.time_ms.div_euclid(1000);
        let next = match fills.last() {
            None => from,
            Some(last) => {
                let start = fills
                    .iter()
                    .position(|f| second(f) == second(last))
                    .unwrap_or(0);
                if full && start == 0 {
                    // A whole page in one second: it cannot be held back.
                    last.id + 1
                } else {
                    let next = fills[start].id;
                    if full {
                        fills.truncate(start);
                    }
                    next
                }
            }
        };
        taken.count += fills.len();
        taken.fills.extend(fills);
        c.trades.insert(symbol.clone(), next);
        if !full {
            return Ok(true);
        }
        if taken.count >= BATCH {
            return Ok(false);
        }
    }
}

/// One window's answer.
enum Window {
    /// Every entry of the window.
    Entries(Vec<Value>),
    /// More than Binance answers at once, and no way to page: ask for a
    /// shorter window.
    Narrower(Vec<Value>),
}

/// Windows of a time-windowed part from where it got to up to `until`;
/// true once caught up.
async fn window(
    client: &Binance,
    c: &mut Cursor,
    part: Part,
    until: i64,
    taken: &mut Taken<'_>,
) -> Result<bool, ExchangeError> {
    let Some(w) = windowed(part) else {
        return Ok(true);
    };
    let mut from = c.since.get(w.name).copied().unwrap_or(w.begins_ms);
    let mut span = w.span_ms;
    while from <= until {
        let end = (from + span - 1).min(until);
        let entries = match read_window(client, &w, part, from, end).await? {
            Window::Narrower(_) if span > 3_600_000 => {
                span /= 2;
                continue;
            }
            Window::Entries(entries) | Window::Narrower(entries) => entries,
        };
        taken.count += entries.len();
        for e in &entries {
            if let Some(pending) = take(part, e, taken)? {
                let held = c.held.entry(w.name.to_string()).or_insert(pending);
                *held = (*held).min(pending);
            }
        }
        from = end + 1;
        span = w.span_ms;
        c.since.insert(w.name.to_string(), from);
        if taken.count >= BATCH && from <= until {
            return Ok(false);
        }
    }
    let mut restart = (until - OVERLAP_MS).max(w.begins_ms);
    if let Some(held) = c.held.remove(w.name) {
        restart = restart.min(held.max(until - HOLD_MS));
    }
    c.since.insert(w.name.to_string(), restart);
    Ok(true)
}

/// Keeps one entry of a windowed part; the time (ms) of an entry that is
/// still pending, to be asked about again.
fn take(part: Part, e: &Value, taken: &mut Taken<'_>) -> Result<Option<i64>, ExchangeError> {
    let status = || text(e, "status").parse::<i64>().unwrap_or(-1);
    let account = taken.account;
    match part {
        Part::Deposits if rows::deposit_counts(status()) => taken.deposits.push(e.clone()),
        Part::Deposits if rows::deposit_pending(status()) => {
            return rows::millis(e, "insertTime").map(Some).map_err(unreadable);
        }
        Part::Withdrawals if rows::withdrawal_counts(status()) => taken.withdrawals.push(e.clone()),
        Part::Withdrawals if rows::withdrawal_pending(status()) => {
            return rows::apply_time_ms(e).map(Some).map_err(unreadable);
        }
        Part::Buys | Part::Sells if rows::payment_pending(&text(e, "status")) => {
            return rows::millis(e, "createTime").map(Some).map_err(unreadable);
        }
        Part::Buys | Part::Sells => {
            taken.keep(rows::payment_row(e, part == Part::Sells, account))?
        }
        Part::Converts => taken.keep(rows::convert_row(e, account))?,
        Part::Dividends => taken.keep(rows::dividend_row(e, account))?,
        Part::Earn => taken.keep(rows::earn_row(e, account))?,
        _ => {}
    }
    Ok(None)
}

/// Every entry of one window `[from, end]` (ms, both included), following
/// the part's own paging.
async fn read_window(
    client: &Binance,
    w: &Windowed,
    part: Part,
    from: i64,
    end: i64,
) -> Result<Window, ExchangeError> {
    let (from, end) = (from.to_string(), end.to_string());
    let mut all = Vec::new();
    let mut page = 0usize;
    loop {
        let (params, list_field, size): (Vec<(&str, String)>, &str, usize) = match part {
            Part::Deposits | Part::Withdrawals => (
                vec![
                    ("coin", "BTC".into()),
                    ("startTime", from.clone()),
                    ("endTime", end.clone()),
                    ("offset", (page * 1000).to_string()),
                    ("limit", "1000".into()),
                ],
                "",
                1000,
            ),
            Part::Buys | Part::Sells => (
                vec![
                    (
                        "transactionType",
                        if part == Part::Sells { "1" } else { "0" }.into(),
                    ),
                    ("beginTime", from.clone()),
                    ("endTime", end.clone()),
                    ("page", (page + 1).to_string()),
                    ("rows", "500".into()),
                ],
                "data",
                500,
            ),
            Part::Converts => (
                vec![
                    ("startTime", from.clone()),
                    ("endTime", end.clone()),
                    ("limit", "1000".into()),
                ],
                "list",
                1000,
            ),
            Part::Dividends => (
                vec![
                    ("asset", "BTC".into()),
                    ("startTime", from.clone()),
                    ("endTime", end.clone()),
                    ("limit", "500".into()),
                ],
                "rows",
                500,
            ),
            Part::Earn => (
                vec![
                    ("asset", "BTC".into()),
                    ("startTime", from.clone()),
                    ("endTime", end.clone()),
                    ("type", "REALTIME".into()),
                    ("current", (page + 1).to_string()),
                    ("size", "100".into()),
                ],
                "rows",
                100,
            ),
            Part::Trades(_) | Part::Dust => return Ok(Window::Entries(all)),
        };
        let answer = client.get(w.path, &params, w.weight).await?;
        let list = if list_field.is_empty() {
            &answer
        } else {
            &answer[list_field]
        };
        let entries = match list {
            // An empty fiat history comes back without its list.
            Value::Null => Vec::new(),
            Value::Array(entries) => entries.clone(),
            _ => return Err(malformed(w.path)),
        };
        let full = entries.len() >= size;
        all.extend(entries);
        match part {
            // No paging: a full answer means a shorter window is needed.
            Part::Converts if full || answer["moreData"] == Value::Bool(true) => {
                return Ok(Window::Narrower(all));
            }
            Part::Dividends if full => return Ok(Window::Narrower(all)),
            Part::Converts | Part::Dividends => return Ok(Window::Entries(all)),
            _ if full => page += 1,
            _ => return Ok(Window::Entries(all)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pair_is_a_btc_pair_once_and_every_window_fits_binances_limits() {
        let mut seen = std::collections::HashSet::new();
        for (base, quote) in PAIRS {
            assert!((*base == "BTC") != (*quote == "BTC"), "{base}{quote}");
            assert!(seen.insert(format!("{base}{quote}")), "{base}{quote} twice");
            // The trade importer tells base from quote by the BTC at one
            // end, and reads amounts glued to letter-only asset codes.
            assert!(
                base.chars()
                    .chain(quote.chars())
                    .all(|c| c.is_ascii_uppercase()),
                "{base}{quote}"
            );
        }
        for part in parts() {
            if let Some(w) = windowed(part) {
                let days = w.span_ms / DAY_MS;
                let limit = match part {
                    Part::Deposits | Part::Withdrawals | Part::Earn => 89,
                    Part::Dividends => 179,
                    _ => 30,
                };
                assert!(days <= limit, "{}: {days} days", w.name);
                assert!(super::super::binance::ALLOW.check("GET", w.path).is_ok());
            }
        }
    }

    #[test]
    fn a_cursor_reads_back_and_a_broken_one_starts_over() {
        let c = Cursor {
            trades: [("BTCUSDT".to_string(), 42)].into(),
            since: [("deposits".to_string(), HISTORY_BEGINS_MS)].into(),
            ..Cursor::default()
        };
        let value = serde_json::to_value(&c).expect("json");
        assert_eq!(
            value,
            serde_json::json!({"trades": {"BTCUSDT": 42}, "since": {"deposits": HISTORY_BEGINS_MS}})
        );
        let back: Cursor = serde_json::from_value(value).expect("reads");
        assert_eq!(back.trades["BTCUSDT"], 42);
        assert!(serde_json::from_value::<Cursor>(serde_json::json!({"trades": 7})).is_err());
    }
}

//! Fake price sources on loopback, each under its own path prefix and in its
//! real wire format: Coinbase Exchange candles (300 a request at most),
//! Bitstamp OHLC (`limit` at most 1000), Kraken OHLC (the 720 most recent
//! candles, the last one open), a mempool instance's whole history (weekly
//! before 2013, a zero placeholder at the start) and CoinGecko's market chart
//! (key header, 365 days for demo keys, daily beyond 90 days). Knobs make
//! it answer 429 with `Retry-After`, malformed JSON, or a cut-off body.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const DAY: i64 = 86_400;
const CURRENCIES: [&str; 7] = ["USD", "EUR", "GBP", "CAD", "AUD", "CHF", "JPY"];

/// The close of the UTC day starting at `day` in `currency`, as the fake
/// writes it: the day's number since 1970, a quarter, and 1000 per currency
/// index. Exact in two decimals.
pub fn price(currency: &str, day: i64) -> String {
    let index = CURRENCIES.iter().position(|c| *c == currency).unwrap_or(9) as i64;
    format!("{}.25", day / DAY + 1000 * index)
}

/// The price at `close` (Unix seconds, on the hour) for hourly candles: the
/// number of the day the hour lies in, and the hour of the close as cents.
pub fn hourly_price(currency: &str, close: i64) -> String {
    let index = CURRENCIES.iter().position(|c| *c == currency).unwrap_or(9) as i64;
    format!(
        "{}.{:02}",
        (close - 1) / DAY + 1000 * index,
        close.rem_euclid(DAY) / 3600
    )
}

#[derive(Debug, Default)]
pub struct State {
    /// The fake's current UTC midnight.
    pub today: i64,
    /// Every request target, in order.
    pub requests: Vec<String>,
    /// The CoinGecko key header of each CoinGecko request.
    pub keys_seen: Vec<String>,
    pub coingecko_key: String,
    /// Answer the next N requests with 429 and `Retry-After: 1`.
    pub throttle: u32,
    /// Days Coinbase has no candle for (no trades).
    pub no_trade_days: BTreeSet<i64>,
    /// Requests whose target contains one of these get malformed JSON.
    pub malformed: Vec<String>,
    /// Requests whose target contains one of these get a cut-off body.
    pub cut_off: Vec<String>,
}

pub struct FakePrices {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

impl FakePrices {
    pub async fn start(today: i64) -> FakePrices {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State {
            today,
            coingecko_key: "CG-fake-demo-key-7a3f".into(),
            ..State::default()
        }));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, state).await;
                });
            }
        });
        FakePrices { url, state }
    }

    pub fn base(&self, source: &str) -> String {
        format!("{}/{source}", self.url)
    }

    pub fn requests(&self) -> Vec<String> {
        self.state.lock().expect("lock").requests.clone()
    }
}

struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    cut_off: bool,
}

fn json(status: u16, body: String) -> Answer {
    Answer {
        status,
        headers: vec![("Content-Type", "application/json".into())],
        body,
        cut_off: false,
    }
}

async fn serve(mut socket: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if socket.read(&mut byte).await? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.lines();
    let target = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_string();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let answer = answer(&state, &target, &headers);
    let reason = match answer.status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Error",
    };
    let mut out = format!(
        "HTTP/1.1 {} {reason}\r\nConnection: close\r\n",
        answer.status
    );
    for (k, v) in &answer.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = answer.body.as_bytes();
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    socket.write_all(out.as_bytes()).await?;
    if answer.cut_off {
        // Promise the whole body, send a tenth of it, hang up.
        socket.write_all(&body[..body.len() / 10]).await?;
    } else {
        socket.write_all(body).await?;
    }
    socket.shutdown().await
}

fn query(target: &str) -> BTreeMap<String, String> {
    target
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn answer(state: &Mutex<State>, target: &str, headers: &BTreeMap<String, String>) -> Answer {
    let mut s = state.lock().expect("lock");
    s.requests.push(target.to_string());
    if s.throttle > 0 {
        s.throttle -= 1;
        let mut a = json(429, r#"{"message":"Too many requests"}"#.into());
        a.headers.push(("Retry-After", "1".into()));
        return a;
    }
    if s.malformed.iter().any(|m| target.contains(m.as_str())) {
        return json(200, r#"[[1704067200, 42000.1, "#.into());
    }
    let q = query(target);
    let int = |k: &str| q.get(k).and_then(|v| v.parse::<i64>().ok());
    let path = target.split('?').next().unwrap_or("");
    let mut a = if let Some(pair) = path
        .strip_prefix("/coinbase/products/BTC-")
        .and_then(|p| p.strip_suffix("/candles"))
    {
        coinbase(&s, pair, int("granularity"), int("start"), int("end"))
    } else if let Some(pair) = path
        .strip_prefix("/bitstamp/api/v2/ohlc/btc")
        .and_then(|p| p.strip_suffix('/'))
    {
        bitstamp(
            &pair.to_ascii_uppercase(),
            int("limit"),
            int("start"),
            int("end"),
        )
    } else if path == "/kraken/0/public/OHLC" {
        kraken(
            &s,
            q.get("pair").map(String::as_str).unwrap_or(""),
            int("since"),
        )
    } else if path == "/mempool/api/v1/historical-price" {
        mempool(&s, q.get("currency").map(String::as_str).unwrap_or(""))
    } else if path == "/coingecko/coins/bitcoin/market_chart/range" {
        let key = headers
            .get("x-cg-demo-api-key")
            .cloned()
            .unwrap_or_default();
        s.keys_seen.push(key.clone());
        coingecko(&s, &key, q.get("vs_currency"), int("from"), int("to"))
    } else {
        json(404, r#"{"message":"NotFound"}"#.into())
    };
    if s.cut_off.iter().any(|m| target.contains(m.as_str())) {
        a.cut_off = true;
    }
    a
}

fn coinbase(
    s: &State,
    currency: &str,
    granularity: Option<i64>,
    start: Option<i64>,
    end: Option<i64>,
) -> Answer {
    let (Some(step), Some(start), Some(end)) = (granularity, start, end) else {
        return json(
            400,
            r#"{"message":"granularity, start and end are required"}"#.into(),
        );
    };
    if ![60, 300, 900, 3600, 21600, 86400].contains(&step) {
        return json(400, r#"{"message":"Unsupported granularity"}"#.into());
    }
    if (end - start) / step + 1 > 300 {
        return json(
            400,
            r#"{"message":"granularity too small for the requested time range. Count of aggregations requested exceeds 300"}"#.into(),
        );
    }
    let mut candles = Vec::new();
    let mut t = end;
    while t >= start {
        if t <= s.today && !s.no_trade_days.contains(&(t - t.rem_euclid(DAY))) {
            let p = if step == DAY {
                price(currency, t)
            } else {
                hourly_price(currency, t + step)
            };
            candles.push(format!("[{t},{p},{p},{p},{p},12.5]"));
        }
        t -= step;
    }
    json(200, format!("[{}]", candles.join(",")))
}

fn bitstamp(currency: &str, limit: Option<i64>, start: Option<i64>, end: Option<i64>) -> Answer {
    let limit = limit.unwrap_or(1000);
    if limit > 1000 {
        return json(
            400,
            r#"{"status": "error", "reason": {"limit": ["Ensure this value is less than or equal to 1000."]}, "code": "API0005"}"#.into(),
        );
    }
    let (Some(start), Some(end)) = (start, end) else {
        return json(400, r#"{"status": "error", "code": "API0005"}"#.into());
    };
    let candles: Vec<String> = (0..limit)
        .map(|i| start + i * DAY)
        .take_while(|d| *d <= end)
        .map(|d| {
            let p = price(currency, d);
            format!(
                r#"{{"timestamp": "{d}", "open": "{p}", "high": "{p}", "low": "{p}", "close": "{p}", "volume": "3.14159"}}"#
            )
        })
        .collect();
    json(
        200,
        format!(
            r#"{{"data": {{"pair": "BTC/{currency}", "ohlc": [{}]}}}}"#,
            candles.join(", ")
        ),
    )
}

fn kraken(s: &State, pair: &str, since: Option<i64>) -> Answer {
    let Some(currency) = pair.strip_prefix("XBT") else {
        return json(200, r#"{"error":["EQuery:Unknown asset pair"]}"#.into());
    };
    let key = match currency {
        "CHF" | "AUD" => format!("XBT{currency}"),
        _ => format!("XXBTZ{currency}"),
    };
    // The 720 most recent candles, today's (still open) last.
    let first = s.today - 719 * DAY;
    let since = since.unwrap_or(0);
    let candles: Vec<String> = (0..720)
        .map(|i| first + i * DAY)
        .filter(|d| *d > since)
        .map(|d| {
            let p = price(currency, d);
            format!(r#"[{d},"{p}","{p}","{p}","{p}","{p}","1.5",42]"#)
        })
        .collect();
    json(
        200,
        format!(
            r#"{{"error":[],"result":{{"{key}":[{}],"last":{}}}}}"#,
            candles.join(","),
            s.today - DAY
        ),
    )
}

/// Midnight of 2010-07-19 (the zero placeholder), then weekly until 2013,
/// then daily. A point at midnight D + 1 is the close of D.
fn mempool(s: &State, currency: &str) -> Answer {
    if !CURRENCIES.contains(&currency) {
        return json(400, r#""Invalid currency""#.into());
    }
    let placeholder = 1_279_497_600; // 2010-07-19
    let daily_from = 1_356_998_400; // 2013-01-01
    let mut points = vec![format!(
        r#"{{"time":{placeholder},"USD":0,"EUR":0,"GBP":0,"CAD":0,"CHF":0,"AUD":0,"JPY":0}}"#
    )];
    let mut t = placeholder + 7 * DAY;
    while t <= s.today {
        let prices: Vec<String> = CURRENCIES
            .iter()
            .map(|c| format!(r#""{c}":{}"#, price(c, t - DAY)))
            .collect();
        points.push(format!(r#"{{"time":{t},{}}}"#, prices.join(",")));
        t += if t < daily_from { 7 * DAY } else { DAY };
    }
    json(
        200,
        format!(
            r#"{{"prices":[{}],"exchangeRates":{{"USDEUR":0.92,"USDGBP":0.78}}}}"#,
            points.join(",")
        ),
    )
}

fn coingecko(
    s: &State,
    key: &str,
    vs: Option<&String>,
    from: Option<i64>,
    to: Option<i64>,
) -> Answer {
    if key != s.coingecko_key {
        return json(
            401,
            r#"{"status":{"error_code":10002,"error_message":"API Key Missing"}}"#.into(),
        );
    }
    let (Some(vs), Some(from), Some(to)) = (vs, from, to) else {
        return json(400, r#"{"error":"missing parameter"}"#.into());
    };
    if from < s.today - 365 * DAY {
        return json(
            401,
            r#"{"error":{"status":{"timestamp":"2026-01-01T00:00:00.000+00:00","error_code":10012,"error_message":"Your request exceeds the allowed time range. Public API users are limited to querying historical data within the past 365 days."}}}"#.into(),
        );
    }
    let currency = vs.to_ascii_uppercase();
    let step = if to - from > 90 * DAY { DAY } else { 3600 };
    let mut t = from.div_euclid(step) * step;
    if t < from {
        t += step;
    }
    let mut prices = Vec::new();
    while t <= to.min(s.today) {
        // A midnight point is the close of the day before; an hourly one
        // carries its own day's price.
        let day = if t % DAY == 0 { t - DAY } else { t - t % DAY };
        prices.push(format!("[{},{}]", t * 1000, price(&currency, day)));
        t += step;
    }
    json(
        200,
        format!(
            r#"{{"prices":[{}],"market_caps":[],"total_volumes":[]}}"#,
            prices.join(",")
        ),
    )
}

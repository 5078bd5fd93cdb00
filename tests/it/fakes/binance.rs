//! A fake Binance on loopback: the signed read calls Ledgersys may make,
//! each checked the way Binance checks them: `X-MBX-APIKEY` (a malformed
//! key `-2014`, an unknown one `-2015`), `signature` recomputed as hex
//! HMAC-SHA256 of the query string exactly as sent less the signature
//! (`-1022`), `timestamp` within `recvWindow` (at most 60,000 ms) of the
//! fake's clock (`-1021`). Request weights are counted per IP and per
//! account in a window (a minute, or shorter for tests); a call over the
//! limit is answered 429 with `Retry-After`, and 418 (a ban) on demand.
//! `myTrades` pages by `fromId` and `limit` (without `fromId`, the newest
//! fills), an unlisted pair is `-1121`; the capital histories refuse a
//! window of 90 days or more (`-1127`), Convert one over 30 days, the
//! dividend record one over 180, Simple Earn one over three months. Every
//! documented `apiRestrictions` shape; a history call failed on demand;
//! the calls recorded without their time and signature.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use hmac::{Hmac, KeyInit, Mac};
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, Request, Response, Route, Server, get, handler};
use serde_json::{Value, json};
use sha2::Sha256;

/// 64 letters and digits, as Binance's keys are.
pub const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
pub const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

const DAY_MS: i64 = 86_400_000;

/// The hex HMAC-SHA256 Binance expects for `total_params` (the query
/// string, then the body).
pub fn signature(total_params: &str, secret: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(total_params.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// What Binance's key page calls each right `apiRestrictions` reports.
pub const RIGHTS: &[(&str, &str)] = &[
    ("enableWithdrawals", "Enable Withdrawals"),
    ("enableInternalTransfer", "Permits Internal Transfer"),
    ("permitsUniversalTransfer", "Permits Universal Transfer"),
    ("enableMargin", "Enable Margin Loan, Repay & Transfer"),
    ("enableFutures", "Enable Futures"),
    ("enableVanillaOptions", "Enable European Options"),
    ("enableSpotAndMarginTrading", "Enable Spot & Margin Trading"),
    (
        "enablePortfolioMarginTrading",
        "Enable Portfolio Margin Trading",
    ),
    ("enableFixApiTrade", "Enable FIX API Trading"),
];

/// `apiRestrictions` of a key that can only read (the documented fields,
/// FIX read-only on, no IP restriction).
pub fn read_only() -> Value {
    json!({
        "ipRestrict": false,
        "createTime": 1_698_645_219_000_i64,
        "enableReading": true,
        "enableWithdrawals": false,
        "enableInternalTransfer": false,
        "permitsUniversalTransfer": false,
        "enableMargin": false,
        "enableFutures": false,
        "enableVanillaOptions": false,
        "enableSpotAndMarginTrading": false,
        "enablePortfolioMarginTrading": false,
        "enableFixApiTrade": false,
        "enableFixReadOnly": true
    })
}

/// A read-only key with one more field set.
pub fn with(field: &str, value: Value) -> Value {
    let mut answer = read_only();
    answer[field] = value;
    answer
}

/// The shape of keys made before the portfolio-margin and FIX rights
/// existed: fewer fields, reading only.
pub fn older_read_only() -> Value {
    json!({
        "ipRestrict": true,
        "createTime": 1_623_840_271_000_i64,
        "enableWithdrawals": false,
        "enableInternalTransfer": false,
        "permitsUniversalTransfer": false,
        "enableVanillaOptions": false,
        "enableReading": true,
        "enableFutures": false,
        "enableMargin": false,
        "enableSpotAndMarginTrading": false,
        "tradingAuthorityExpirationTime": 1_628_985_600_000_i64
    })
}

pub struct State {
    pub restrictions: Value,
    /// The pairs Binance lists; `myTrades` of any other is `-1121`.
    pub listed: BTreeSet<String>,
    /// Fills per pair, ids rising.
    pub fills: BTreeMap<String, Vec<Value>>,
    pub deposits: Vec<Value>,
    pub withdrawals: Vec<Value>,
    /// `fiat/payments` entries with their `transactionType` (0 buy, 1 sell).
    pub payments: Vec<(u8, Value)>,
    pub converts: Vec<Value>,
    pub dividends: Vec<Value>,
    pub earn: Vec<Value>,
    pub dust: Value,
    /// The spot BTC balance `account` reports (free, locked).
    pub btc: (String, String),
    /// Calls as `GET /path?query`, less `recvWindow`, `timestamp` and
    /// `signature`.
    pub calls: Vec<String>,
    /// Weight allowed per window, per IP and per account: Binance's per
    /// minute, in a window of a second unless a test says otherwise, so a
    /// sync without the client-side budget waits seconds, not minutes.
    pub ip_limit: u64,
    pub uid_limit: u64,
    pub window_ms: i64,
    ip_used: u64,
    uid_used: u64,
    window_start: i64,
    /// Answer every call 418 with this `Retry-After`.
    pub ban_secs: Option<u64>,
    /// History calls (every call but the key check and the balance) from
    /// this many on are answered 503.
    pub fail_from: Option<usize>,
    pub pages: usize,
    /// Each history call waits this long (to stop a sync half way).
    pub delay_ms: u64,
    /// The fake's clock runs this far ahead of the machine's.
    pub skew_ms: i64,
    /// Answers refused for the rate limit.
    pub limited: usize,
    /// Until when (the fake's ms) a 429 asked callers to wait, and the
    /// calls that came anyway (Binance bans an IP address for those).
    limited_until: i64,
    pub ignored_retry_after: usize,
}

pub struct FakeBinance {
    pub url: String,
    state: Arc<Mutex<State>>,
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn answer(status: u16, body: Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).expect("status"))
        .content_type("application/json;charset=UTF-8")
        .body(body.to_string())
}

fn error(status: u16, code: i64, msg: &str) -> Response {
    answer(status, json!({"code": code, "msg": msg}))
}

/// Binance's request weights, per IP or per account (UID).
fn weight(path: &str) -> (u64, u64) {
    match path {
        "/api/v3/account" | "/api/v3/myTrades" => (20, 0),
        "/sapi/v1/capital/withdraw/history" => (0, 18_000),
        "/sapi/v1/fiat/orders" => (0, 90_000),
        "/sapi/v1/convert/tradeFlow" => (0, 3_000),
        "/sapi/v1/asset/assetDividend" => (10, 0),
        "/sapi/v1/simple-earn/flexible/history/rewardsRecord" => (150, 0),
        _ => (1, 0),
    }
}

#[handler]
async fn any(req: &Request, state: Data<&Arc<Mutex<State>>>) -> Response {
    let (response, delay) = respond(req, &state);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    response
}

fn respond(req: &Request, state: &Mutex<State>) -> (Response, u64) {
    let mut s = state.lock().expect("state");
    let path = req.uri().path().to_string();
    let raw = req.uri().query().unwrap_or("").to_string();
    let params: BTreeMap<String, String> = form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    let shown: Vec<&str> = raw
        .split('&')
        .filter(|p| {
            !p.is_empty()
                && !p.starts_with("recvWindow=")
                && !p.starts_with("timestamp=")
                && !p.starts_with("signature=")
        })
        .collect();
    s.calls.push(if shown.is_empty() {
        format!("GET {path}")
    } else {
        format!("GET {path}?{}", shown.join("&"))
    });
    let now = now_ms() + s.skew_ms;

    if let Some(secs) = s.ban_secs {
        let mut r = error(
            418,
            -1003,
            "Way too much request weight used; IP banned until later.",
        );
        r.headers_mut()
            .insert("Retry-After", secs.to_string().parse().expect("header"));
        return (r, 0);
    }
    if now < s.limited_until {
        s.ignored_retry_after += 1;
        return (
            error(418, -1003, "Way too much request weight used; IP banned."),
            0,
        );
    }
    // Weights count before anything else, as at Binance.
    if now - s.window_start >= s.window_ms {
        s.window_start = now;
        s.ip_used = 0;
        s.uid_used = 0;
    }
    let (ip, uid) = weight(&path);
    if s.ip_used + ip > s.ip_limit || s.uid_used + uid > s.uid_limit {
        s.limited += 1;
        s.limited_until = s.window_start + s.window_ms;
        let wait = (s.window_start + s.window_ms - now).max(1);
        let mut r = error(
            429,
            -1003,
            "Too much request weight used; current limit is 6000 request weight per 1 MINUTE.",
        );
        r.headers_mut().insert(
            "Retry-After",
            ((wait + 999) / 1000).to_string().parse().expect("header"),
        );
        return (r, 0);
    }
    s.ip_used += ip;
    s.uid_used += uid;
    let used = s.ip_used;
    let (mut response, delay) = signed(&mut s, &path, &raw, &params, req, now);
    response.headers_mut().insert(
        "X-MBX-USED-WEIGHT-1M",
        used.to_string().parse().expect("header"),
    );
    (response, delay)
}

fn signed(
    s: &mut State,
    path: &str,
    raw: &str,
    params: &BTreeMap<String, String>,
    req: &Request,
    now: i64,
) -> (Response, u64) {
    let refuse = |r| (r, 0);
    match req.header("X-MBX-APIKEY") {
        Some(k) if k == KEY => {}
        Some(k) if k.len() == 64 && k.chars().all(|c| c.is_ascii_alphanumeric()) => {
            return refuse(error(
                401,
                -2015,
                "Invalid API-key, IP, or permissions for action.",
            ));
        }
        _ => return refuse(error(401, -2014, "API-key format invalid.")),
    }
    // The signature covers the query exactly as sent, less itself.
    let total: Vec<&str> = raw
        .split('&')
        .filter(|p| !p.starts_with("signature="))
        .collect();
    let expected = signature(&total.join("&"), SECRET);
    if params.get("signature") != Some(&expected) {
        return refuse(error(
            400,
            -1022,
            "Signature for this request is not valid.",
        ));
    }
    let Some(timestamp) = params.get("timestamp").and_then(|t| t.parse::<i64>().ok()) else {
        return refuse(error(
            400,
            -1102,
            "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
        ));
    };
    let window = params
        .get("recvWindow")
        .and_then(|w| w.parse::<i64>().ok())
        .unwrap_or(5000);
    if window > 60_000 {
        return refuse(error(400, -1131, "recvWindow must be less than 60000"));
    }
    if !(timestamp < now + 1000 && now - timestamp <= window) {
        return refuse(error(
            400,
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ));
    }
    let history = !matches!(path, "/sapi/v1/account/apiRestrictions" | "/api/v3/account");
    if history {
        s.pages += 1;
        if s.fail_from.is_some_and(|from| s.pages > from) {
            return refuse(error(
                503,
                -1001,
                "Internal error; unable to process your request. Please try again.",
            ));
        }
    }
    let delay = if history { s.delay_ms } else { 0 };
    (endpoint(s, path, params, now), delay)
}

/// A refusal as Binance words it: HTTP status, code, message.
type Refusal = (u16, i64, &'static str);

fn number(params: &BTreeMap<String, String>, name: &str) -> Option<i64> {
    params.get(name).and_then(|v| v.parse().ok())
}

/// `startTime`/`endTime` (or `beginTime`), defaulting to the `default_days`
/// before now; refused when longer than `max_ms` (`strict`: or equal).
fn window(
    params: &BTreeMap<String, String>,
    begin: &str,
    now: i64,
    default_days: i64,
    max_ms: i64,
    strict: bool,
) -> Result<(i64, i64), Refusal> {
    let end = number(params, "endTime").unwrap_or(now);
    let start = number(params, begin).unwrap_or(end - default_days * DAY_MS);
    let span = end - start;
    if span < 0 || span > max_ms || (strict && span == max_ms) {
        return Err((400, -1127, "Lookup interval is too big."));
    }
    Ok((start, end))
}

fn ms_of(entry: &Value, field: &str) -> i64 {
    match &entry[field] {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(t) => t
            .parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|c| c.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map_or(0, |z| z.timestamp().as_millisecond()),
        _ => 0,
    }
}

/// Entries in `[start, end]`, newest first, `offset` and `limit` applied.
fn newest_first(
    entries: &[Value],
    field: &str,
    (start, end): (i64, i64),
    skip: usize,
    limit: usize,
) -> Vec<Value> {
    let mut inside: Vec<&Value> = entries
        .iter()
        .filter(|e| (start..=end).contains(&ms_of(e, field)))
        .collect();
    inside.sort_by_key(|e| std::cmp::Reverse(ms_of(e, field)));
    inside.into_iter().skip(skip).take(limit).cloned().collect()
}

fn endpoint(s: &mut State, path: &str, params: &BTreeMap<String, String>, now: i64) -> Response {
    let limit = |default: i64, max: i64| -> Result<usize, Refusal> {
        let n = number(params, "limit").unwrap_or(default);
        if n < 1 || n > max {
            return Err((400, -1130, "Data sent for parameter 'limit' is not valid."));
        }
        Ok(n as usize)
    };
    let result = (|| -> Result<Value, Refusal> {
        Ok(match path {
            "/sapi/v1/account/apiRestrictions" => s.restrictions.clone(),
            "/api/v3/account" => json!({
                "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0,
                "sellerCommission": 0, "canTrade": true, "canWithdraw": true, "canDeposit": true,
                "updateTime": now, "accountType": "SPOT",
                "balances": [
                    {"asset": "BTC", "free": s.btc.0, "locked": s.btc.1},
                    {"asset": "USDT", "free": "125.50000000", "locked": "0.00000000"}
                ],
                "permissions": ["SPOT"], "uid": 354_937_868
            }),
            "/api/v3/myTrades" => {
                let Some(symbol) = params.get("symbol") else {
                    return Err((
                        400,
                        -1102,
                        "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
                    ));
                };
                if !s.listed.contains(symbol) {
                    return Err((400, -1121, "Invalid symbol."));
                }
                let n = limit(500, 1000)?;
                let fills = s.fills.get(symbol).cloned().unwrap_or_default();
                let id = |f: &Value| f["id"].as_u64().unwrap_or(0);
                let page: Vec<Value> = match number(params, "fromId") {
                    Some(from) => fills
                        .into_iter()
                        .filter(|f| id(f) >= from as u64)
                        .take(n)
                        .collect(),
                    None => {
                        let skip = fills.len().saturating_sub(n);
                        fills.into_iter().skip(skip).collect()
                    }
                };
                json!(page)
            }
            "/sapi/v1/capital/deposit/hisrec" | "/sapi/v1/capital/withdraw/history" => {
                let span = window(params, "startTime", now, 90, 90 * DAY_MS, true)?;
                let n = limit(1000, 1000)?;
                let skip = number(params, "offset").unwrap_or(0) as usize;
                let (entries, field) = if path.contains("deposit") {
                    (&s.deposits, "insertTime")
                } else {
                    (&s.withdrawals, "applyTime")
                };
                let coin = params.get("coin");
                let mine: Vec<Value> = entries
                    .iter()
                    .filter(|e| coin.is_none_or(|c| e["coin"] == c.as_str()))
                    .cloned()
                    .collect();
                json!(newest_first(&mine, field, span, skip, n))
            }
            "/sapi/v1/fiat/payments" | "/sapi/v1/fiat/orders" => {
                let Some(kind) = params
                    .get("transactionType")
                    .and_then(|t| t.parse::<u8>().ok())
                else {
                    return Err((
                        400,
                        -1102,
                        "Mandatory parameter 'transactionType' was not sent, was empty/null, or malformed.",
                    ));
                };
                let span = window(params, "beginTime", now, 30, i64::MAX, false)?;
                let rows = number(params, "rows").unwrap_or(100);
                if !(1..=500).contains(&rows) {
                    return Err((400, -1130, "Data sent for parameter 'rows' is not valid."));
                }
                let page = number(params, "page").unwrap_or(1).max(1) as usize;
                let mine: Vec<Value> = if path.ends_with("payments") {
                    s.payments
                        .iter()
                        .filter(|(k, _)| *k == kind)
                        .map(|(_, e)| e.clone())
                        .collect()
                } else {
                    Vec::new()
                };
                let inside = newest_first(&mine, "createTime", span, 0, usize::MAX);
                let total = inside.len();
                let data: Vec<Value> = inside
                    .into_iter()
                    .skip((page - 1) * rows as usize)
                    .take(rows as usize)
                    .collect();
                // Binance leaves the list out of an empty answer.
                if data.is_empty() {
                    json!({"code": "000000", "message": "success", "total": 0, "success": true})
                } else {
                    json!({"code": "000000", "message": "success", "data": data,
                           "total": total, "success": true})
                }
            }
            "/sapi/v1/convert/tradeFlow" => {
                if number(params, "startTime").is_none() || number(params, "endTime").is_none() {
                    return Err((
                        400,
                        -1102,
                        "Mandatory parameter 'startTime' was not sent, was empty/null, or malformed.",
                    ));
                }
                let span = window(params, "startTime", now, 30, 30 * DAY_MS, false)?;
                let n = limit(100, 1000)?;
                let inside = newest_first(&s.converts, "createTime", span, 0, usize::MAX);
                let more = inside.len() > n;
                json!({"list": inside.into_iter().take(n).collect::<Vec<_>>(),
                       "startTime": span.0, "endTime": span.1, "limit": n, "moreData": more})
            }
            "/sapi/v1/asset/assetDividend" => {
                let span = window(params, "startTime", now, 180, 180 * DAY_MS, false)?;
                let n = limit(20, 500)?;
                let asset = params.get("asset");
                let mine: Vec<Value> = s
                    .dividends
                    .iter()
                    .filter(|e| asset.is_none_or(|a| e["asset"] == a.as_str()))
                    .cloned()
                    .collect();
                let rows = newest_first(&mine, "divTime", span, 0, n);
                json!({"rows": rows, "total": rows.len()})
            }
            "/sapi/v1/asset/dribblet" => s.dust.clone(),
            "/sapi/v1/simple-earn/flexible/history/rewardsRecord" => {
                let Some(kind) = params.get("type") else {
                    return Err((
                        400,
                        -1102,
                        "Mandatory parameter 'type' was not sent, was empty/null, or malformed.",
                    ));
                };
                let span = window(params, "startTime", now, 30, 90 * DAY_MS, false)?;
                let size = number(params, "size").unwrap_or(10);
                if !(1..=100).contains(&size) {
                    return Err((400, -1130, "Data sent for parameter 'size' is not valid."));
                }
                let current = number(params, "current").unwrap_or(1).max(1) as usize;
                let asset = params.get("asset");
                let mine: Vec<Value> = s
                    .earn
                    .iter()
                    .filter(|e| e["type"] == kind.as_str() || kind == "ALL")
                    .filter(|e| asset.is_none_or(|a| e["asset"] == a.as_str()))
                    .cloned()
                    .collect();
                let inside = newest_first(&mine, "time", span, 0, usize::MAX);
                let total = inside.len();
                let rows: Vec<Value> = inside
                    .into_iter()
                    .skip((current - 1) * size as usize)
                    .take(size as usize)
                    .collect();
                json!({"rows": rows, "total": total})
            }
            _ => return Err((404, -1000, "Unknown path.")),
        })
    })();
    match result {
        Ok(body) => answer(200, body),
        Err((status, code, msg)) => error(status, code, msg),
    }
}

fn fresh(restrictions: Value) -> State {
    State {
        restrictions,
        listed: ["BTCUSDT", "BTCUSDC", "BTCEUR", "BTCGBP", "ETHBTC", "BNBBTC"]
            .into_iter()
            .map(String::from)
            .collect(),
        fills: BTreeMap::new(),
        deposits: Vec::new(),
        withdrawals: Vec::new(),
        payments: Vec::new(),
        converts: Vec::new(),
        dividends: Vec::new(),
        earn: Vec::new(),
        dust: json!({"total": 0, "userAssetDribblets": []}),
        btc: ("0.00000000".into(), "0.00000000".into()),
        calls: Vec::new(),
        ip_limit: 6000,
        uid_limit: 180_000,
        window_ms: 1000,
        ip_used: 0,
        uid_used: 0,
        window_start: 0,
        ban_secs: None,
        fail_from: None,
        pages: 0,
        delay_ms: 0,
        skew_ms: 0,
        limited: 0,
        limited_until: 0,
        ignored_retry_after: 0,
    }
}

impl FakeBinance {
    /// A fake that is not listening: its URL names a server that is not
    /// there.
    pub fn unstarted(url: &str) -> FakeBinance {
        FakeBinance {
            url: url.to_string(),
            state: Arc::new(Mutex::new(fresh(Value::Null))),
        }
    }

    pub async fn start(restrictions: Value) -> FakeBinance {
        let state = Arc::new(Mutex::new(fresh(restrictions)));
        let app = Route::new().at("/*path", get(any)).data(state.clone());
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind");
        let addr = acceptor.local_addr()[0]
            .as_socket_addr()
            .copied()
            .expect("addr");
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        FakeBinance {
            url: format!("http://{addr}"),
            state,
        }
    }

    pub fn set(&self, f: impl FnOnce(&mut State)) {
        let mut s = self.state.lock().expect("state");
        f(&mut s);
        for fills in s.fills.values_mut() {
            fills.sort_by_key(|f| f["id"].as_u64());
        }
    }

    pub fn get<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.state.lock().expect("state"))
    }

    pub fn calls(&self) -> Vec<String> {
        self.get(|s| s.calls.clone())
    }

    /// How many calls went to `path`.
    pub fn count(&self, path: &str) -> usize {
        self.calls_to(path).len()
    }

    /// How many different calls went to `path` (a call asked again after a
    /// 429 counts once).
    pub fn distinct(&self, path: &str) -> usize {
        self.calls_to(path)
            .into_iter()
            .collect::<BTreeSet<_>>()
            .len()
    }

    fn calls_to(&self, path: &str) -> Vec<String> {
        let call = format!("GET {path}");
        self.calls()
            .into_iter()
            .filter(|c| *c == call || c.starts_with(&format!("{call}?")))
            .collect()
    }
}

/// 2024-01-01 00:00 UTC.
pub const JAN_2024_MS: i64 = 1_704_067_200_000;

/// `n` fills of `symbol` from id `first`, one a minute from `start_ms`:
/// buys of 0.01 BTC for 400 of the quote, the commission (0.00001 BTC)
/// taken from the bitcoin bought.
pub fn buys(symbol: &str, first: u64, n: usize, start_ms: i64) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({
                "symbol": symbol, "id": first + i as u64, "orderId": 9_000 + first + i as u64,
                "orderListId": -1, "price": "40000.00000000", "qty": "0.01000000",
                "quoteQty": "400.00000000", "commission": "0.00001000", "commissionAsset": "BTC",
                "time": start_ms + 60_000 * i as i64, "isBuyer": true, "isMaker": false,
                "isBestMatch": true
            })
        })
        .collect()
}

/// A fill of `symbol` at `time_ms`.
#[allow(clippy::too_many_arguments)]
pub fn fill(
    symbol: &str,
    id: u64,
    time_ms: i64,
    buyer: bool,
    qty: &str,
    quote_qty: &str,
    commission: &str,
    commission_asset: &str,
) -> Value {
    json!({
        "symbol": symbol, "id": id, "orderId": 5_000 + id, "orderListId": -1,
        "price": "1.00000000", "qty": qty, "quoteQty": quote_qty, "commission": commission,
        "commissionAsset": commission_asset, "time": time_ms, "isBuyer": buyer,
        "isMaker": false, "isBestMatch": true
    })
}

/// A BTC deposit as `deposit/hisrec` answers it.
pub fn deposit(id: &str, txid: &str, amount: &str, insert_ms: i64, status: i64) -> Value {
    json!({
        "id": id, "amount": amount, "coin": "BTC", "network": "BTC", "status": status,
        "address": "bc1qfakedepositaddress0000000000000000000", "addressTag": "",
        "txId": txid, "insertTime": insert_ms, "completeTime": insert_ms + 3_600_000,
        "transferType": 0, "confirmTimes": "2/2", "unlockConfirm": 2, "walletType": 0
    })
}

/// A BTC withdrawal as `withdraw/history` answers it (`applyTime` as UTC
/// text).
pub fn withdrawal(
    id: &str,
    txid: &str,
    amount: &str,
    fee: &str,
    apply_ms: i64,
    status: i64,
) -> Value {
    let apply = jiff::Timestamp::from_millisecond(apply_ms)
        .expect("time")
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string();
    json!({
        "id": id, "amount": amount, "transactionFee": fee, "coin": "BTC", "status": status,
        "address": "bc1qfakewithdrawaladdress000000000000000", "txId": txid,
        "applyTime": apply, "network": "BTC", "transferType": 0, "confirmNo": 3,
        "walletType": 0, "txKey": "", "completeTime": apply
    })
}

#[cfg(test)]
mod tests {
    /// The fake checks signatures as Binance does: its own computation
    /// gives Binance's published example.
    #[test]
    fn the_fakes_signature_check_matches_binances_published_example() {
        let total = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        assert_eq!(
            super::signature(total, super::SECRET),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
    }
}

//! Binance's signed read calls as Ledgersys makes them: every one through
//! [`client::prepare`] (the allow-list, then the signature), within a
//! client-side budget of Binance's request weights. Which history is read,
//! and in what order, is `binance_walk`; how entries become rows,
//! `binance_rows`.

use std::sync::Mutex;
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::Value;

use super::adapter::ExchangeError;
use super::binance;
use super::budget::Budget;
use super::client::prepare;

pub const BASE: &str = "https://api.binance.com";

/// How late a request may arrive and still count. Binance allows up to
/// 60,000 ms and defaults to 5,000; a little more than the default forgives
/// a slow network without letting a captured request be replayed for long.
const RECV_WINDOW_MS: u64 = 10_000;

/// Binance counts `/api` weight per IP address (6,000 a minute): this
/// leaves a sixth for anything else on the same address.
const IP_BUDGET: Budget = Budget::new(5_000_000, 83_333);
/// `/sapi` history endpoints count per account (UID): 180,000 a minute.
const UID_BUDGET: Budget = Budget::new(180_000_000, 3_000_000);

/// A 429 asking for a longer pause than this stops the sync instead, so a
/// command-line sync does not hang for an unknown time.
const LONGEST_WAIT_SECS: u64 = 300;

/// What one call costs, in Binance's own units and on its own counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Ip(u64),
    Uid(u64),
}

#[derive(Debug, thiserror::Error)]
pub enum BinanceError {
    /// The key, its secret, its IP restriction or the clock, in the user's
    /// words.
    #[error("{0}")]
    Key(String),
    #[error("cannot reach Binance: {0}")]
    Unreachable(String),
    #[error("Binance's answer does not read: {0}")]
    Malformed(String),
    #[error("{0}")]
    Refused(String),
    /// 418: Binance has banned this IP address for a while.
    #[error("{0}")]
    Banned(String),
    /// `-1121`: the pair is not (or no longer) listed.
    #[error("Binance does not list the pair {0}")]
    UnknownSymbol(String),
}

impl From<BinanceError> for ExchangeError {
    fn from(e: BinanceError) -> Self {
        match e {
            BinanceError::Key(_) | BinanceError::Refused(_) => {
                ExchangeError::Refused(e.to_string())
            }
            BinanceError::Unreachable(_)
            | BinanceError::Malformed(_)
            | BinanceError::Banned(_)
            | BinanceError::UnknownSymbol(_) => ExchangeError::Failed(e.to_string()),
        }
    }
}

pub struct Binance {
    http: reqwest::Client,
    base: String,
    key: String,
    secret: String,
    ip: Mutex<Budget>,
    uid: Mutex<Budget>,
    unbudgeted: bool,
}

/// The query as sent: `params`, then `recvWindow` and `timestamp`, then the
/// `signature` of everything before it (a GET has no body to add).
pub fn query_signed(
    params: &[(&str, String)],
    recv_window: u64,
    timestamp: u64,
    secret: &str,
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        query.append_pair(k, v);
    }
    query.append_pair("recvWindow", &recv_window.to_string());
    query.append_pair("timestamp", &timestamp.to_string());
    let query = query.finish();
    let signature = binance::sign(&query, secret);
    format!("{query}&signature={signature}")
}

impl Binance {
    pub fn new(base: &str, key: &str, secret: &str) -> Result<Binance, BinanceError> {
        let base = crate::outbound::http_base(base, "the Binance API URL")
            .map_err(BinanceError::Refused)?;
        let key = key.trim();
        // A header value cannot carry these; Binance's keys are 64 letters
        // and digits. The key itself is never repeated back.
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(BinanceError::Key(
                "the API key is not a Binance API key (letters and digits, no spaces); copy it again"
                    .into(),
            ));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("ledgersys/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| BinanceError::Unreachable(e.to_string()))?;
        Ok(Binance {
            http,
            base,
            key: key.to_string(),
            secret: secret.trim().to_string(),
            ip: Mutex::new(IP_BUDGET),
            uid: Mutex::new(UID_BUDGET),
            unbudgeted: false,
        })
    }

    /// Without the client-side budget (`exchanges.rate_budget = "off"`).
    pub fn unbudgeted(mut self, off: bool) -> Binance {
        self.unbudgeted = off;
        self
    }

    fn budget(&self, weight: Weight) -> (&Mutex<Budget>, u64) {
        match weight {
            Weight::Ip(w) => (&self.ip, w),
            Weight::Uid(w) => (&self.uid, w),
        }
    }

    async fn wait_for_budget(&self, weight: Weight) {
        if self.unbudgeted {
            return;
        }
        let (budget, cost) = self.budget(weight);
        loop {
            let wait = match budget.lock() {
                Ok(mut b) => b.spend(cost, crate::clock::now_ms()).err(),
                Err(_) => None,
            };
            match wait {
                None => return,
                Some(ms) => tokio::time::sleep(Duration::from_millis(ms.min(60_000))).await,
            }
        }
    }

    /// One signed GET of `path` (without its query).
    pub(super) async fn get(
        &self,
        path: &str,
        params: &[(&str, String)],
        weight: Weight,
    ) -> Result<Value, BinanceError> {
        let mut attempt = 0u32;
        loop {
            self.wait_for_budget(weight).await;
            let timestamp = crate::clock::now_ms();
            let prepared = prepare(&binance::ALLOW, "GET", path, || {
                Ok::<_, std::convert::Infallible>(query_signed(
                    params,
                    RECV_WINDOW_MS,
                    timestamp,
                    &self.secret,
                ))
            })
            .map_err(|e| BinanceError::Refused(e.to_string()))?;
            let prepared = match prepared {
                Ok(prepared) => prepared,
                Err(never) => match never {},
            };
            let answer = self
                .http
                .get(format!(
                    "{}{}?{}",
                    self.base, prepared.path, prepared.signed
                ))
                .header("X-MBX-APIKEY", &self.key)
                .send()
                .await;
            let answer = match answer {
                Ok(answer) => answer,
                Err(e) if attempt < 3 && (e.is_connect() || e.is_timeout() || e.is_request()) => {
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(BinanceError::Unreachable(e.without_url().to_string())),
            };
            let status = answer.status().as_u16();
            let header = |name: &str| {
                answer
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
            };
            if let (Some(used), false) = (header("X-MBX-USED-WEIGHT-1M"), self.unbudgeted)
                && let Ok(mut ip) = self.ip.lock()
            {
                // Another program on this address counts too.
                ip.observe(used, crate::clock::now_ms());
            }
            let retry_after = header("Retry-After");
            if status == 418 {
                return Err(banned(retry_after));
            }
            if status == 429 {
                let wait = retry_after.unwrap_or(60);
                if attempt >= 4 || wait > LONGEST_WAIT_SECS {
                    return Err(BinanceError::Unreachable(format!(
                        "Binance kept refusing for its rate limit and asks to wait {wait} s; sync again after that"
                    )));
                }
                // Waiting the whole pause matters: a client that keeps
                // asking after a 429 gets its IP address banned (418).
                for budget in [&self.ip, &self.uid] {
                    if let Ok(mut b) = budget.lock() {
                        b.exhausted(crate::clock::now_ms());
                    }
                }
                tokio::time::sleep(Duration::from_secs(wait)).await;
                attempt += 1;
                continue;
            }
            if (500..600).contains(&status) && attempt < 3 {
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
                continue;
            }
            let bytes = answer
                .bytes()
                .await
                .map_err(|e| BinanceError::Unreachable(e.without_url().to_string()))?;
            let value: Option<Value> = serde_json::from_slice(&bytes).ok();
            if (200..300).contains(&status) {
                return value.ok_or_else(|| {
                    BinanceError::Malformed(format!("{path}: HTTP {status}, not JSON"))
                });
            }
            let code = value.as_ref().and_then(|v| v["code"].as_i64());
            return Err(plain_words(status, code, params));
        }
    }

    /// `apiRestrictions`: what the key may do.
    pub async fn restrictions(&self) -> Result<Value, BinanceError> {
        self.get("/sapi/v1/account/apiRestrictions", &[], Weight::Ip(1))
            .await
    }

    /// The BTC of the spot account (free and locked), in satoshis. Funding
    /// and Earn balances are not on the read allow-list.
    pub async fn btc_balance(&self) -> Result<i64, BinanceError> {
        let account = self
            .get(
                "/api/v3/account",
                &[("omitZeroBalances", "true".into())],
                Weight::Ip(20),
            )
            .await?;
        let Some(balances) = account["balances"].as_array() else {
            return Err(BinanceError::Malformed(
                "the account has no balances".into(),
            ));
        };
        let mut total = Decimal::ZERO;
        for b in balances.iter().filter(|b| b["asset"] == "BTC") {
            for field in ["free", "locked"] {
                let text = b[field].as_str().unwrap_or("0");
                total += text
                    .trim()
                    .parse::<Decimal>()
                    .map_err(|_| BinanceError::Malformed(format!("the BTC balance {text:?}")))?;
            }
        }
        crate::sources::cell::btc(total)
            .map(|s| s.0)
            .map_err(BinanceError::Malformed)
    }
}

fn banned(retry_after: Option<u64>) -> BinanceError {
    let until = retry_after
        .and_then(|s| i64::try_from(s).ok())
        .map(|s| crate::clock::rfc3339(crate::clock::now() + s));
    BinanceError::Banned(match until {
        Some(until) => format!(
            "Binance has banned this server's IP address for too many requests until {until}; sync again after that (what was synced is kept)"
        ),
        None => "Binance has banned this server's IP address for too many requests; sync again later (what was synced is kept)".into(),
    })
}

/// Binance's error codes as a user can act on them. Binance's own text is
/// not passed on, only what its code means.
fn plain_words(status: u16, code: Option<i64>, params: &[(&str, String)]) -> BinanceError {
    let key = BinanceError::Key;
    if (500..600).contains(&status) {
        return BinanceError::Unreachable(format!("Binance answered HTTP {status}"));
    }
    match code {
        Some(-1021) => key(
            "Binance refused the request's time: this server's clock is more than a few seconds off; set it right (NTP) and try again".into(),
        ),
        Some(-1022) => key(
            "Binance refused the signature: the secret does not belong to this API key; copy both again".into(),
        ),
        Some(-2014) => key("Binance does not read this as an API key; copy it again".into()),
        Some(-2015) => key(
            "Binance refused the key: it is wrong or deleted, restricted to other IP addresses than this server's, or lacks Enable Reading".into(),
        ),
        Some(-1121) => BinanceError::UnknownSymbol(
            params
                .iter()
                .find(|(k, _)| *k == "symbol")
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
        ),
        Some(-1127) => BinanceError::Malformed(
            "Binance refused the time window Ledgersys asked for as too long".into(),
        ),
        Some(other) => BinanceError::Refused(format!(
            "Binance refused the request (HTTP {status}, code {other})"
        )),
        None => BinanceError::Malformed(format!("HTTP {status} without an error code")),
    }
}

/// Half a second, doubling with each attempt.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500 << attempt.min(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The query the client sends for Binance's published example is
    /// signed as the example says.
    #[test]
    fn the_signed_query_matches_binances_published_example() {
        let secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
        let params = [
            ("symbol", "LTCBTC".to_string()),
            ("side", "BUY".into()),
            ("type", "LIMIT".into()),
            ("timeInForce", "GTC".into()),
            ("quantity", "1".into()),
            ("price", "0.1".into()),
        ];
        assert_eq!(
            query_signed(&params, 5000, 1_499_827_319_559, secret),
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
    }

    #[test]
    fn error_codes_become_words_without_binances_text() {
        let none: &[(&str, String)] = &[];
        for (code, words) in [
            (-1021, "clock"),
            (-1022, "secret does not belong"),
            (-2014, "not read this as an API key"),
            (-2015, "other IP addresses"),
        ] {
            let e = plain_words(400, Some(code), none);
            assert!(matches!(e, BinanceError::Key(_)), "{code}");
            assert!(e.to_string().contains(words), "{code}: {e}");
            assert!(matches!(ExchangeError::from(e), ExchangeError::Refused(_)));
        }
        let symbol = [("symbol", "XMRBTC".to_string())];
        assert!(
            matches!(plain_words(400, Some(-1121), &symbol), BinanceError::UnknownSymbol(s) if s == "XMRBTC")
        );
        assert!(matches!(
            ExchangeError::from(plain_words(503, None, none)),
            ExchangeError::Failed(_)
        ));
        let ban = banned(Some(120)).to_string();
        assert!(ban.contains("banned") && ban.contains("until 20"), "{ban}");
    }

    #[test]
    fn a_key_with_spaces_is_refused_without_repeating_it() {
        let Err(e) = Binance::new(BASE, "two words", "secret") else {
            panic!("accepted");
        };
        assert!(!e.to_string().contains("two words"), "{e}");
        assert!(Binance::new("ftp://x", "k", "s").is_err());
    }
}

//! Coinbase's read calls as Ledgersys makes them: every one through
//! [`client::prepare`] (the allow-list, then a fresh JWT), within a
//! client-side budget of Coinbase's 10,000 calls an hour. The history is
//! the v2 API's: every BTC account's transactions, oldest first, paged by
//! `starting_after`. Rows are made in `coinbase_rows`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::adapter::{Batch, ExchangeError, checked};
use super::budget::Budget;
use super::client::prepare;
use super::coinbase::{self, KeyPermissions};
use super::coinbase_jwt::{ISSUERS, Signer};
use super::coinbase_rows::{V2Tx, row, settled};

pub const BASE: &str = "https://api.coinbase.com";
/// v2 returns at most this many entries a page.
const PAGE: usize = 100;
/// Entries read before a batch is committed (as for Kraken).
const BATCH: usize = 2000;
/// 10,000 an hour, with a burst of 100.
const STARTER: Budget = Budget::new(100_000, 2_700);

#[derive(Debug, thiserror::Error)]
pub enum CoinbaseError {
    /// The key, its secret or its permissions, in the user's words.
    #[error("{0}")]
    Key(String),
    #[error("cannot reach Coinbase: {0}")]
    Unreachable(String),
    #[error("Coinbase's answer does not read: {0}")]
    Malformed(String),
    #[error("{0}")]
    Refused(String),
}

impl From<CoinbaseError> for ExchangeError {
    fn from(e: CoinbaseError) -> Self {
        match e {
            CoinbaseError::Key(_) | CoinbaseError::Refused(_) => {
                ExchangeError::Refused(e.to_string())
            }
            CoinbaseError::Unreachable(_) | CoinbaseError::Malformed(_) => {
                ExchangeError::Failed(e.to_string())
            }
        }
    }
}

/// One account of `/v2/accounts`.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub currency: String,
    pub balance: Decimal,
}

pub struct Coinbase {
    http: reqwest::Client,
    base: String,
    /// `host[:port]` and path prefix as the requests are sent, for the
    /// token's `uri`.
    host: String,
    prefix: String,
    key: String,
    signer: Signer,
    /// Index into [`ISSUERS`]; `pinned` once an answer showed it works.
    issuer: AtomicUsize,
    pinned: AtomicBool,
    budget: Mutex<Budget>,
    unbudgeted: bool,
}

impl Coinbase {
    pub fn new(base: &str, key: &str, secret: &str) -> Result<Coinbase, CoinbaseError> {
        let base = crate::outbound::http_base(base, "the Coinbase API URL")
            .map_err(CoinbaseError::Refused)?;
        let parsed = url::Url::parse(&base)
            .map_err(|_| CoinbaseError::Refused("the Coinbase API URL does not read".into()))?;
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => {
                return Err(CoinbaseError::Refused(
                    "the Coinbase API URL has no host".into(),
                ));
            }
        };
        let prefix = parsed.path().trim_end_matches('/').to_string();
        let key = key.trim().to_string();
        if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(CoinbaseError::Key(
                "the key name is not a Coinbase API key name (organizations/.../apiKeys/...)"
                    .into(),
            ));
        }
        let signer = Signer::from_secret(secret).map_err(CoinbaseError::Key)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("ledgersys/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| CoinbaseError::Unreachable(e.to_string()))?;
        Ok(Coinbase {
            http,
            base: base.trim_end_matches('/').to_string(),
            host,
            prefix,
            key,
            signer,
            issuer: AtomicUsize::new(0),
            pinned: AtomicBool::new(false),
            budget: Mutex::new(STARTER),
            unbudgeted: false,
        })
    }

    /// Without the client-side rate budget (`exchanges.rate_budget = "off"`).
    pub fn unbudgeted(mut self, off: bool) -> Coinbase {
        self.unbudgeted = off;
        self
    }

    /// Sends `iss` = `issuer` (one of [`ISSUERS`]) and no other.
    pub fn issuer(self, issuer: &str) -> Coinbase {
        if let Some(i) = ISSUERS.iter().position(|i| *i == issuer) {
            self.issuer.store(i, Ordering::Relaxed);
            self.pinned.store(true, Ordering::Relaxed);
        }
        self
    }

    /// The `iss` that Coinbase accepted (or that is tried first).
    pub fn current_issuer(&self) -> &'static str {
        ISSUERS[self.issuer.load(Ordering::Relaxed) % ISSUERS.len()]
    }

    /// One GET; `path` without its query.
    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, CoinbaseError> {
        let mut attempt = 0u32;
        loop {
            self.wait_for_budget().await;
            let uri = format!("GET {}{}{}", self.host, self.prefix, path);
            let issuer = self.current_issuer();
            let now = crate::clock::now();
            let prepared = prepare(&coinbase::ALLOW, "GET", path, || {
                self.signer.jwt(&self.key, issuer, &uri, now)
            })
            .map_err(|e| CoinbaseError::Refused(e.to_string()))?
            .map_err(CoinbaseError::Key)?;
            let answer = self
                .http
                .get(format!("{}{}", self.base, prepared.path))
                .query(query)
                .bearer_auth(&prepared.signed)
                .header("CB-VERSION", "2018-05-30")
                .send()
                .await;
            let answer = match answer {
                Ok(answer) => answer,
                Err(e) if attempt < 3 && (e.is_connect() || e.is_timeout() || e.is_request()) => {
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(CoinbaseError::Unreachable(e.without_url().to_string())),
            };
            let status = answer.status().as_u16();
            if status == 429 && attempt < 3 {
                if let Ok(mut budget) = self.budget.lock() {
                    budget.exhausted(crate::clock::now_ms());
                }
                let wait = answer
                    .headers()
                    .get("Retry-After")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map_or(backoff(attempt), |s| Duration::from_secs(s.min(60)));
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            if (500..600).contains(&status) && attempt < 3 {
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
                continue;
            }
            if status == 401 && !self.pinned.load(Ordering::Relaxed) {
                // The other `iss` Coinbase has been seen to want; once.
                self.pinned.store(true, Ordering::Relaxed);
                self.issuer.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            // Coinbase's own text is never passed on: only what it means.
            let bytes = answer
                .bytes()
                .await
                .map_err(|e| CoinbaseError::Unreachable(e.without_url().to_string()))?;
            return match status {
                200..=299 => {
                    self.pinned.store(true, Ordering::Relaxed);
                    serde_json::from_slice(&bytes).map_err(|_| {
                        CoinbaseError::Malformed(format!("HTTP {status}, not JSON"))
                    })
                }
                401 => Err(CoinbaseError::Key(
                    "Coinbase refused the key: the secret does not belong to this key name, or the key was deleted; copy both again from the CDP portal".into(),
                )),
                403 => Err(CoinbaseError::Key(
                    "Coinbase refused the call: the key lacks the View permission, or the account is not in the key's portfolio".into(),
                )),
                429 => Err(CoinbaseError::Unreachable(
                    "Coinbase kept refusing for its rate limit; try again in an hour".into(),
                )),
                404 => Err(CoinbaseError::Malformed(
                    "Coinbase does not know an address Ledgersys asked for (is the API URL right?)".into(),
                )),
                other => Err(CoinbaseError::Unreachable(format!(
                    "Coinbase answered HTTP {other}"
                ))),
            };
        }
    }

    async fn wait_for_budget(&self) {
        if self.unbudgeted {
            return;
        }
        loop {
            let wait = match self.budget.lock() {
                Ok(mut budget) => budget.spend(1, crate::clock::now_ms()).err(),
                Err(_) => None,
            };
            match wait {
                None => return,
                Some(ms) => tokio::time::sleep(Duration::from_millis(ms.min(60_000))).await,
            }
        }
    }

    pub async fn key_permissions(&self) -> Result<KeyPermissions, CoinbaseError> {
        let value = self.get("/api/v3/brokerage/key_permissions", &[]).await?;
        serde_json::from_value(value)
            .map_err(|_| CoinbaseError::Malformed("key_permissions lacks a permission flag".into()))
    }

    /// Every account of `/v2/accounts`, following its pages.
    pub async fn accounts(&self) -> Result<Vec<Account>, CoinbaseError> {
        let mut accounts = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![("limit", PAGE.to_string())];
            if let Some(a) = &after {
                query.push(("starting_after", a.clone()));
            }
            let page = self.get("/v2/accounts", &query).await?;
            let Some(data) = page["data"].as_array() else {
                return Err(CoinbaseError::Malformed("/v2/accounts has no data".into()));
            };
            for a in data {
                let id = a["id"].as_str().unwrap_or("").to_string();
                let currency = match &a["currency"] {
                    Value::String(s) => s.clone(),
                    other => other["code"].as_str().unwrap_or("").to_string(),
                };
                let text = a["balance"]["amount"].as_str().unwrap_or("0");
                let balance = text
                    .parse::<Decimal>()
                    .map_err(|_| CoinbaseError::Malformed("an account balance".into()))?;
                if id.is_empty() {
                    return Err(CoinbaseError::Malformed("an account without an id".into()));
                }
                accounts.push(Account {
                    id,
                    currency: currency.to_uppercase(),
                    balance,
                });
            }
            match next_after(&page, "/v2/accounts") {
                Some(next) if Some(&next) != after.as_ref() && !data.is_empty() => {
                    after = Some(next)
                }
                _ => return Ok(accounts),
            }
        }
    }

    /// The BTC balance over every BTC account, in satoshis.
    pub async fn btc_balance(&self) -> Result<i64, CoinbaseError> {
        let total: Decimal = self
            .accounts()
            .await?
            .iter()
            .filter(|a| a.currency == "BTC")
            .map(|a| a.balance)
            .sum();
        let sats = (total * Decimal::from(100_000_000)).round();
        i64::try_from(sats).map_err(|_| CoinbaseError::Malformed("the BTC balance".into()))
    }

    /// One page of an account's transactions after `after`, oldest first,
    /// and whether another page follows.
    async fn transactions(
        &self,
        account: &str,
        after: Option<&str>,
    ) -> Result<(Vec<V2Tx>, Option<String>), CoinbaseError> {
        let path = format!("/v2/accounts/{account}/transactions");
        let mut query = vec![("order", "asc".to_string()), ("limit", PAGE.to_string())];
        if let Some(a) = after {
            query.push(("starting_after", a.to_string()));
        }
        let page = self.get(&path, &query).await?;
        let Some(data) = page["data"].as_array() else {
            return Err(CoinbaseError::Malformed("transactions without data".into()));
        };
        let txs = data
            .iter()
            .map(|v| {
                serde_json::from_value::<V2Tx>(v.clone())
                    .map_err(|e| CoinbaseError::Malformed(format!("a transaction: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let next = next_after(&page, &path).filter(|_| !txs.is_empty());
        Ok((txs, next))
    }

    /// The next batch. The cursor is, caught up, `{"iss", "after": {account:
    /// id}}` (per BTC account, the last entry up to which everything had
    /// settled), or part way through a sync, with `accounts` (the BTC
    /// accounts as the sync found them), `at` (the one being read),
    /// `page` (the last entry read in it), `held` (a pending entry was met
    /// in it, so `after` stays put) and `read`.
    pub async fn next_batch(&self, cursor: &Value, account: &str) -> Result<Batch, ExchangeError> {
        if let Some(iss) = cursor["iss"].as_str()
            && !self.pinned.load(Ordering::Relaxed)
            && let Some(i) = ISSUERS.iter().position(|i| *i == iss)
        {
            self.issuer.store(i, Ordering::Relaxed);
        }
        let mut after: BTreeMap<String, String> =
            serde_json::from_value(cursor["after"].clone()).unwrap_or_default();
        let accounts: Vec<String> = match cursor["accounts"].as_array() {
            Some(list) => list
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            None => self
                .accounts()
                .await?
                .into_iter()
                .filter(|a| a.currency == "BTC")
                .map(|a| a.id)
                .collect(),
        };
        let mut at = cursor["at"].as_u64().map_or(0, |a| a as usize);
        let mut page: Option<String> = cursor["page"].as_str().map(String::from);
        let mut held = cursor["held"].as_bool().unwrap_or(false);
        let mut read = cursor["read"].as_u64().map_or(0, |r| r as usize);
        let mut rows = Vec::new();
        let mut taken = 0usize;
        while at < accounts.len() && taken < BATCH {
            let id = &accounts[at];
            let from = page.clone().or_else(|| after.get(id).cloned());
            let (txs, next) = self.transactions(id, from.as_deref()).await?;
            taken += txs.len();
            for tx in &txs {
                page = Some(tx.id.clone());
                if !held {
                    if settled(&tx.status) {
                        after.insert(id.clone(), tx.id.clone());
                    } else {
                        held = true;
                    }
                }
                if let Some(r) = row(tx, account).map_err(|e| {
                    ExchangeError::Failed(format!("a Coinbase entry does not read: {e}"))
                })? {
                    rows.push(r);
                }
            }
            if next.is_none() {
                at += 1;
                page = None;
                held = false;
            }
        }
        read += taken;
        let done = at >= accounts.len();
        let cursor = if done {
            json!({"iss": self.current_issuer(), "after": after})
        } else {
            json!({
                "iss": self.current_issuer(),
                "after": after,
                "accounts": accounts,
                "at": at,
                "page": page,
                "held": held,
                "read": read,
            })
        };
        Ok(Batch {
            rows: checked(rows)?,
            cursor,
            done,
            read,
            total: None,
        })
    }
}

/// `starting_after` of the page that follows, from `pagination`
/// (`next_uri` first), when it names the same path.
fn next_after(page: &Value, path: &str) -> Option<String> {
    let pagination = &page["pagination"];
    let uri = pagination["next_uri"].as_str()?;
    let (next_path, query) = uri.split_once('?').unwrap_or((uri, ""));
    if !next_path.ends_with(path) {
        return None;
    }
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "starting_after")
        .map(|(_, v)| v.into_owned())
        .or_else(|| pagination["next_starting_after"].as_str().map(String::from))
        .filter(|s| !s.is_empty())
}

/// Half a second, doubling with each attempt.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500 << attempt.min(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_comes_from_next_uri_on_the_same_path() {
        let page = json!({"pagination": {"next_uri": "/v2/accounts/a-1/transactions?order=asc&limit=100&starting_after=t-9"}});
        assert_eq!(
            next_after(&page, "/v2/accounts/a-1/transactions").as_deref(),
            Some("t-9")
        );
        assert_eq!(next_after(&page, "/v2/accounts/b-2/transactions"), None);
        assert_eq!(
            next_after(&json!({"pagination": {"next_uri": null}}), "/v2/accounts"),
            None
        );
    }

    #[test]
    fn a_bad_secret_or_key_name_is_refused_in_plain_words() {
        for (key, secret) in [
            ("organizations/o/apiKeys/k", "hunter2"),
            ("two words", "AAAA"),
        ] {
            let Err(e) = Coinbase::new(BASE, key, secret) else {
                panic!("accepted");
            };
            let words = e.to_string();
            assert!(!words.contains(secret) && !words.contains(key), "{words}");
        }
    }
}

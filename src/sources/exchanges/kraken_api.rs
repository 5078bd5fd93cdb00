//! Kraken's private REST calls as Ledgersys makes them: every one through
//! [`client::prepare`] (the allow-list, then the signature), one at a time
//! per key with a rising nonce, within the client-side rate budget.

use std::sync::Mutex;
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::adapter::{Batch, ExchangeError, rows_from_export};

use super::budget::{Budget, KRAKEN_STARTER};
use super::client::prepare;
use super::kraken::{self, KeyInfo};
use super::nonce::Nonces;

pub const BASE: &str = "https://api.kraken.com";
/// Kraken returns at most this many ledger entries a call.
const PAGE: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum KrakenError {
    /// The key, signature, nonce or permissions, in the user's words.
    #[error("{0}")]
    Key(String),
    #[error("cannot reach Kraken: {0}")]
    Unreachable(String),
    #[error("Kraken's answer does not read: {0}")]
    Malformed(String),
    #[error("{0}")]
    Refused(String),
    /// Kraken's `EGeneral:Permission denied`: the key lacks the call's
    /// permission (for the Export API, an answer to fall back on).
    #[error("{0}")]
    Permission(String),
}

/// What a private call answered: its `result`, or a file.
pub(super) enum Answer {
    Json(Value),
    File(Vec<u8>),
}

pub struct Kraken {
    http: reqwest::Client,
    base: String,
    key: String,
    secret: String,
    /// Identifies the key for its nonce sequence (never the secret).
    key_id: String,
    nonces: Nonces,
    budget: Mutex<Budget>,
    unbudgeted: bool,
}

/// One entry of `Ledgers`.
#[derive(Debug, Clone)]
pub struct LedgerEntry {
    pub id: String,
    pub refid: String,
    pub time: Decimal,
    pub kind: String,
    pub subtype: String,
    pub aclass: String,
    pub asset: String,
    pub amount: String,
    pub fee: String,
    pub balance: String,
}

impl Kraken {
    pub fn new(base: &str, key: &str, secret: &str, nonces: Nonces) -> Result<Kraken, KrakenError> {
        let base =
            crate::outbound::http_base(base, "the Kraken API URL").map_err(KrakenError::Refused)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("ledgersys/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| KrakenError::Unreachable(e.to_string()))?;
        Ok(Kraken {
            http,
            base,
            key: key.trim().to_string(),
            secret: secret.trim().to_string(),
            key_id: crate::crypto::last4(key.trim()),
            nonces,
            budget: Mutex::new(KRAKEN_STARTER),
            unbudgeted: false,
        })
    }

    /// Without the client-side rate budget: for a test server or a local
    /// proxy that has no rate limit (`exchanges.rate_budget = "off"`).
    pub fn unbudgeted(mut self, off: bool) -> Kraken {
        self.unbudgeted = off;
        self
    }

    /// Whether the client-side budget is off (a test server or a proxy).
    pub(super) fn is_unbudgeted(&self) -> bool {
        self.unbudgeted
    }

    /// One private call; `cost` is what it adds to Kraken's counter.
    pub(super) async fn call(
        &self,
        method: &str,
        params: &[(&str, String)],
        cost: u64,
    ) -> Result<Value, KrakenError> {
        match self.request(method, params, cost).await? {
            Answer::Json(result) => Ok(result),
            Answer::File(_) => Err(KrakenError::Malformed(format!(
                "{method}: a file, not JSON"
            ))),
        }
    }

    /// One private call whose answer may be a file (`RetrieveExport`
    /// answers a zip, or JSON with an error).
    pub(super) async fn request(
        &self,
        method: &str,
        params: &[(&str, String)],
        cost: u64,
    ) -> Result<Answer, KrakenError> {
        let path = format!("/0/private/{method}");
        for attempt in 0..4 {
            self.wait_for_budget(cost).await;
            let mut turn = self.nonces.turn(&self.key_id).await;
            // Microseconds: with milliseconds, a fast run of pages (no rate
            // budget) ran ahead of the clock and the next process's first
            // nonce fell below the last one Kraken saw.
            let nonce = turn.next(crate::clock::now_us());
            let body = {
                let mut form = form_urlencoded::Serializer::new(String::new());
                form.append_pair("nonce", &nonce.to_string());
                for (k, v) in params {
                    form.append_pair(k, v);
                }
                form.finish()
            };
            let prepared = prepare(&kraken::ALLOW, "POST", &path, || {
                kraken::sign(&path, nonce, &body, &self.secret)
            })
            .map_err(|e| KrakenError::Refused(e.to_string()))?
            .map_err(|e| KrakenError::Key(e.to_string()))?;
            let answer = self
                .http
                .post(format!("{}{}", self.base, prepared.path))
                .header("API-Key", &self.key)
                .header("API-Sign", &prepared.signed)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await;
            drop(turn);
            let answer = match answer {
                Ok(answer) => answer,
                // A dropped connection or a timeout: the nonce is spent
                // either way, so the retry signs afresh.
                Err(e) if attempt < 3 && (e.is_connect() || e.is_timeout() || e.is_request()) => {
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                Err(e) => return Err(KrakenError::Unreachable(e.without_url().to_string())),
            };
            let status = answer.status();
            if status.is_server_error() && attempt < 3 {
                tokio::time::sleep(backoff(attempt)).await;
                continue;
            }
            let bytes = answer
                .bytes()
                .await
                .map_err(|e| KrakenError::Unreachable(e.without_url().to_string()))?;
            if bytes.starts_with(b"PK\x03\x04") {
                return Ok(Answer::File(bytes.to_vec()));
            }
            let value: Value = serde_json::from_slice(&bytes)
                .map_err(|_| KrakenError::Malformed(format!("HTTP {status}, not JSON")))?;
            let errors: Vec<String> = value["error"]
                .as_array()
                .map(|e| {
                    e.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            if errors.is_empty() {
                return Ok(Answer::Json(value["result"].clone()));
            }
            let rate_limited = errors
                .iter()
                .any(|e| e.contains("Rate limit") || e.contains("Throttled"));
            if rate_limited && attempt < 3 {
                if let Ok(mut budget) = self.budget.lock() {
                    budget.exhausted(now_ms());
                }
                if self.unbudgeted {
                    tokio::time::sleep(backoff(attempt)).await;
                }
                continue;
            }
            return Err(plain_words(&errors));
        }
        Err(KrakenError::Key(
            "Kraken kept refusing for its rate limit; try again in 15 minutes".into(),
        ))
    }

    async fn wait_for_budget(&self, cost: u64) {
        if self.unbudgeted {
            return;
        }
        loop {
            let wait = match self.budget.lock() {
                Ok(mut budget) => budget.spend(cost, now_ms()).err(),
                Err(_) => None,
            };
            match wait {
                None => return,
                Some(ms) => tokio::time::sleep(Duration::from_millis(ms.min(60_000))).await,
            }
        }
    }

    pub async fn key_info(&self) -> Result<KeyInfo, KrakenError> {
        let result = self.call("GetApiKeyInfo", &[], 1).await?;
        serde_json::from_value(result)
            .map_err(|e| KrakenError::Malformed(format!("GetApiKeyInfo: {e}")))
    }

    /// The BTC balance over every Kraken wallet of it (`XXBT`, `XBT.M`, ...),
    /// in satoshis.
    pub async fn btc_balance(&self) -> Result<i64, KrakenError> {
        let result = self.call("Balance", &[], 1).await?;
        let Some(assets) = result.as_object() else {
            return Err(KrakenError::Malformed("Balance is not an object".into()));
        };
        let mut total = Decimal::ZERO;
        for (asset, amount) in assets {
            let code = asset.split('.').next().unwrap_or(asset);
            if matches!(code, "XXBT" | "XBT") {
                let text = amount.as_str().unwrap_or("");
                total += text
                    .parse::<Decimal>()
                    .map_err(|_| KrakenError::Malformed(format!("balance {text:?}")))?;
            }
        }
        sats(total)
    }

    /// The next batch of the history. The cursor (JSON) is either caught
    /// up, `{"since": T}` (the newest entry time read), or part way through
    /// a sync, `{"since": T, "below": B, "top": N, "read": R, "total": C}`:
    /// Kraken pages newest first, so a sync walks down from the newest
    /// entry to `since`, and `below` is the time the committed part reaches
    /// down to. `end` is inclusive, so the entries at `below` itself come
    /// again and are dropped by id (the import keeps the first copy).
    pub async fn next_batch(&self, cursor: &Value, account: &str) -> Result<Batch, ExchangeError> {
        if let Some(batch) = self.export_step(cursor, account).await? {
            return Ok(batch);
        }
        let since = decimal_field(cursor, "since").unwrap_or_default();
        let mut below = decimal_field(cursor, "below");
        let mut top = decimal_field(cursor, "top");
        let mut read = cursor["read"].as_u64().unwrap_or(0) as usize;
        let mut total = cursor["total"].as_u64().map(|t| t as usize);
        let mut taken: Vec<LedgerEntry> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut exhausted = false;
        let mut ofs = 0usize;
        while taken.len() < BATCH {
            let mut params = vec![("ofs", ofs.to_string())];
            if since > Decimal::ZERO {
                // A second before, so an entry stamped in the same second
                // as the last one read is not missed; the import drops
                // the ones already stored.
                params.push(("start", (since.trunc() - Decimal::ONE).to_string()));
            }
            if let Some(below) = below {
                params.push(("end", below.to_string()));
            }
            let result = self.call("Ledgers", &params, 2).await?;
            let count = result["count"].as_u64().map_or(0, |c| c as usize);
            let page = parse_ledger(&result["ledger"])?;
            if below.is_none() {
                // The first page of a sync fixes its top: entries that
                // arrive while paging cannot shift the pages.
                below = page.iter().map(|e| e.time).max();
                top = below;
                total = Some(count);
            }
            ofs += page.len();
            let short = page.len() < PAGE;
            for entry in page {
                if seen.insert(entry.id.clone()) {
                    taken.push(entry);
                }
            }
            if short || ofs >= count {
                exhausted = true;
                break;
            }
        }
        taken.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
        let oldest = taken.first().map(|e| e.time);
        let next = if exhausted {
            json!({"since": top.unwrap_or(since).max(since).to_string()})
        } else {
            // Legs of one trade share their time: hold back the oldest
            // time's entries for the next batch, unless the whole batch has
            // that one time (then it cannot split legs anyway).
            let oldest = oldest.unwrap_or_default();
            let newest = taken.last().map(|e| e.time).unwrap_or_default();
            let next_below = if newest > oldest {
                taken.retain(|e| e.time > oldest);
                oldest
            } else {
                oldest - Decimal::new(1, 4)
            };
            json!({
                "since": since.to_string(),
                "below": next_below.to_string(),
                "top": top.unwrap_or(since).to_string(),
                "read": read + taken.len(),
                "total": total,
            })
        };
        read += taken.len();
        let rows = if taken.is_empty() {
            Vec::new()
        } else {
            rows_from_export("kraken-ledgers", &as_ledgers_csv(&taken), account)?
        };
        Ok(Batch {
            rows,
            cursor: next,
            done: exhausted,
            read,
            total,
        })
    }
}

/// Entries read before a batch is committed: big enough that commits do not
/// dominate a long first sync, small enough that a kill loses little.
const BATCH: usize = 2000;

fn decimal_field(cursor: &Value, field: &str) -> Option<Decimal> {
    match &cursor[field] {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

fn parse_ledger(ledger: &Value) -> Result<Vec<LedgerEntry>, KrakenError> {
    let Some(map) = ledger.as_object() else {
        return Err(KrakenError::Malformed(
            "Ledgers has no ledger object".into(),
        ));
    };
    let text = |v: &Value, field: &str| -> Result<String, KrakenError> {
        match &v[field] {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Null => Ok(String::new()),
            _ => Err(KrakenError::Malformed(format!("ledger field {field}"))),
        }
    };
    map.iter()
        .map(|(id, v)| {
            let time = text(v, "time")?
                .parse::<Decimal>()
                .map_err(|_| KrakenError::Malformed(format!("ledger {id}: time")))?;
            Ok(LedgerEntry {
                id: id.clone(),
                refid: text(v, "refid")?,
                time,
                kind: text(v, "type")?,
                subtype: text(v, "subtype")?,
                aclass: text(v, "aclass")?,
                asset: text(v, "asset")?,
                amount: text(v, "amount")?,
                fee: text(v, "fee")?,
                balance: text(v, "balance")?,
            })
        })
        .collect()
}

fn sats(btc: Decimal) -> Result<i64, KrakenError> {
    let sats = (btc * Decimal::from(100_000_000)).round();
    i64::try_from(sats).map_err(|_| KrakenError::Malformed(format!("balance {btc}")))
}

/// Half a second, doubling with each attempt.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500 << attempt.min(4))
}

fn now_ms() -> u64 {
    crate::clock::now_ms()
}

/// Kraken's error codes as a user can act on them. Kraken's own text is
/// not echoed beyond its code, so nothing of the request comes back.
fn plain_words(errors: &[String]) -> KrakenError {
    let first = errors.first().map(String::as_str).unwrap_or("");
    let code = first.split(':').take(2).collect::<Vec<_>>().join(":");
    let words = match code.as_str() {
        "EAPI:Invalid key" => "Kraken does not know this API key: copy the key again (a new key can take a minute to work)".to_string(),
        "EAPI:Invalid signature" => "Kraken refused the signature: the private key does not belong to this API key; copy it again".to_string(),
        "EAPI:Invalid nonce" => "Kraken refused the nonce: another program uses this key; make a key for Ledgersys alone".to_string(),
        "EGeneral:Permission denied" => {
            return KrakenError::Permission(
                "the key lacks a permission Ledgersys needs (Query Funds and Query Ledger Entries)".into(),
            );
        }
        "EGeneral:Invalid arguments" => "Kraken did not accept the request's arguments".to_string(),
        "EAPI:Bad request" => "Kraken answered \"bad request\"".to_string(),
        _ if first.contains("IP") => "Kraken refused this server's IP address: add it to the key's IP allow-list".to_string(),
        _ => format!("Kraken refused: {code}"),
    };
    KrakenError::Key(words)
}

/// `ledgers.csv` as Kraken's own export writes it, from API entries, so the
/// file importer turns both into the same rows.
pub fn as_ledgers_csv(entries: &[LedgerEntry]) -> String {
    let mut out = String::from(
        "\"txid\",\"refid\",\"time\",\"type\",\"subtype\",\"aclass\",\"asset\",\"wallet\",\"amount\",\"fee\",\"balance\"\n",
    );
    for e in entries {
        let secs = e.time.trunc();
        let time = i64::try_from(secs)
            .ok()
            .and_then(|s| jiff::Timestamp::from_second(s).ok())
            .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let cells = [
            &e.id,
            &e.refid,
            &time,
            &e.kind,
            &e.subtype,
            &e.aclass,
            &e.asset,
            &"spot / main".to_string(),
            &e.amount,
            &e.fee,
            &e.balance,
        ];
        let line: Vec<String> = cells
            .iter()
            .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
            .collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

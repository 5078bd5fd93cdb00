//! What every exchange adapter gives the shared sync: a judgement of its
//! key, the history in batches that each carry the cursor that follows
//! them, and the BTC balance the exchange reports. The sync loop
//! (`service`) commits each batch with its cursor in one transaction, so
//! an adapter never writes anything itself.
//!
//! Adding an exchange: a module with its allow-list, signer and judgement
//! (like `kraken.rs`), a client module making the calls through
//! `client::prepare` (like `kraken_api.rs`), and a variant here.

use serde_json::Value;

use crate::ledger::Tx;

use super::Verdict;
use super::binance_api::Binance;
use super::coinbase_api::Coinbase;
use super::kraken_api::{Kraken, KrakenError};
use super::nonce::Nonces;

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The user's to fix: the key, its permissions, a name, an address.
    #[error("{0}")]
    Refused(String),
    /// The exchange or the network failed; trying again may work.
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<KrakenError> for ExchangeError {
    fn from(e: KrakenError) -> Self {
        match e {
            KrakenError::Key(_) | KrakenError::Refused(_) | KrakenError::Permission(_) => {
                ExchangeError::Refused(e.to_string())
            }
            KrakenError::Unreachable(_) | KrakenError::Malformed(_) => {
                ExchangeError::Failed(e.to_string())
            }
        }
    }
}

/// The key as the exchange described it, and what Ledgersys makes of it.
#[derive(Debug, Clone)]
pub struct KeyCheck {
    /// The rights the exchange lists for the key, in its own words.
    pub permissions: Vec<String>,
    pub verdict: Verdict,
}

/// Rows to commit together, and the cursor to store with them.
#[derive(Debug, Default)]
pub struct Batch {
    /// Ledger rows, each with the id the exchange's own export file gives
    /// the same entry where it has one, so file and API rows coincide.
    /// A batch never splits the legs of one trade.
    pub rows: Vec<Tx>,
    /// The adapter's position after these rows, stored as JSON.
    pub cursor: Value,
    /// The history as it stood when this sync began has been read whole.
    pub done: bool,
    /// Entries read so far in this sync, and how many there are when the
    /// exchange says (for progress).
    pub read: usize,
    pub total: Option<usize>,
}

/// One exchange's client. Boxed: the clients differ in size by hundreds of
/// bytes, and one lives per sync.
pub enum Client {
    Kraken(Box<Kraken>),
    Coinbase(Box<Coinbase>),
    Binance(Box<Binance>),
}

/// The connection's credentials as they come out of the secret box.
pub struct Credentials<'a> {
    pub api_url: &'a str,
    pub key: &'a str,
    pub secret: &'a str,
}

/// The exchanges whose adapters exist, with their default base URL.
pub const SUPPORTED: &[(&str, &str)] = &[
    ("kraken", super::kraken_api::BASE),
    ("coinbase", super::coinbase_api::BASE),
    ("binance", super::binance_api::BASE),
];

pub fn default_url(exchange: &str) -> Option<&'static str> {
    SUPPORTED
        .iter()
        .find(|(name, _)| *name == exchange)
        .map(|(_, url)| *url)
}

impl Client {
    pub fn new(
        exchange: &str,
        credentials: &Credentials<'_>,
        nonces: &Nonces,
        unbudgeted: bool,
    ) -> Result<Client, ExchangeError> {
        let Credentials {
            api_url,
            key,
            secret,
        } = credentials;
        match exchange {
            "kraken" => Ok(Client::Kraken(Box::new(
                Kraken::new(api_url, key, secret, nonces.clone())?.unbudgeted(unbudgeted),
            ))),
            "coinbase" => Ok(Client::Coinbase(Box::new(
                Coinbase::new(api_url, key, secret)?.unbudgeted(unbudgeted),
            ))),
            "binance" => Ok(Client::Binance(Box::new(
                Binance::new(api_url, key, secret)?.unbudgeted(unbudgeted),
            ))),
            other => Err(ExchangeError::Refused(format!(
                "{other} accounts cannot be read over the API yet"
            ))),
        }
    }

    pub async fn check_key(&self) -> Result<KeyCheck, ExchangeError> {
        match self {
            Client::Kraken(k) => {
                let info = k.key_info().await?;
                let verdict = super::kraken::judge(&info, crate::clock::now());
                Ok(KeyCheck {
                    permissions: info.permissions,
                    verdict,
                })
            }
            Client::Coinbase(c) => {
                let key = c.key_permissions().await?;
                let mut verdict = super::coinbase::judge(&key);
                if verdict.warnings.is_empty() {
                    verdict.warnings.push(
                        "a Coinbase API key reads one portfolio only (this one the default); other portfolios need their own keys"
                            .into(),
                    );
                }
                let permissions = [
                    ("can_view", key.can_view),
                    ("can_trade", key.can_trade),
                    ("can_transfer", key.can_transfer),
                ]
                .into_iter()
                .filter(|(_, on)| *on)
                .map(|(name, _)| name.to_string())
                .collect();
                Ok(KeyCheck {
                    permissions,
                    verdict,
                })
            }
            Client::Binance(b) => {
                let restrictions = b.restrictions().await?;
                let mut verdict = super::binance::judge(&restrictions);
                verdict
                    .warnings
                    .extend(super::binance::LIMITS.iter().map(|w| w.to_string()));
                let mut permissions: Vec<String> = restrictions
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(name, on)| {
                        (name.starts_with("enable") || name.starts_with("permits"))
                            && **on == Value::Bool(true)
                    })
                    .map(|(name, _)| name.clone())
                    .collect();
                permissions.sort();
                Ok(KeyCheck {
                    permissions,
                    verdict,
                })
            }
        }
    }

    /// The next batch after `cursor` (`null`: the first sync), into the
    /// ledger account `account`.
    pub async fn next_batch(&self, cursor: &Value, account: &str) -> Result<Batch, ExchangeError> {
        match self {
            Client::Kraken(k) => k.next_batch(cursor, account).await,
            Client::Coinbase(c) => c.next_batch(cursor, account).await,
            Client::Binance(b) => super::binance_walk::next_batch(b, cursor, account).await,
        }
    }

    /// The BTC balance the exchange reports over all its wallets, in
    /// satoshis; `None` where it cannot say.
    pub async fn btc_balance(&self) -> Result<Option<i64>, ExchangeError> {
        match self {
            Client::Kraken(k) => Ok(Some(k.btc_balance().await?)),
            Client::Coinbase(c) => Ok(Some(c.btc_balance().await?)),
            Client::Binance(b) => Ok(Some(b.btc_balance().await?)),
        }
    }
}

/// Rows read from text in the exchange's own export `format`, which is how
/// an adapter whose export carries ids makes API rows equal to file rows;
/// the same checks as any imported file apply.
pub fn rows_from_export(format: &str, csv: &str, account: &str) -> Result<Vec<Tx>, ExchangeError> {
    match crate::sources::read::read(csv.as_bytes(), format, "UTC", Some(account)) {
        Ok(converted) => Ok(converted.rows.into_iter().map(|(_, tx)| tx).collect()),
        Err(e) => Err(ExchangeError::Failed(format!(
            "the exchange's entries do not read as its {format} export: {}",
            describe(&e)
        ))),
    }
}

/// Rows an adapter built itself pass the checks every imported row does
/// (times, lengths, no private material) before they are stored.
pub fn checked(rows: Vec<Tx>) -> Result<Vec<Tx>, ExchangeError> {
    crate::sources::read::check_rows(&rows)
        .map(|()| rows)
        .map_err(|e| {
            ExchangeError::Failed(format!("the exchange sent an entry Ledgersys refuses: {e}"))
        })
}

fn describe(e: &crate::sources::read::ImportError) -> String {
    match e {
        crate::sources::read::ImportError::Refused(errors) => errors
            .iter()
            .take(3)
            .map(|l| format!("entry {}: {}", l.line.saturating_sub(1), l.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

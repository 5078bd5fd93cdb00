//! Filling the price table's gaps from the user's sources, in order: the
//! one part of `prices` that talks to the network. Each window is stored as
//! soon as it arrives (a partial run keeps what it got; the rest stays a gap
//! and is asked for next time), and every window's outcome is reported.

use std::time::Duration;

use jiff::civil::Date;
use serde::Serialize;

use super::settings::{COINGECKO_KEY_SECRET, PriceSettings};
use super::sources::{
    DAY, Request, Source, Window, base, bitstamp, coinbase, coingecko, kraken, mempool,
};
use super::{Resolution, day_start, utc_day};
use crate::crypto::SecretBox;
use crate::store::{Store, StoreError};

/// What happened to one range of days at one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RangeReport {
    pub source: String,
    pub currency: String,
    pub from: String,
    pub to: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Every day of the range now has a price.
    Complete { stored: u64 },
    /// Some days came back; the rest stay gaps.
    Partial { stored: u64, missing_days: i64 },
    /// The request or its answer failed; nothing of it was stored.
    Failed { reason: String },
    /// The source cannot serve this range at all.
    Unservable { reason: String },
    /// No source had these days: they stay "missing price".
    Missing,
}

impl std::fmt::Display for RangeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match &self.outcome {
            Outcome::Complete { stored } => format!("complete, {stored} prices stored"),
            Outcome::Partial {
                stored,
                missing_days,
            } => format!("partial, {stored} prices stored, {missing_days} days still missing"),
            Outcome::Failed { reason } => format!("failed: {reason}"),
            Outcome::Unservable { reason } => format!("not available: {reason}"),
            Outcome::Missing => "no source has these days".into(),
        };
        write!(
            f,
            "{} {} {}..{}: {what}",
            self.source, self.currency, self.from, self.to
        )
    }
}

impl RangeReport {
    /// Days no source could fill: a later valuation of them is a missing
    /// price. (A failed range another source filled is not one.)
    pub fn leaves_gap(&self) -> bool {
        self.outcome == Outcome::Missing
    }
}

/// How far along a run is: requests finished of those planned so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub done: u64,
    pub planned: u64,
    pub current: String,
}

/// HTTP GETs with the rate-limit rule every source shares: a 429 with
/// `Retry-After` is waited out and retried, up to a limit.
pub struct Fetcher {
    client: reqwest::Client,
    pub max_wait: Duration,
    pub attempts: u32,
}

impl Fetcher {
    pub fn new() -> Result<Fetcher, String> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("ledgersys/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
        Ok(Fetcher {
            client,
            max_wait: Duration::from_secs(120),
            attempts: 4,
        })
    }

    pub async fn get(&self, r: &Request) -> Result<Vec<u8>, String> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self.client.get(&r.url);
            for (name, value) in &r.headers {
                req = req.header(*name, value);
            }
            let resp = req
                .send()
                .await
                .map_err(|e| format!("cannot reach the source: {}", e.without_url()))?;
            let status = resp.status();
            if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                let wait = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after(v, crate::clock::now()))
                    .unwrap_or(1);
                let wait = Duration::from_secs(wait);
                if attempt >= self.attempts || wait > self.max_wait {
                    return Err(format!(
                        "rate limited (HTTP 429, retry after {} s); try again later",
                        wait.as_secs()
                    ));
                }
                tokio::time::sleep(wait).await;
                continue;
            }
            if !status.is_success() {
                return Err(format!("the source answered HTTP {}", status.as_u16()));
            }
            return resp
                .bytes()
                .await
                .map(|b| b.to_vec())
                .map_err(|e| format!("the answer was cut off: {}", e.without_url()));
        }
    }
}

/// Seconds to wait from a `Retry-After` value: delay seconds, or an HTTP
/// date (then relative to `now`, never negative).
pub fn retry_after(value: &str, now: i64) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds);
    }
    let at = jiff::fmt::rfc2822::parse(value)
        .ok()?
        .timestamp()
        .as_second();
    Some(u64::try_from(at - now).unwrap_or(0))
}

/// The sources the settings enable, in the user's order; `only` picks one.
/// Returns the sources and why any enabled one was left out.
pub fn build(
    settings: &PriceSettings,
    coingecko_key: Option<String>,
    only: Option<&str>,
) -> (Vec<Box<dyn Source>>, Vec<String>) {
    let mut sources: Vec<Box<dyn Source>> = Vec::new();
    let mut notes = Vec::new();
    for s in &settings.sources {
        if only.is_some_and(|o| o != s.name) || (only.is_none() && !s.enabled) {
            continue;
        }
        let url = s.base_url.as_deref();
        match s.name.as_str() {
            "coinbase" | "coinbase_hourly" => sources.push(Box::new(coinbase::Coinbase {
                base: base(url, coinbase::PUBLIC),
                hourly: s.name == "coinbase_hourly",
            })),
            "bitstamp" => sources.push(Box::new(bitstamp::Bitstamp {
                base: base(url, bitstamp::PUBLIC),
            })),
            "kraken" => sources.push(Box::new(kraken::Kraken {
                base: base(url, kraken::PUBLIC),
            })),
            "mempool" => match url {
                Some(url) => sources.push(Box::new(mempool::Mempool {
                    base: base(Some(url), ""),
                })),
                None => notes.push("mempool: no instance address is set; skipped".into()),
            },
            "coingecko" => match &coingecko_key {
                Some(key) => {
                    let public = if settings.coingecko_pro {
                        coingecko::PRO
                    } else {
                        coingecko::PUBLIC
                    };
                    sources.push(Box::new(coingecko::CoinGecko {
                        base: base(url, public),
                        key: key.clone(),
                        pro: settings.coingecko_pro,
                    }))
                }
                None => notes.push("coingecko: no API key is stored; skipped".into()),
            },
            _ => {}
        }
    }
    (sources, notes)
}

/// The CoinGecko key, opened from its sealed secret.
pub async fn coingecko_key(store: &Store, secrets: &SecretBox) -> Result<Option<String>, String> {
    let Some(sealed) = store
        .secret(COINGECKO_KEY_SECRET)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    secrets
        .open(COINGECKO_KEY_SECRET, &sealed.sealed)
        .map(|s| Some(s.expose().to_string()))
        .map_err(|e| e.to_string())
}

/// The days in `[from, to]` without a daily price (or, for `Hour`, without
/// any hourly price), as ranges.
async fn gaps(
    store: &Store,
    resolution: Resolution,
    currency: &str,
    from: i64,
    to: i64,
) -> Result<Vec<Window>, StoreError> {
    if from > to {
        return Ok(Vec::new());
    }
    let present = match resolution {
        Resolution::Day => store.price_days(currency, from, to).await?,
        Resolution::Hour => store.price_hour_days(currency, from, to).await?,
    };
    let mut out = Vec::new();
    let mut next = from;
    for at in present.into_iter().chain(std::iter::once(to + DAY)) {
        if at > next {
            out.push(Window {
                from: next,
                to: at - DAY,
            });
        }
        next = at + DAY;
    }
    Ok(out)
}

fn report(source: &str, currency: &str, w: &Window, outcome: Outcome) -> RangeReport {
    RangeReport {
        source: source.to_string(),
        currency: currency.to_string(),
        from: utc_day(w.from).to_string(),
        to: utc_day(w.to).to_string(),
        outcome,
    }
}

/// Fills the gaps of each currency from `from` to yesterday (today's close
/// is not known yet), trying the sources in order.
#[allow(clippy::too_many_arguments)]
pub async fn fill_gaps(
    store: &Store,
    fetcher: &Fetcher,
    sources: &[Box<dyn Source>],
    currencies: &[String],
    from: Date,
    today: Date,
    now: i64,
    progress: &(dyn Fn(&Progress) + Send + Sync),
) -> Result<Vec<RangeReport>, StoreError> {
    let today = day_start(today);
    let first = day_start(from);
    let mut reports = Vec::new();
    let mut state = Progress::default();
    for (currency, resolution) in currencies
        .iter()
        .flat_map(|c| [(c, Resolution::Day), (c, Resolution::Hour)])
    {
        let mine: Vec<&dyn Source> = sources
            .iter()
            .map(|s| s.as_ref())
            .filter(|s| s.supports(currency) && s.resolution() == resolution)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let mut open = gaps(store, resolution, currency, first, today - DAY).await?;
        for source in mine {
            if open.is_empty() {
                break;
            }
            let windows = source.windows(&open, today);
            state.planned += windows.iter().filter(|w| w.is_ok()).count() as u64;
            for w in windows {
                let w = match w {
                    Err(u) => {
                        let outcome = Outcome::Unservable { reason: u.reason };
                        reports.push(report(source.name(), currency, &u.window, outcome));
                        continue;
                    }
                    Ok(w) => w,
                };
                state.current = format!("{} {currency}", source.name());
                progress(&state);
                let outcome =
                    fetch_window(store, fetcher, source, currency, &w, today, now).await?;
                state.done += 1;
                progress(&state);
                reports.push(report(source.name(), currency, &w, outcome));
            }
            open = gaps(store, resolution, currency, first, today - DAY).await?;
        }
        // Hourly prices refine valuations; days without them are not gaps
        // a valuation falls into.
        if resolution == Resolution::Day {
            for w in &open {
                reports.push(report("none", currency, w, Outcome::Missing));
            }
        }
    }
    Ok(reports)
}

async fn fetch_window(
    store: &Store,
    fetcher: &Fetcher,
    source: &dyn Source,
    currency: &str,
    w: &Window,
    today: i64,
    now: i64,
) -> Result<Outcome, StoreError> {
    let request = source.request(currency, w);
    let body = match fetcher.get(&request).await {
        Ok(body) => body,
        Err(reason) => return Ok(Outcome::Failed { reason }),
    };
    let points = match source.parse(currency, &body) {
        Ok(points) => points,
        Err(reason) => {
            return Ok(Outcome::Failed {
                reason: format!("malformed answer: {reason}"),
            });
        }
    };
    // Only what was asked for, and never a day whose close is not known yet.
    let wanted: Vec<_> = points
        .into_iter()
        .filter(|p| match p.resolution {
            Resolution::Day => p.at >= w.from && p.at <= w.to && p.at < today,
            Resolution::Hour => p.at > w.from && p.at <= w.to + DAY && p.at <= today,
        })
        .collect();
    let stored = store
        .put_prices(&wanted, source.name(), false, now, None)
        .await?;
    let missing: i64 = gaps(store, source.resolution(), currency, w.from, w.to)
        .await?
        .iter()
        .map(Window::days)
        .sum();
    Ok(if missing == 0 {
        Outcome::Complete { stored }
    } else {
        Outcome::Partial {
            stored,
            missing_days: missing,
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        assert_eq!(super::retry_after("120", 0), Some(120));
        let now = 1_445_412_480; // 2015-10-21T07:28:00Z
        assert_eq!(
            super::retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(30)
        );
        assert_eq!(
            super::retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(0)
        );
        assert_eq!(super::retry_after("soon", now), None);
    }
}

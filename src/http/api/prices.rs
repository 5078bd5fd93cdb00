//! The price table's settings, the CoinGecko key and "fill gaps" runs.
//! Prices are instance-wide public facts, so these are instance routes.

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::policy::Access;
use super::{Done, Tag};
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::http::error::{ApiError, body};
use crate::prices::service::{Job, ServiceError};
use crate::prices::settings::{self, PriceSettings, SourceSetting};
use crate::prices::sync::Outcome;
use crate::store::AuditEntry;

#[derive(Debug, Object)]
pub struct PriceSource {
    /// mempool, coinbase, bitstamp, kraken or coingecko.
    pub name: String,
    pub enabled: bool,
    /// Where it answers; the public address when empty. A mempool instance
    /// needs one.
    pub base_url: Option<String>,
}

#[derive(Debug, Object)]
pub struct PriceSettingsBody {
    /// `day_close` (the close of the day in `timezone`) or `nearest_hour`.
    pub rule: String,
    /// An IANA time zone such as `Europe/Berlin`.
    pub timezone: String,
    /// In the order they are asked.
    pub sources: Vec<PriceSource>,
    /// The CoinGecko key is for the paid API.
    pub coingecko_pro: bool,
    /// The currency the review queue checks for missing prices [default: USD].
    pub currency: Option<String>,
}

#[derive(Debug, Object)]
pub struct Coverage {
    pub currency: String,
    pub resolution: String,
    pub count: i64,
    pub first: String,
    pub last: String,
    pub sources: String,
}

#[derive(Debug, Object)]
pub struct PricesView {
    pub settings: PriceSettingsBody,
    /// The stored CoinGecko key's last four characters; never the key.
    pub coingecko_key_last4: Option<String>,
    pub coverage: Vec<Coverage>,
}

#[derive(Debug, Object)]
pub struct CoinGeckoKey {
    pub key: String,
}

#[derive(Debug, Object)]
pub struct FillRequest {
    /// Currency codes; an empty list means USD, EUR, GBP, CAD, AUD, CHF, JPY.
    pub currencies: Vec<String>,
    /// The first day to fill, YYYY-MM-DD (the earliest is 2010-07-18).
    pub from: String,
}

#[derive(Debug, Object)]
pub struct RangeView {
    pub source: String,
    pub currency: String,
    pub from: String,
    pub to: String,
    /// complete, partial, failed, unservable or missing.
    pub outcome: String,
    pub stored: Option<u64>,
    pub missing_days: Option<i64>,
    pub reason: Option<String>,
}

#[derive(Debug, Object)]
pub struct FillStatus {
    pub running: bool,
    /// Requests finished.
    pub done: u64,
    /// Requests planned so far (grows as sources are tried).
    pub planned: u64,
    pub current: String,
    pub ranges: Vec<RangeView>,
    pub notes: Vec<String>,
    pub error: Option<String>,
}

#[derive(ApiResponse)]
pub enum Started {
    /// The run started; poll `GET /instance/prices/fill`.
    #[oai(status = 202)]
    Accepted(Json<FillStatus>),
}

pub fn status(job: &Job) -> FillStatus {
    FillStatus {
        running: job.running,
        done: job.progress.done,
        planned: job.progress.planned,
        current: job.progress.current.clone(),
        ranges: job
            .reports
            .iter()
            .map(|r| {
                let (outcome, stored, missing_days, reason) = match &r.outcome {
                    Outcome::Complete { stored } => ("complete", Some(*stored), None, None),
                    Outcome::Partial {
                        stored,
                        missing_days,
                    } => ("partial", Some(*stored), Some(*missing_days), None),
                    Outcome::Failed { reason } => ("failed", None, None, Some(reason.clone())),
                    Outcome::Unservable { reason } => {
                        ("unservable", None, None, Some(reason.clone()))
                    }
                    Outcome::Missing => ("missing", None, None, None),
                };
                RangeView {
                    source: r.source.clone(),
                    currency: r.currency.clone(),
                    from: r.from.clone(),
                    to: r.to.clone(),
                    outcome: outcome.into(),
                    stored,
                    missing_days,
                    reason,
                }
            })
            .collect(),
        notes: job.notes.clone(),
        error: job.error.clone(),
    }
}

fn to_settings(b: PriceSettingsBody) -> Result<PriceSettings, ApiError> {
    let invalid = |m: String| ApiError::Unprocessable(body("invalid", m));
    let settings = PriceSettings {
        rule: b.rule.parse().map_err(invalid)?,
        timezone: b.timezone.trim().to_string(),
        sources: b
            .sources
            .into_iter()
            .map(|s| SourceSetting {
                name: s.name.trim().to_string(),
                enabled: s.enabled,
                base_url: s
                    .base_url
                    .map(|u| u.trim().to_string())
                    .filter(|u| !u.is_empty()),
            })
            .collect(),
        coingecko_pro: b.coingecko_pro,
        currency: crate::prices::currency_code(b.currency.as_deref().unwrap_or("USD"))
            .map_err(invalid)?,
    };
    settings.validate().map_err(invalid)?;
    Ok(settings)
}

fn from_settings(s: PriceSettings) -> PriceSettingsBody {
    PriceSettingsBody {
        rule: match s.rule {
            crate::prices::valuation::Method::DayClose => "day_close".into(),
            crate::prices::valuation::Method::NearestHour => "nearest_hour".into(),
        },
        timezone: s.timezone,
        sources: s
            .sources
            .into_iter()
            .map(|s| PriceSource {
                name: s.name,
                enabled: s.enabled,
                base_url: s.base_url,
            })
            .collect(),
        coingecko_pro: s.coingecko_pro,
        currency: Some(s.currency),
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Running => ApiError::Conflict(body("running", err.to_string())),
            ServiceError::Invalid(m) => ApiError::Unprocessable(body("invalid", m)),
            ServiceError::Store(e) => e.into(),
            ServiceError::Secret(e) => ApiError::internal(e),
        }
    }
}

fn audit(access: &Access, req: &Request, action: &'static str) -> Result<AuditEntry, ApiError> {
    let caller = access.caller()?;
    Ok(AuditEntry::new(
        crate::clock::now(),
        Some(caller.user_id),
        &caller.username,
        action,
    )
    .from_addr(client_of(req).addr))
}

/// Parses a fill request into currencies and a first day.
pub fn fill_scope(
    currencies: &[String],
    from: &str,
) -> Result<(Vec<String>, jiff::civil::Date), String> {
    let currencies = if currencies.is_empty() {
        crate::prices::CURRENCIES
            .iter()
            .map(|c| c.to_string())
            .collect()
    } else {
        currencies
            .iter()
            .map(|c| crate::prices::currency_code(c))
            .collect::<Result<Vec<_>, _>>()?
    };
    let from = from
        .trim()
        .parse()
        .map_err(|_| format!("from {from:?} is not YYYY-MM-DD"))?;
    Ok((currencies, from))
}

pub struct PricesApi;

#[OpenApi(tag = "Tag::Instance")]
impl PricesApi {
    /// The price settings, the table's coverage and the key's last four.
    #[oai(path = "/instance/prices", method = "get", operation_id = "get_prices")]
    async fn get(&self, state: Data<&AppState>) -> Result<Json<PricesView>, ApiError> {
        let settings = settings::load(&state.store).await?;
        let coverage = state
            .store
            .price_coverage()
            .await?
            .into_iter()
            .map(|c| Coverage {
                currency: c.currency,
                resolution: c.resolution,
                count: c.count,
                first: crate::prices::utc_day(c.first).to_string(),
                last: crate::prices::utc_day(c.last).to_string(),
                sources: c.sources,
            })
            .collect();
        Ok(Json(PricesView {
            settings: from_settings(settings),
            coingecko_key_last4: state.prices.coingecko_last4().await?,
            coverage,
        }))
    }

    /// Sets the valuation rule and the sources' order and addresses.
    #[oai(path = "/instance/prices", method = "put", operation_id = "set_prices")]
    async fn set(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        update: Json<PriceSettingsBody>,
    ) -> Result<Done, ApiError> {
        let settings = to_settings(update.0)?;
        let order: Vec<&str> = settings
            .sources
            .iter()
            .filter(|s| s.enabled)
            .map(|s| s.name.as_str())
            .collect();
        let entry = audit(&access, req, "settings.prices_changed")?.detail(format!(
            "{:?} in {}; sources {}",
            settings.rule,
            settings.timezone,
            order.join(", ")
        ));
        settings::save(&state.store, &settings, &entry).await?;
        Ok(Done::NoContent)
    }

    /// Stores the CoinGecko key, encrypted; only its last four are shown.
    #[oai(
        path = "/instance/prices/coingecko-key",
        method = "put",
        operation_id = "set_coingecko_key"
    )]
    async fn set_key(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        key: Json<CoinGeckoKey>,
    ) -> Result<Done, ApiError> {
        let entry = audit(&access, req, "settings.coingecko_key_set")?
            .target(settings::COINGECKO_KEY_SECRET);
        state.prices.set_coingecko_key(&key.0.key, &entry).await?;
        Ok(Done::NoContent)
    }

    /// Removes the CoinGecko key.
    #[oai(
        path = "/instance/prices/coingecko-key",
        method = "delete",
        operation_id = "delete_coingecko_key"
    )]
    async fn delete_key(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
    ) -> Result<Done, ApiError> {
        let entry = audit(&access, req, "settings.coingecko_key_removed")?
            .target(settings::COINGECKO_KEY_SECRET);
        state
            .store
            .delete_secret(settings::COINGECKO_KEY_SECRET, &entry)
            .await?;
        Ok(Done::NoContent)
    }

    /// Starts filling the table's gaps from the sources, in the background.
    #[oai(
        path = "/instance/prices/fill",
        method = "post",
        operation_id = "fill_price_gaps"
    )]
    async fn fill(
        &self,
        state: Data<&AppState>,
        request: Json<FillRequest>,
    ) -> Result<Started, ApiError> {
        let (currencies, from) = fill_scope(&request.0.currencies, &request.0.from)
            .map_err(|m| ApiError::Unprocessable(body("invalid", m)))?;
        state.prices.start(currencies, from, crate::clock::now())?;
        Ok(Started::Accepted(Json(status(&state.prices.job()))))
    }

    /// The latest fill: progress, and the outcome per source and range.
    #[oai(
        path = "/instance/prices/fill",
        method = "get",
        operation_id = "price_fill_status"
    )]
    async fn fill_status(&self, state: Data<&AppState>) -> Json<FillStatus> {
        Json(status(&state.prices.job()))
    }
}

//! The user's price settings: the valuation rule and the ordered sources.
//! Stored as one JSON value in the instance settings; the CoinGecko key is a
//! sealed secret, never part of this value.

use serde::{Deserialize, Serialize};

use super::valuation::{Method, Rule};
use crate::store::{AuditEntry, Store, StoreError};
use crate::text::Field;

pub const SETTING: &str = "prices";
/// The name the CoinGecko key is sealed under.
pub const COINGECKO_KEY_SECRET: &str = "prices.coingecko_key";

/// The sources this build knows, in their default order: a mempool instance
/// next to the appliance first (it is skipped until it has an address).
/// `coinbase_hourly` fills hourly prices (off by default: many requests).
pub const SOURCE_NAMES: [&str; 6] = [
    "mempool",
    "coinbase",
    "bitstamp",
    "kraken",
    "coingecko",
    "coinbase_hourly",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSetting {
    pub name: String,
    pub enabled: bool,
    /// Where the source answers; the public address when absent. Tests point
    /// it at fakes on loopback; a mempool instance always needs one.
    #[serde(default)]
    pub base_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceSettings {
    pub rule: Method,
    /// An IANA zone such as `Europe/Berlin`: whose calendar day "close of
    /// day" means.
    pub timezone: String,
    pub sources: Vec<SourceSetting>,
    /// A CoinGecko key for the paid API (`pro-api`), not the demo one.
    #[serde(default)]
    pub coingecko_pro: bool,
    /// The currency the review queue checks for missing prices (reports
    /// check their own).
    #[serde(default = "default_currency")]
    pub currency: String,
}

fn default_currency() -> String {
    "USD".into()
}

impl Default for PriceSettings {
    fn default() -> Self {
        PriceSettings {
            rule: Method::DayClose,
            timezone: "UTC".into(),
            sources: SOURCE_NAMES
                .iter()
                .map(|name| SourceSetting {
                    name: (*name).into(),
                    enabled: !matches!(*name, "coingecko" | "coinbase_hourly"),
                    base_url: None,
                })
                .collect(),
            coingecko_pro: false,
            currency: default_currency(),
        }
    }
}

impl PriceSettings {
    /// Checks names, duplicates, addresses and the time zone.
    pub fn validate(&self) -> Result<(), String> {
        self.zone()?;
        super::currency_code(&self.currency)?;
        let mut seen = Vec::new();
        for s in &self.sources {
            // Checked before any answer repeats the name or the address.
            Field::Name
                .check("the price source's name", &s.name)
                .map_err(|e| e.to_string())?;
            if let Some(url) = &s.base_url {
                Field::Url
                    .check("the price source's address", url)
                    .map_err(|e| e.to_string())?;
            }
            if !SOURCE_NAMES.contains(&s.name.as_str()) {
                return Err(format!(
                    "unknown price source {:?}; use {}",
                    s.name,
                    SOURCE_NAMES.join(", ")
                ));
            }
            if seen.contains(&&s.name) {
                return Err(format!("price source {:?} is listed twice", s.name));
            }
            seen.push(&s.name);
            if let Some(url) = &s.base_url {
                crate::outbound::http_base(url, &format!("the address of {}", s.name))?;
            }
        }
        Ok(())
    }

    pub fn zone(&self) -> Result<jiff::tz::TimeZone, String> {
        jiff::tz::TimeZone::get(&self.timezone)
            .map_err(|_| format!("unknown time zone {:?}", self.timezone))
    }

    pub fn rule(&self) -> Rule {
        Rule {
            method: self.rule,
            zone: self.zone().unwrap_or(jiff::tz::TimeZone::UTC),
        }
    }
}

/// The stored settings, or the defaults. Sources this build knows but the
/// stored list lacks are added at the end, off.
pub async fn load(store: &Store) -> Result<PriceSettings, StoreError> {
    let mut settings: PriceSettings = store
        .setting(SETTING)
        .await?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default();
    for name in SOURCE_NAMES {
        if !settings.sources.iter().any(|s| s.name == name) {
            settings.sources.push(SourceSetting {
                name: name.into(),
                enabled: false,
                base_url: None,
            });
        }
    }
    Ok(settings)
}

/// Stores the settings with their audit entry, in one transaction.
pub async fn save(
    store: &Store,
    settings: &PriceSettings,
    audit: &AuditEntry,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(settings).map_err(|e| StoreError::Invalid(e.to_string()))?;
    store.set_setting_audited(SETTING, &json, audit).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_put_mempool_first_and_validate() {
        let s = PriceSettings::default();
        assert_eq!(s.sources[0].name, "mempool");
        assert!(s.validate().is_ok());
        let mut bad = s.clone();
        bad.timezone = "Mars/Olympus".into();
        assert!(bad.validate().is_err());
        let mut twice = s;
        twice.sources.push(twice.sources[1].clone());
        assert!(twice.validate().unwrap_err().contains("twice"));
    }
}

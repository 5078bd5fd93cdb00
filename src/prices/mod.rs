//! BTC prices in fiat currencies: a table Ledgersys keeps for itself, filled
//! in bulk ranges from sources the user orders, so that no request ever
//! reveals which day, amount or address the user cares about.
//!
//! `book`, `file` and `valuation` are pure; `sources` builds requests and
//! reads answers without doing I/O; `sync` is the one part that talks to the
//! network.

pub mod book;
pub mod file;
pub mod service;
pub mod settings;
pub mod sources;
pub mod sync;
pub mod valuation;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;

/// The currencies every source is asked for unless the user names one.
pub const CURRENCIES: [&str; 7] = ["USD", "EUR", "GBP", "CAD", "AUD", "CHF", "JPY"];

/// The first day a BTC price exists anywhere.
pub const FIRST_DAY: Date = jiff::civil::date(2010, 7, 18);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resolution {
    /// The close of a UTC calendar day.
    Day,
    /// The price at an instant on the hour.
    Hour,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Day => "day",
            Resolution::Hour => "hour",
        }
    }

    pub fn parse(text: &str) -> Option<Resolution> {
        match text {
            "day" => Some(Resolution::Day),
            "hour" => Some(Resolution::Hour),
            _ => None,
        }
    }
}

/// One price. For `Day`, `at` is the UTC midnight starting the day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub currency: String,
    pub resolution: Resolution,
    pub at: i64,
    pub price: Decimal,
}

impl Point {
    pub fn day(currency: &str, date: Date, price: Decimal) -> Point {
        Point {
            currency: currency.to_string(),
            resolution: Resolution::Day,
            at: day_start(date),
            price,
        }
    }
}

/// Unix seconds of the UTC midnight starting `date`.
pub fn day_start(date: Date) -> i64 {
    date.to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp().as_second())
        .unwrap_or(0)
}

/// The UTC calendar day containing `seconds`.
pub fn utc_day(seconds: i64) -> Date {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.to_zoned(TimeZone::UTC).date())
        .unwrap_or(FIRST_DAY)
}

/// A currency code as stored: three ASCII letters, upper case.
pub fn currency_code(text: &str) -> Result<String, String> {
    let code = text.trim().to_ascii_uppercase();
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(code)
    } else {
        Err(format!("{text:?} is not a currency code such as USD"))
    }
}

/// A price as a source writes it: a positive decimal. Zero and negative
/// numbers are "no price", never a value.
pub fn positive_price(text: &str) -> Option<Decimal> {
    let text = text.trim();
    let price = Decimal::from_str_exact(text)
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())?;
    (price > Decimal::ZERO).then(|| price.normalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_through_their_utc_midnight() {
        let d = jiff::civil::date(2024, 2, 29);
        assert_eq!(day_start(d), 1_709_164_800);
        assert_eq!(utc_day(1_709_164_800 + 86_399), d);
    }

    #[test]
    fn zero_and_garbage_are_not_prices() {
        assert_eq!(positive_price("0"), None);
        assert_eq!(positive_price("-1"), None);
        assert_eq!(positive_price("abc"), None);
        assert_eq!(positive_price("64686.10"), Some(Decimal::new(646_861, 1)));
        assert_eq!(currency_code(" gbp").as_deref(), Ok("GBP"));
        assert!(currency_code("BTC_USD").is_err());
    }
}

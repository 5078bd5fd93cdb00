//! Exact amounts: bitcoin as whole satoshis, fiat as decimals. No binary
//! floating point anywhere near money.

use std::fmt;
use std::ops::{Add, Neg, Sub};

use rust_decimal::Decimal;

pub const SATS_PER_BTC: i64 = 100_000_000;

/// An amount of bitcoin in satoshis. Signed, so that differences can be
/// represented; a holding is never negative.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Sats(pub i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("{0:?} is not a number")]
    NotANumber(String),
    #[error("{0:?} has more than 8 decimal places; bitcoin amounts are whole satoshis")]
    TooPrecise(String),
    #[error("{0:?} is too large")]
    TooLarge(String),
    #[error("{0:?} must not be negative")]
    Negative(String),
}

impl Sats {
    pub const ZERO: Sats = Sats(0);

    /// Parses a decimal BTC amount such as `0.01071395`, exactly.
    pub fn parse_btc(text: &str) -> Result<Sats, AmountError> {
        let trimmed = text.trim();
        let (negative, digits) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let is_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !is_digits(whole) || !is_digits(fraction) {
            return Err(AmountError::NotANumber(text.to_string()));
        }
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > 8 {
            return Err(AmountError::TooPrecise(text.to_string()));
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole
                .parse()
                .map_err(|_| AmountError::TooLarge(text.to_string()))?
        };
        let frac: i64 = format!("{fraction:0<8}").parse().unwrap_or(0);
        let sats = whole
            .checked_mul(SATS_PER_BTC)
            .and_then(|w| w.checked_add(frac))
            .ok_or_else(|| AmountError::TooLarge(text.to_string()))?;
        Ok(Sats(if negative { -sats } else { sats }))
    }

    /// Parses a non-negative BTC amount.
    pub fn parse_positive_btc(text: &str) -> Result<Sats, AmountError> {
        let sats = Sats::parse_btc(text)?;
        if sats.0 < 0 {
            return Err(AmountError::Negative(text.to_string()));
        }
        Ok(sats)
    }

    /// The amount as an exact decimal number of BTC.
    pub fn to_btc(self) -> Decimal {
        Decimal::new(self.0, 8)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn min(self, other: Sats) -> Sats {
        Sats(self.0.min(other.0))
    }
}

impl Add for Sats {
    type Output = Sats;
    fn add(self, rhs: Sats) -> Sats {
        Sats(self.0 + rhs.0)
    }
}

impl Sub for Sats {
    type Output = Sats;
    fn sub(self, rhs: Sats) -> Sats {
        Sats(self.0 - rhs.0)
    }
}

impl Neg for Sats {
    type Output = Sats;
    fn neg(self) -> Sats {
        Sats(-self.0)
    }
}

impl std::iter::Sum for Sats {
    fn sum<I: Iterator<Item = Sats>>(iter: I) -> Sats {
        Sats(iter.map(|s| s.0).sum())
    }
}

/// Always 8 decimal places: `0.01071395`, `-1.00000000`.
impl fmt::Display for Sats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(
            f,
            "{sign}{}.{:08}",
            abs / SATS_PER_BTC as u64,
            abs % SATS_PER_BTC as u64
        )
    }
}

/// Parses a fiat decimal exactly (`1234.5678`), refusing exponents and
/// anything a spreadsheet might have mangled.
pub fn parse_fiat(text: &str) -> Result<Decimal, AmountError> {
    let trimmed = text.trim();
    let ok = !trimmed.is_empty()
        && trimmed
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+')));
    if !ok {
        return Err(AmountError::NotANumber(text.to_string()));
    }
    trimmed
        .parse::<Decimal>()
        .map_err(|_| AmountError::NotANumber(text.to_string()))
}

/// Rounds a fiat total once, at report time: half-even to the currency's
/// minor unit (0 places for JPY and KRW, else 2).
pub fn round_fiat(value: Decimal, currency: &str) -> Decimal {
    let places = match currency {
        "JPY" | "KRW" => 0,
        _ => 2,
    };
    value.round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointNearestEven)
}

/// A report figure: the exact total rounded once, as a string.
pub fn money(value: Decimal, currency: &str) -> String {
    let rounded = round_fiat(value, currency);
    match currency {
        "JPY" | "KRW" => format!("{rounded:.0}"),
        _ => format!("{rounded:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn btc_amounts_parse_exactly_to_satoshis() {
        assert_eq!(Sats::parse_btc("1"), Ok(Sats(100_000_000)));
        assert_eq!(Sats::parse_btc("0.01071395"), Ok(Sats(1_071_395)));
        assert_eq!(Sats::parse_btc(".5"), Ok(Sats(50_000_000)));
        assert_eq!(Sats::parse_btc("0.123456780000"), Ok(Sats(12_345_678)));
        assert_eq!(Sats::parse_btc("-0.00000001"), Ok(Sats(-1)));
        assert_eq!(Sats::parse_btc("21000000"), Ok(Sats(2_100_000_000_000_000)));
    }

    #[test]
    fn float_artefacts_and_junk_are_refused() {
        assert!(matches!(
            Sats::parse_btc("0.010713949999999999"),
            Err(AmountError::TooPrecise(_))
        ));
        for junk in ["", ".", "1e-3", "1,5", "abc", "1.2.3", " - 1"] {
            assert!(Sats::parse_btc(junk).is_err(), "{junk:?}");
        }
        assert!(matches!(
            Sats::parse_positive_btc("-1"),
            Err(AmountError::Negative(_))
        ));
    }

    #[test]
    fn amounts_display_with_eight_places() {
        assert_eq!(Sats(1_071_395).to_string(), "0.01071395");
        assert_eq!(Sats(-100_000_000).to_string(), "-1.00000000");
        assert_eq!(Sats(1_071_395).to_btc().to_string(), "0.01071395");
    }

    #[test]
    fn fiat_rounds_once_half_even_to_the_minor_unit() {
        let d = |s: &str| parse_fiat(s).expect("decimal");
        assert_eq!(money(d("0.125"), "USD"), "0.12");
        assert_eq!(money(d("0.135"), "USD"), "0.14");
        assert_eq!(money(d("-2.5"), "JPY"), "-2");
        assert_eq!(money(d("1000"), "GBP"), "1000.00");
        assert!(parse_fiat("1e3").is_err() && parse_fiat("1,000").is_err());
    }
}

//! Price sources, one small module each behind [`Source`]. A source only
//! builds requests and reads answers; `prices::sync` does the I/O, so every
//! wire format is tested without a network.
//!
//! Requests cover whole ranges of days (the gaps of the table), never a day
//! a transaction happened on.

pub mod bitstamp;
pub mod coinbase;
pub mod coingecko;
pub mod kraken;
pub mod mempool;

use serde_json::value::RawValue;

use super::{Point, Resolution, positive_price};

pub const DAY: i64 = 86_400;

/// Days `[from, to]`, both UTC midnights, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: i64,
    pub to: i64,
}

impl Window {
    pub fn days(&self) -> i64 {
        (self.to - self.from) / DAY + 1
    }

    /// Consecutive windows of at most `size` days covering `self`.
    pub fn chunks(&self, size: i64) -> Vec<Window> {
        let mut out = Vec::new();
        let mut from = self.from;
        while from <= self.to {
            let to = (from + (size - 1) * DAY).min(self.to);
            out.push(Window { from, to });
            from = to + DAY;
        }
        out
    }
}

/// A window the source cannot serve, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unservable {
    pub window: Window,
    pub reason: String,
}

/// One HTTP GET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
}

impl Request {
    pub fn get(url: String) -> Request {
        Request {
            url,
            headers: Vec::new(),
        }
    }
}

pub trait Source: Send + Sync {
    fn name(&self) -> &'static str;
    /// What it fills: the days without a daily price, or (for an hourly
    /// source) the days without any hourly price.
    fn resolution(&self) -> Resolution {
        Resolution::Day
    }
    fn supports(&self, currency: &str) -> bool;
    /// The requests' windows for these gaps (sorted, disjoint), and what
    /// cannot be asked of this source. `today` is the current UTC midnight.
    fn windows(&self, gaps: &[Window], today: i64) -> Vec<Result<Window, Unservable>>;
    fn request(&self, currency: &str, window: &Window) -> Request;
    /// The prices in an answer. Malformed is an error for the window, never
    /// a price of zero.
    fn parse(&self, currency: &str, body: &[u8]) -> Result<Vec<Point>, String>;
}

/// Splits gaps into windows of at most `size` days, dropping what lies before
/// `earliest` with `reason`.
pub fn chunked(
    gaps: &[Window],
    size: i64,
    earliest: Option<(i64, &str)>,
) -> Vec<Result<Window, Unservable>> {
    let mut out = Vec::new();
    for gap in gaps {
        let mut gap = *gap;
        if let Some((earliest, reason)) = earliest
            && gap.from < earliest
        {
            let before = Window {
                from: gap.from,
                to: gap.to.min(earliest - DAY),
            };
            out.push(Err(Unservable {
                window: before,
                reason: reason.to_string(),
            }));
            if gap.to < earliest {
                continue;
            }
            gap.from = earliest;
        }
        out.extend(gap.chunks(size).into_iter().map(Ok));
    }
    out
}

/// A JSON number or string as an exact decimal price (`None` for zero or
/// less), read from its text so no binary float ever holds it.
pub fn raw_price(raw: &RawValue) -> Result<Option<rust_decimal::Decimal>, String> {
    let text = raw.get().trim().trim_matches('"');
    let exact = rust_decimal::Decimal::from_str_exact(text)
        .or_else(|_| rust_decimal::Decimal::from_scientific(text))
        .map_err(|_| format!("{} is not a number", raw.get()))?;
    Ok(positive_price(&exact.to_string()))
}

/// A JSON integer, read from its text (Unix seconds or milliseconds).
pub fn raw_int(raw: &RawValue) -> Result<i64, String> {
    let text = raw.get().trim().trim_matches('"');
    text.parse::<i64>()
        .or_else(|_| {
            // Some sources write whole seconds as `1499904000.0`.
            text.strip_suffix(".0").unwrap_or(text).parse::<i64>()
        })
        .map_err(|_| format!("{} is not a whole number", raw.get()))
}

/// A price at an instant: at a UTC midnight it closes the day before;
/// elsewhere it is an hourly price when on the hour, and dropped otherwise.
pub fn instant(currency: &str, at: i64, price: rust_decimal::Decimal) -> Option<Point> {
    if at.rem_euclid(DAY) == 0 {
        return Some(Point {
            currency: currency.to_string(),
            resolution: Resolution::Day,
            at: at - DAY,
            price,
        });
    }
    (at.rem_euclid(3600) == 0).then(|| Point {
        currency: currency.to_string(),
        resolution: Resolution::Hour,
        at,
        price,
    })
}

/// The public address, or the one the user set.
pub fn base(configured: Option<&str>, default: &str) -> String {
    configured
        .unwrap_or(default)
        .trim_end_matches('/')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_become_windows_and_the_unservable_part_is_named() {
        let w = |from: i64, to: i64| Window {
            from: from * DAY,
            to: to * DAY,
        };
        let out = chunked(&[w(0, 9), w(20, 24)], 4, Some((3 * DAY, "too old")));
        assert_eq!(
            out,
            vec![
                Err(Unservable {
                    window: w(0, 2),
                    reason: "too old".into()
                }),
                Ok(w(3, 6)),
                Ok(w(7, 9)),
                Ok(w(20, 23)),
                Ok(w(24, 24)),
            ]
        );
        assert_eq!(w(3, 6).days(), 4);
    }

    #[test]
    fn raw_numbers_are_read_exactly() {
        let raw = |s: &str| RawValue::from_string(s.to_string()).expect("raw");
        assert_eq!(
            raw_price(&raw("2254.9")).expect("price"),
            Some(rust_decimal::Decimal::new(22549, 1))
        );
        assert_eq!(raw_price(&raw("\"0\"")).expect("zero"), None);
        assert!(raw_price(&raw("\"abc\"")).is_err());
        assert_eq!(raw_int(&raw("1499904000")).expect("int"), 1_499_904_000);
    }
}

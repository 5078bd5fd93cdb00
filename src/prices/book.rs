//! Prices in memory for lookups: one sorted series per currency and
//! resolution. Pure.

use std::collections::HashMap;

use jiff::civil::Date;
use rust_decimal::Decimal;

use super::{Point, Resolution, day_start};

/// What valuation needs from a price table.
pub trait PriceLookup {
    /// The close of the UTC day `date`.
    fn day(&self, currency: &str, date: Date) -> Option<Decimal>;
    /// The hourly price nearest to `at` (Unix seconds) within `within`
    /// seconds, with its instant.
    fn hour_near(&self, currency: &str, at: i64, within: i64) -> Option<(i64, Decimal)>;
}

#[derive(Debug, Default, Clone)]
struct Series {
    days: Vec<(i64, Decimal)>,
    hours: Vec<(i64, Decimal)>,
}

/// Every price of some currencies, ready for fast lookups.
#[derive(Debug, Default, Clone)]
pub struct PriceBook {
    series: HashMap<String, Series>,
}

impl PriceBook {
    pub fn new(points: impl IntoIterator<Item = Point>) -> PriceBook {
        let mut series: HashMap<String, Series> = HashMap::new();
        for p in points {
            let s = series.entry(p.currency).or_default();
            match p.resolution {
                Resolution::Day => s.days.push((p.at, p.price)),
                Resolution::Hour => s.hours.push((p.at, p.price)),
            }
        }
        for s in series.values_mut() {
            s.days.sort_by_key(|(at, _)| *at);
            s.days.dedup_by_key(|(at, _)| *at);
            s.hours.sort_by_key(|(at, _)| *at);
            s.hours.dedup_by_key(|(at, _)| *at);
        }
        PriceBook { series }
    }

    pub fn len(&self) -> usize {
        self.series
            .values()
            .map(|s| s.days.len() + s.hours.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl PriceLookup for PriceBook {
    fn day(&self, currency: &str, date: Date) -> Option<Decimal> {
        let days = &self.series.get(currency)?.days;
        let at = day_start(date);
        days.binary_search_by_key(&at, |(t, _)| *t)
            .ok()
            .map(|i| days[i].1)
    }

    fn hour_near(&self, currency: &str, at: i64, within: i64) -> Option<(i64, Decimal)> {
        let hours = &self.series.get(currency)?.hours;
        let i = hours.partition_point(|(t, _)| *t < at);
        // The candidates are the first point at or after `at` and the one
        // before it; on a tie the earlier one wins.
        let after = hours.get(i).copied();
        let before = i.checked_sub(1).and_then(|j| hours.get(j)).copied();
        let best = match (before, after) {
            (Some(b), Some(a)) if a.0 - at < at - b.0 => a,
            (Some(b), _) => b,
            (None, Some(a)) => a,
            (None, None) => return None,
        };
        ((best.0 - at).abs() <= within).then_some(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hour(at: i64, price: i64) -> Point {
        Point {
            currency: "USD".into(),
            resolution: Resolution::Hour,
            at,
            price: Decimal::from(price),
        }
    }

    #[test]
    fn days_are_found_by_date_and_hours_by_nearness() {
        let d = jiff::civil::date(2020, 5, 1);
        let book = PriceBook::new([
            Point::day("USD", d, Decimal::from(8800)),
            hour(7200, 2),
            hour(3600, 1),
        ]);
        assert_eq!(book.day("USD", d), Some(Decimal::from(8800)));
        assert_eq!(book.day("USD", d.tomorrow().expect("date")), None);
        assert_eq!(book.day("EUR", d), None);
        assert_eq!(
            book.hour_near("USD", 5000, 3600),
            Some((3600, Decimal::ONE))
        );
        assert_eq!(
            book.hour_near("USD", 5400, 3600),
            Some((3600, Decimal::ONE)),
            "tie: earlier"
        );
        assert_eq!(
            book.hour_near("USD", 5401, 3600),
            Some((7200, Decimal::TWO))
        );
        assert_eq!(book.hour_near("USD", 20_000, 3600), None, "too far");
        assert_eq!(book.len(), 3);
    }
}

//! Coinbase Exchange public candles, daily or hourly:
//! `GET /products/BTC-USD/candles?granularity=86400&start=..&end=..`, an
//! array of `[time, low, high, open, close, volume]`, newest first, at most
//! 300 candles a request. No candle in a period without trades.

use serde_json::value::RawValue;

use super::{DAY, Request, Source, Unservable, Window, chunked, raw_int, raw_price};
use crate::prices::Point;

pub const PUBLIC: &str = "https://api.exchange.coinbase.com";
pub const MAX_CANDLES: i64 = 300;
/// Hourly requests cover 12 days: 288 candles.
pub const HOURLY_DAYS: i64 = 12;

pub struct Coinbase {
    pub base: String,
    /// Hourly candles (`coinbase_hourly`) instead of daily ones.
    pub hourly: bool,
}

impl Source for Coinbase {
    fn name(&self) -> &'static str {
        if self.hourly {
            "coinbase_hourly"
        } else {
            "coinbase"
        }
    }

    fn resolution(&self) -> crate::prices::Resolution {
        if self.hourly {
            crate::prices::Resolution::Hour
        } else {
            crate::prices::Resolution::Day
        }
    }

    fn supports(&self, currency: &str) -> bool {
        matches!(currency, "USD" | "EUR" | "GBP")
    }

    fn windows(&self, gaps: &[Window], _today: i64) -> Vec<Result<Window, Unservable>> {
        chunked(
            gaps,
            if self.hourly {
                HOURLY_DAYS
            } else {
                MAX_CANDLES
            },
            None,
        )
    }

    fn request(&self, currency: &str, w: &Window) -> Request {
        // `end` is the start of the last candle wanted: 300 days ask for
        // exactly 300 candles.
        let (step, end) = if self.hourly {
            (3600, w.to + DAY - 3600)
        } else {
            (DAY, w.to)
        };
        Request::get(format!(
            "{}/products/BTC-{currency}/candles?granularity={step}&start={}&end={end}",
            self.base, w.from
        ))
    }

    fn parse(&self, currency: &str, body: &[u8]) -> Result<Vec<Point>, String> {
        let candles: Vec<Vec<Box<RawValue>>> =
            serde_json::from_slice(body).map_err(|e| format!("not a list of candles: {e}"))?;
        let mut points = Vec::new();
        for c in &candles {
            if c.len() != 6 {
                return Err(format!("a candle has {} fields, not 6", c.len()));
            }
            let time = raw_int(&c[0])?;
            let step = if self.hourly { 3600 } else { DAY };
            if time.rem_euclid(step) != 0 {
                return Err(format!("candle time {time} does not start a period"));
            }
            let Some(close) = raw_price(&c[4])? else {
                continue;
            };
            // An hourly candle's close is the price at the end of its hour.
            points.push(Point {
                currency: currency.to_string(),
                resolution: self.resolution(),
                at: if self.hourly { time + 3600 } else { time },
                price: close,
            });
        }
        Ok(points)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn candles_give_the_close_of_each_day() {
        let c = Coinbase {
            base: PUBLIC.into(),
            hourly: false,
        };
        let body = br#"[[1704153600,44100.1,45900,44187.5,44951.23,1200.5],[1704067200,42000,44200,42280.23,44187.5,900]]"#;
        let points = c.parse("USD", body).expect("parses");
        assert_eq!(points.len(), 2);
        assert_eq!(points[0].at, 1_704_153_600);
        assert_eq!(points[0].price, Decimal::new(4_495_123, 2));
        assert!(c.parse("USD", br#"{"message":"NotFound"}"#).is_err());
        assert!(c.parse("USD", br#"[[1704153600,1,2,3]]"#).is_err());
        let w = Window {
            from: 1_704_067_200,
            to: 1_704_067_200 + 299 * DAY,
        };
        let hourly = Coinbase {
            base: PUBLIC.into(),
            hourly: true,
        };
        let h = hourly
            .parse("EUR", br#"[[1704153600,1,2,3,44951.23,1]]"#)
            .expect("parses");
        assert_eq!(h[0].at, 1_704_153_600 + 3600, "the close of the hour");
        assert_eq!(h[0].resolution, crate::prices::Resolution::Hour);
        assert!(hourly.parse("EUR", br#"[[1704153601,1,2,3,4,1]]"#).is_err());
        assert_eq!(
            c.request("EUR", &w).url,
            format!(
                "{PUBLIC}/products/BTC-EUR/candles?granularity=86400&start=1704067200&end={}",
                w.to
            )
        );
    }
}

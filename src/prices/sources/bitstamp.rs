//! Bitstamp public OHLC: `GET /api/v2/ohlc/btcusd/?step=86400&limit=1000&
//! start=..&end=..`, `{"data": {"pair", "ohlc": [{"timestamp", "close", ..}]}}`
//! with values as strings; `limit` at most 1000.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{DAY, Request, Source, Unservable, Window, chunked, raw_int, raw_price};
use crate::prices::{Point, Resolution};

pub const PUBLIC: &str = "https://www.bitstamp.net";
pub const LIMIT: i64 = 1000;

pub struct Bitstamp {
    pub base: String,
}

#[derive(Deserialize)]
struct Answer {
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    ohlc: Vec<Candle>,
}

#[derive(Deserialize)]
struct Candle {
    timestamp: Box<RawValue>,
    close: Box<RawValue>,
}

impl Source for Bitstamp {
    fn name(&self) -> &'static str {
        "bitstamp"
    }

    fn supports(&self, currency: &str) -> bool {
        matches!(currency, "USD" | "EUR" | "GBP")
    }

    fn windows(&self, gaps: &[Window], _today: i64) -> Vec<Result<Window, Unservable>> {
        chunked(gaps, LIMIT, None)
    }

    fn request(&self, currency: &str, w: &Window) -> Request {
        Request::get(format!(
            "{}/api/v2/ohlc/btc{}/?step={DAY}&limit={}&start={}&end={}",
            self.base,
            currency.to_ascii_lowercase(),
            w.days(),
            w.from,
            w.to
        ))
    }

    fn parse(&self, currency: &str, body: &[u8]) -> Result<Vec<Point>, String> {
        let answer: Answer =
            serde_json::from_slice(body).map_err(|e| format!("not an OHLC answer: {e}"))?;
        let mut points = Vec::new();
        for c in &answer.data.ohlc {
            let at = raw_int(&c.timestamp)?;
            if at.rem_euclid(DAY) != 0 {
                return Err(format!("candle time {at} is not a UTC midnight"));
            }
            if let Some(close) = raw_price(&c.close)? {
                points.push(Point {
                    currency: currency.to_string(),
                    resolution: Resolution::Day,
                    at,
                    price: close,
                });
            }
        }
        Ok(points)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn string_values_are_read_exactly() {
        let b = Bitstamp {
            base: PUBLIC.into(),
        };
        let body = br#"{"data": {"pair": "BTC/EUR", "ohlc": [{"timestamp": "1325376000", "open": "4.58", "high": "4.84", "low": "4.58", "close": "3.53", "volume": "10.1"}]}}"#;
        let points = b.parse("EUR", body).expect("parses");
        assert_eq!(points[0].price, Decimal::new(353, 2));
        assert!(
            b.parse(
                "EUR",
                br#"{"data": {"ohlc": [{"timestamp": "1325376000", "close": "x"}]}}"#
            )
            .is_err()
        );
        assert!(b.parse("EUR", br#"{"code": "API0005"}"#).is_err());
    }
}

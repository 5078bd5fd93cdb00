//! Kraken public OHLC: `GET /0/public/OHLC?pair=XBTUSD&interval=1440&since=..`,
//! `{"error": [], "result": {"XXBTZUSD": [[time, "open", "high", "low",
//! "close", "vwap", "volume", count], ...], "last": ..}}`. Only the 720 most
//! recent candles, whatever `since` says; the last one is still open.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{DAY, Request, Source, Unservable, Window, chunked, raw_int, raw_price};
use crate::prices::{Point, Resolution};

pub const PUBLIC: &str = "https://api.kraken.com";
pub const MAX_CANDLES: i64 = 720;

pub struct Kraken {
    pub base: String,
}

#[derive(Deserialize)]
struct Answer {
    error: Vec<String>,
    #[serde(default)]
    result: BTreeMap<String, Box<RawValue>>,
}

impl Source for Kraken {
    fn name(&self) -> &'static str {
        "kraken"
    }

    fn supports(&self, currency: &str) -> bool {
        matches!(
            currency,
            "USD" | "EUR" | "GBP" | "CAD" | "JPY" | "CHF" | "AUD"
        )
    }

    fn windows(&self, gaps: &[Window], today: i64) -> Vec<Result<Window, Unservable>> {
        // The 720 candles end with today's open one: 719 closed days.
        let earliest = today - (MAX_CANDLES - 1) * DAY;
        chunked(
            gaps,
            MAX_CANDLES,
            Some((
                earliest,
                "Kraken serves only the 720 most recent daily candles",
            )),
        )
    }

    fn request(&self, currency: &str, w: &Window) -> Request {
        // `since` is exclusive.
        Request::get(format!(
            "{}/0/public/OHLC?pair=XBT{currency}&interval=1440&since={}",
            self.base,
            w.from - 1
        ))
    }

    fn parse(&self, currency: &str, body: &[u8]) -> Result<Vec<Point>, String> {
        let answer: Answer =
            serde_json::from_slice(body).map_err(|e| format!("not an OHLC answer: {e}"))?;
        if !answer.error.is_empty() {
            return Err(format!("Kraken answered {}", answer.error.join("; ")));
        }
        let keys = [format!("XXBTZ{currency}"), format!("XBT{currency}")];
        let rows = keys
            .iter()
            .find_map(|k| answer.result.get(k))
            .ok_or_else(|| format!("the answer has no {currency} candles"))?;
        let rows: Vec<Vec<Box<RawValue>>> = serde_json::from_str(rows.get())
            .map_err(|e| format!("the candles are malformed: {e}"))?;
        let mut points = Vec::new();
        for c in &rows {
            if c.len() != 8 {
                return Err(format!("a candle has {} fields, not 8", c.len()));
            }
            let at = raw_int(&c[0])?;
            if at.rem_euclid(DAY) != 0 {
                return Err(format!("candle time {at} is not a UTC midnight"));
            }
            if let Some(close) = raw_price(&c[4])? {
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
    fn chf_and_aud_have_their_own_result_keys() {
        let k = Kraken {
            base: PUBLIC.into(),
        };
        let body = br#"{"error":[],"result":{"XBTCHF":[[1704067200,"38000.0","39000.0","37000.0","38500.5","38200.1","12.5",300]],"last":1704067200}}"#;
        let points = k.parse("CHF", body).expect("parses");
        assert_eq!(points[0].price, Decimal::new(385_005, 1));
        let err = k
            .parse("CHF", br#"{"error":["EGeneral:Too many requests"]}"#)
            .expect_err("error");
        assert!(err.contains("Too many requests"));
    }

    #[test]
    fn days_before_the_720_candle_horizon_are_unservable() {
        let k = Kraken {
            base: PUBLIC.into(),
        };
        let today = 1000 * DAY;
        let gap = Window {
            from: 0,
            to: today - DAY,
        };
        let w = k.windows(&[gap], today);
        assert_eq!(w.len(), 2);
        assert!(
            w[0].as_ref()
                .is_err_and(|u| u.window.to == today - 720 * DAY)
        );
        assert_eq!(w[1].as_ref().map(|w| w.days()), Ok(719));
    }
}

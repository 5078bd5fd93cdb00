//! A mempool instance's historical prices: `GET {base}/api/v1/historical-price
//! ?currency=EUR` without a timestamp answers the whole history at once,
//! `{"prices": [{"time": .., "EUR": .., "USD": ..}], "exchangeRates": {..}}`.
//! Older history is weekly; before 2010-07-19 the price is a placeholder 0,
//! which is "no price". Answers 400 on test networks.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Request, Source, Unservable, Window, instant, raw_int, raw_price};
use crate::prices::Point;

pub struct Mempool {
    pub base: String,
}

#[derive(Deserialize)]
struct Answer {
    prices: Vec<BTreeMap<String, Box<RawValue>>>,
}

impl Source for Mempool {
    fn name(&self) -> &'static str {
        "mempool"
    }

    fn supports(&self, currency: &str) -> bool {
        matches!(
            currency,
            "USD" | "EUR" | "GBP" | "CAD" | "CHF" | "AUD" | "JPY"
        )
    }

    /// One request for everything: the whole history is one answer, and it
    /// names no date at all.
    fn windows(&self, gaps: &[Window], _today: i64) -> Vec<Result<Window, Unservable>> {
        match (gaps.first(), gaps.last()) {
            (Some(first), Some(last)) => vec![Ok(Window {
                from: first.from,
                to: last.to,
            })],
            _ => Vec::new(),
        }
    }

    fn request(&self, currency: &str, _w: &Window) -> Request {
        Request::get(format!(
            "{}/api/v1/historical-price?currency={currency}",
            self.base
        ))
    }

    fn parse(&self, currency: &str, body: &[u8]) -> Result<Vec<Point>, String> {
        let answer: Answer = serde_json::from_slice(body)
            .map_err(|e| format!("not a historical-price answer: {e}"))?;
        let mut points = Vec::new();
        for entry in &answer.prices {
            let time = entry.get("time").ok_or("a price has no time")?;
            let at = raw_int(time)?;
            let Some(price) = entry.get(currency) else {
                continue;
            };
            if let Some(price) = raw_price(price)?
                && let Some(point) = instant(currency, at, price)
            {
                points.push(point);
            }
        }
        Ok(points)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prices::Resolution;
    use rust_decimal::Decimal;

    #[test]
    fn midnight_prices_close_the_day_before_and_zero_is_no_price() {
        let m = Mempool {
            base: "http://127.0.0.1:1".into(),
        };
        let body = br#"{"prices":[{"time":1279497600,"EUR":0,"USD":0},{"time":1499904000,"EUR":1964,"USD":2254.9}],"exchangeRates":{"USDEUR":0.92}}"#;
        let points = m.parse("USD", body).expect("parses");
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].resolution, Resolution::Day);
        assert_eq!(points[0].at, 1_499_904_000 - 86_400);
        assert_eq!(points[0].price, Decimal::new(22549, 1));
        assert!(m.parse("USD", b"Bad Request").is_err());
    }
}

//! CoinGecko with the user's key: `GET /coins/bitcoin/market_chart/range?
//! vs_currency=usd&from=..&to=..` and the key in `x-cg-demo-api-key` (or
//! `x-cg-pro-api-key` on `pro-api`). `{"prices": [[ms, price], ...], ..}`;
//! ranges over 90 days come back daily at 00:00 UTC; demo keys reach back
//! only 365 days.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{DAY, Request, Source, Unservable, Window, chunked, instant, raw_int, raw_price};
use crate::prices::Point;

pub const PUBLIC: &str = "https://api.coingecko.com/api/v3";
pub const PRO: &str = "https://pro-api.coingecko.com/api/v3";
/// A window longer than 90 days, so the answer is daily.
pub const WINDOW_DAYS: i64 = 360;
pub const DEMO_DAYS: i64 = 365;

pub struct CoinGecko {
    pub base: String,
    pub key: String,
    pub pro: bool,
}

#[derive(Deserialize)]
struct Answer {
    prices: Vec<(Box<RawValue>, Box<RawValue>)>,
}

impl Source for CoinGecko {
    fn name(&self) -> &'static str {
        "coingecko"
    }

    fn supports(&self, _currency: &str) -> bool {
        true
    }

    fn windows(&self, gaps: &[Window], today: i64) -> Vec<Result<Window, Unservable>> {
        let earliest = (!self.pro).then_some((
            today - (DEMO_DAYS - 1) * DAY,
            "a CoinGecko demo key reaches back only 365 days",
        ));
        chunked(gaps, WINDOW_DAYS, earliest)
    }

    fn request(&self, currency: &str, w: &Window) -> Request {
        // The close of day D is the 00:00 point of D + 1.
        let header = if self.pro {
            "x-cg-pro-api-key"
        } else {
            "x-cg-demo-api-key"
        };
        Request {
            url: format!(
                "{}/coins/bitcoin/market_chart/range?vs_currency={}&from={}&to={}",
                self.base,
                currency.to_ascii_lowercase(),
                w.from + DAY,
                w.to + DAY
            ),
            headers: vec![(header, self.key.clone())],
        }
    }

    fn parse(&self, currency: &str, body: &[u8]) -> Result<Vec<Point>, String> {
        let answer: Answer =
            serde_json::from_slice(body).map_err(|e| format!("not a market chart answer: {e}"))?;
        let mut points = Vec::new();
        for (ms, price) in &answer.prices {
            let ms = raw_int(ms)?;
            if let Some(price) = raw_price(price)?
                && let Some(point) = instant(currency, ms.div_euclid(1000), price)
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
    use rust_decimal::Decimal;

    #[test]
    fn the_key_travels_in_its_header_and_prices_are_exact() {
        let g = CoinGecko {
            base: PUBLIC.into(),
            key: "CG-secret-key-1234".into(),
            pro: false,
        };
        let w = Window {
            from: 1_704_067_200,
            to: 1_704_067_200 + 9 * DAY,
        };
        let r = g.request("GBP", &w);
        assert!(
            r.url
                .contains("vs_currency=gbp&from=1704153600&to=1704931200"),
            "{}",
            r.url
        );
        assert_eq!(
            r.headers,
            vec![("x-cg-demo-api-key", "CG-secret-key-1234".to_string())]
        );
        let points = g
            .parse(
                "GBP",
                br#"{"prices":[[1704153600000,34567.891234]],"market_caps":[],"total_volumes":[]}"#,
            )
            .expect("parses");
        assert_eq!(points[0].at, 1_704_067_200);
        assert_eq!(points[0].price, Decimal::new(34_567_891_234, 6));
    }
}

//! Valuing rows that came without a fiat value, from the price table.
//! Pure: rows, a rule and a price lookup in; values or "missing price" out.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;

use super::book::PriceLookup;
use crate::ledger::{Kind, Tx};

/// How far from a row's instant an hourly price may be for the
/// nearest-hour rule (two hours: one missing point is tolerated).
pub const NEAREST_HOUR_WITHIN: i64 = 2 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The close of the row's calendar day in the user's time zone.
    DayClose,
    /// The hourly price nearest the row's instant; the day's close when
    /// there is none.
    NearestHour,
}

impl std::str::FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "day_close" => Ok(Method::DayClose),
            "nearest_hour" => Ok(Method::NearestHour),
            other => Err(format!(
                "unknown valuation rule {other:?}; use day_close or nearest_hour"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub method: Method,
    pub zone: TimeZone,
}

impl Default for Rule {
    fn default() -> Self {
        Rule {
            method: Method::DayClose,
            zone: TimeZone::UTC,
        }
    }
}

/// A row's value and the price behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valued {
    pub value: Decimal,
    pub price: Decimal,
}

/// Why a row has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingPrice {
    pub message: String,
}

/// Rows valued at market price when they come without a value: receipts and
/// spending. Others either must carry their value (buys, sells) or need none.
pub fn needs_value(tx: &Tx) -> bool {
    matches!(tx.kind, Kind::Income | Kind::Spend | Kind::GiftOut)
        && tx.fiat_value.is_none()
        && tx.btc.0 > 0
}

/// The price of one BTC for a row at `time` under `rule`.
pub fn price_at(
    time: Timestamp,
    currency: &str,
    rule: &Rule,
    prices: &impl PriceLookup,
) -> Result<Decimal, MissingPrice> {
    let local: Date = time.to_zoned(rule.zone.clone()).date();
    if rule.method == Method::NearestHour
        && let Some((_, price)) = prices.hour_near(currency, time.as_second(), NEAREST_HOUR_WITHIN)
    {
        return Ok(price);
    }
    // The close of the local day is the price at the instant the next local
    // day starts; without an hourly price there, the UTC day's close.
    let end = local
        .tomorrow()
        .ok()
        .and_then(|d| d.to_zoned(rule.zone.clone()).ok())
        .map(|z| z.timestamp().as_second());
    if let Some(end) = end
        && let Some((at, price)) = prices.hour_near(currency, end, 0)
        && at == end
    {
        return Ok(price);
    }
    prices.day(currency, local).ok_or_else(|| MissingPrice {
        message: format!("no {currency} price for {local} in the price table (missing price)"),
    })
}

/// Values every row that [`needs_value`], in `currency`: one answer per such
/// row, by index. The value is exact: price × BTC, never rounded here.
pub fn value_rows(
    rows: &[Tx],
    currency: &str,
    rule: &Rule,
    prices: &impl PriceLookup,
) -> Vec<(usize, Result<Valued, MissingPrice>)> {
    rows.iter()
        .enumerate()
        .filter(|(_, tx)| needs_value(tx))
        .map(|(i, tx)| {
            let valued = price_at(tx.time, currency, rule, prices).map(|price| Valued {
                value: price * tx.btc.to_btc(),
                price,
            });
            (i, valued)
        })
        .collect()
}

/// Writes the values found into the rows; rows still missing keep no value,
/// which every engine reports as a missing price.
pub fn apply(rows: &mut [Tx], currency: &str, valued: &[(usize, Result<Valued, MissingPrice>)]) {
    for (i, v) in valued {
        if let (Ok(v), Some(row)) = (v, rows.get_mut(*i)) {
            row.fiat_value = Some(v.value);
            row.currency = Some(currency.to_string());
        }
    }
}

/// A price per BTC set by hand for one row, named by its account and source
/// id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Override {
    pub account: String,
    pub id: String,
    pub price: rust_decimal::Decimal,
    pub currency: String,
}

/// Values the overridden rows at their manual price; the override wins over
/// the row's own value and the table. Returns how many rows it applied to.
pub fn apply_overrides(rows: &mut [Tx], overrides: &[Override]) -> usize {
    let mut applied = 0;
    for row in rows.iter_mut() {
        let Some(id) = &row.id else { continue };
        if let Some(o) = overrides
            .iter()
            .find(|o| &o.id == id && o.account == row.account)
        {
            row.fiat_value = Some(o.price * row.btc.to_btc());
            row.currency = Some(o.currency.clone());
            applied += 1;
        }
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Sats;
    use crate::prices::book::PriceBook;
    use crate::prices::{Point, Resolution};

    fn income(time: &str, sats: i64) -> Tx {
        Tx {
            id: None,
            time: time.parse().expect("time"),
            kind: Kind::Income,
            account: "a".into(),
            btc: Sats(sats),
            fee_btc: Sats::ZERO,
            fiat_value: None,
            currency: None,
            fee_fiat: Decimal::ZERO,
            to_account: None,
            txid: None,
            note: None,
        }
    }

    fn book() -> PriceBook {
        let d = |day| jiff::civil::date(2024, 3, day);
        let hour = |at: &str, p: i64| Point {
            currency: "USD".into(),
            resolution: Resolution::Hour,
            at: at.parse::<Timestamp>().expect("t").as_second(),
            price: Decimal::from(p),
        };
        PriceBook::new([
            Point::day("USD", d(1), Decimal::from(60_000)),
            Point::day("USD", d(2), Decimal::from(62_000)),
            hour("2024-03-02T05:00:00Z", 61_000),
            hour("2024-03-01T14:00:00Z", 59_000),
        ])
    }

    #[test]
    fn the_day_close_in_utc_is_the_daily_price() {
        let rows = [income("2024-03-01T15:10:00Z", 1_000_000)];
        let out = value_rows(&rows, "USD", &Rule::default(), &book());
        assert_eq!(
            out,
            vec![(
                0,
                Ok(Valued {
                    value: Decimal::new(60_000_000_000, 8),
                    price: Decimal::from(60_000)
                })
            )]
        );
    }

    #[test]
    fn the_day_close_in_new_york_uses_the_hour_that_ends_the_local_day() {
        let rule = Rule {
            method: Method::DayClose,
            zone: TimeZone::get("America/New_York").expect("zone"),
        };
        // 2024-03-01 in New York ends at 05:00 UTC on 2024-03-02.
        let price = price_at(
            "2024-03-01T15:10:00Z".parse().expect("t"),
            "USD",
            &rule,
            &book(),
        );
        assert_eq!(price, Ok(Decimal::from(61_000)));
        // Late evening in New York is already the next UTC day.
        let price = price_at(
            "2024-03-02T03:00:00Z".parse().expect("t"),
            "USD",
            &rule,
            &book(),
        );
        assert_eq!(price, Ok(Decimal::from(61_000)));
    }

    #[test]
    fn the_nearest_hour_falls_back_to_the_day_close() {
        let rule = Rule {
            method: Method::NearestHour,
            zone: TimeZone::UTC,
        };
        let near = price_at(
            "2024-03-01T14:40:00Z".parse().expect("t"),
            "USD",
            &rule,
            &book(),
        );
        assert_eq!(near, Ok(Decimal::from(59_000)));
        let far = price_at(
            "2024-03-01T20:00:00Z".parse().expect("t"),
            "USD",
            &rule,
            &book(),
        );
        assert_eq!(far, Ok(Decimal::from(60_000)));
    }

    #[test]
    fn an_override_wins_over_the_rows_own_value_and_names_its_currency() {
        let mut rows = vec![income("2024-03-05T10:00:00Z", 2_000_000)];
        rows[0].id = Some("tx-1".into());
        rows[0].fiat_value = Some(Decimal::ONE);
        let o = Override {
            account: "a".into(),
            id: "tx-1".into(),
            price: Decimal::new(6_100_050, 2),
            currency: "EUR".into(),
        };
        let other = Override {
            account: "b".into(),
            ..o.clone()
        };
        assert_eq!(
            apply_overrides(&mut rows, &[other]),
            0,
            "another account's row"
        );
        assert_eq!(apply_overrides(&mut rows, &[o]), 1);
        assert_eq!(
            rows[0].fiat_value,
            Some(Decimal::new(12_200_100_000_000, 10))
        );
        assert_eq!(rows[0].currency.as_deref(), Some("EUR"));
    }

    #[test]
    fn a_day_without_a_price_is_missing_never_zero() {
        let mut rows = vec![
            income("2024-03-05T10:00:00Z", 5),
            income("2024-03-02T10:00:00Z", 5),
        ];
        rows[1].fiat_value = Some(Decimal::ONE);
        let out = value_rows(&rows, "USD", &Rule::default(), &book());
        assert_eq!(out.len(), 1, "a row with a value is left alone");
        assert!(
            out[0]
                .1
                .as_ref()
                .is_err_and(|m| m.message.contains("2024-03-05"))
        );
        apply(&mut rows, "USD", &out);
        assert_eq!(rows[0].fiat_value, None);
    }
}

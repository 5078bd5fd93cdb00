//! The user's own price file, in either layout:
//! long, `date,currency,price`, or wide, `Date,BTC_USD,BTC_EUR,...`.
//! Pure: bytes in, daily prices or line-numbered errors out.

use std::collections::BTreeSet;

use jiff::civil::Date;

use super::{Point, currency_code, positive_price};
use crate::sources::generic::LineError;

/// Which layout a header names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Layout {
    Long {
        date: usize,
        currency: usize,
        price: usize,
    },
    /// The date column and, per other column, its currency.
    Wide {
        date: usize,
        currencies: Vec<(usize, String)>,
    },
}

fn layout(headers: &[String]) -> Result<Layout, String> {
    let find = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let date = find("date").ok_or("the header needs a \"date\" column")?;
    if let (Some(currency), Some(price)) = (find("currency"), find("price")) {
        return Ok(Layout::Long {
            date,
            currency,
            price,
        });
    }
    let mut currencies = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        if i == date {
            continue;
        }
        let code = h
            .strip_prefix("BTC_")
            .or_else(|| h.strip_prefix("btc_"))
            .ok_or_else(|| {
                format!(
                    "column {h:?} is neither long layout (date,currency,price) nor wide (BTC_USD, BTC_EUR, ...)"
                )
            })?;
        currencies.push((i, currency_code(code)?));
    }
    if currencies.is_empty() {
        return Err("the header names no currency column such as BTC_USD".into());
    }
    Ok(Layout::Wide { date, currencies })
}

fn date(text: &str) -> Result<Date, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("date {text:?} is not YYYY-MM-DD"))
}

fn price(text: &str, currency: &str) -> Result<rust_decimal::Decimal, String> {
    positive_price(text)
        .ok_or_else(|| format!("{currency} price {text:?} is not a positive decimal number"))
}

/// Parses a whole file. Any error refuses the file. In the wide layout an
/// empty cell means "no price that day"; in both, a price must be positive.
pub fn parse(bytes: &[u8]) -> Result<Vec<Point>, Vec<LineError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let header_error = |message: String| vec![LineError { line: 1, message }];
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| header_error(format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let layout = layout(&headers).map_err(header_error)?;
    let mut points = Vec::new();
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, record) in reader.records().enumerate() {
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(index as u64 + 2, |p| p.line());
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(LineError {
                    line,
                    message: e.to_string(),
                });
                continue;
            }
        };
        let cell = |i: usize| record.get(i).unwrap_or("");
        let row = || -> Result<Vec<Point>, String> {
            match &layout {
                Layout::Long {
                    date: d,
                    currency,
                    price: p,
                } => {
                    let day = date(cell(*d))?;
                    let code = currency_code(cell(*currency))?;
                    Ok(vec![Point::day(&code, day, price(cell(*p), &code)?)])
                }
                Layout::Wide {
                    date: d,
                    currencies,
                } => {
                    let day = date(cell(*d))?;
                    currencies
                        .iter()
                        .filter(|(i, _)| !cell(*i).trim().is_empty())
                        .map(|(i, code)| Ok(Point::day(code, day, price(cell(*i), code)?)))
                        .collect()
                }
            }
        };
        match row() {
            Ok(row) => {
                for point in row {
                    if !seen.insert((point.currency.clone(), point.at)) {
                        errors.push(LineError {
                            line,
                            message: format!(
                                "a second {} price for {}",
                                point.currency,
                                super::utc_day(point.at)
                            ),
                        });
                    }
                    points.push(point);
                }
            }
            Err(message) => errors.push(LineError { line, message }),
        }
    }
    if errors.is_empty() {
        Ok(points)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn the_long_layout_reads_one_price_a_line() {
        let points = parse(b"date,currency,price\n2024-01-02,gbp,35000.5\n2024-01-02,USD,45000\n")
            .expect("parses");
        assert_eq!(
            points,
            vec![
                Point::day(
                    "GBP",
                    jiff::civil::date(2024, 1, 2),
                    Decimal::new(350005, 1)
                ),
                Point::day("USD", jiff::civil::date(2024, 1, 2), Decimal::new(45000, 0)),
            ]
        );
    }

    #[test]
    fn the_wide_layout_reads_a_column_per_currency_and_skips_empty_cells() {
        let points = parse(b"Date,BTC_USD,BTC_EUR\n2012-01-02,5.0,\n2012-01-01,4.58,3.53\n")
            .expect("parses");
        assert_eq!(points.len(), 3);
        assert_eq!(points[2].currency, "EUR");
        assert_eq!(points[2].price, Decimal::new(353, 2));
    }

    #[test]
    fn bad_lines_are_named_and_refuse_the_file() {
        let errors = parse(
            b"date,currency,price\n2024-01-02,USD,0\n2024-13-01,USD,1\n2024-01-03,US,1\n2024-01-04,USD,1\n2024-01-04,USD,2\n",
        )
        .expect_err("refused");
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 6]);
        assert!(
            errors[0].message.contains("not a positive decimal"),
            "{errors:?}"
        );
        assert!(
            errors[3]
                .message
                .contains("a second USD price for 2024-01-04")
        );
    }

    #[test]
    fn an_unknown_header_is_refused_on_line_1() {
        let errors = parse(b"day,usd\n2024-01-01,1\n").expect_err("refused");
        assert_eq!(errors[0].line, 1);
    }
}

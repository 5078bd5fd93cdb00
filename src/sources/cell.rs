//! Reading the cells of exchange and wallet exports: money written for
//! people (`-$1,234.56`, `0.010713949999999999`, `1.5 BTC`) and their many
//! date layouts. Exact decimals throughout; never a binary float.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;

use crate::ledger::Sats;

/// Currency symbols that may stand before (or after) a number.
const SYMBOLS: [char; 6] = ['$', '€', '£', '¥', '₿', '₹'];

/// Fiat currencies recognised in asset columns. Stablecoins are not fiat:
/// a trade against USDT has no fiat value.
const FIAT: [&str; 14] = [
    "USD", "EUR", "GBP", "CAD", "AUD", "CHF", "JPY", "NZD", "SEK", "NOK", "DKK", "PLN", "SGD",
    "HKD",
];

pub fn is_fiat(code: &str) -> bool {
    FIAT.contains(&code.trim().to_ascii_uppercase().as_str())
}

/// Is this asset code bitcoin?
pub fn is_btc(code: &str) -> bool {
    matches!(
        code.trim().to_ascii_uppercase().as_str(),
        "BTC" | "XBT" | "XXBT"
    )
}

/// A decimal as people write it: an optional sign before or after a
/// currency symbol, grouping commas in threes, any number of decimals.
pub fn decimal(text: &str) -> Result<Decimal, String> {
    let bad = || format!("{text:?} is not a number");
    let mut s = text.trim();
    let mut negative = false;
    // `(12.50)` is an accountant's negative.
    if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        negative = true;
        s = inner.trim();
    }
    for _ in 0..2 {
        if let Some(rest) = s.strip_prefix('-') {
            negative = !negative;
            s = rest.trim_start();
        } else if let Some(rest) = s.strip_prefix('+') {
            s = rest.trim_start();
        }
        s = s.trim_start_matches(SYMBOLS).trim_start();
    }
    s = s.trim_end_matches(SYMBOLS).trim_end();
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let grouped = whole.contains(',');
    let whole: std::borrow::Cow<'_, str> = if grouped {
        let groups: Vec<&str> = whole.split(',').collect();
        let first_ok = matches!(groups[0].len(), 1..=3) && digits(groups[0]);
        if !first_ok || !groups[1..].iter().all(|g| g.len() == 3 && digits(g)) {
            return Err(bad());
        }
        groups.concat().into()
    } else {
        whole.into()
    };
    if (whole.is_empty() && fraction.is_empty())
        || !(whole.is_empty() || digits(&whole))
        || !(fraction.is_empty() || digits(fraction))
    {
        return Err(bad());
    }
    let too_big = |_| format!("{text:?} is too large or too precise");
    // The scale stays as written: `800` stays `800`, `4400.0000` too.
    let value: Decimal = if !grouped && !whole.is_empty() && !s.ends_with('.') {
        // The common case, parsed in place.
        s.parse().map_err(too_big)?
    } else {
        let whole = if whole.is_empty() { "0" } else { &whole };
        let text_value = if fraction.is_empty() {
            whole.to_string()
        } else {
            format!("{whole}.{fraction}")
        };
        text_value.parse().map_err(too_big)?
    };
    // No amount in an export comes near this; refusing larger ones keeps
    // every sum and product a parser makes far from overflowing.
    if value.abs() >= Decimal::from(1_000_000_000_000_000_000u64) {
        return Err(format!("{text:?} is too large"));
    }
    Ok(if negative { -value } else { value })
}

/// A decimal glued to an asset code, before or after it: `1.5 BTC`,
/// `0.00100000BTC`, `1,234.56USDT`, `USD 12`. The code is upper-cased.
pub fn amount_with_code(text: &str) -> Result<(Decimal, Option<String>), String> {
    let t = text.trim();
    let is_code = |c: char| c.is_ascii_alphabetic();
    let tail = t.len() - t.trim_end_matches(is_code).len();
    let head = t.len() - t.trim_start_matches(is_code).len();
    let (number, code) = if tail > 0 {
        (&t[..t.len() - tail], &t[t.len() - tail..])
    } else if head > 0 {
        (&t[head..], &t[..head])
    } else {
        (t, "")
    };
    let code = (!code.is_empty()).then(|| code.to_ascii_uppercase());
    Ok((decimal(number)?, code))
}

/// Bitcoin from a decimal number of BTC. A binary-float artefact such as
/// `0.010713949999999999` is rounded to its satoshi; a real fraction of a
/// satoshi is refused.
pub fn btc(value: Decimal) -> Result<Sats, String> {
    let sats = value
        .checked_mul(Decimal::from(100_000_000))
        .ok_or_else(|| format!("{value} BTC is too large"))?;
    let whole = sats.round();
    // A thousandth of a satoshi is far below any real amount and far above
    // the error of a float printed with 17 significant digits.
    if (sats - whole).abs() > Decimal::new(1, 3) {
        return Err(format!(
            "{value} BTC is not a whole number of satoshis (more than 8 decimal places)"
        ));
    }
    // i64::MIN has no positive counterpart: out of range too.
    i64::try_from(whole)
        .ok()
        .filter(|s| *s != i64::MIN)
        .map(Sats)
        .ok_or_else(|| format!("{value} BTC is too large"))
}

/// Bitcoin from the text of a BTC cell.
pub fn btc_cell(text: &str) -> Result<Sats, String> {
    btc(decimal(text)?)
}

/// Satoshis from millisatoshis, to the nearest satoshi (Lightning amounts
/// may hold a fraction of one; the ledger counts whole satoshis).
pub fn msat(text: &str) -> Result<Sats, String> {
    let value = decimal(text)?;
    let sats = (value / Decimal::from(1000))
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointNearestEven);
    i64::try_from(sats)
        .map(Sats)
        .map_err(|_| format!("{text:?} is too large"))
}

/// A civil time in `layout` (strftime), read in `zone`. On a daylight-saving
/// change an ambiguous hour takes its first instance and a skipped one is
/// moved forward, as the generic format does.
pub fn local(text: &str, layout: &str, zone: &TimeZone) -> Result<Timestamp, String> {
    let civil = DateTime::strptime(layout, text.trim())
        .map_err(|_| format!("time {text:?} is not in the layout {layout}"))?;
    in_zone(civil, zone, text)
}

pub fn in_zone(civil: DateTime, zone: &TimeZone, text: &str) -> Result<Timestamp, String> {
    zone.to_ambiguous_timestamp(civil)
        .compatible()
        .map_err(|e| format!("time {text:?} does not exist in the import's time zone: {e}"))
}

/// An ISO-8601 time: with an offset or `Z` it is exact, without one it is
/// read in `zone`. Also takes a space for the `T`, a trailing ` UTC`,
/// fractional seconds and offsets such as `+00`.
pub fn iso(text: &str, zone: &TimeZone) -> Result<Timestamp, String> {
    let t = text.trim();
    let (t, utc) = match t.strip_suffix(" UTC").or_else(|| t.strip_suffix(" GMT")) {
        Some(rest) => (rest, true),
        None => (t, false),
    };
    // Most exports write no offset: only try to read one when there is one.
    let offset = t
        .get(10..)
        .is_some_and(|rest| rest.contains(['Z', 'z', '+', '-']));
    if offset {
        if let Ok(ts) = t.parse::<Timestamp>() {
            return Ok(ts);
        }
        // `+00` is a whole-hour offset that jiff wants as `+00:00`.
        if let Some((body, sign, hours)) = short_offset(t)
            && let Ok(ts) = format!("{body}{sign}{hours}:00").parse::<Timestamp>()
        {
            return Ok(ts);
        }
    }
    let civil: DateTime = t.parse().map_err(|_| {
        format!("time {text:?} is not ISO 8601 (2021-03-04T15:04:05Z or 2021-03-04 15:04:05)")
    })?;
    if utc {
        return in_zone(civil, &TimeZone::UTC, text);
    }
    in_zone(civil, zone, text)
}

fn short_offset(t: &str) -> Option<(&str, char, &str)> {
    let at = t.len().checked_sub(3)?;
    let (body, tail) = t.split_at_checked(at)?;
    let sign = tail.chars().next()?;
    let hours = tail.strip_prefix(['+', '-'])?;
    ((sign == '+' || sign == '-') && hours.bytes().all(|b| b.is_ascii_digit()) && body.len() > 10)
        .then_some((body, sign, hours))
}

/// A 64-digit hexadecimal string: the shape of a txid, and of a Lightning
/// payment hash, which is why the shape alone never makes a txid.
pub fn is_hash(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    #[test]
    fn money_written_for_people_is_read_exactly() {
        assert_eq!(decimal("-$2,455.00"), Ok(d("-2455.00")));
        assert_eq!(decimal("$-12.50"), Ok(d("-12.50")));
        assert_eq!(decimal("$1,234,567.891"), Ok(d("1234567.891")));
        assert_eq!(decimal("€0"), Ok(d("0")));
        assert_eq!(decimal("(3.10)"), Ok(d("-3.10")));
        assert_eq!(decimal("+.5"), Ok(d("0.5")));
        assert_eq!(decimal(" 12.5€ "), Ok(d("12.5")));
        for junk in [
            "", "$", "1,23", "1,2345.6", "1.2.3", "abc", "1e5", "--", "1 000",
        ] {
            assert!(decimal(junk).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn float_artefacts_round_to_the_satoshi_but_real_fractions_do_not() {
        assert_eq!(btc_cell("0.010713949999999999"), Ok(Sats(1_071_395)));
        assert_eq!(btc_cell("0.0107139500000000001"), Ok(Sats(1_071_395)));
        assert_eq!(btc_cell("-1.0000000000"), Ok(Sats(-100_000_000)));
        assert!(btc_cell("0.000000015").is_err());
        // Found by fuzzing: too large to multiply, refused rather than a panic.
        assert!(btc(Decimal::MAX).is_err());
        assert!(decimal("99999999999999999999").is_err());
        assert_eq!(msat("1500"), Ok(Sats(2)));
        assert_eq!(msat("-2500"), Ok(Sats(-2)));
    }

    #[test]
    fn amounts_glued_to_codes_are_split() {
        assert_eq!(
            amount_with_code("0.00100000BTC"),
            Ok((d("0.001"), Some("BTC".into())))
        );
        assert_eq!(
            amount_with_code("1,234.56USDT"),
            Ok((d("1234.56"), Some("USDT".into())))
        );
        assert_eq!(
            amount_with_code("2214.01 EUR"),
            Ok((d("2214.01"), Some("EUR".into())))
        );
        assert_eq!(amount_with_code("12"), Ok((d("12"), None)));
    }

    #[test]
    fn times_are_read_with_their_offset_or_in_the_import_zone() {
        let ny = TimeZone::get("America/New_York").expect("zone");
        let at = |s: &str| iso(s, &ny).expect("time").to_string();
        assert_eq!(at("2021-05-19T13:02:59Z"), "2021-05-19T13:02:59Z");
        assert_eq!(at("2024-01-05 12:00:00 UTC"), "2024-01-05T12:00:00Z");
        assert_eq!(at("2024-01-05 12:00:00+00"), "2024-01-05T12:00:00Z");
        assert_eq!(at("2024-01-05 12:00:00.5+01"), "2024-01-05T11:00:00.5Z");
        // Without an offset: the import's zone, on either side of the
        // daylight-saving change of 10 March 2024.
        assert_eq!(at("2024-03-09 12:00:00"), "2024-03-09T17:00:00Z");
        assert_eq!(at("2024-03-11 12:00:00"), "2024-03-11T16:00:00Z");
        // 02:30 did not exist that night: moved forward an hour.
        assert_eq!(at("2024-03-10 02:30:00"), "2024-03-10T07:30:00Z");
        assert!(iso("yesterday", &ny).is_err());
        // Found by fuzzing: a multi-byte character where an offset would be.
        assert!(iso("2024-01-05 12:00:00ԅ2", &ny).is_err());
    }
}

//! Bitstamp's transaction export: the current layout (currency columns) and
//! the older one (currencies written in the cells, US-style dates).

use rust_decimal::Decimal;

use super::cell::{amount_with_code, btc, decimal, in_zone, is_btc, is_fiat, iso};
use super::format::{Context, Format, Input, Step, tx};
use super::table::Row;
use crate::ledger::Kind;

pub const FORMAT: Format = Format {
    name: "bitstamp",
    label: "Bitstamp transactions",
    account: "bitstamp",
    detect: |h| {
        h.has_all(&[
            "id",
            "type",
            "subtype",
            "datetime",
            "amount",
            "amount currency",
            "value currency",
        ])
    },
    read: |input: &Input<'_>, ctx| input.map(ctx, |r, c| current(r, c).unwrap_or_else(Step::Fail)),
};

pub const OLDER: Format = Format {
    name: "bitstamp-older",
    label: "Bitstamp transactions (older layout)",
    account: "bitstamp",
    detect: |h| {
        h.has_all(&[
            "type", "datetime", "account", "amount", "value", "rate", "fee", "sub type",
        ])
    },
    read: |input: &Input<'_>, ctx| input.map(ctx, |r, c| older(r, c).unwrap_or_else(Step::Fail)),
};

/// One movement, whichever layout it came from.
struct Move<'a> {
    kind: &'a str,
    subtype: &'a str,
    time: jiff::Timestamp,
    amount: (Decimal, String),
    value: Option<(Decimal, String)>,
    fee: Option<(Decimal, String)>,
}

fn build(m: Move<'_>, ctx: &Context) -> Result<Step, String> {
    let (amount, code) = &m.amount;
    if !is_btc(code) {
        let what = if is_fiat(code) {
            "a fiat-only row"
        } else {
            "not bitcoin"
        };
        return Ok(Step::Skip(format!("{} of {code}: {what}", m.kind)));
    }
    let mut t = tx(ctx, m.time, Kind::Deposit, btc(amount.abs())?);
    if let Some((fee, code)) = &m.fee {
        if is_btc(code) {
            t.fee_btc = btc(fee.abs())?;
        } else if is_fiat(code) {
            t.fee_fiat = fee.abs();
            t.currency = Some(code.clone());
        }
    }
    let kind = m.kind.to_ascii_lowercase();
    let sub = m.subtype.to_ascii_lowercase();
    t.kind = match (kind.as_str(), sub.as_str()) {
        (_, "buy" | "sell") => {
            let buy = sub == "buy";
            match &m.value {
                Some((value, code)) if is_fiat(code) => {
                    if t.currency.as_ref().is_some_and(|c| c != code) {
                        return Err(format!("the fee is in {code} but the value is not"));
                    }
                    t.fiat_value = Some(value.abs());
                    t.currency = Some(code.clone());
                    if buy { Kind::Buy } else { Kind::Sell }
                }
                Some((_, code)) => {
                    t.fee_fiat = Decimal::ZERO;
                    t.currency = None;
                    t.note = Some(format!("traded for {code} on Bitstamp"));
                    if buy { Kind::Deposit } else { Kind::Withdrawal }
                }
                None => return Err("a trade without its value".into()),
            }
        }
        ("deposit", _) => Kind::Deposit,
        ("withdrawal", _) => Kind::Withdrawal,
        (k, s) if k.contains("reward") || s.contains("reward") => Kind::Income,
        _ => return Err(format!("unknown type {:?} {:?}", m.kind, m.subtype)),
    };
    if !t.kind.requires_fiat_value() && t.fiat_value.is_none() && t.fee_fiat.is_zero() {
        t.currency = None;
    }
    Ok(Step::Keep(t))
}

fn current(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let with_code = |amount: &str, code: &str| -> Result<Option<(Decimal, String)>, String> {
        match (row.get(amount), row.get(code)) {
            (Some(a), Some(c)) => Ok(Some((decimal(a)?, c.to_ascii_uppercase()))),
            _ => Ok(None),
        }
    };
    let amount = with_code("amount", "amount currency")?.ok_or("amount is empty")?;
    let step = build(
        Move {
            kind: row.need("type")?,
            subtype: row.get("subtype").unwrap_or(""),
            time: iso(row.need("datetime")?, ctx.zone)?,
            amount,
            value: with_code("value", "value currency")?,
            fee: with_code("fee", "fee currency")?,
        },
        ctx,
    )?;
    Ok(match step {
        Step::Keep(mut t) => {
            t.id = row.get("id").map(str::to_string);
            Step::Keep(t)
        }
        other => other,
    })
}

/// `Jan. 28, 2022, 12:13 AM` in the import's time zone.
fn older_time(text: &str, ctx: &Context) -> Result<jiff::Timestamp, String> {
    let (month, rest) = text
        .trim()
        .split_once(' ')
        .ok_or("a date without a month")?;
    let month: String = month.chars().take(3).collect();
    let civil = jiff::civil::DateTime::strptime("%b %d, %Y, %I:%M %p", format!("{month} {rest}"))
        .map_err(|_| format!("time {text:?} is not like Jan. 28, 2022, 12:13 AM"))?;
    in_zone(civil, ctx.zone, text)
}

fn older(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let cell = |name: &str| -> Result<Option<(Decimal, String)>, String> {
        row.get(name)
            .map(|v| match amount_with_code(v)? {
                (d, Some(code)) => Ok((d, code)),
                (_, None) => Err(format!("{name} {v:?} does not name its currency")),
            })
            .transpose()
    };
    build(
        Move {
            kind: row.need("type")?,
            subtype: row.get("sub type").unwrap_or(""),
            time: older_time(row.need("datetime")?, ctx)?,
            amount: cell("amount")?.ok_or("amount is empty")?,
            value: cell("value")?,
            fee: cell("fee")?,
        },
        ctx,
    )
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn the_current_layout_becomes_these_rows() {
        let (csv, skipped) = convert("bitstamp.csv", "bitstamp", "UTC", "bitstamp");
        assert_rows(
            &csv,
            "101,2023-01-02T08:00:00Z,deposit,bitstamp,0.50000000,,,,,,,
             103,2023-01-10T12:30:00Z,buy,bitstamp,0.10000000,1800.00,EUR,,9.00,,,
             104,2023-01-10T12:30:01Z,buy,bitstamp,0.05000000,900.00,EUR,,4.50,,,
             105,2023-02-14T09:00:00Z,sell,bitstamp,0.20000000,4400.00,EUR,,22.00,,,
             106,2023-03-01T10:00:00Z,withdrawal,bitstamp,0.30000000,,,0.00050000,,,,
             107,2023-04-01T00:00:00Z,income,bitstamp,0.00012000,,,,,,,
             108,2023-05-05T05:05:05Z,sell,bitstamp,0.01071395,300.00,USD,,1.50,,,
             110,2023-06-01T12:00:00Z,deposit,bitstamp,0.04000000,,,,,,,traded for USDT on Bitstamp
             111,2023-07-01T12:00:00Z,buy,bitstamp,1.00000000,30000.00,USD,,45.00,,,",
        );
        assert_eq!(skipped, vec![3, 10]);
    }

    #[test]
    fn the_older_layout_reads_dates_in_the_import_zone() {
        let (csv, skipped) = convert(
            "bitstamp-older.csv",
            "bitstamp-older",
            "Europe/Berlin",
            "bitstamp",
        );
        assert_rows(
            &csv,
            ",2022-01-27T23:13:00Z,buy,bitstamp,1.00000000,2214.01,EUR,,5.50,,,
             ,2022-03-27T00:30:00Z,deposit,bitstamp,0.25000000,,,,,,,
             ,2022-03-27T01:30:00Z,withdrawal,bitstamp,0.10000000,,,0.00050000,,,,
             ,2022-07-04T10:00:00Z,sell,bitstamp,0.50000000,9800.00,EUR,,24.50,,,
             ,2022-09-20T21:45:00Z,buy,bitstamp,0.01000000,190.00,EUR,,0.95,,,
             ,2022-10-30T00:15:00Z,buy,bitstamp,0.02000000,400.00,EUR,,2.00,,,
             ,2022-10-30T00:15:00Z,buy,bitstamp,0.02000000,401.00,EUR,,2.00,,,
             ,2022-11-01T11:00:00Z,sell,bitstamp,0.05000000,1000.00,EUR,,5.00,,,
             ,2022-12-24T17:00:00Z,buy,bitstamp,0.10000000,1600.00,EUR,,8.00,,,",
        );
        assert_eq!(skipped, vec![3]);
    }
}

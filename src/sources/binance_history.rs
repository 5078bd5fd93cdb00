//! Binance's other exports: trade history (amounts glued to their asset
//! code), and the crypto deposit and withdrawal histories (the offset in
//! the date column's name, two-digit years, only Completed rows). The fiat
//! histories move no bitcoin: every row is skipped with a warning.

use jiff::tz::{Offset, TimeZone};
use rust_decimal::Decimal;

use super::cell::{amount_with_code, btc, decimal, in_zone, is_btc, is_fiat};
use super::format::{Context, Format, Input, Outcome, Step, tx};
use super::table::{Header, Row};
use crate::ledger::Kind;

pub const TRADES: Format = Format {
    name: "binance-trades",
    label: "Binance trade history",
    account: "binance",
    detect: |h| {
        h.has("date(utc)")
            && (h.has_all(&["pair", "side", "executed", "amount", "fee"])
                || h.has_all(&["market", "type", "amount", "total", "fee", "fee coin"]))
    },
    read: |input: &Input<'_>, ctx| input.map(ctx, |r, c| trade(r, c).unwrap_or_else(Step::Fail)),
};

pub const TRANSFERS: Format = Format {
    name: "binance-transfers",
    label: "Binance crypto deposit or withdrawal history",
    account: "binance",
    detect: |h| {
        date_column(h).is_some()
            && h.has_all(&["coin", "network", "amount", "address", "txid", "status"])
    },
    read: read_transfers,
};

pub const FIAT: Format = Format {
    name: "binance-fiat",
    label: "Binance fiat deposit or withdrawal history",
    account: "binance",
    detect: |h| {
        date_column(h).is_some() && h.has_all(&["coin", "amount", "status", "payment method"])
    },
    read: |input: &Input<'_>, ctx| {
        input.map(ctx, |_, _| {
            Step::Skip("a fiat-only row, no bitcoin moves".into())
        })
    },
};

/// `date(utc+8)`: the column and its offset in hours.
fn date_column(h: &Header) -> Option<(usize, i8)> {
    let i = h.find(|n| n.starts_with("date(utc"))?;
    let inside = h.names[i].strip_prefix("date(utc")?.strip_suffix(')')?;
    // Real offsets run from UTC-12 to UTC+14; anything else is not a
    // Binance header (and no clock could be built from it).
    let hours = if inside.is_empty() {
        0
    } else {
        inside
            .parse::<i8>()
            .ok()
            .filter(|h| (-12..=14).contains(h))?
    };
    Some((i, hours))
}

/// `2024-01-05 10:00:00` or `24-01-05 10:00:00` at a fixed offset.
fn time(text: &str, hours: i8) -> Result<jiff::Timestamp, String> {
    let t = text.trim();
    let full = if t.find('-') == Some(2) {
        format!("20{t}")
    } else {
        t.to_string()
    };
    let civil: jiff::civil::DateTime = full
        .parse()
        .map_err(|_| format!("time {text:?} is not YYYY-MM-DD HH:MM:SS"))?;
    in_zone(civil, &TimeZone::fixed(Offset::constant(hours)), text)
}

fn split_market(market: &str) -> Option<(&str, &str)> {
    ["BTC", "XBT"]
        .iter()
        .find_map(|b| market.strip_prefix(b).map(|q| (&market[..3], q)))
        .or_else(|| market.strip_suffix("BTC").map(|b| (b, "BTC")))
}

fn trade(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let market = row
        .get("pair")
        .or_else(|| row.get("market"))
        .ok_or("the pair is empty")?
        .to_ascii_uppercase();
    let side = row
        .get("side")
        .or_else(|| row.get("type"))
        .ok_or("the side is empty")?;
    let buy = side.eq_ignore_ascii_case("buy");
    let Some((base, quote)) = split_market(&market) else {
        return Ok(Step::Skip(format!("{market}: not a bitcoin market")));
    };
    let new_layout = row.header().has("executed");
    let (base_amount, quote_amount, fee, fee_coin): (Decimal, Decimal, Decimal, String) =
        if new_layout {
            let (e, _) = amount_with_code(row.need("executed")?)?;
            let (a, _) = amount_with_code(row.need("amount")?)?;
            let (f, c) = amount_with_code(row.need("fee")?)?;
            (e, a, f, c.unwrap_or_default())
        } else {
            (
                decimal(row.need("amount")?)?,
                decimal(row.need("total")?)?,
                decimal(row.need("fee")?)?,
                row.get("fee coin").unwrap_or("").to_ascii_uppercase(),
            )
        };
    let time = time(row.need("date(utc)")?, 0)?;
    let fee = fee.abs();
    let mut t = if is_btc(base) {
        let mut t = tx(ctx, time, Kind::Deposit, btc(base_amount.abs())?);
        if is_btc(&fee_coin) {
            t.fee_btc = btc(fee)?;
            if buy {
                t.btc = t.btc - t.fee_btc;
            }
        }
        if is_fiat(quote) {
            t.kind = if buy { Kind::Buy } else { Kind::Sell };
            t.fiat_value = Some(quote_amount.abs());
            t.currency = Some(quote.to_string());
            if fee_coin == quote {
                t.fee_fiat = fee;
            }
        } else {
            t.kind = if buy { Kind::Deposit } else { Kind::Withdrawal };
            t.note = Some(format!("traded for {quote} on Binance"));
        }
        t
    } else {
        // Another coin bought (or sold) for bitcoin.
        let kind = if buy { Kind::Withdrawal } else { Kind::Deposit };
        let mut t = tx(ctx, time, kind, btc(quote_amount.abs())?);
        if is_btc(&fee_coin) {
            // A seller pays the commission in what it receives: bitcoin
            // here, which then arrives less the commission (a buyer paying
            // in bitcoin pays it on top of the bitcoin spent).
            t.fee_btc = btc(fee)?;
            if !buy {
                t.btc = t.btc - t.fee_btc;
            }
        }
        t.note = Some(format!("traded for {base} on Binance"));
        t
    };
    t.id = None;
    Ok(Step::Keep(t))
}

fn read_transfers(input: &Input<'_>, ctx: &Context) -> Outcome {
    let (at, hours) = date_column(input.header).unwrap_or((0, 0));
    // Only the withdrawal history has a fee column.
    let withdrawals = input.header.has("fee");
    input.map(ctx, |row, ctx| {
        (|| -> Result<Step, String> {
            let coin = row.need("coin")?;
            if !is_btc(coin) {
                return Ok(Step::Skip(format!("{coin}: not bitcoin")));
            }
            let status = row.get("status").unwrap_or("");
            if !status.eq_ignore_ascii_case("completed") {
                return Ok(Step::Skip(format!("{status}, not completed")));
            }
            let when = row.at(at).ok_or("the date is empty")?;
            let kind = if withdrawals {
                Kind::Withdrawal
            } else {
                Kind::Deposit
            };
            let mut t = tx(
                ctx,
                time(when, hours)?,
                kind,
                btc(decimal(row.need("amount")?)?.abs())?,
            );
            if withdrawals {
                t.fee_btc = btc(row
                    .get("fee")
                    .map(decimal)
                    .transpose()?
                    .unwrap_or_default()
                    .abs())?;
            }
            t.txid = row.get("txid").map(str::to_string);
            t.id = t.txid.clone();
            Ok(Step::Keep(t))
        })()
        .unwrap_or_else(Step::Fail)
    })
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn trade_history_becomes_these_rows() {
        let (csv, skipped) = convert("binance-trades.csv", "binance-trades", "UTC", "binance");
        assert_rows(
            &csv,
            ",2024-01-05T10:00:00Z,buy,binance,0.00099900,40.00,EUR,0.00000100,,,,
             ,2024-01-06T11:00:00Z,sell,binance,0.01000000,420.00,EUR,,0.42,,,
             ,2024-01-07T12:00:00Z,deposit,binance,0.02000000,,,,,,,traded for USDT on Binance
             ,2024-01-08T13:00:00Z,withdrawal,binance,0.03000000,,,,,,,traded for ETH on Binance
             ,2024-02-01T00:00:00Z,buy,binance,0.01071395,1234.56,EUR,,1.23,,,
             ,2024-02-02T00:00:00Z,sell,binance,0.50000000,21000.00,EUR,,21.00,,,
             ,2024-02-03T00:00:00Z,buy,binance,0.10000000,4200.00,EUR,,4.20,,,
             ,2024-02-04T00:00:00Z,sell,binance,0.00500000,210.00,GBP,,0.21,,,
             ,2024-02-05T00:00:00Z,buy,binance,0.00200000,84.00,EUR,,,,,
             ,2024-02-06T00:00:00Z,deposit,binance,0.04995000,,,0.00005000,,,,traded for ETH on Binance",
        );
        assert_eq!(skipped, vec![6]);
    }

    #[test]
    fn withdrawal_history_becomes_these_rows() {
        let (csv, skipped) = convert(
            "binance-withdrawals.csv",
            "binance-transfers",
            "UTC",
            "binance",
        );
        let h = |n: u8| format!("{n:02x}").repeat(32);
        assert_rows(
            &csv,
            &format!(
                "{a},2024-01-05T02:00:00Z,withdrawal,binance,0.10000000,,,0.00020000,,,{a},
                 {b},2024-01-06T02:00:00Z,withdrawal,binance,0.20000000,,,0.00020000,,,{b},
                 {d},2024-02-01T02:00:00Z,withdrawal,binance,0.01071395,,,0.00001000,,,{d},
                 {e},2024-03-01T02:00:00Z,withdrawal,binance,0.05000000,,,0.00020000,,,{e},
                 {f},2024-04-01T02:00:00Z,withdrawal,binance,0.06000000,,,0.00020000,,,{f},
                 {g},2024-05-01T02:00:00Z,withdrawal,binance,0.07000000,,,0.00020000,,,{g},
                 {i},2024-06-01T02:00:00Z,withdrawal,binance,0.08000000,,,0.00020000,,,{i},",
                a = h(0x61),
                b = h(0x62),
                d = h(0x64),
                e = h(0x65),
                f = h(0x66),
                g = h(0x67),
                i = h(0x69),
            ),
        );
        assert_eq!(skipped, vec![4, 6, 10]);
    }
}

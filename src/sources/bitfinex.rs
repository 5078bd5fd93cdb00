//! Bitfinex's trades and movements reports. Dates are in the format and
//! zone the user picked when exporting (day first by default): read in the
//! import's zone. Only completed movements count. The ledgers report is
//! read by `bitfinex_ledgers`.

use rust_decimal::Decimal;

use super::cell::{btc, decimal, in_zone, is_btc, is_fiat, iso};
use super::format::{Context, Format, Input, Step, tx};
use super::table::Row;
use crate::ledger::Kind;

pub const TRADES: Format = Format {
    name: "bitfinex-trades",
    label: "Bitfinex trades",
    account: "bitfinex",
    detect: |h| {
        h.has_all(&[
            "#",
            "pair",
            "amount",
            "price",
            "fee",
            "fee currency",
            "date",
        ])
    },
    read: |input: &Input<'_>, ctx| input.map(ctx, |r, c| trade(r, c).unwrap_or_else(Step::Fail)),
};

pub const MOVEMENTS: Format = Format {
    name: "bitfinex-movements",
    label: "Bitfinex deposits and withdrawals",
    account: "bitfinex",
    detect: |h| {
        h.has_all(&[
            "#",
            "date",
            "currency",
            "status",
            "amount",
            "fees",
            "transaction id",
        ])
    },
    read: |input: &Input<'_>, ctx| input.map(ctx, |r, c| movement(r, c).unwrap_or_else(Step::Fail)),
};

/// `05-01-24 10:00:00` (day first), `05-01-2024 10:00:00`, or ISO 8601.
pub(super) fn time(text: &str, ctx: &Context) -> Result<jiff::Timestamp, String> {
    for layout in [
        "%d-%m-%y %H:%M:%S",
        "%d-%m-%Y %H:%M:%S",
        "%d-%m-%y %H:%M",
        "%d-%m-%Y %H:%M",
    ] {
        if let Ok(civil) = jiff::civil::DateTime::strptime(layout, text.trim()) {
            return in_zone(civil, ctx.zone, text);
        }
    }
    iso(text, ctx.zone)
}

/// `BTC/USD`, `BTCUSD`, `tBTCUSD`, `BTC:USD`.
fn pair(text: &str) -> (String, String) {
    let t = text.trim().trim_start_matches('t').to_ascii_uppercase();
    if let Some((b, q)) = t.split_once(['/', ':']) {
        return (b.to_string(), q.to_string());
    }
    let at = t.len().saturating_sub(3);
    match t.split_at_checked(at) {
        Some((b, q)) => (b.to_string(), q.to_string()),
        None => (t.clone(), String::new()),
    }
}

fn trade(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let (base, quote) = pair(row.need("pair")?);
    if !is_btc(&base) {
        return Ok(Step::Skip(format!("{base}/{quote}: not a bitcoin market")));
    }
    let amount = decimal(row.need("amount")?)?;
    let price = decimal(row.need("price")?)?;
    let fee = decimal(row.get("fee").unwrap_or("0"))?.abs();
    let fee_currency = row.get("fee currency").unwrap_or("").to_ascii_uppercase();
    let buy = amount.is_sign_positive();
    let mut t = tx(
        ctx,
        time(row.need("date")?, ctx)?,
        Kind::Buy,
        btc(amount.abs())?,
    );
    if is_btc(&fee_currency) {
        t.fee_btc = btc(fee)?;
        if buy {
            // The fee came out of the bitcoin bought.
            t.btc = t.btc - t.fee_btc;
        }
    }
    if is_fiat(&quote) {
        t.kind = if buy { Kind::Buy } else { Kind::Sell };
        let value = btc(amount.abs())?.to_btc().checked_mul(price);
        t.fiat_value = Some(value.ok_or("the value is too large")?.normalize());
        t.currency = Some(quote.clone());
        if fee_currency == quote {
            t.fee_fiat = fee;
        }
    } else {
        t.kind = if buy { Kind::Deposit } else { Kind::Withdrawal };
        t.note = Some(format!("traded for {quote} on Bitfinex"));
    }
    t.id = row.get("#").map(str::to_string);
    Ok(Step::Keep(t))
}

fn movement(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let currency = row.need("currency")?;
    let status = row.get("status").unwrap_or("");
    if !is_btc(currency) {
        return Ok(Step::Skip(format!("{currency}: no bitcoin moves")));
    }
    if !status.eq_ignore_ascii_case("completed") {
        return Ok(Step::Skip(format!("a movement {status}, not completed")));
    }
    let amount: Decimal = decimal(row.need("amount")?)?;
    let kind = if amount.is_sign_positive() {
        Kind::Deposit
    } else {
        Kind::Withdrawal
    };
    let mut t = tx(ctx, time(row.need("date")?, ctx)?, kind, btc(amount.abs())?);
    if kind == Kind::Withdrawal {
        t.fee_btc = btc(decimal(row.get("fees").unwrap_or("0"))?.abs())?;
    }
    t.id = row.get("#").map(str::to_string);
    t.txid = row.get("transaction id").map(str::to_string);
    t.note = row.get("note").map(str::to_string);
    Ok(Step::Keep(t))
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn pairs_with_characters_past_ascii_are_not_split_inside_them() {
        assert_eq!(super::pair("Bԅ12"), ("Bԅ12".to_string(), String::new()));
        assert_eq!(
            super::pair("tBTCUSD"),
            ("BTC".to_string(), "USD".to_string())
        );
    }

    #[test]
    fn trades_become_these_rows() {
        let (csv, skipped) = convert("bitfinex-trades.csv", "bitfinex-trades", "UTC", "bitfinex");
        assert_rows(
            &csv,
            "1,2024-01-05T10:00:00Z,buy,bitfinex,0.09980000,4400,USD,0.00020000,,,,
             2,2024-01-06T11:30:00Z,sell,bitfinex,0.05000000,2250,USD,,4.5,,,
             3,2024-02-01T09:00:00Z,buy,bitfinex,0.01071395,428.558,EUR,,0.86,,,
             4,2024-02-02T09:00:00Z,withdrawal,bitfinex,0.02000000,,,,,,,traded for UST on Bitfinex
             6,2024-03-01T00:00:00Z,buy,bitfinex,1.00000000,60000,USD,,120.00,,,
             7,2024-03-02T00:00:00Z,sell,bitfinex,0.50000000,30500,USD,,61.00,,,
             8,2024-03-03T00:00:00Z,buy,bitfinex,0.00100000,61,USD,,0.12,,,
             9,2024-03-04T00:00:00Z,sell,bitfinex,0.00200000,124,USD,,0.25,,,
             10,2024-03-05T00:00:00Z,buy,bitfinex,0.00300000,186,USD,,0.37,,,",
        );
        assert_eq!(skipped, vec![6]);
    }

    #[test]
    fn completed_bitcoin_movements_become_these_rows() {
        let (csv, skipped) = convert(
            "bitfinex-movements.csv",
            "bitfinex-movements",
            "Europe/Zurich",
            "bitfinex",
        );
        let h = |n: u8| format!("{n:02x}").repeat(32);
        assert_rows(
            &csv,
            &format!(
                "11,2024-01-02T09:00:00Z,deposit,bitfinex,0.50000000,,,,,,{a},
                 13,2024-02-01T11:00:00Z,withdrawal,bitfinex,0.10000000,,,0.00040000,,,{b},to cold
                 15,2024-03-31T00:30:00Z,deposit,bitfinex,0.01071395,,,,,,{c},
                 16,2024-03-31T01:30:00Z,withdrawal,bitfinex,0.20000000,,,0.00040000,,,{d},
                 18,2024-06-01T10:00:00Z,deposit,bitfinex,0.00100000,,,,,,{e},
                 19,2024-07-01T10:00:00Z,deposit,bitfinex,0.00200000,,,,,,{f},
                 20,2024-08-01T10:00:00Z,withdrawal,bitfinex,0.00300000,,,0.00010000,,,{g},",
                a = h(0x51),
                b = h(0x53),
                c = h(0x55),
                d = h(0x56),
                e = h(0x58),
                f = h(0x59),
                g = h(0x5a),
            ),
        );
        assert_eq!(skipped, vec![3, 5, 8]);
    }
}

//! Gemini's transaction history: one column set per asset (`BTC Amount
//! BTC`, `USD Amount USD`), signed amounts, a totals line at the end.

use jiff::tz::TimeZone;
use rust_decimal::Decimal;

use super::cell::{btc, decimal, is_fiat, iso};
use super::format::{Context, Format, Input, Outcome, Step, tx};
use super::table::Row;
use crate::ledger::Kind;

pub const FORMAT: Format = Format {
    name: "gemini",
    label: "Gemini transaction history",
    account: "gemini",
    detect: |h| h.has_all(&["date", "time (utc)", "type", "symbol", "specification"]),
    read,
};

fn read(input: &Input<'_>, ctx: &Context) -> Outcome {
    input.map(ctx, |row, ctx| step(row, ctx).unwrap_or_else(Step::Fail))
}

/// `(0.1 BTC)`, `$1,700.00`, `0.0 BTC`: the code is known from the column.
fn amount(row: &Row<'_>, column: &str) -> Result<Option<Decimal>, String> {
    row.get(column)
        .map(|v| {
            let bare: String = v
                .chars()
                .filter(|c| !c.is_ascii_alphabetic() && *c != ' ')
                .collect();
            decimal(&bare).map_err(|_| format!("{column}: {v:?} is not an amount"))
        })
        .transpose()
}

fn step(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let Some(date) = row.get("date") else {
        return Ok(Step::Skip("the totals line".into()));
    };
    let time = iso(
        &format!("{date} {}", row.need("time (utc)")?),
        &TimeZone::UTC,
    )?;
    let kind = row.need("type")?;
    let symbol = row.need("symbol")?.to_ascii_uppercase();
    let coins = amount(row, "btc amount btc")?.unwrap_or_default();
    if coins.is_zero() {
        let what = if is_fiat(&symbol) {
            "a fiat-only row"
        } else {
            "no bitcoin moves"
        };
        return Ok(Step::Skip(format!("{kind} {symbol}: {what}")));
    }
    let mut t = tx(ctx, time, Kind::Deposit, btc(coins.abs())?);
    t.fee_btc = btc(amount(row, "fee (btc) btc")?.unwrap_or_default().abs())?;
    let spec = row.get("specification").unwrap_or("").to_ascii_lowercase();
    t.kind = match kind.to_ascii_lowercase().as_str() {
        side @ ("buy" | "sell") => {
            let buy = side == "buy";
            let quote = symbol
                .strip_prefix("BTC")
                .unwrap_or("")
                .to_ascii_lowercase();
            if is_fiat(&quote) {
                let value = amount(row, &format!("{quote} amount {quote}"))?
                    .ok_or_else(|| format!("the {} amount is empty", quote.to_uppercase()))?;
                t.fiat_value = Some(value.abs());
                t.fee_fiat = amount(row, &format!("fee ({quote}) {quote}"))?
                    .unwrap_or_default()
                    .abs();
                t.currency = Some(quote.to_uppercase());
                if buy { Kind::Buy } else { Kind::Sell }
            } else {
                t.note = Some(format!("traded on {symbol} at Gemini"));
                if buy { Kind::Deposit } else { Kind::Withdrawal }
            }
        }
        "credit" if spec.contains("interest") || spec.contains("reward") => Kind::Income,
        "credit" => Kind::Deposit,
        "debit" => Kind::Withdrawal,
        other => return Err(format!("unknown type {other:?}")),
    };
    if matches!(t.kind, Kind::Deposit | Kind::Withdrawal) && t.note.is_none() {
        t.txid = row.get("tx hash").map(str::to_string);
    }
    t.id = row
        .get("trade id")
        .or(t.txid.as_deref())
        .map(str::to_string);
    Ok(Step::Keep(t))
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn the_history_becomes_these_rows() {
        let (csv, skipped) = convert("gemini.csv", "gemini", "UTC", "gemini");
        let h1 = "a1".repeat(32);
        let h2 = "b2".repeat(32);
        assert_rows(
            &csv,
            &format!(
                "G1,2023-01-04T10:15:30.123Z,buy,gemini,0.10000000,1700.00,USD,,5.95,,,
                 G2,2023-01-05T11:00:00Z,buy,gemini,0.05000000,850.00,USD,,1.70,,,
                 G3,2023-02-01T08:00:00Z,sell,gemini,0.10000000,2300.00,USD,,4.60,,,
                 {h1},2023-02-10T12:00:00Z,deposit,gemini,0.50000000,,,,,,{h1},
                 {h2},2023-03-01T12:00:00Z,withdrawal,gemini,0.20000000,,,0.00010000,,,{h2},
                 ,2023-03-15T00:00:00Z,income,gemini,0.00001234,,,,,,,
                 G5,2023-04-02T09:30:00Z,sell,gemini,0.01071395,300.00,USD,,1.05,,,
                 G6,2023-05-01T10:00:00Z,buy,gemini,0.20000000,5600.00,USD,,19.60,,,"
            ),
        );
        assert_eq!(skipped, vec![2, 9, 12, 13]);
    }
}

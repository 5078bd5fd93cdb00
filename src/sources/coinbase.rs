//! Coinbase's transaction history: the 2024 layout (an id column, signed
//! quantities, three lines above the header) and the 2021-2023 layouts
//! (positive quantities, a disclaimer above, the fiat code in the column
//! names before mid-2021).

use rust_decimal::Decimal;

use super::cell::{btc, decimal, is_btc, is_fiat, iso};
use super::format::{Context, Format, Input, Outcome, Step, tx};
use super::table::{Header, Row};
use crate::ledger::Kind;

pub const FORMAT: Format = Format {
    name: "coinbase",
    label: "Coinbase transaction history",
    account: "coinbase",
    detect: |h| {
        h.has_all(&[
            "timestamp",
            "transaction type",
            "asset",
            "quantity transacted",
        ])
    },
    read,
};

/// Where the fiat columns are: their names changed between layouts.
struct Columns {
    currency: Option<usize>,
    /// The fiat code written in the column names (`USD Subtotal`).
    named_fiat: Option<String>,
    subtotal: Option<usize>,
    total: Option<usize>,
    fees: Option<usize>,
    /// Quantities carry their sign (2024 layout) or are all positive.
    signed: bool,
}

fn columns(h: &Header) -> Columns {
    let named_fiat = h
        .find(|n| n.ends_with("spot price at transaction"))
        .and_then(|i| h.names[i].split_whitespace().next().map(str::to_uppercase))
        .filter(|code| is_fiat(code));
    Columns {
        currency: h.find(|n| n.ends_with("price currency")),
        named_fiat,
        subtotal: h.find(|n| n.ends_with("subtotal")),
        total: h.find(|n| n.contains("total (inclusive")),
        fees: h.find(|n| n.ends_with("fees") || n.ends_with("fees and/or spread")),
        signed: h.has("id"),
    }
}

fn read(input: &Input<'_>, ctx: &Context) -> Outcome {
    let cols = columns(input.header);
    input.map(ctx, |row, ctx| {
        step(row, ctx, &cols).unwrap_or_else(Step::Fail)
    })
}

fn money(row: &Row<'_>, at: Option<usize>) -> Result<Option<Decimal>, String> {
    at.and_then(|i| row.at(i))
        .map(|v| decimal(v).map(|d| d.abs()))
        .transpose()
}

fn step(row: &Row<'_>, ctx: &Context, cols: &Columns) -> Result<Step, String> {
    let kind_text = row.need("transaction type")?;
    let asset = row.need("asset")?;
    if !is_btc(asset) {
        return Ok(Step::Skip(if is_fiat(asset) {
            format!("{kind_text} of {asset}: a fiat-only row, no bitcoin moves")
        } else {
            format!("{kind_text} of {asset}: not bitcoin")
        }));
    }
    let quantity = decimal(row.need("quantity transacted")?)?;
    let time = iso(row.need("timestamp")?, ctx.zone)?;
    let subtotal = money(row, cols.subtotal)?;
    let total = money(row, cols.total)?;
    let fees = money(row, cols.fees)?.unwrap_or_default();
    let lower = kind_text.to_ascii_lowercase();
    // Total is what was really paid or received; the gap to Subtotal is the
    // whole cost of the trade, spread included, which Fees may leave out.
    let (kind, fee_fiat) = match lower.as_str() {
        "buy" | "advanced trade buy" | "advance trade buy" => (
            Kind::Buy,
            match (total, subtotal) {
                (Some(t), Some(s)) if t >= s => t - s,
                _ => fees,
            },
        ),
        "sell" | "advanced trade sell" | "advance trade sell" => (
            Kind::Sell,
            match (total, subtotal) {
                (Some(t), Some(s)) if t <= s => s - t,
                _ => fees,
            },
        ),
        "convert" if cols.signed && quantity.is_sign_positive() => (Kind::Buy, fees),
        "convert" => (Kind::Sell, fees),
        "send" | "withdrawal" | "pro withdrawal" => (Kind::Withdrawal, Decimal::ZERO),
        "receive" | "deposit" | "pro deposit" => (Kind::Deposit, Decimal::ZERO),
        other
            if [
                "reward",
                "earn",
                "income",
                "interest",
                "staking",
                "inflation",
            ]
            .iter()
            .any(|w| other.contains(w)) =>
        {
            (Kind::Income, Decimal::ZERO)
        }
        _ => return Err(format!("unknown transaction type {kind_text:?}")),
    };
    let mut t = tx(ctx, time, kind, btc(quantity.abs())?);
    t.id = row.get("id").map(str::to_string);
    t.note = row.get("notes").map(str::to_string);
    t.fiat_value = subtotal;
    t.fee_fiat = fee_fiat;
    if t.fiat_value.is_some() || !fee_fiat.is_zero() {
        t.currency = cols
            .currency
            .and_then(|i| row.at(i))
            .map(str::to_uppercase)
            .or_else(|| cols.named_fiat.clone());
    }
    Ok(Step::Keep(t))
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn the_2024_layout_becomes_these_rows() {
        let (csv, skipped) = convert("coinbase-2024.csv", "coinbase", "UTC", "coinbase");
        assert_rows(
            &csv,
            "cb-12,2024-06-01T09:00:00Z,withdrawal,coinbase,0.01071395,717.83,USD,,,,,Sent 0.01071395 BTC to bc1qexampleaddress0000000000000000000000
             cb-10,2024-05-15T12:00:00Z,sell,coinbase,0.05000000,3050.00,USD,,18.30,,,Sold 0.05 BTC
             cb-9,2024-04-10T08:00:00Z,sell,coinbase,0.01000000,700.00,USD,,,,,Converted 0.01 BTC to 0.2 ETH
             cb-7,2024-03-01T00:00:05Z,income,coinbase,0.00001000,0.62,USD,,,,,
             cb-6,2024-02-14T18:45:00Z,deposit,coinbase,0.25000000,12375.00,USD,,,,,Received 0.25 BTC from an external account
             cb-5,2024-02-01T10:00:00Z,buy,coinbase,0.02000000,850.00,USD,,12.49,,,\"Bought 0.02 BTC for $862.49, fees included\"
             cb-4,2024-01-15T10:00:00Z,buy,coinbase,0.10000000,4200.00,USD,,62.50,,,
             cb-3,2024-01-10T09:00:00Z,buy,coinbase,0.00500000,230.00,USD,,1.38,,,
             cb-1,2024-01-02T12:00:00Z,income,coinbase,0.00010000,4.50,USD,,,,,",
        );
        assert_eq!(skipped, vec![6, 9, 15]);
    }

    #[test]
    fn the_2021_layout_with_the_fiat_in_the_column_names_becomes_these_rows() {
        let (csv, skipped) = convert("coinbase-2021.csv", "coinbase", "UTC", "coinbase");
        assert_rows(
            &csv,
            ",2021-01-04T10:00:00Z,buy,coinbase,0.10000000,3200.00,USD,,47.71,,,\"Bought 0.1000 BTC for $3,247.71 USD\"
             ,2021-01-10T12:00:00Z,withdrawal,coinbase,0.05000000,,,,,,,Sent 0.05 BTC to 1ExampleAddress
             ,2021-02-01T09:30:00Z,deposit,coinbase,0.01000000,,,,,,,Received 0.01 BTC from an external account
             ,2021-02-15T16:00:00Z,income,coinbase,0.00012345,5.93,USD,,,,,
             ,2021-03-01T00:00:00Z,income,coinbase,0.00001000,0.45,USD,,,,,
             ,2021-03-20T11:11:11Z,sell,coinbase,0.02000000,1160.00,USD,,17.30,,,Sold 0.02 BTC
             ,2021-04-02T08:00:00Z,sell,coinbase,0.01000000,590.00,USD,,,,,Converted 0.01 BTC to 0.3 ETH
             ,2021-05-01T10:00:00Z,buy,coinbase,0.01071395,599.98,USD,,8.94,,,
             ,2021-06-01T09:00:00Z,buy,coinbase,0.00100000,36.00,USD,,1.99,,,",
        );
        assert_eq!(skipped, vec![16, 18]);
    }

    #[test]
    fn the_2022_layout_names_the_currency_in_a_column() {
        let file = "Timestamp,Transaction Type,Asset,Quantity Transacted,Spot Price Currency,Spot Price at Transaction,Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes\n\
                    2022-07-01T10:00:00Z,Buy,BTC,0.5,GBP,16000.00,8000.00,8119.99,119.99,\n";
        let zone = jiff::tz::TimeZone::UTC;
        let ctx = crate::sources::format::Context {
            zone: &zone,
            account: "cb",
        };
        let done = crate::sources::format::convert(file.as_bytes(), None, &ctx).expect("valid");
        let tx = &done.rows[0].1;
        assert_eq!(tx.btc, crate::ledger::Sats(50_000_000));
        assert_eq!(tx.fiat_value, Some(rust_decimal::Decimal::new(800_000, 2)));
        assert_eq!(tx.fee_fiat, rust_decimal::Decimal::new(11_999, 2));
        assert_eq!(tx.currency.as_deref(), Some("GBP"));
    }
}

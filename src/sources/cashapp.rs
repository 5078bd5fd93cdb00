//! Cash App's transaction export: every field quoted, money like
//! `-$2,455.00`, local times with a US zone abbreviation.

use jiff::tz::{Offset, TimeZone};

use super::cell::{btc, decimal, in_zone};
use super::format::{Context, Format, Input, Step, tx};
use super::table::Row;
use crate::ledger::Kind;

pub const FORMAT: Format = Format {
    name: "cashapp",
    label: "Cash App transactions",
    account: "cashapp",
    detect: |h| {
        h.has_all(&[
            "transaction id",
            "date",
            "transaction type",
            "asset type",
            "asset amount",
            "net amount",
        ])
    },
    read: |input: &Input<'_>, ctx| input.map(ctx, |r, c| step(r, c).unwrap_or_else(Step::Fail)),
};

/// Hours from UTC of the abbreviations Cash App writes.
fn abbreviation(name: &str) -> Option<i8> {
    Some(match name {
        "UTC" | "GMT" => 0,
        "EST" => -5,
        "EDT" | "AST" => -4,
        "CST" => -6,
        "CDT" => -5,
        "MST" => -7,
        "MDT" => -6,
        "PST" => -8,
        "PDT" => -7,
        "AKST" => -9,
        "AKDT" => -8,
        "HST" => -10,
        _ => return None,
    })
}

/// `2024-03-08 09:57:00 EST`; without an abbreviation, the import's zone.
fn time(text: &str, ctx: &Context) -> Result<jiff::Timestamp, String> {
    let (civil_text, zone) = match text.trim().rsplit_once(' ') {
        Some((rest, abbr)) if abbr.chars().all(|c| c.is_ascii_uppercase()) => {
            let hours = abbreviation(abbr)
                .ok_or_else(|| format!("unknown time zone {abbr:?} in {text:?}"))?;
            (rest, TimeZone::fixed(Offset::constant(hours)))
        }
        _ => (text.trim(), ctx.zone.clone()),
    };
    let civil: jiff::civil::DateTime = civil_text
        .parse()
        .map_err(|_| format!("time {text:?} is not like 2024-03-08 09:57:00 EST"))?;
    in_zone(civil, &zone, text)
}

fn step(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let kind_text = row.need("transaction type")?;
    let status = row.get("status").unwrap_or("COMPLETE");
    if !status.eq_ignore_ascii_case("complete") {
        return Ok(Step::Skip(format!("{kind_text} is {status}, not complete")));
    }
    let lower = kind_text.to_ascii_lowercase();
    let coins = row
        .get("asset amount")
        .map(decimal)
        .transpose()?
        .unwrap_or_default();
    if !lower.contains("bitcoin") || coins.is_zero() {
        return Ok(Step::Skip(format!(
            "{kind_text}: a fiat-only row, no bitcoin moves"
        )));
    }
    let money = |n: &str| {
        row.get(n)
            .map(decimal)
            .transpose()
            .map(|v| v.unwrap_or_default().abs())
    };
    let (amount, fee) = (money("amount")?, money("fee")?);
    let mut t = tx(
        ctx,
        time(row.need("date")?, ctx)?,
        Kind::Deposit,
        btc(coins.abs())?,
    );
    t.id = row.get("transaction id").map(str::to_string);
    t.kind = if lower.contains("buy") {
        Kind::Buy
    } else if lower.contains("sale") || lower.contains("sell") {
        Kind::Sell
    } else if lower.contains("boost") || lower.contains("reward") {
        Kind::Income
    } else if lower.contains("withdraw") || lower.contains("send") {
        Kind::Withdrawal
    } else if lower.contains("deposit") || lower.contains("receive") {
        Kind::Deposit
    } else {
        return Err(format!("unknown transaction type {kind_text:?}"));
    };
    if !amount.is_zero() || t.kind.requires_fiat_value() {
        t.fiat_value = Some(amount);
        t.currency = Some(row.get("currency").unwrap_or("USD").to_ascii_uppercase());
    }
    if matches!(t.kind, Kind::Buy | Kind::Sell) {
        t.fee_fiat = fee;
    }
    Ok(Step::Keep(t))
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn the_export_becomes_these_rows_with_zone_abbreviations() {
        let (csv, skipped) = convert("cashapp.csv", "cashapp", "UTC", "cashapp");
        assert_rows(
            &csv,
            "ca2,2024-01-06T15:00:00Z,buy,cashapp,0.01136363,500.00,USD,,8.75,,,
             ca3,2024-02-01T17:00:00Z,income,cashapp,0.00001163,,,,,,,
             ca4,2024-03-08T14:57:00Z,withdrawal,cashapp,0.01000000,700.00,USD,,,,,
             ca5,2024-03-10T06:30:00Z,buy,cashapp,0.00100000,70.00,USD,,1.23,,,
             ca6,2024-03-10T07:30:00Z,buy,cashapp,0.00100000,71.00,USD,,1.24,,,
             ca7,2024-04-01T14:00:00Z,sell,cashapp,0.02000000,1400.00,USD,,24.50,,,
             ca10,2024-05-01T19:00:00Z,buy,cashapp,0.01071395,650.00,USD,,11.38,,,",
        );
        assert_eq!(skipped, vec![2, 9, 10, 12]);
    }
}

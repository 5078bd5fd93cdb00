//! Bisq's trade history: local times, the fiat amount and its currency,
//! mining and trade fees in bitcoin (or the trade fee in BSQ). Security
//! deposits come back and are not movements; canceled trades did not
//! happen.

use super::cell::{amount_with_code, btc, local};
use super::format::{Context, Format, Input, Step, tx};
use super::table::Row;
use crate::ledger::{Kind, Sats};

pub const FORMAT: Format = Format {
    name: "bisq",
    label: "Bisq trade history",
    account: "bisq",
    detect: |h| {
        h.has_all(&[
            "trade id",
            "date/time",
            "market",
            "amount in btc",
            "offer type",
            "status",
        ])
    },
    read: |input: &Input<'_>, ctx| input.map(ctx, |r, c| step(r, c).unwrap_or_else(Step::Fail)),
};

fn number(row: &Row<'_>, name: &str) -> Result<Option<rust_decimal::Decimal>, String> {
    row.get(name)
        .map(|v| amount_with_code(v).map(|(d, _)| d))
        .transpose()
}

fn step(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let status = row.get("status").unwrap_or("");
    if !status.eq_ignore_ascii_case("completed") {
        return Ok(Step::Skip(format!("a trade {status}: it did not complete")));
    }
    let offer = row.need("offer type")?.to_ascii_lowercase();
    let buy = match offer.as_str() {
        "buy btc" | "buy bitcoin" => true,
        "sell btc" | "sell bitcoin" => false,
        other => return Err(format!("unknown offer type {other:?}")),
    };
    let time = local(row.need("date/time")?, "%d %b %Y %H:%M:%S", ctx.zone)?;
    let coins = number(row, "amount in btc")?.ok_or("amount in btc is empty")?;
    let mut t = tx(
        ctx,
        time,
        if buy { Kind::Buy } else { Kind::Sell },
        btc(coins.abs())?,
    );
    let fee = |name: &str| -> Result<Sats, String> {
        number(row, name)?
            .map(|d| btc(d.abs()))
            .transpose()
            .map(Option::unwrap_or_default)
    };
    t.fee_btc = fee("transaction fee")?
        .0
        .checked_add(fee("trade fee btc")?.0)
        .map(Sats)
        .ok_or("the fees are too large")?;
    t.fiat_value = Some(number(row, "amount")?.ok_or("amount is empty")?.abs());
    t.currency = Some(row.need("currency")?.to_ascii_uppercase());
    t.id = row.get("trade id").map(str::to_string);
    t.note = row
        .get("trade fee bsq")
        .map(|f| format!("trade fee {f} BSQ"));
    Ok(Step::Keep(t))
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn completed_trades_become_these_rows_in_the_import_zone() {
        let (csv, skipped) = convert("bisq.csv", "bisq", "Europe/Berlin", "bisq");
        assert_rows(
            &csv,
            "bq1,2021-03-10T09:40:20Z,buy,bisq,0.01000000,450.00,EUR,0.00020000,,,,
             bq2,2021-03-28T00:30:00Z,sell,bisq,0.02000000,940.00,EUR,0.00015000,,,,trade fee 1.25 BSQ
             bq3,2021-03-28T01:30:00Z,buy,bisq,0.05000000,2400.00,EUR,0.00005000,,,,trade fee 3.10 BSQ
             bq5,2021-06-01T08:00:00Z,buy,bisq,0.01071395,400.00,EUR,0.00020000,,,,
             bq6,2021-07-01T08:00:00Z,sell,bisq,0.10000000,3000.00,USD,0.00040000,,,,
             bq7,2021-08-01T08:00:00Z,buy,bisq,0.20000000,7000.00,EUR,0.00080000,,,,
             bq8,2021-09-01T08:00:00Z,buy,bisq,0.00500000,200.00,EUR,0.00010000,,,,
             bq9,2021-10-31T00:30:00Z,sell,bisq,0.00800000,400.00,EUR,0.00010000,,,,
             bq10,2021-11-01T09:00:00Z,buy,bisq,0.01500000,800.00,EUR,0.00010000,,,,",
        );
        assert_eq!(skipped, vec![5]);
    }
}

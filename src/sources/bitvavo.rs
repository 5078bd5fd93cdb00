//! Bitvavo's transaction export: the IANA zone of each row in its own
//! column, signed amounts, the fiat leg of a trade in Received / Paid, the
//! fee separate. Only completed rows count.

use jiff::tz::TimeZone;

use super::cell::{btc, decimal, is_btc, is_fiat, iso};
use super::format::{Context, Format, Input, Step, tx};
use super::table::Row;
use crate::ledger::Kind;

pub const FORMAT: Format = Format {
    name: "bitvavo",
    label: "Bitvavo transactions",
    account: "bitvavo",
    detect: |h| {
        h.has_all(&[
            "timezone",
            "date",
            "time",
            "type",
            "currency",
            "amount",
            "received / paid amount",
        ])
    },
    read: |input: &Input<'_>, ctx| input.map(ctx, |r, c| step(r, c).unwrap_or_else(Step::Fail)),
};

fn step(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let kind_text = row.need("type")?.to_ascii_lowercase();
    let currency = row.need("currency")?;
    if !is_btc(currency) {
        return Ok(Step::Skip(format!(
            "{kind_text} of {currency}: no bitcoin moves"
        )));
    }
    let status = row.get("status").unwrap_or("completed");
    if !status.eq_ignore_ascii_case("completed") {
        return Ok(Step::Skip(format!(
            "{kind_text} is {status}, not completed"
        )));
    }
    let zone = match row.get("timezone") {
        Some(name) => TimeZone::get(name).map_err(|_| format!("unknown time zone {name:?}"))?,
        None => ctx.zone.clone(),
    };
    let time = iso(
        &format!("{} {}", row.need("date")?, row.need("time")?),
        &zone,
    )?;
    let amount = decimal(row.need("amount")?)?;
    let mut t = tx(ctx, time, Kind::Deposit, btc(amount.abs())?);
    let fee = row
        .get("fee amount")
        .map(decimal)
        .transpose()?
        .unwrap_or_default()
        .abs();
    let fee_currency = row.get("fee currency").unwrap_or("").to_ascii_uppercase();
    if is_btc(&fee_currency) {
        t.fee_btc = btc(fee)?;
    }
    t.kind = match kind_text.as_str() {
        "buy" | "sell" => {
            let code = row.need("received / paid currency")?.to_ascii_uppercase();
            let value = decimal(row.need("received / paid amount")?)?.abs();
            if is_fiat(&code) {
                t.fiat_value = Some(value);
                t.currency = Some(code.clone());
                if fee_currency == code {
                    t.fee_fiat = fee;
                }
                if kind_text == "buy" {
                    Kind::Buy
                } else {
                    Kind::Sell
                }
            } else {
                t.note = Some(format!("traded for {code} on Bitvavo"));
                if kind_text == "buy" {
                    Kind::Deposit
                } else {
                    Kind::Withdrawal
                }
            }
        }
        "deposit" => Kind::Deposit,
        "withdrawal" => Kind::Withdrawal,
        "staking" | "rewards" | "reward" => Kind::Income,
        other => return Err(format!("unknown type {other:?}")),
    };
    t.id = row.get("transaction id").map(str::to_string);
    Ok(Step::Keep(t))
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn the_export_becomes_these_rows_in_each_rows_zone() {
        let (csv, skipped) = convert("bitvavo.csv", "bitvavo", "UTC", "bitvavo");
        assert_rows(
            &csv,
            "bv-2,2024-01-05T09:00:00Z,buy,bitvavo,0.10000000,4000.00,EUR,,10.00,,,
             bv-3,2024-02-10T11:30:00Z,sell,bitvavo,0.05000000,2100.00,EUR,,5.25,,,
             bv-4,2024-03-01T12:00:00Z,income,bitvavo,0.00001000,,,,,,,
             bv-5,2024-03-31T00:30:00Z,withdrawal,bitvavo,0.20000000,,,0.00001000,,,,
             bv-6,2024-03-31T01:30:00Z,deposit,bitvavo,0.30000000,,,,,,,
             bv-7,2024-04-01T08:00:00Z,buy,bitvavo,0.01071395,642.84,EUR,,1.61,,,
             bv-9,2024-05-01T14:00:00Z,deposit,bitvavo,0.02000000,,,,,,,traded for USDC on Bitvavo
             bv-10,2024-06-01T08:00:00Z,sell,bitvavo,0.01000000,650.00,EUR,,1.63,,,",
        );
        assert_eq!(skipped, vec![2, 9, 12]);
    }
}

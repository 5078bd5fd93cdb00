//! Relai's transaction export. Bought bitcoin goes straight to the buyer's
//! own address: a purchase becomes a buy and a withdrawal to that address,
//! which transfer matching pairs with the wallet's deposit.

use jiff::tz::TimeZone;

use super::cell::{btc, decimal, is_btc, is_fiat, iso};
use super::format::{Context, Format, Input, Step, tx};
use super::table::Row;
use crate::ledger::Kind;

pub const FORMAT: Format = Format {
    name: "relai",
    label: "Relai transactions",
    account: "relai",
    detect: |h| {
        h.has_all(&[
            "date",
            "transaction type",
            "btc amount",
            "fiat amount (excl. fees)",
            "operation id",
        ])
    },
    read: |input: &Input<'_>, ctx| input.map(ctx, |r, c| step(r, c).unwrap_or_else(Step::Fail)),
};

fn step(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let kind_text = row.need("transaction type")?.to_ascii_lowercase();
    let time = iso(row.need("date")?, &TimeZone::UTC)?;
    let coins = btc(decimal(row.need("btc amount")?)?.abs())?;
    let mut t = tx(ctx, time, Kind::Buy, coins);
    t.id = row.get("operation id").map(str::to_string);
    let code = row.need("fiat currency")?.to_ascii_uppercase();
    if !is_fiat(&code) {
        return Err(format!("{code:?} is not a fiat currency"));
    }
    t.fiat_value = Some(decimal(row.need("fiat amount (excl. fees)")?)?.abs());
    t.currency = Some(code.clone());
    let fee = row
        .get("fee")
        .map(decimal)
        .transpose()?
        .unwrap_or_default()
        .abs();
    match row.get("fee currency").map(str::to_ascii_uppercase) {
        Some(c) if is_btc(&c) => t.fee_btc = btc(fee)?,
        Some(c) if c == code => t.fee_fiat = fee,
        Some(c) if !fee.is_zero() => {
            return Err(format!("a fee in {c}, neither bitcoin nor {code}"));
        }
        _ => {}
    }
    match kind_text.as_str() {
        "buy" => {
            let Some(destination) = row.get("destination") else {
                return Ok(Step::Keep(t));
            };
            let mut sent = tx(ctx, time, Kind::Withdrawal, coins);
            sent.id = t.id.as_ref().map(|id| format!("{id}:sent"));
            sent.note = Some(format!("bought bitcoin sent to {destination}"));
            Ok(Step::Many(vec![t, sent]))
        }
        "sell" => {
            t.kind = Kind::Sell;
            Ok(Step::Keep(t))
        }
        other => Err(format!("unknown transaction type {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn purchases_become_a_buy_and_a_withdrawal_to_the_wallet() {
        let (csv, skipped) = convert("relai.csv", "relai", "UTC", "relai");
        assert_rows(
            &csv,
            "op-1,2024-01-05T10:00:00Z,buy,relai,0.01000000,400.00,EUR,,6.00,,,
             op-1:sent,2024-01-05T10:00:00Z,withdrawal,relai,0.01000000,,,,,,,bought bitcoin sent to bc1qmywallet
             op-2,2024-02-05T10:00:00Z,buy,relai,0.00250000,100.00,EUR,,1.50,,,
             op-2:sent,2024-02-05T10:00:00Z,withdrawal,relai,0.00250000,,,,,,,bought bitcoin sent to bc1qmywallet
             op-3,2024-03-05T10:00:00Z,buy,relai,0.01071395,600.00,CHF,,9.00,,,
             op-3:sent,2024-03-05T10:00:00Z,withdrawal,relai,0.01071395,,,,,,,bought bitcoin sent to bc1qmywallet
             op-4,2024-04-05T10:00:00Z,sell,relai,0.05000000,3000.00,EUR,,45.00,,,
             op-5,2024-05-05T10:00:00Z,buy,relai,0.00100000,60.00,EUR,0.00000500,,,,
             op-5:sent,2024-05-05T10:00:00Z,withdrawal,relai,0.00100000,,,,,,,bought bitcoin sent to bc1qmywallet
             op-6,2024-06-05T10:00:00Z,buy,relai,0.00200000,120.00,EUR,,1.80,,,
             op-7,2024-07-05T10:00:00Z,buy,relai,0.00300000,180.00,EUR,,2.70,,,
             op-7:sent,2024-07-05T10:00:00Z,withdrawal,relai,0.00300000,,,,,,,bought bitcoin sent to bc1qmywallet
             op-8,2024-08-05T10:00:00Z,sell,relai,0.00400000,240.00,EUR,,3.60,,,
             op-9,2024-09-05T10:00:00Z,buy,relai,0.00500000,300.00,EUR,,4.50,,,
             op-9:sent,2024-09-05T10:00:00Z,withdrawal,relai,0.00500000,,,,,,,bought bitcoin sent to bc1qmywallet
             op-10,2024-10-05T10:00:00Z,buy,relai,0.00600000,360.00,EUR,,5.40,,,
             op-10:sent,2024-10-05T10:00:00Z,withdrawal,relai,0.00600000,,,,,,,bought bitcoin sent to bc1qmywallet",
        );
        assert!(skipped.is_empty());
    }
}

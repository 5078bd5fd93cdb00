//! Blockstream Green (desktop) transaction export: amounts in the display
//! unit the file names, the network fee in BTC on outgoing rows only. The
//! amount of an outgoing row is taken as what was sent, the fee on top;
//! a redeposit (to one's own address) moved nothing but its fee.

use rust_decimal::Decimal;

use super::cell::{btc, decimal, iso};
use super::format::{Context, Format, Input, Step, tx};
use super::table::Row;
use crate::ledger::{Kind, Sats};

pub const FORMAT: Format = Format {
    name: "green",
    label: "Blockstream Green transactions",
    account: "green",
    detect: |h| h.has_all(&["time", "description", "amount", "unit", "txhash"]),
    read: |input: &Input<'_>, ctx| input.map(ctx, |r, c| step(r, c).unwrap_or_else(Step::Fail)),
};

/// BTC per display unit.
fn unit(name: &str) -> Result<Decimal, String> {
    Ok(match name.trim().to_ascii_lowercase().as_str() {
        "btc" => Decimal::ONE,
        "mbtc" => Decimal::new(1, 3),
        "ubtc" | "µbtc" | "bits" => Decimal::new(1, 6),
        "sats" | "sat" => Decimal::new(1, 8),
        other => return Err(format!("unknown unit {other:?}")),
    })
}

fn step(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let amount = decimal(row.need("amount")?)?.abs() * unit(row.need("unit")?)?;
    let fee = match row.get("fee (btc)") {
        Some(f) => btc(decimal(f)?.abs())?,
        None => Sats::ZERO,
    };
    let time = iso(row.need("time")?, ctx.zone)?;
    let description = row.need("description")?.to_ascii_lowercase();
    let mut t = match description.as_str() {
        "incoming" => tx(ctx, time, Kind::Deposit, btc(amount)?),
        "outgoing" => tx(ctx, time, Kind::Withdrawal, btc(amount)?),
        "redeposit" => tx(ctx, time, Kind::Fee, Sats::ZERO),
        other => return Err(format!("unknown description {other:?}")),
    };
    if t.kind != Kind::Deposit {
        t.fee_btc = fee;
    }
    t.txid = row.get("txhash").map(str::to_string);
    t.id = t.txid.clone();
    t.note = row.get("memo").map(str::to_string);
    Ok(Step::Keep(t))
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn the_export_becomes_these_rows_in_any_unit() {
        let (csv, skipped) = convert("green.csv", "green", "UTC", "green");
        let h = |n: u8| format!("{n:02x}").repeat(32);
        assert_rows(
            &csv,
            &format!(
                "{a},2024-01-10T10:00:00Z,deposit,green,0.25000000,,,,,,{a},savings
                 {b},2024-01-12T11:00:00Z,withdrawal,green,0.01000000,,,0.00001200,,,{b},
                 {c},2024-02-01T12:00:00Z,deposit,green,0.00150000,,,,,,{c},
                 {d},2024-02-02T12:00:00Z,withdrawal,green,0.00000500,,,0.00000200,,,{d},
                 {e},2024-02-03T12:00:00Z,fee,green,0.00000000,,,0.00000300,,,{e},consolidate
                 {f},2024-03-01T00:00:00Z,deposit,green,0.01071395,,,,,,{f},
                 {g},2024-03-02T00:00:00Z,deposit,green,0.00012345,,,,,,{g},
                 {i},2024-04-01T00:00:00Z,withdrawal,green,0.10000000,,,0.00002000,,,{i},cold
                 {j},2024-05-01T00:00:00Z,deposit,green,1.00000000,,,,,,{j},
                 {k},2024-06-01T00:00:00Z,withdrawal,green,0.00200000,,,0.00000500,,,{k},",
                a = h(0x41),
                b = h(0x42),
                c = h(0x43),
                d = h(0x44),
                e = h(0x45),
                f = h(0x46),
                g = h(0x47),
                i = h(0x49),
                j = h(0x4a),
                k = h(0x4b),
            ),
        );
        assert!(skipped.is_empty());
    }
}

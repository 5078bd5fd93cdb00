//! Phoenix's payments export (2025 layout, and the older one). Amounts are
//! signed millisatoshis, taken as the wallet's net change with the fees
//! inside, as the other wallet exports write it; fractions of a satoshi
//! round to the nearest. A payment hash goes to the note, never to txid.

use super::cell::{decimal, iso, msat};
use super::format::{Context, Format, Input, Step};
use super::table::Row;
use super::wallet::movement;
use crate::ledger::Sats;

pub const FORMAT: Format = Format {
    name: "phoenix",
    label: "Phoenix wallet payments",
    account: "phoenix",
    detect: |h| {
        h.has_all(&["date", "id", "type", "amount_msat", "payment_hash", "tx_id"])
            || h.has_all(&[
                "date",
                "amount millisatoshi",
                "fees millisatoshi",
                "context",
            ])
    },
    read: |input: &Input<'_>, ctx| input.map(ctx, |r, c| step(r, c).unwrap_or_else(Step::Fail)),
};

fn step(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let time = iso(row.need("date")?, ctx.zone)?;
    let old = row.get("amount_msat").is_none();
    let (net, fee) = if old {
        let fee = row
            .get("fees millisatoshi")
            .map(msat)
            .transpose()?
            .unwrap_or_default();
        (msat(row.need("amount millisatoshi")?)?, fee)
    } else {
        let mining = match row.get("mining_fee_sat") {
            Some(v) => decimal(v)?
                .abs()
                .try_into()
                .map(Sats)
                .map_err(|_| format!("{v:?} is not whole satoshis"))?,
            None => Sats::ZERO,
        };
        let service = row
            .get("service_fee_msat")
            .map(msat)
            .transpose()?
            .unwrap_or_default();
        (
            msat(row.need("amount_msat")?)?,
            mining + Sats(service.0.abs()),
        )
    };
    let fee = if net.0 < 0 {
        Sats(fee.0.abs())
    } else {
        Sats::ZERO
    };
    let mut step = movement(ctx, time, net, fee)?;
    if let Step::Keep(t) = &mut step {
        t.id = row.get("id").map(str::to_string);
        t.txid = row.get("tx_id").map(str::to_string);
        let mut notes: Vec<String> = ["description", "context", "notes"]
            .iter()
            .filter_map(|c| row.get(c).map(str::to_string))
            .collect();
        notes.extend(
            row.get("payment_hash")
                .map(|h| format!("Lightning payment hash {h}")),
        );
        t.note = (!notes.is_empty()).then(|| notes.join("; "));
    }
    Ok(step)
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn payments_become_these_rows_in_whole_satoshis() {
        let (csv, skipped) = convert("phoenix.csv", "phoenix", "UTC", "phoenix");
        let h = |n: u8| format!("{n:02x}").repeat(32);
        assert_rows(
            &csv,
            &format!(
                "p1,2024-01-02T10:00:00Z,deposit,phoenix,0.00150000,,,,,,,zap; Lightning payment hash {p1}
                 p2,2024-01-03T11:00:00Z,withdrawal,phoenix,0.00050000,,,0.00000004,,,,coffee; Lightning payment hash {p2}
                 p3,2024-01-05T12:00:00Z,deposit,phoenix,0.01000000,,,,,,{t3},swap in
                 p4,2024-01-06T12:00:00Z,withdrawal,phoenix,0.00200000,,,0.00003500,,,{t4},swap out
                 p5,2024-02-01T00:00:00Z,withdrawal,phoenix,0.00099000,,,0.00001000,,,{t5},
                 p6,2024-02-02T00:00:00Z,fee,phoenix,0.00000000,,,0.00002000,,,{t6},
                 p7,2024-02-03T00:00:00Z,fee,phoenix,0.00000000,,,0.00015000,,,{t7},liquidity
                 p8,2024-03-01T08:00:00.123Z,deposit,phoenix,0.00000002,,,,,,,Lightning payment hash {p8}
                 p9,2024-03-01T08:00:01Z,deposit,phoenix,0.00000002,,,,,,,Lightning payment hash {p9}
                 p10,2024-03-02T09:00:00Z,withdrawal,phoenix,0.00010000,,,0.00000002,,,,Lightning payment hash {p10}",
                p1 = h(0x11),
                p2 = h(0x12),
                t3 = h(0x23),
                t4 = h(0x24),
                t5 = h(0x25),
                t6 = h(0x26),
                t7 = h(0x27),
                p8 = h(0x18),
                p9 = h(0x19),
                p10 = h(0x1a),
            ),
        );
        assert!(skipped.is_empty());
    }

    #[test]
    fn the_older_layout_is_read_too() {
        let file = "Date,Amount Millisatoshi,Fees Millisatoshi,Amount Fiat,Fees Fiat,Context,Description,Notes\n\
                    2023-05-01T10:00:00Z,-1003000,-3000,-0.30 USD,-0.00 USD,Outgoing LN payment,pizza,\n\
                    2023-05-02T10:00:00Z,2000000,0,0.60 USD,0.00 USD,Incoming LN payment,,\n";
        let zone = jiff::tz::TimeZone::UTC;
        let ctx = crate::sources::format::Context {
            zone: &zone,
            account: "ph",
        };
        let done = crate::sources::format::convert(file.as_bytes(), None, &ctx).expect("valid");
        assert_eq!(done.format.name, "phoenix");
        let (_, sent) = &done.rows[0];
        assert_eq!(
            (sent.kind, sent.btc, sent.fee_btc),
            (
                crate::ledger::Kind::Withdrawal,
                crate::ledger::Sats(1_000),
                crate::ledger::Sats(3)
            )
        );
        assert_eq!(done.rows[1].1.btc, crate::ledger::Sats(2_000));
    }
}

//! Electrum's history export, up to 4.5 and from 4.6 (which adds Lightning
//! payments: a payment hash and no on-chain hash). Times are the exporting
//! computer's local time, without an offset: read in the import's zone.

use super::cell::{btc_cell, iso};
use super::format::{Context, Format, Input, Step, tx};
use super::table::Row;
use super::wallet::{movement, with_txid};
use crate::ledger::{Kind, Sats};

pub const FORMAT: Format = Format {
    name: "electrum",
    label: "Electrum wallet history",
    account: "electrum",
    detect: |h| {
        h.has("timestamp")
            && (h.has_all(&["transaction_hash", "value", "confirmations"])
                || h.has_all(&["oc_transaction_hash", "amount_chain_bc"]))
    },
    read: |input: &Input<'_>, ctx| input.map(ctx, |r, c| step(r, c).unwrap_or_else(Step::Fail)),
};

fn sats(row: &Row<'_>, name: &str) -> Result<Sats, String> {
    row.get(name)
        .map(btc_cell)
        .transpose()
        .map(Option::unwrap_or_default)
}

fn step(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let Some(when) = row.get("timestamp") else {
        return Ok(Step::Skip("unconfirmed (pending)".into()));
    };
    let time = iso(when, ctx.zone)?;
    let label = row.get("label");
    let lightning = sats(row, "amount_lightning_bc")?;
    if !lightning.is_zero() && row.get("oc_transaction_hash").is_none() {
        let kind = if lightning.0 > 0 {
            Kind::Deposit
        } else {
            Kind::Withdrawal
        };
        let mut t = tx(ctx, time, kind, Sats(lightning.0.abs()));
        // A payment hash looks like a txid and is not one.
        let hash = row.get("ln_payment_hash");
        t.id = hash.map(|h| format!("ln:{h}"));
        let mut notes: Vec<String> = label.into_iter().map(str::to_string).collect();
        notes.extend(hash.map(|h| format!("Lightning payment hash {h}")));
        t.note = (!notes.is_empty()).then(|| notes.join("; "));
        return Ok(Step::Keep(t));
    }
    let (net, fee, hash) = if row.get("oc_transaction_hash").is_some() {
        (
            sats(row, "amount_chain_bc")?,
            sats(row, "network_fee_bc")?,
            row.get("oc_transaction_hash"),
        )
    } else {
        (
            sats(row, "value")?,
            sats(row, "fee")?,
            row.get("transaction_hash"),
        )
    };
    // The fee column is filled on receives too (`0.`), and only counts when
    // this wallet paid it.
    let fee = if net.0 < 0 { fee } else { Sats::ZERO };
    Ok(with_txid(movement(ctx, time, net, fee)?, hash, label))
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn the_4_5_history_is_read_in_the_import_zone_across_a_clock_change() {
        let (csv, skipped) = convert("electrum.csv", "electrum", "Europe/London", "electrum");
        let h = |n: u8| format!("{n:02x}").repeat(32);
        assert_rows(
            &csv,
            &format!(
                "{a},2024-01-05T09:00:00Z,deposit,electrum,0.20000000,,,,,,{a},first
                 {b},2024-02-10T14:30:00Z,withdrawal,electrum,0.05000000,,,0.00001500,,,{b},rent
                 {c},2024-03-31T00:30:00Z,deposit,electrum,0.01071395,,,,,,{c},
                 {d},2024-03-31T01:30:00Z,deposit,electrum,0.00100000,,,,,,{d},
                 {e},2024-04-15T11:00:00Z,fee,electrum,0.00000000,,,0.00000800,,,{e},cpfp
                 {f},2024-06-01T08:00:00Z,deposit,electrum,1.00000000,,,,,,{f},
                 {g},2024-07-01T17:45:00Z,withdrawal,electrum,0.30000000,,,0.00002100,,,{g},
                 {i},2024-10-27T00:30:00Z,deposit,electrum,0.00500000,,,,,,{i},
                 {j},2024-10-27T00:30:00Z,deposit,electrum,0.00600000,,,,,,{j},",
                a = h(0x01),
                b = h(0x02),
                c = h(0x03),
                d = h(0x04),
                e = h(0x05),
                f = h(0x06),
                g = h(0x07),
                i = h(0x09),
                j = h(0x0a),
            ),
        );
        assert_eq!(skipped, vec![9]);
    }

    #[test]
    fn lightning_payments_of_4_6_keep_their_hash_out_of_the_txid() {
        let hash = "ab".repeat(32);
        let chain = "cd".repeat(32);
        let file = format!(
            "oc_transaction_hash,ln_payment_hash,label,confirmations,amount_chain_bc,amount_lightning_bc,fiat_value,network_fee_bc,fiat_fee,timestamp\n\
             ,{hash},coffee,0,0.,-0.0001,-6.50,0.,0.,2025-01-02 10:00:00\n\
             {chain},,open channel,6,-0.0101,0.,-650.00,0.0001,6.50,2025-01-03 10:00:00\n"
        );
        let zone = jiff::tz::TimeZone::UTC;
        let ctx = crate::sources::format::Context {
            zone: &zone,
            account: "e",
        };
        let done = crate::sources::format::convert(file.as_bytes(), None, &ctx).expect("valid");
        let (_, pay) = &done.rows[0];
        assert_eq!(pay.kind, crate::ledger::Kind::Withdrawal);
        assert_eq!(pay.btc, crate::ledger::Sats(10_000));
        assert_eq!(pay.txid, None);
        assert_eq!(
            pay.note.as_deref(),
            Some(format!("coffee; Lightning payment hash {hash}").as_str())
        );
        let (_, open) = &done.rows[1];
        assert_eq!(open.txid.as_deref(), Some(chain.as_str()));
        assert_eq!(
            (open.btc, open.fee_btc),
            (crate::ledger::Sats(1_000_000), crate::ledger::Sats(10_000))
        );
    }
}

//! Sparrow's wallet transactions export: the net value of each transaction
//! (sends include the fee), in BTC or whole satoshis, with a trailing
//! comment when a fiat column is present.

use jiff::tz::TimeZone;

use super::cell::{btc_cell, iso};
use super::format::{Context, Format, Input, Step};
use super::table::Row;
use super::wallet::{movement, with_txid};
use crate::ledger::Sats;

pub const FORMAT: Format = Format {
    name: "sparrow",
    label: "Sparrow wallet transactions",
    account: "sparrow",
    detect: |h| {
        (h.has("date (utc)") || h.has("date")) && h.has_all(&["label", "value", "balance", "txid"])
    },
    read: |input: &Input<'_>, ctx| input.map(ctx, |r, c| step(r, c).unwrap_or_else(Step::Fail)),
};

/// BTC carries a decimal point; the sats unit writes whole numbers.
fn amount(text: &str) -> Result<Sats, String> {
    if text.contains('.') {
        return btc_cell(text);
    }
    let bare: String = text.chars().filter(|c| *c != ',').collect();
    bare.parse::<i64>()
        .map(Sats)
        .map_err(|_| format!("{text:?} is not an amount"))
}

fn step(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let (date, zone) = match row.get("date (utc)") {
        Some(d) => (d, TimeZone::UTC),
        None => (row.need("date")?, ctx.zone.clone()),
    };
    if date.eq_ignore_ascii_case("unconfirmed") {
        return Ok(Step::Skip("unconfirmed (pending)".into()));
    }
    let net = amount(row.need("value")?)?;
    let fee = row.get("fee").map(amount).transpose()?.unwrap_or_default();
    let step = movement(ctx, iso(date, &zone)?, net, fee)?;
    Ok(with_txid(step, row.get("txid"), row.get("label")))
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn the_export_becomes_these_rows() {
        let (csv, skipped) = convert("sparrow.csv", "sparrow", "UTC", "cold");
        let h = |n: u8| format!("{n:02x}").repeat(32);
        assert_rows(
            &csv,
            &format!(
                "{a},2024-01-02T10:00:00Z,deposit,cold,0.50000000,,,,,,{a},from exchange
                 {b},2024-01-20T12:30:00Z,withdrawal,cold,0.10000000,,,0.00002000,,,{b},to a friend
                 {c},2024-02-01T08:00:00Z,deposit,cold,0.01071395,,,,,,{c},
                 {d},2024-02-15T09:00:00Z,fee,cold,0.00000000,,,0.00003500,,,{d},consolidation
                 {e},2024-03-01T00:00:00Z,deposit,cold,1.00000000,,,,,,{e},\"salary, march\"
                 {f},2024-03-10T18:00:00Z,withdrawal,cold,0.25000000,,,0.00001410,,,{f},
                 {g},2024-04-01T07:07:07Z,deposit,cold,0.00100000,,,,,,{g},
                 {i},2024-05-05T05:05:05Z,withdrawal,cold,0.30000000,,,0.00004000,,,{i},
                 {j},2024-06-01T12:00:00Z,deposit,cold,0.02000000,,,,,,{j},",
                a = h(0xa1),
                b = h(0xb2),
                c = h(0xc3),
                d = h(0xd4),
                e = h(0xe5),
                f = h(0xf6),
                g = h(0x17),
                i = h(0x39),
                j = h(0x4a),
            ),
        );
        assert_eq!(skipped, vec![10, 13]);
    }

    #[test]
    fn the_sats_unit_and_local_dates_of_older_exports_are_read() {
        let file = "Date,Label,Value,Balance,Fee,Txid\n\
                    2023-07-01 10:00:00,,\"150,000\",\"150,000\",,aa\n\
                    2023-07-02 10:00:00,,-50000,100000,1200,bb\n";
        let zone = jiff::tz::TimeZone::get("Europe/Berlin").expect("zone");
        let ctx = crate::sources::format::Context {
            zone: &zone,
            account: "s",
        };
        let done = crate::sources::format::convert(file.as_bytes(), None, &ctx).expect("valid");
        assert_eq!(done.format.name, "sparrow");
        let (_, receive) = &done.rows[0];
        assert_eq!(receive.btc, crate::ledger::Sats(150_000));
        assert_eq!(receive.time.to_string(), "2023-07-01T08:00:00Z");
        let (_, send) = &done.rows[1];
        assert_eq!(
            (send.btc, send.fee_btc),
            (crate::ledger::Sats(48_800), crate::ledger::Sats(1_200))
        );
    }
}

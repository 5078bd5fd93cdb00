//! BlueWallet's transaction export: the phone's local time written as
//! JavaScript prints dates (with the offset), signed amounts, and memos
//! that are not quoted, so a comma in a memo splits it into more cells.

use rust_decimal::Decimal;

use super::cell::{btc, decimal};
use super::format::{Context, Format, Input, Step, tx};
use super::table::Row;
use crate::ledger::Kind;

pub const FORMAT: Format = Format {
    name: "bluewallet",
    label: "BlueWallet transactions",
    account: "bluewallet",
    detect: |h| h.has_all(&["date", "transaction id", "amount (btc)"]),
    read: |input: &Input<'_>, ctx| input.map(ctx, |r, c| step(r, c).unwrap_or_else(Step::Fail)),
};

/// `Mon Jan 15 2024 14:23:11 GMT+0100 (Central European Standard Time)`.
fn time(text: &str) -> Result<jiff::Timestamp, String> {
    let bare = text.split(" (").next().unwrap_or(text).trim();
    jiff::fmt::strtime::parse("%a %b %d %Y %H:%M:%S GMT%z", bare)
        .and_then(|t| t.to_timestamp())
        .map_err(|_| format!("time {text:?} is not like Mon Jan 15 2024 14:23:11 GMT+0100"))
}

/// The memo, with the cells an unquoted comma split off put back.
fn memo(row: &Row<'_>) -> Option<String> {
    let header = row.header();
    let at = header.index("memo")?;
    let after = header.names.len() - at - 1;
    let end = row.len().checked_sub(after)?;
    let text: Vec<&str> = (at..end).filter_map(|i| row.raw(i)).collect();
    let text = text.join(",");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// A cell after the memo, found from the end of the record.
fn after_memo<'r>(row: &'r Row<'_>, name: &str) -> Option<&'r str> {
    let header = row.header();
    let i = header.index(name)?;
    match header.index("memo") {
        Some(m) if i > m => row.at(row.len().checked_sub(header.names.len() - i)?),
        _ => row.at(i),
    }
}

fn step(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let amount: Decimal = decimal(row.need("amount (btc)")?)?;
    if amount.is_zero() {
        return Ok(Step::Skip("moves nothing".into()));
    }
    let kind = if amount.is_sign_positive() {
        Kind::Deposit
    } else {
        Kind::Withdrawal
    };
    let mut t = tx(ctx, time(row.need("date")?)?, kind, btc(amount.abs())?);
    let id = row.get("transaction id");
    t.id = id.map(str::to_string);
    let mut notes: Vec<String> = memo(row).into_iter().collect();
    // A Lightning wallet's id is a payment hash, not a txid.
    if row.header().has("payment") {
        notes.extend(after_memo(row, "payment").map(|p| format!("payment {p}")));
        notes.extend(id.map(|h| format!("Lightning payment hash {h}")));
    } else {
        t.txid = id.map(str::to_string);
    }
    t.note = (!notes.is_empty()).then(|| notes.join("; "));
    Ok(Step::Keep(t))
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn the_export_becomes_these_rows_with_split_memos_put_back() {
        let (csv, skipped) = convert("bluewallet.csv", "bluewallet", "UTC", "phone");
        let h = |n: u8| format!("{n:02x}").repeat(32);
        assert_rows(
            &csv,
            &format!(
                "{a},2024-01-15T13:23:11Z,deposit,phone,0.00500000,,,,,,{a},
                 {b},2024-01-20T18:00:00Z,withdrawal,phone,0.00100000,,,,,,{b},\"dinner, drinks and tip\"
                 {c},2024-02-01T14:00:00Z,deposit,phone,0.01071395,,,,,,{c},salary
                 {d},2024-03-31T00:30:00Z,withdrawal,phone,0.00020000,,,,,,{d},
                 {e},2024-03-31T01:30:00Z,deposit,phone,0.00030000,,,,,,{e},\"a,b,c\"
                 {f},2024-05-01T07:00:00Z,withdrawal,phone,0.00200000,,,,,,{f},rent
                 {g},2024-06-15T22:59:59Z,deposit,phone,0.10000000,,,,,,{g},
                 {i},2024-07-04T16:00:00Z,withdrawal,phone,0.05000000,,,,,,{i},
                 {j},2024-08-01T02:00:00Z,deposit,phone,0.00001000,,,,,,{j},tip",
                a = h(0x31),
                b = h(0x32),
                c = h(0x33),
                d = h(0x34),
                e = h(0x35),
                f = h(0x36),
                g = h(0x37),
                i = h(0x39),
                j = h(0x3a),
            ),
        );
        assert_eq!(skipped, vec![9]);
    }

    #[test]
    fn a_lightning_wallet_id_is_a_payment_hash() {
        let hash = "ef".repeat(32);
        let file = format!(
            "Date,Transaction ID,Amount (BTC),Memo,Payment\n\
             Tue Jan 16 2024 09:00:00 GMT+0000 (Coordinated Universal Time),{hash},-0.0001,coffee, with milk,lnbc10u1pexample\n"
        );
        let zone = jiff::tz::TimeZone::UTC;
        let ctx = crate::sources::format::Context {
            zone: &zone,
            account: "ln",
        };
        let done = crate::sources::format::convert(file.as_bytes(), None, &ctx).expect("valid");
        let (_, pay) = &done.rows[0];
        assert_eq!(pay.txid, None);
        assert_eq!(
            pay.note.as_deref(),
            Some(
                format!(
                    "coffee, with milk; payment lnbc10u1pexample; Lightning payment hash {hash}"
                )
                .as_str()
            )
        );
    }
}

//! Swan Bitcoin's deposits-and-purchases report and its withdrawals report
//! (both with two company lines above the header). Only settled rows moved
//! money.

use super::cell::{btc, decimal, is_btc, iso};
use super::format::{Context, Format, Input, Step, tx};
use super::table::Row;
use crate::ledger::Kind;

pub const FORMAT: Format = Format {
    name: "swan",
    label: "Swan deposits and purchases",
    account: "swan",
    detect: |h| {
        h.has_all(&[
            "event",
            "date",
            "status",
            "transaction id",
            "unit count",
            "asset type",
        ])
    },
    read: |input: &Input<'_>, ctx| input.map(ctx, |r, c| purchase(r, c).unwrap_or_else(Step::Fail)),
};

pub const WITHDRAWALS: Format = Format {
    name: "swan-withdrawals",
    label: "Swan withdrawals",
    account: "swan",
    detect: |h| h.has_all(&["created at", "transaction id", "status", "bitcoin amount"]),
    read: |input: &Input<'_>, ctx| {
        input.map(ctx, |r, c| withdrawal(r, c).unwrap_or_else(Step::Fail))
    },
};

/// `None` when the row settled; otherwise why it is skipped.
fn unsettled(row: &Row<'_>, what: &str) -> Option<Step> {
    let status = row.get("status").unwrap_or("").to_ascii_lowercase();
    match status.as_str() {
        "settled" | "completed" | "complete" => None,
        "canceled" | "cancelled" | "failed" | "rejected" => Some(Step::Skip(format!(
            "{what} was {status}: it never happened"
        ))),
        _ => Some(Step::Skip(format!(
            "{what} is {status}, not settled (pending)"
        ))),
    }
}

fn purchase(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let event = row.need("event")?.to_ascii_lowercase();
    if let Some(skip) = unsettled(row, &event) {
        return Ok(skip);
    }
    let asset = row.get("asset type").unwrap_or("");
    let units = row
        .get("unit count")
        .map(decimal)
        .transpose()?
        .unwrap_or_default();
    if event != "purchase" && (!is_btc(asset) || units.is_zero()) {
        return Ok(Step::Skip(format!(
            "{event}: a fiat-only row, no bitcoin moves"
        )));
    }
    let mut t = tx(
        ctx,
        iso(row.need("date")?, ctx.zone)?,
        Kind::Deposit,
        btc(units.abs())?,
    );
    t.id = row.get("transaction id").map(str::to_string);
    t.kind = match event.as_str() {
        "purchase" => {
            let money = |n: &str| {
                row.get(n)
                    .map(decimal)
                    .transpose()
                    .map(|v| v.unwrap_or_default())
            };
            t.fiat_value = Some(money("transaction usd")?.abs());
            t.fee_fiat = money("fee usd")?.abs();
            t.currency = Some("USD".into());
            Kind::Buy
        }
        "deposit" => Kind::Deposit,
        other if other.contains("reward") || other.contains("bonus") => Kind::Income,
        other => return Err(format!("unknown event {other:?} with bitcoin")),
    };
    Ok(Step::Keep(t))
}

fn withdrawal(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    if let Some(skip) = unsettled(row, "the withdrawal") {
        return Ok(skip);
    }
    let when = row
        .get("executed at")
        .map_or_else(|| row.need("created at"), Ok)?;
    let amount = btc(decimal(row.need("bitcoin amount")?)?.abs())?;
    let mut t = tx(ctx, iso(when, ctx.zone)?, Kind::Withdrawal, amount);
    t.id = row.get("transaction id").map(str::to_string);
    Ok(Step::Keep(t))
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn purchases_become_these_rows_and_only_settled_ones_count() {
        let (csv, skipped) = convert("swan.csv", "swan", "UTC", "swan");
        assert_rows(
            &csv,
            "sw-2,2023-01-03T10:00:00Z,buy,swan,0.00590000,100.00,USD,,0.99,,,
             sw-3,2023-01-17T10:00:00Z,buy,swan,0.00470000,100.00,USD,,1.49,,,
             sw-5,2023-01-10T10:00:00Z,buy,swan,0.00280000,50.00,USD,,0.50,,,
             sw-7,2023-03-01T12:00:00Z,deposit,swan,0.10000000,,,,,,,
             sw-8,2023-03-15T10:00:00Z,buy,swan,0.04000000,1000.00,USD,,9.90,,,
             sw-9,2023-04-01T10:00:00Z,buy,swan,0.01071395,200.00,USD,,2.00,,,
             sw-10,2023-05-01T10:00:00Z,buy,swan,0.00350000,100.00,USD,,0.99,,,",
        );
        assert_eq!(skipped, vec![4, 7, 9, 14]);
    }

    #[test]
    fn withdrawals_become_these_rows() {
        let (csv, skipped) = convert("swan-withdrawals.csv", "swan-withdrawals", "UTC", "swan");
        assert_rows(
            &csv,
            "wd-1,2023-02-01T12:05:00Z,withdrawal,swan,0.01000000,,,,,,,
             wd-3,2023-04-01T12:05:00Z,withdrawal,swan,0.02071395,,,,,,,
             wd-4,2023-05-01T12:00:00Z,withdrawal,swan,0.05000000,,,,,,,
             wd-5,2023-06-01T12:05:00Z,withdrawal,swan,0.00100000,,,,,,,
             wd-6,2023-07-01T12:05:00Z,withdrawal,swan,0.00200000,,,,,,,
             wd-7,2023-08-01T12:05:00Z,withdrawal,swan,0.00300000,,,,,,,
             wd-8,2023-09-01T12:05:00Z,withdrawal,swan,0.00400000,,,,,,,
             wd-9,2023-10-01T12:05:00Z,withdrawal,swan,0.00500000,,,,,,,
             wd-10,2023-11-01T12:05:00Z,withdrawal,swan,0.00600000,,,,,,,",
        );
        assert_eq!(skipped, vec![5]);
    }
}

//! River's account activity: one side bitcoin, the other fiat or empty.
//! River does not document the zone of its dates (read in the import's
//! zone) nor whether a sale's Received amount is before or after the fee:
//! it is taken as what reached the account, so the proceeds are Received.

use super::cell::{btc, decimal, is_btc, is_fiat, iso};
use super::format::{Context, Format, Input, Step, tx};
use super::table::Row;
use crate::ledger::Kind;

pub const FORMAT: Format = Format {
    name: "river",
    label: "River account activity",
    account: "river",
    detect: |h| {
        h.has_all(&[
            "date",
            "sent amount",
            "sent currency",
            "received amount",
            "received currency",
            "tag",
        ])
    },
    read: |input: &Input<'_>, ctx| input.map(ctx, |r, c| step(r, c).unwrap_or_else(Step::Fail)),
};

fn side<'r>(
    row: &'r Row<'_>,
    which: &str,
) -> Result<Option<(rust_decimal::Decimal, &'r str)>, String> {
    match (
        row.get(&format!("{which} amount")),
        row.get(&format!("{which} currency")),
    ) {
        (Some(a), Some(c)) => Ok(Some((decimal(a)?.abs(), c))),
        (Some(_), None) => Err(format!("{which} amount without its currency")),
        _ => Ok(None),
    }
}

fn step(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let tag = row.need("tag")?;
    let sent = side(row, "sent")?;
    let received = side(row, "received")?;
    let fee = side(row, "fee")?;
    let coin_in = received.filter(|(_, c)| is_btc(c));
    let coin_out = sent.filter(|(_, c)| is_btc(c));
    let time = iso(row.need("date")?, ctx.zone)?;
    let (kind, amount, fiat) = match (coin_in, coin_out) {
        (Some((a, _)), None) => (Kind::Deposit, a, sent),
        (None, Some((a, _))) => (Kind::Withdrawal, a, received),
        (None, None) => {
            return Ok(Step::Skip(format!(
                "{tag}: a fiat-only row, no bitcoin moves"
            )));
        }
        (Some(_), Some(_)) => return Err("both sides are bitcoin".into()),
    };
    let mut t = tx(ctx, time, kind, btc(amount)?);
    match fee {
        Some((f, c)) if is_btc(c) => t.fee_btc = btc(f)?,
        Some((f, c)) if is_fiat(c) => {
            t.fee_fiat = f;
            t.currency = Some(c.to_ascii_uppercase());
        }
        _ => {}
    }
    let lower = tag.to_ascii_lowercase();
    t.kind = match lower.as_str() {
        "buy" | "sell" => {
            let (value, code) = fiat
                .filter(|(_, c)| is_fiat(c))
                .ok_or_else(|| format!("a {tag} without its fiat side"))?;
            let code = code.to_ascii_uppercase();
            if t.currency.as_ref().is_some_and(|c| *c != code) {
                return Err("the fee is in another currency than the trade".into());
            }
            t.currency = Some(code);
            if kind == Kind::Deposit {
                t.fiat_value = Some(value);
                Kind::Buy
            } else {
                t.fiat_value = Some(value + t.fee_fiat);
                Kind::Sell
            }
        }
        _ if kind == Kind::Deposit
            && ["interest", "reward", "bonus"]
                .iter()
                .any(|w| lower.contains(w)) =>
        {
            Kind::Income
        }
        "deposit" | "withdrawal" => kind,
        _ => return Err(format!("unknown tag {tag:?}")),
    };
    if t.fiat_value.is_none() && t.fee_fiat.is_zero() {
        t.currency = None;
    }
    Ok(Step::Keep(t))
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn activity_becomes_these_rows_across_a_daylight_saving_change() {
        let (csv, skipped) = convert("river.csv", "river", "America/New_York", "river");
        assert_rows(
            &csv,
            ",2023-01-03T16:00:00Z,buy,river,0.03001234,500.00,USD,,5.00,,,
             ,2023-01-10T17:00:00Z,buy,river,0.01500000,250.00,USD,,2.50,,,
             ,2023-02-01T05:00:00Z,income,river,0.00001000,,,,,,,
             ,2023-03-05T19:00:00Z,deposit,river,0.20000000,,,,,,,
             ,2023-03-12T06:30:00Z,sell,river,0.10000000,2222.00,USD,,22.00,,,
             ,2023-03-12T07:30:00Z,withdrawal,river,0.05000000,,,0.00002000,,,,
             ,2023-04-01T13:00:00Z,income,river,0.00050000,,,,,,,
             ,2023-05-01T13:00:00Z,buy,river,0.01071395,1000.00,USD,,10.00,,,
             ,2023-07-01T13:00:00Z,buy,river,0.00330000,100.00,USD,,1.00,,,",
        );
        assert_eq!(skipped, vec![2, 11]);
    }
}

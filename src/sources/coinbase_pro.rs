//! Coinbase Pro's historical reports: fills (one line per fill) and the
//! account statement (signed balance changes; the match and fee lines of a
//! trade share its trade id).

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use rust_decimal::Decimal;

use super::cell::{btc, decimal, is_btc, is_fiat, iso};
use super::format::{Context, Format, Input, Outcome, Step, tx};
use super::table::Row;
use crate::ledger::Kind;

pub const FILLS: Format = Format {
    name: "coinbase-pro-fills",
    label: "Coinbase Pro fills",
    account: "coinbase-pro",
    detect: |h| {
        h.has_all(&[
            "trade id",
            "product",
            "side",
            "created at",
            "size",
            "size unit",
            "total",
        ])
    },
    read: |input: &Input<'_>, ctx| input.map(ctx, |r, c| fill(r, c).unwrap_or_else(Step::Fail)),
};

pub const ACCOUNT: Format = Format {
    name: "coinbase-pro-account",
    label: "Coinbase Pro account statement",
    account: "coinbase-pro",
    detect: |h| {
        h.has_all(&[
            "type",
            "time",
            "amount",
            "balance",
            "amount/balance unit",
            "trade id",
        ])
    },
    read: read_account,
};

fn fill(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let product = row.need("product")?.to_ascii_uppercase();
    let (base, quote) = product
        .split_once('-')
        .ok_or_else(|| format!("product {product:?} is not BASE-QUOTE"))?;
    let buy = row.need("side")?.eq_ignore_ascii_case("buy");
    let time = iso(row.need("created at")?, &TimeZone::UTC)?;
    let size = decimal(row.need("size")?)?.abs();
    let fee = decimal(row.get("fee").unwrap_or("0"))?.abs();
    let total = decimal(row.need("total")?)?.abs();
    // Buys: total paid with the fee; sells: total received after it.
    let before_fee = if buy { total - fee } else { total + fee };
    let mut t = if is_btc(base) {
        let mut t = tx(
            ctx,
            time,
            if buy { Kind::Buy } else { Kind::Sell },
            btc(size)?,
        );
        if is_fiat(quote) {
            t.fiat_value = Some(before_fee);
            t.fee_fiat = fee;
            t.currency = Some(quote.to_string());
        } else {
            t.kind = if buy { Kind::Deposit } else { Kind::Withdrawal };
            t.note = Some(format!("traded for {quote} on Coinbase Pro"));
        }
        t
    } else if is_btc(quote) {
        // Bitcoin paid for (or received from) another coin, fee in bitcoin.
        let mut t = if buy {
            let mut t = tx(ctx, time, Kind::Withdrawal, btc(before_fee)?);
            t.fee_btc = btc(fee)?;
            t
        } else {
            tx(ctx, time, Kind::Deposit, btc(total)?)
        };
        t.note = Some(format!("traded for {base} on Coinbase Pro"));
        t
    } else {
        return Ok(Step::Skip(format!("{product}: not a bitcoin market")));
    };
    t.id = row.get("trade id").map(|id| format!("{product}:{id}"));
    Ok(Step::Keep(t))
}

struct Leg {
    line: u64,
    kind: String,
    unit: String,
    amount: Decimal,
    time: String,
}

fn read_account(input: &Input<'_>, ctx: &Context) -> Outcome {
    let mut out = Outcome::default();
    let mut trades: BTreeMap<String, Vec<Leg>> = BTreeMap::new();
    let errors = input.rows(|row| {
        let leg = || -> Result<Leg, String> {
            Ok(Leg {
                line: row.line,
                kind: row.need("type")?.to_ascii_lowercase(),
                unit: row.need("amount/balance unit")?.to_ascii_uppercase(),
                amount: decimal(row.need("amount")?)?,
                time: row.need("time")?.to_string(),
            })
        };
        match (leg(), row.get("trade id")) {
            (Err(m), _) => out.push(row.line, Step::Fail(m)),
            (Ok(l), Some(id)) if l.kind == "match" || l.kind == "fee" => {
                trades.entry(id.to_string()).or_default().push(l);
            }
            (Ok(l), _) => {
                let step = single(&l, row.get("transfer id"), ctx).unwrap_or_else(Step::Fail);
                out.push(l.line, step);
            }
        }
    });
    out.errors.extend(errors);
    for (id, legs) in trades {
        trade(&id, &legs, ctx, &mut out);
    }
    out
}

fn single(l: &Leg, transfer: Option<&str>, ctx: &Context) -> Result<Step, String> {
    if !is_btc(&l.unit) {
        return Ok(Step::Skip(format!(
            "{} of {}: no bitcoin moves",
            l.kind, l.unit
        )));
    }
    let kind = match l.kind.as_str() {
        "deposit" => Kind::Deposit,
        "withdrawal" => Kind::Withdrawal,
        other => return Err(format!("unsupported type {other:?} for bitcoin")),
    };
    let mut t = tx(
        ctx,
        iso(&l.time, &TimeZone::UTC)?,
        kind,
        btc(l.amount.abs())?,
    );
    t.id = transfer.map(str::to_string);
    Ok(Step::Keep(t))
}

fn trade(id: &str, legs: &[Leg], ctx: &Context, out: &mut Outcome) {
    let Some(coin) = legs.iter().find(|l| is_btc(&l.unit) && l.kind == "match") else {
        for l in legs {
            out.push(l.line, Step::Skip(format!("trade {id} moves no bitcoin")));
        }
        return;
    };
    for l in legs.iter().filter(|l| l.line != coin.line) {
        out.push(l.line, Step::Ignore);
    }
    let step = (|| -> Result<Step, String> {
        let sum = |f: &dyn Fn(&Leg) -> bool| {
            legs.iter()
                .filter(|l| f(l))
                .map(|l| l.amount)
                .sum::<Decimal>()
        };
        let gross = sum(&|l| is_btc(&l.unit) && l.kind == "match");
        let fee_btc = btc(sum(&|l| is_btc(&l.unit) && l.kind == "fee").abs())?;
        let incoming = gross.is_sign_positive();
        let amount = btc(gross.abs())?;
        let mut t = tx(
            ctx,
            iso(&coin.time, &TimeZone::UTC)?,
            Kind::Deposit,
            if incoming { amount - fee_btc } else { amount },
        );
        t.fee_btc = fee_btc;
        t.id = Some(id.to_string());
        match legs.iter().find(|l| !is_btc(&l.unit) && l.kind == "match") {
            Some(c) if is_fiat(&c.unit) => {
                t.fiat_value = Some(sum(&|l| l.unit == c.unit && l.kind == "match").abs());
                t.fee_fiat = sum(&|l| l.unit == c.unit && l.kind == "fee").abs();
                t.currency = Some(c.unit.clone());
                t.kind = if incoming { Kind::Buy } else { Kind::Sell };
            }
            Some(c) => {
                t.note = Some(format!("traded for {} on Coinbase Pro", c.unit));
                t.kind = if incoming {
                    Kind::Deposit
                } else {
                    Kind::Withdrawal
                };
            }
            None => return Err(format!("trade {id} has no other side")),
        }
        Ok(Step::Keep(t))
    })()
    .unwrap_or_else(Step::Fail);
    out.push(coin.line, step);
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn fills_become_these_rows() {
        let (csv, skipped) = convert(
            "coinbase-pro-fills.csv",
            "coinbase-pro-fills",
            "UTC",
            "cbpro",
        );
        assert_rows(
            &csv,
            "BTC-USD:101,2021-01-05T10:00:00.123Z,buy,cbpro,0.10000000,3200.00,USD,,16.00,,,
             BTC-USD:102,2021-01-06T11:00:00Z,sell,cbpro,0.05000000,1750.00,USD,,8.75,,,
             BTC-EUR:103,2021-02-01T09:00:00Z,buy,cbpro,0.01071395,300.00,EUR,,1.50,,,
             ETH-BTC:104,2021-02-02T09:00:00Z,withdrawal,cbpro,0.03000000,,,0.00015000,,,,traded for ETH on Coinbase Pro
             ETH-BTC:105,2021-02-03T09:00:00Z,deposit,cbpro,0.01485000,,,,,,,traded for ETH on Coinbase Pro
             BTC-USDC:106,2021-03-01T00:00:00Z,withdrawal,cbpro,0.02000000,,,,,,,traded for USDC on Coinbase Pro
             BTC-USD:107,2021-03-02T00:00:00Z,buy,cbpro,0.00500000,250.00,USD,,1.25,,,
             BTC-USD:107#2,2021-03-02T00:00:01Z,buy,cbpro,0.00500000,250.00,USD,,1.25,,,
             BTC-GBP:108,2021-04-01T00:00:00Z,sell,cbpro,1.00000000,40000.00,GBP,,200.00,,,",
        );
        assert_eq!(skipped, vec![10]);
    }

    #[test]
    fn the_account_statement_pairs_the_lines_of_each_trade() {
        let (csv, skipped) = convert(
            "coinbase-pro-account.csv",
            "coinbase-pro-account",
            "UTC",
            "cbpro",
        );
        assert_rows(
            &csv,
            "t-1,2021-01-04T09:00:00Z,deposit,cbpro,0.50000000,,,,,,,
             201,2021-01-05T10:00:00Z,buy,cbpro,0.10000000,3200.00,USD,,16.00,,,
             202,2021-01-06T11:00:00Z,sell,cbpro,0.05000000,1750.00,USD,,8.75,,,
             203,2021-02-01T09:00:00Z,buy,cbpro,0.01071395,300.00,USD,,1.50,,,
             t-2,2021-03-01T12:00:00Z,withdrawal,cbpro,0.20000000,,,,,,,",
        );
        assert_eq!(skipped, vec![2, 13, 14]);
    }
}

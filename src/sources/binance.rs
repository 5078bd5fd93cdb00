//! Binance's transaction statement: one balance change per line; the
//! lines of one trade share their time (Buy/Sell/Fee, or Transaction
//! Buy/Spend/Fee/Sold/Revenue).

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use rust_decimal::Decimal;

use super::cell::{btc, decimal, is_btc, is_fiat, iso};
use super::format::{Context, Format, Input, Outcome, Step, tx};
use super::table::Row;
use crate::ledger::Kind;

pub const FORMAT: Format = Format {
    name: "binance",
    label: "Binance transaction statement",
    account: "binance",
    detect: |h| {
        h.has_all(&["account", "operation", "coin", "change"])
            && (h.has("utc_time") || h.has("time"))
    },
    read,
};

const TRADE: [&str; 10] = [
    "buy",
    "sell",
    "fee",
    "transaction buy",
    "transaction spend",
    "transaction fee",
    "transaction sold",
    "transaction revenue",
    "binance convert",
    "convert",
];

struct Leg {
    line: u64,
    coin: String,
    change: Decimal,
    fee: bool,
}

fn time<'r>(row: &'r Row<'_>) -> Result<&'r str, String> {
    row.get("utc_time")
        .or_else(|| row.get("time"))
        .ok_or_else(|| "the time is empty".to_string())
}

fn read(input: &Input<'_>, ctx: &Context) -> Outcome {
    let mut out = Outcome::default();
    let mut trades: BTreeMap<(String, String), Vec<Leg>> = BTreeMap::new();
    let errors = input.rows(|row| {
        let op = row.get("operation").unwrap_or("").to_ascii_lowercase();
        if TRADE.contains(&op.as_str()) {
            let leg = || -> Result<((String, String), Leg), String> {
                let key = (
                    time(&row)?.to_string(),
                    row.get("account").unwrap_or("").to_string(),
                );
                Ok((
                    key,
                    Leg {
                        line: row.line,
                        coin: row.need("coin")?.to_ascii_uppercase(),
                        change: decimal(row.need("change")?)?,
                        fee: op.ends_with("fee"),
                    },
                ))
            };
            match leg() {
                Ok((key, leg)) => trades.entry(key).or_default().push(leg),
                Err(m) => out.push(row.line, Step::Fail(m)),
            }
        } else {
            out.push(row.line, single(&row, &op, ctx).unwrap_or_else(Step::Fail));
        }
    });
    out.errors.extend(errors);
    for ((when, _), legs) in trades {
        trade(&when, &legs, ctx, &mut out);
    }
    out
}

fn single(row: &Row<'_>, op: &str, ctx: &Context) -> Result<Step, String> {
    let coin = row.need("coin")?;
    if !is_btc(coin) {
        let what = if is_fiat(coin) {
            "a fiat-only row"
        } else {
            "not bitcoin"
        };
        return Ok(Step::Skip(format!("{op} of {coin}: {what}")));
    }
    if ["transfer", "subscription", "redemption"]
        .iter()
        .any(|w| op.contains(w))
    {
        return Ok(Step::Skip("a move between Binance accounts".into()));
    }
    let change = decimal(row.need("change")?)?;
    let kind = match op {
        "deposit" => Kind::Deposit,
        "withdraw" | "withdrawal" => Kind::Withdrawal,
        _ if [
            "interest",
            "reward",
            "distribution",
            "airdrop",
            "commission",
            "kickback",
            "cashback",
        ]
        .iter()
        .any(|w| op.contains(w)) =>
        {
            Kind::Income
        }
        _ => return Err(format!("unknown operation {op:?}")),
    };
    if kind.is_inflow() != change.is_sign_positive() {
        return Err(format!(
            "a {op} with the change {change} goes the wrong way"
        ));
    }
    let mut t = tx(
        ctx,
        iso(time(row)?, &TimeZone::UTC)?,
        kind,
        btc(change.abs())?,
    );
    t.note = row.get("remark").map(str::to_string);
    Ok(Step::Keep(t))
}

fn trade(when: &str, legs: &[Leg], ctx: &Context, out: &mut Outcome) {
    let Some(first) = legs.iter().find(|l| is_btc(&l.coin) && !l.fee) else {
        for l in legs {
            out.push(
                l.line,
                Step::Skip(format!("a trade of {} with no bitcoin", l.coin)),
            );
        }
        return;
    };
    for l in legs.iter().filter(|l| l.line != first.line) {
        out.push(l.line, Step::Ignore);
    }
    let step = (|| -> Result<Step, String> {
        let sum = |f: &dyn Fn(&Leg) -> bool| {
            legs.iter()
                .filter(|l| f(l))
                .map(|l| l.change)
                .sum::<Decimal>()
        };
        let gross = sum(&|l| is_btc(&l.coin) && !l.fee);
        let fee_btc = btc(sum(&|l| is_btc(&l.coin) && l.fee).abs())?;
        let counter = legs.iter().find(|l| !is_btc(&l.coin) && !l.fee);
        let incoming = gross.is_sign_positive();
        let amount = btc(gross.abs())?;
        let credited = if incoming { amount - fee_btc } else { amount };
        let mut t = tx(ctx, iso(when, &TimeZone::UTC)?, Kind::Deposit, credited);
        t.fee_btc = fee_btc;
        match counter {
            Some(c) if is_fiat(&c.coin) => {
                t.fiat_value = Some(sum(&|l| l.coin == c.coin && !l.fee).abs());
                t.fee_fiat = sum(&|l| l.coin == c.coin && l.fee).abs();
                t.currency = Some(c.coin.clone());
                t.kind = if incoming { Kind::Buy } else { Kind::Sell };
            }
            Some(c) => {
                t.note = Some(format!("traded for {} on Binance", c.coin));
                t.kind = if incoming {
                    Kind::Deposit
                } else {
                    Kind::Withdrawal
                };
            }
            None => return Err("a trade without its other side".into()),
        }
        Ok(Step::Keep(t))
    })()
    .unwrap_or_else(Step::Fail);
    out.push(first.line, step);
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn the_statement_becomes_one_row_per_bitcoin_event() {
        let (csv, skipped) = convert("binance.csv", "binance", "UTC", "binance");
        assert_rows(
            &csv,
            ",2024-01-03T10:00:00Z,buy,binance,0.01998000,800,EUR,0.00002000,,,,
             ,2024-01-05T12:00:00Z,deposit,binance,0.01000000,,,,,,,traded for USDT on Binance
             ,2024-01-06T08:00:00Z,deposit,binance,0.50000000,,,,,,,
             ,2024-02-01T00:00:00Z,income,binance,0.00000123,,,,,,,
             ,2024-02-10T15:30:00Z,sell,binance,0.05000000,2100.5,EUR,,2.1005,,,
             ,2024-03-01T11:00:00Z,withdrawal,binance,0.30000000,,,,,,,
             ,2024-03-03T00:00:00Z,income,binance,0.01071395,,,,,,,Airdrop",
        );
        assert_eq!(skipped, vec![2, 10, 11, 17]);
    }
}

//! Kraken's ledgers.csv (every balance change, the legs of one event
//! sharing a refid) and trades.csv (one line per fill).

use std::collections::HashMap;

use jiff::tz::TimeZone;
use rust_decimal::Decimal;

use super::cell::{btc, decimal, is_btc, is_fiat, iso};
use super::format::{Context, Format, Input, Outcome, Step, tx};
use super::table::Row;
use crate::ledger::Kind;

pub const LEDGERS: Format = Format {
    name: "kraken-ledgers",
    label: "Kraken ledgers",
    account: "kraken",
    detect: |h| h.has_all(&["txid", "refid", "time", "type", "asset", "amount", "fee"]),
    read: read_ledgers,
};

pub const TRADES: Format = Format {
    name: "kraken-trades",
    label: "Kraken trades",
    account: "kraken",
    detect: |h| {
        h.has_all(&[
            "txid",
            "ordertxid",
            "pair",
            "time",
            "type",
            "cost",
            "fee",
            "vol",
        ])
    },
    read: read_trades,
};

/// What an asset code stands for: `XXBT`, `XBT.M` (bitcoin in another
/// Kraken wallet), `ZUSD`, `EUR`, `XETH`...
#[derive(Debug, Clone, PartialEq, Eq)]
enum Asset {
    Btc,
    Fiat(String),
    Other(String),
}

fn asset(code: &str) -> Asset {
    let code = code.split('.').next().unwrap_or(code).to_ascii_uppercase();
    if is_btc(&code) {
        return Asset::Btc;
    }
    let short = match code.strip_prefix(['Z', 'X']) {
        Some(rest) if code.len() == 4 => rest.to_string(),
        _ => code.clone(),
    };
    if is_fiat(&short) {
        Asset::Fiat(short)
    } else {
        Asset::Other(short)
    }
}

struct Entry {
    line: u64,
    time: jiff::Timestamp,
    kind: String,
    subtype: String,
    asset: Asset,
    amount: Decimal,
    fee: Decimal,
}

fn entry(row: &Row<'_>) -> Result<Entry, String> {
    Ok(Entry {
        line: row.line,
        time: iso(row.need("time")?, &TimeZone::UTC)?,
        kind: row.need("type")?.to_ascii_lowercase(),
        subtype: row.get("subtype").unwrap_or("").to_ascii_lowercase(),
        asset: asset(row.need("asset")?),
        amount: decimal(row.need("amount")?)?,
        fee: row.get("fee").map(decimal).transpose()?.unwrap_or_default(),
    })
}

fn read_ledgers(input: &Input<'_>, ctx: &Context) -> Outcome {
    let mut out = Outcome::default();
    // A trade (or a Buy Crypto spend and receive) is two legs sharing a
    // refid, usually adjacent but not always: a leg waits here for its
    // other half, and the pair is read as soon as it is whole, so memory
    // holds the rows kept, not the file. Every other event is one leg.
    let mut halves: HashMap<String, Entry> = HashMap::new();
    let errors = input.rows(|row| {
        if row.get("txid").is_none() {
            out.push(
                row.line,
                Step::Skip("a pending entry (no txid yet); Kraken repeats it once settled".into()),
            );
            return;
        }
        let (refid, e) = match (row.need("refid"), entry(&row)) {
            (Ok(refid), Ok(e)) => (refid, e),
            (Err(m), _) | (_, Err(m)) => return out.push(row.line, Step::Fail(m)),
        };
        if !matches!(e.kind.as_str(), "trade" | "spend" | "receive") {
            return event(refid, &[e], ctx, &mut out);
        }
        match halves.remove(refid) {
            Some(first) => event(refid, &[first, e], ctx, &mut out),
            None => {
                halves.insert(refid.to_string(), e);
            }
        }
    });
    out.errors.extend(errors);
    let mut alone: Vec<(String, Entry)> = halves.into_iter().collect();
    alone.sort_by_key(|(_, e)| e.line);
    for (refid, e) in alone {
        event(&refid, &[e], ctx, &mut out);
    }
    out
}

fn event(refid: &str, legs: &[Entry], ctx: &Context, out: &mut Outcome) {
    let (coins, others): (Vec<&Entry>, Vec<&Entry>) =
        legs.iter().partition(|e| e.asset == Asset::Btc);
    if coins.is_empty() {
        for e in others {
            out.push(e.line, Step::Skip(format!("{} moves no bitcoin", e.kind)));
        }
        return;
    }
    let internal = match coins[0].kind.as_str() {
        "transfer" => true,
        "earn" => coins[0].subtype != "reward",
        _ => false,
    };
    if internal {
        for e in legs {
            out.push(e.line, Step::Skip("a move between Kraken wallets".into()));
        }
        return;
    }
    let counter = others.first().copied();
    for e in &others {
        out.push(e.line, Step::Ignore);
    }
    for coin in coins {
        let step = leg(refid, coin, counter, ctx).unwrap_or_else(Step::Fail);
        out.push(coin.line, step);
    }
}

fn leg(refid: &str, coin: &Entry, counter: Option<&Entry>, ctx: &Context) -> Result<Step, String> {
    let incoming = coin.amount.is_sign_positive();
    // Kraken takes the fee on top: balance = previous + amount - fee.
    let (amount, fee) = (btc(coin.amount.abs())?, btc(coin.fee)?);
    let credited = if incoming { amount - fee } else { amount };
    let mut t = tx(ctx, coin.time, Kind::Deposit, credited);
    t.id = Some(refid.to_string());
    t.fee_btc = fee;
    t.kind = match coin.kind.as_str() {
        "trade" | "spend" | "receive" => match counter.map(|c| &c.asset) {
            Some(Asset::Fiat(code)) => {
                let c = counter.ok_or("no counterpart")?;
                t.fiat_value = Some(c.amount.abs());
                t.fee_fiat = c.fee;
                t.currency = Some(code.clone());
                if incoming { Kind::Buy } else { Kind::Sell }
            }
            Some(Asset::Other(code)) => {
                t.note = Some(format!("traded for {code} on Kraken"));
                if incoming {
                    Kind::Deposit
                } else {
                    Kind::Withdrawal
                }
            }
            _ => return Err(format!("the {} {refid} has no counterpart leg", coin.kind)),
        },
        "deposit" => Kind::Deposit,
        "withdrawal" => Kind::Withdrawal,
        "earn" | "staking" | "reward" | "dividend" if incoming => Kind::Income,
        other => return Err(format!("unsupported ledger type {other:?} for bitcoin")),
    };
    Ok(Step::Keep(t))
}

fn read_trades(input: &Input<'_>, ctx: &Context) -> Outcome {
    input.map(ctx, |row, ctx| trade(row, ctx).unwrap_or_else(Step::Fail))
}

/// `XXBTZUSD`, `XBT/USD`, `XBTUSD` into base and quote.
fn pair(text: &str) -> (Asset, Asset) {
    let upper = text.to_ascii_uppercase();
    if let Some((b, q)) = upper.split_once('/') {
        return (asset(b), asset(q));
    }
    let at = if upper.len() == 8 {
        4
    } else {
        upper.len().saturating_sub(3)
    };
    // A character past ASCII is no asset code; never split inside it.
    match upper.split_at_checked(at) {
        Some((b, q)) => (asset(b), asset(q)),
        None => (asset(&upper), Asset::Other(String::new())),
    }
}

fn trade(row: &Row<'_>, ctx: &Context) -> Result<Step, String> {
    let (base, quote) = pair(row.need("pair")?);
    let side = row.need("type")?.to_ascii_lowercase();
    let buy = match side.as_str() {
        "buy" => true,
        "sell" => false,
        other => return Err(format!("unknown trade type {other:?}")),
    };
    let time = iso(row.need("time")?, &TimeZone::UTC)?;
    let vol = decimal(row.need("vol")?)?.abs();
    let cost = decimal(row.need("cost")?)?.abs();
    let fee = row.get("fee").map(decimal).transpose()?.unwrap_or_default();
    let mut t = match (&base, &quote) {
        (Asset::Btc, Asset::Fiat(code)) => {
            let mut t = tx(
                ctx,
                time,
                if buy { Kind::Buy } else { Kind::Sell },
                btc(vol)?,
            );
            t.fiat_value = Some(cost);
            t.fee_fiat = fee;
            t.currency = Some(code.clone());
            t
        }
        (Asset::Btc, Asset::Other(code)) => {
            let mut t = tx(
                ctx,
                time,
                if buy { Kind::Deposit } else { Kind::Withdrawal },
                btc(vol)?,
            );
            t.note = Some(format!("traded for {code} on Kraken"));
            t
        }
        (Asset::Other(code) | Asset::Fiat(code), Asset::Btc) => {
            let mut t = tx(
                ctx,
                time,
                if buy { Kind::Withdrawal } else { Kind::Deposit },
                btc(cost)?,
            );
            t.note = Some(format!("traded for {code} on Kraken"));
            t
        }
        _ => {
            return Ok(Step::Skip(format!(
                "{}: not a bitcoin pair",
                row.need("pair")?
            )));
        }
    };
    t.id = row.get("txid").map(str::to_string);
    Ok(Step::Keep(t))
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn pairs_with_characters_past_ascii_are_not_split_inside_them() {
        assert_eq!(super::pair("Bԅ12").1, super::Asset::Other(String::new()));
        assert_eq!(super::pair("XBTUSD").0, super::Asset::Btc);
    }

    #[test]
    fn a_ledger_becomes_one_row_per_bitcoin_event() {
        let (csv, skipped) = convert(
            "kraken-ledgers.csv",
            "kraken-ledgers",
            "Europe/Paris",
            "kraken",
        );
        assert_rows(
            &csv,
            "R2,2024-01-03T09:05:00Z,deposit,kraken,0.50000000,,,,,,,
             T1,2024-01-04T12:00:00.1234Z,buy,kraken,0.10000000,4400.0000,USD,,11.4400,,,
             T2,2024-02-10T08:30:00Z,sell,kraken,0.20000000,9600.0000,USD,,24.9600,,,
             E2,2024-03-08T00:00:00Z,income,kraken,0.00001234,,,,,,,
             W1,2024-04-01T15:00:00Z,withdrawal,kraken,0.25000000,,,0.00005000,,,,
             S1,2024-04-15T11:00:00Z,buy,kraken,0.00170000,100.0000,EUR,,1.5000,,,
             T3,2024-05-01T09:00:00Z,withdrawal,kraken,0.05000000,,,,,,,traded for ETH on Kraken",
        );
        assert_eq!(skipped, vec![2, 3, 9, 10, 17]);
    }

    #[test]
    fn trades_become_one_row_per_fill() {
        let (csv, skipped) = convert("kraken-trades.csv", "kraken-trades", "UTC", "kraken");
        assert_rows(
            &csv,
            "TA1,2023-01-05T10:00:00Z,buy,kraken,0.10000000,1690.00000,USD,,4.39400,,,
             TA2,2023-01-06T11:30:00.5Z,sell,kraken,0.05000000,850.00000,USD,,2.21000,,,
             TA3,2023-02-01T09:00:00Z,buy,kraken,0.01071395,250.00,EUR,,0.65,,,
             TA4,2023-02-02T09:00:00Z,withdrawal,kraken,0.07000000,,,,,,,traded for ETH on Kraken
             TA5,2023-02-03T09:00:00Z,deposit,kraken,0.02000000,,,,,,,traded for ETH on Kraken
             TA6,2023-03-01T00:00:00Z,sell,kraken,1.00000000,23000.0,GBP,,36.8,,,
             TA7,2023-03-02T00:00:00Z,buy,kraken,0.00500000,110.00,USD,,0.29,,,
             TA8,2023-03-03T00:00:00Z,buy,kraken,0.00500000,111.00,USD,,0.29,,,
             TA9,2023-03-04T00:00:00Z,sell,kraken,0.00250000,57.50,USD,,0.15,,,
             TA10,2023-03-05T00:00:00Z,buy,kraken,0.30000000,6900.00,EUR,,11.04,,,",
        );
        assert_eq!(skipped, vec![8]);
    }
}

//! Bitfinex's ledgers report: one line per change of one currency's balance
//! in one wallet, `#,DESCRIPTION,CURRENCY,AMOUNT,BALANCE,DATE,WALLET`. The
//! spec gives the columns and signs (fees negative); what each line is comes
//! only from its DESCRIPTION, whose wording the spec does not give: the
//! phrases read here are Bitfinex's usual ones (see `docs/imports.md`), and
//! a bitcoin line with any other description refuses the file rather than
//! be guessed at.
//!
//! A trade is two lines (`Exchange 0.2 BTC for USD @ 44000 on wallet
//! exchange`, once per currency) and maybe a `Trading fees ...` line, all at
//! one time: the bitcoin line becomes the row, valued from the price in its
//! description, and the fee line at the same time is its fee. A `Crypto
//! Withdrawal fee` line is the fee of the withdrawal at its time, or a fee
//! row of its own.

use jiff::Timestamp;
use rust_decimal::Decimal;

use super::bitfinex::time;
use super::cell::{btc, decimal, is_btc, is_fiat};
use super::format::{Context, Format, Input, Outcome, Step, is_comment, tx};
use super::table::Row;
use crate::ledger::{Kind, Tx};

pub const LEDGERS: Format = Format {
    name: "bitfinex-ledgers",
    label: "Bitfinex ledgers",
    account: "bitfinex",
    detect: |h| h.has_all(&["#", "description", "currency", "amount", "balance", "date"]),
    read: ledgers,
};

#[derive(Debug, Clone, PartialEq)]
enum What {
    /// The bitcoin side of a trade against `quote` at `price`.
    Trade {
        quote: String,
        price: Decimal,
    },
    /// A trading fee; `of` is the bitcoin amount its description names.
    TradeFee {
        of: Option<Decimal>,
    },
    Deposit,
    Withdrawal,
    WithdrawalFee,
    Income,
}

/// A line kept for the second pass, where fees join their trade or
/// withdrawal.
struct Entry {
    line: u64,
    id: Option<String>,
    time: Timestamp,
    currency: String,
    amount: Decimal,
    what: What,
}

fn ledgers(input: &Input<'_>, ctx: &Context) -> Outcome {
    let mut out = Outcome::default();
    let mut entries = Vec::new();
    let errors = input.rows(|row| {
        if is_comment(&row) {
            out.push(row.line, Step::Skip("a comment or summary line".into()));
            return;
        }
        match entry(&row, ctx) {
            Ok(Ok(e)) => entries.push(e),
            Ok(Err(step)) => out.push(row.line, step),
            Err(message) => out.push(row.line, Step::Fail(message)),
        }
    });
    out.errors.extend(errors);
    let mut used = vec![false; entries.len()];
    for i in 0..entries.len() {
        let e = &entries[i];
        let step = match &e.what {
            What::Trade { quote, price } => {
                let fee = take(
                    &entries,
                    &mut used,
                    i,
                    |f| matches!(f.what, What::TradeFee { of } if of.is_none_or(|of| of == e.amount.abs())),
                );
                trade(e, quote, *price, fee, ctx)
            }
            What::Withdrawal => {
                let fee = take(&entries, &mut used, i, |f| f.what == What::WithdrawalFee);
                movement(e, Kind::Withdrawal, fee, ctx)
            }
            What::Deposit => movement(e, Kind::Deposit, None, ctx),
            What::Income => movement(e, Kind::Income, None, ctx),
            // Fees wait until every trade and withdrawal has taken its own.
            What::TradeFee { .. } | What::WithdrawalFee => continue,
        };
        out.push(e.line, step.unwrap_or_else(Step::Fail));
    }
    for (e, _) in entries.iter().zip(&used).filter(|(_, used)| !**used) {
        if matches!(e.what, What::TradeFee { .. } | What::WithdrawalFee) {
            out.push(e.line, lone_fee(e, ctx).unwrap_or_else(Step::Fail));
        }
    }
    out
}

/// The first fee line not yet used, at the time of entry `i`, that `fits`.
fn take<'e>(
    entries: &'e [Entry],
    used: &mut [bool],
    i: usize,
    fits: impl Fn(&Entry) -> bool,
) -> Option<&'e Entry> {
    let at = entries[i].time;
    let j =
        (0..entries.len()).find(|j| !used[*j] && entries[*j].time == at && fits(&entries[*j]))?;
    used[j] = true;
    Some(&entries[j])
}

/// Reads one line: an entry for the second pass, or what becomes of it now.
fn entry(row: &Row<'_>, ctx: &Context) -> Result<Result<Entry, Step>, String> {
    let description = row.need("description")?;
    let d = description.to_ascii_lowercase();
    let currency = row.need("currency")?.trim().to_ascii_uppercase();
    let on_bitcoin = is_btc(&currency);
    let what = if d.starts_with("transfer of") || d.contains(" from wallet ") {
        return Ok(Err(Step::Skip("a move between Bitfinex wallets".into())));
    } else if d.starts_with("exchange ") {
        if !on_bitcoin {
            let side = if is_fiat(&currency) {
                "the fiat side of a trade (valued from the description)"
            } else {
                "not bitcoin"
            };
            return Ok(Err(Step::Skip(format!("{currency}: {side}"))));
        }
        let (quote, price) = priced(description)?;
        What::Trade { quote, price }
    } else if d.starts_with("trading fee") {
        if !on_bitcoin && !is_fiat(&currency) {
            return Ok(Err(Step::Skip(format!("a fee in {currency}: not bitcoin"))));
        }
        What::TradeFee {
            of: fee_of(description),
        }
    } else if !on_bitcoin {
        let what = if is_fiat(&currency) {
            "a fiat-only row"
        } else {
            "not bitcoin"
        };
        return Ok(Err(Step::Skip(format!("{currency}: {what}"))));
    } else if d.contains("withdrawal fee") {
        What::WithdrawalFee
    } else if d.contains("withdrawal") {
        What::Withdrawal
    } else if d.contains("deposit") {
        What::Deposit
    } else if [
        "funding payment",
        "interest",
        "staking",
        "reward",
        "rebate",
        "airdrop",
    ]
    .iter()
    .any(|w| d.contains(w))
    {
        What::Income
    } else {
        return Err(format!(
            "a bitcoin line described {description:?}: not a known kind of ledger entry"
        ));
    };
    Ok(Ok(Entry {
        line: row.line,
        id: row.get("#").map(str::to_string),
        time: time(row.need("date")?, ctx)?,
        currency,
        amount: decimal(row.need("amount")?)?,
        what,
    }))
}

/// `Exchange 0.2 BTC for USD @ 44000 on wallet exchange`: (USD, 44000).
fn priced(description: &str) -> Result<(String, Decimal), String> {
    let missing = || format!("a trade described {description:?}: no \"for CURRENCY @ PRICE\"");
    let (_, rest) = description.split_once(" for ").ok_or_else(missing)?;
    let (quote, rest) = rest.split_once('@').ok_or_else(missing)?;
    let price = rest.split_whitespace().next().ok_or_else(missing)?;
    let price = decimal(price)?;
    if price <= Decimal::ZERO {
        return Err(format!("a trade at the price {price}"));
    }
    Ok((quote.trim().to_ascii_uppercase(), price))
}

/// `Trading fees for 0.2 BTC (BTCUSD) @ ...`: 0.2, the trade it belongs to.
fn fee_of(description: &str) -> Option<Decimal> {
    let (_, rest) = description.split_once(" for ")?;
    let mut words = rest.split_whitespace();
    let amount = decimal(words.next()?).ok()?;
    is_btc(words.next()?).then_some(amount.abs())
}

fn trade(
    e: &Entry,
    quote: &str,
    price: Decimal,
    fee: Option<&Entry>,
    ctx: &Context,
) -> Result<Step, String> {
    let buy = e.amount.is_sign_positive();
    let mut t = tx(ctx, e.time, Kind::Buy, btc(e.amount.abs())?);
    if is_fiat(quote) {
        t.kind = if buy { Kind::Buy } else { Kind::Sell };
        let value = t.btc.to_btc().checked_mul(price);
        t.fiat_value = Some(value.ok_or("the value is too large")?.normalize());
        t.currency = Some(quote.to_string());
    } else {
        t.kind = if buy { Kind::Deposit } else { Kind::Withdrawal };
        t.note = Some(format!("traded for {quote} on Bitfinex"));
    }
    if let Some(f) = fee {
        if is_btc(&f.currency) {
            t.fee_btc = btc(f.amount.abs())?;
            if buy {
                // The fee came out of the bitcoin bought.
                if t.fee_btc > t.btc {
                    return Err("the fee is more than the bitcoin bought".into());
                }
                t.btc = t.btc - t.fee_btc;
            }
        } else if t.currency.as_deref() == Some(f.currency.as_str()) {
            t.fee_fiat = f.amount.abs();
        }
    }
    t.id.clone_from(&e.id);
    Ok(Step::Keep(t))
}

fn movement(e: &Entry, kind: Kind, fee: Option<&Entry>, ctx: &Context) -> Result<Step, String> {
    if kind.is_inflow() != e.amount.is_sign_positive() {
        return Err(format!("a {kind} of {} goes the wrong way", e.amount));
    }
    let mut t: Tx = tx(ctx, e.time, kind, btc(e.amount.abs())?);
    if let Some(f) = fee {
        t.fee_btc = btc(f.amount.abs())?;
    }
    t.id.clone_from(&e.id);
    Ok(Step::Keep(t))
}

/// A fee with no trade or withdrawal at its time: a bitcoin fee is a row of
/// its own; a fiat one moves no bitcoin.
fn lone_fee(e: &Entry, ctx: &Context) -> Result<Step, String> {
    if !is_btc(&e.currency) {
        return Ok(Step::Skip(format!(
            "a fee in {} with no bitcoin trade at its time",
            e.currency
        )));
    }
    let mut t = tx(ctx, e.time, Kind::Fee, crate::ledger::Sats::ZERO);
    t.fee_btc = btc(e.amount.abs())?;
    t.id.clone_from(&e.id);
    Ok(Step::Keep(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn ledger_lines_become_these_rows() {
        let (csv, skipped) = convert(
            "bitfinex-ledgers.csv",
            "bitfinex-ledgers",
            "Europe/Zurich",
            "bitfinex",
        );
        assert_rows(
            &csv,
            "1,2024-01-02T09:00:00Z,deposit,bitfinex,0.50000000,,,,,,,
             3,2024-01-05T09:00:00Z,buy,bitfinex,0.19960000,8800,USD,0.00040000,,,,
             6,2024-01-06T10:30:00Z,sell,bitfinex,0.10000000,4500,USD,,9,,,
             11,2024-01-10T23:00:00Z,income,bitfinex,0.00001235,,,,,,,
             12,2024-02-02T08:00:00Z,withdrawal,bitfinex,0.01000000,,,,,,,traded for UST on Bitfinex
             15,2024-03-31T01:30:00Z,withdrawal,bitfinex,0.20000000,,,0.00040000,,,,
             17,2024-03-31T00:30:00Z,deposit,bitfinex,0.01071395,,,,,,,
             18,2024-04-01T10:00:00Z,fee,bitfinex,0.00000000,,,0.00010000,,,,",
        );
        assert_eq!(skipped, vec![3, 5, 8, 10, 11, 14, 15]);
    }

    #[test]
    fn descriptions_give_the_price_and_the_trade_a_fee_belongs_to() {
        let dec = |s: &str| s.parse::<Decimal>().expect("decimal");
        assert_eq!(
            priced("Exchange 0.2 BTC for USD @ 44,000.5 on wallet exchange"),
            Ok(("USD".to_string(), dec("44000.5")))
        );
        assert!(priced("Exchange 0.2 BTC").is_err());
        assert!(priced("Exchange 0.2 BTC for USD @ 0 on wallet exchange").is_err());
        assert_eq!(
            fee_of("Trading fees for 0.2 BTC (BTCUSD) @ 44000 on BFX (0.2%) on wallet exchange"),
            Some(dec("0.2"))
        );
        assert_eq!(fee_of("Trading fees on wallet exchange"), None);
    }

    #[test]
    fn an_unknown_bitcoin_line_or_a_wrong_sign_refuses_the_file_with_its_line() {
        let zone = jiff::tz::TimeZone::UTC;
        let ctx = Context {
            zone: &zone,
            account: "bitfinex",
        };
        let file = "#,DESCRIPTION,CURRENCY,AMOUNT,BALANCE,DATE,WALLET\n\
                    1,Settlement on wallet margin,BTC,-0.1,0,01-01-24 10:00:00,margin\n\
                    2,Deposit (BITCOIN) on wallet exchange,BTC,-0.1,0,01-01-24 10:00:00,exchange\n\
                    3,Settlement on wallet margin,USD,-100,0,01-01-24 10:00:00,margin\n";
        let errors = match crate::sources::format::convert(file.as_bytes(), Some(&LEDGERS), &ctx) {
            Err(errors) => errors,
            Ok(_) => panic!("accepted"),
        };
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3], "{errors:?}");
        assert!(
            errors[0]
                .message
                .contains("\"Settlement on wallet margin\"")
        );
        assert_eq!(errors[1].message, "a deposit of -0.1 goes the wrong way");
    }
}

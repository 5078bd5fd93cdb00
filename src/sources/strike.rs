//! Strike's annual transaction export and monthly statement. Amounts are
//! signed balance changes: a purchase's fiat is the total debited with the
//! fee, a sale's is what was credited after it, and a send's bitcoin is what
//! left the account, network fee included. The Transaction Hash of a
//! Lightning payment is a payment hash, never a txid: it goes to the note.

use jiff::tz::TimeZone;
use rust_decimal::Decimal;

use super::cell::{btc, decimal, in_zone, is_fiat, iso};
use super::format::{Context, Format, Input, Step, tx};
use super::table::{Header, Row};
use crate::ledger::Kind;

pub const FORMAT: Format = Format {
    name: "strike",
    label: "Strike annual transactions",
    account: "strike",
    detect: |h| {
        h.has_all(&[
            "reference",
            "date & time (utc)",
            "transaction type",
            "amount btc",
        ])
    },
    read,
};

pub const MONTHLY: Format = Format {
    name: "strike-monthly",
    label: "Strike monthly statement",
    account: "strike",
    detect: |h| {
        h.has_all(&[
            "transaction id",
            "time (utc)",
            "status",
            "transaction type",
            "amount btc",
        ])
    },
    read,
};

/// The account currency, named in the column names (`Amount USD`).
fn fiat_code(h: &Header) -> Option<String> {
    h.names.iter().find_map(|n| {
        let code = n.strip_prefix("amount ")?;
        (is_fiat(code)).then(|| code.to_string())
    })
}

fn read(input: &Input<'_>, ctx: &Context) -> Outcome {
    let code = fiat_code(input.header);
    input.map(ctx, |r, c| {
        step(r, c, code.as_deref()).unwrap_or_else(Step::Fail)
    })
}

use super::format::Outcome;

/// `Sep 04 2024 8:05:17`, UTC.
fn time(text: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(civil) = jiff::civil::DateTime::strptime("%b %d %Y %H:%M:%S", text.trim()) {
        return in_zone(civil, &TimeZone::UTC, text);
    }
    iso(text, &TimeZone::UTC)
}

/// An on-chain address: the only sign that a hash is a txid.
fn is_address(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.starts_with("bc1")
        || lower.starts_with("tb1")
        || ((text.starts_with('1') || text.starts_with('3'))
            && (26..=35).contains(&text.len())
            && text.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn step(row: &Row<'_>, ctx: &Context, code: Option<&str>) -> Result<Step, String> {
    let kind_text = row.need("transaction type")?;
    if let Some(status) = row.get("status")
        && !status.eq_ignore_ascii_case("completed")
    {
        return Ok(Step::Skip(format!(
            "{kind_text} is {status}, not completed"
        )));
    }
    let coins = row
        .get("amount btc")
        .map(decimal)
        .transpose()?
        .unwrap_or_default();
    if coins.is_zero() {
        return Ok(Step::Skip(format!(
            "{kind_text}: a fiat-only row, no bitcoin moves"
        )));
    }
    let when = row
        .get("date & time (utc)")
        .or_else(|| row.get("time (utc)"))
        .ok_or("the time is empty")?;
    let mut t = tx(ctx, time(when)?, Kind::Deposit, btc(coins.abs())?);
    let fee_btc = row
        .get("fee btc")
        .map(decimal)
        .transpose()?
        .unwrap_or_default();
    let fiat = |name: &str| -> Result<Decimal, String> {
        let Some(code) = code else {
            return Ok(Decimal::ZERO);
        };
        Ok(row
            .get(&format!("{name} {code}"))
            .map(decimal)
            .transpose()?
            .unwrap_or_default()
            .abs())
    };
    let (amount, fee) = (fiat("amount")?, fiat("fee")?);
    let incoming = coins.is_sign_positive();
    t.kind = match kind_text.to_ascii_lowercase().as_str() {
        "purchase" | "buy" if incoming => {
            t.fiat_value = Some(amount - fee);
            Kind::Buy
        }
        "sale" | "sell" if !incoming => {
            t.fiat_value = Some(amount + fee);
            Kind::Sell
        }
        other
            if incoming
                && ["reward", "bonus", "interest"]
                    .iter()
                    .any(|w| other.contains(w)) =>
        {
            Kind::Income
        }
        _ if incoming => Kind::Deposit,
        _ => {
            // `Amount BTC` is the whole balance change, the network fee
            // included: what left for the destination is the rest.
            let fee = fee_btc.abs();
            let sent = coins.abs() - fee;
            if sent.is_sign_negative() {
                return Err(format!(
                    "the fee {fee} BTC is more than the {} BTC the balance went down by",
                    coins.abs()
                ));
            }
            t.btc = btc(sent)?;
            t.fee_btc = btc(fee)?;
            Kind::Withdrawal
        }
    };
    if t.fiat_value.is_some() {
        t.fee_fiat = fee;
        t.currency = code.map(str::to_uppercase);
    }
    t.id = row
        .get("reference")
        .or_else(|| row.get("transaction id"))
        .map(str::to_string);
    let mut notes: Vec<String> = row.get("note").into_iter().map(str::to_string).collect();
    if let Some(hash) = row.get("transaction hash") {
        let destination = row.get("destination").unwrap_or("");
        let described = format!("{} {}", row.get("description").unwrap_or(""), destination)
            .to_ascii_lowercase();
        let lightning = described.contains("lightning")
            || destination.to_ascii_lowercase().starts_with("ln")
            || destination.contains('@');
        let onchain = is_address(destination) || described.contains("on-chain");
        if onchain && !lightning {
            t.txid = Some(hash.to_string());
        } else {
            notes.push(format!("Lightning payment hash {hash}"));
        }
    }
    t.note = (!notes.is_empty()).then(|| notes.join("; "));
    Ok(Step::Keep(t))
}

#[cfg(test)]
mod tests {
    use crate::sources::testing::{assert_rows, convert};

    #[test]
    fn the_annual_export_becomes_these_rows_and_payment_hashes_are_no_txids() {
        let (csv, skipped) = convert("strike.csv", "strike", "Europe/London", "strike");
        let (l1, c1, l2, c2) = (
            "1f".repeat(32),
            "c1".repeat(32),
            "2e".repeat(32),
            "c2".repeat(32),
        );
        assert_rows(
            &csv,
            &format!(
                "S-2,2024-01-03T10:15:30Z,buy,strike,0.01180000,498.05,USD,,1.95,,,
                 S-3,2024-01-15T18:00:00Z,withdrawal,strike,0.00498800,,,0.00001200,,,,coffee; Lightning payment hash {l1}
                 S-4,2024-02-01T08:05:17Z,withdrawal,strike,0.09998000,,,0.00002000,,,{c1},
                 S-5,2024-02-10T12:00:00Z,deposit,strike,0.02000000,,,,,,,Lightning payment hash {l2}
                 S-6,2024-03-01T14:30:00Z,sell,strike,0.01500000,1053.15,USD,,3.15,,,
                 S-6#2,2024-03-01T14:30:00Z,sell,strike,0.01000000,702.10,USD,,2.10,,,
                 S-7,2024-03-05T09:00:00Z,deposit,strike,0.05000000,,,,,,{c2},
                 S-8,2024-04-01T00:00:00Z,buy,strike,0.01071395,996.10,USD,,3.90,,,
                 S-10,2024-09-04T08:05:17Z,buy,strike,0.00172000,99.01,USD,,0.99,,,"
            ),
        );
        assert_eq!(skipped, vec![2, 11]);
    }
}

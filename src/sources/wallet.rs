//! What wallet exports share: one line per transaction with the signed net
//! change of the wallet, a send's network fee included in it.

use jiff::Timestamp;

use super::format::{Context, Step, tx};
use crate::ledger::{Kind, Sats};

/// The row for a net change of `net` of which `fee` was the network fee:
/// a receive, a send of what is left after the fee, or (when nothing but
/// the fee left, as in a consolidation) a fee row.
pub fn movement(ctx: &Context, time: Timestamp, net: Sats, fee: Sats) -> Result<Step, String> {
    let fee = fee
        .0
        .checked_abs()
        .map(Sats)
        .ok_or("the fee is too large")?;
    if net.0 > 0 {
        return Ok(Step::Keep(tx(ctx, time, Kind::Deposit, net)));
    }
    if net.is_zero() {
        return Ok(Step::Skip("moves nothing".into()));
    }
    let sent = net
        .0
        .checked_neg()
        .and_then(|n| n.checked_sub(fee.0))
        .map(Sats)
        .ok_or("the amount is too large")?;
    let mut t = if sent.0 > 0 {
        tx(ctx, time, Kind::Withdrawal, sent)
    } else if sent.is_zero() {
        tx(ctx, time, Kind::Fee, Sats::ZERO)
    } else {
        return Err(format!(
            "the fee {fee} is more than the {} that left the wallet",
            Sats(net.0.saturating_neg())
        ));
    };
    t.fee_btc = fee;
    Ok(Step::Keep(t))
}

/// Sets the txid and the id of a wallet row: the transaction's hash.
pub fn with_txid(step: Step, txid: Option<&str>, label: Option<&str>) -> Step {
    match step {
        Step::Keep(mut t) => {
            t.txid = txid.map(str::to_string);
            t.id = t.txid.clone();
            t.note = label.map(str::to_string);
            Step::Keep(t)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extreme_amounts_are_refused_not_overflowed() {
        let zone = jiff::tz::TimeZone::UTC;
        let ctx = Context {
            zone: &zone,
            account: "w",
        };
        let at = Timestamp::UNIX_EPOCH;
        assert!(movement(&ctx, at, Sats(i64::MIN), Sats(1)).is_err());
        assert!(movement(&ctx, at, Sats(-5), Sats(i64::MIN)).is_err());
        assert!(movement(&ctx, at, Sats(-5), Sats(6)).is_err());
        match movement(&ctx, at, Sats(-5), Sats(-2)) {
            Ok(Step::Keep(t)) => assert_eq!(
                (t.kind, t.btc, t.fee_btc),
                (Kind::Withdrawal, Sats(3), Sats(2))
            ),
            _ => panic!("a send"),
        }
    }
}

//! What wallet exports share: one line per transaction with the signed net
//! change of the wallet, a send's network fee included in it.

use jiff::Timestamp;

use super::format::{Context, Step, tx};
use crate::ledger::{Kind, Sats};

/// The row for a net change of `net` of which `fee` was the network fee:
/// a receive, a send of what is left after the fee, or (when nothing but
/// the fee left, as in a consolidation) a fee row.
pub fn movement(ctx: &Context, time: Timestamp, net: Sats, fee: Sats) -> Result<Step, String> {
    let fee = Sats(fee.0.abs());
    if net.0 > 0 {
        return Ok(Step::Keep(tx(ctx, time, Kind::Deposit, net)));
    }
    if net.is_zero() {
        return Ok(Step::Skip("moves nothing".into()));
    }
    let sent = -net - fee;
    let mut t = if sent.0 > 0 {
        tx(ctx, time, Kind::Withdrawal, sent)
    } else if sent.is_zero() {
        tx(ctx, time, Kind::Fee, Sats::ZERO)
    } else {
        return Err(format!(
            "the fee {fee} is more than the {} that left the wallet",
            -net
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

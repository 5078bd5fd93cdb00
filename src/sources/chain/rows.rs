//! A wallet's confirmed transactions as ledger rows. Pure: the sync hands in
//! what BDK computed, this decides what the books say.

use jiff::Timestamp;
use rust_decimal::Decimal;

use crate::ledger::{Kind, Sats, Tx};

/// One confirmed transaction, from the watched wallet's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletTx {
    pub txid: String,
    /// The confirming block's time, Unix seconds.
    pub block_time: i64,
    /// The value of the wallet's outputs this transaction spent.
    pub sent: Sats,
    /// The value of this transaction's outputs that pay the wallet.
    pub received: Sats,
    /// The network fee, when every input is the wallet's (then the wallet
    /// paid all of it); `None` when someone else paid part of it.
    pub own_fee: Option<Sats>,
}

/// The source id of a wallet row: the txid, unique per wallet (account).
pub fn source_id(tx: &WalletTx) -> String {
    format!("txid:{}", tx.txid)
}

/// The ledger row for `tx` in the wallet named `account`, or `None` when
/// the transaction moves nothing of the wallet's.
///
/// A receive is a deposit; a spend is a withdrawal of what left the wallet
/// (excluding change and fee) with the fee beside it. The txid is kept so
/// that a withdrawal from one watched wallet and the deposit it makes into
/// another pair up as a transfer. A spend that only pays the wallet itself
/// is a fee row: the fee is the only thing that left.
pub fn ledger_row(account: &str, tx: &WalletTx) -> Option<Tx> {
    let time = Timestamp::from_second(tx.block_time).ok()?;
    let row = |kind, btc: Sats, fee: Sats| Tx {
        id: Some(source_id(tx)),
        time,
        kind,
        account: account.to_string(),
        btc,
        fee_btc: fee,
        fiat_value: None,
        currency: None,
        fee_fiat: Decimal::ZERO,
        to_account: None,
        txid: Some(tx.txid.clone()),
        note: None,
    };
    if tx.sent == Sats(0) {
        return (tx.received > Sats(0)).then(|| row(Kind::Deposit, tx.received, Sats(0)));
    }
    if tx.received >= tx.sent {
        // Others paid in more than we spent (a payjoin or coinjoin).
        let gain = tx.received - tx.sent;
        return (gain > Sats(0)).then(|| row(Kind::Deposit, gain, Sats(0)));
    }
    let out = tx.sent - tx.received;
    match tx.own_fee {
        Some(fee) if fee >= out => Some(row(Kind::Fee, Sats(0), out)),
        Some(fee) => Some(row(Kind::Withdrawal, out - fee, fee)),
        None => Some(row(Kind::Withdrawal, out, Sats(0))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(sent: i64, received: i64, fee: Option<i64>) -> WalletTx {
        WalletTx {
            txid: "ab".repeat(32),
            block_time: 1_700_000_000,
            sent: Sats(sent),
            received: Sats(received),
            own_fee: fee.map(Sats),
        }
    }

    #[test]
    fn a_receive_is_a_deposit() {
        let row = ledger_row("Cold", &tx(0, 150_000, None)).expect("row");
        assert_eq!(row.kind, Kind::Deposit);
        assert_eq!(row.btc, Sats(150_000));
        assert_eq!(row.fee_btc, Sats(0));
        assert_eq!(row.account, "Cold");
        assert_eq!(row.txid.as_deref(), Some("ab".repeat(32).as_str()));
        assert_eq!(row.time.as_second(), 1_700_000_000);
    }

    #[test]
    fn a_send_with_change_is_a_withdrawal_net_of_change_with_the_exact_fee() {
        // Spent 100,000; 39,000 came back as change; fee 1,000: 60,000 left.
        let row = ledger_row("Cold", &tx(100_000, 39_000, Some(1_000))).expect("row");
        assert_eq!(row.kind, Kind::Withdrawal);
        assert_eq!(row.btc, Sats(60_000));
        assert_eq!(row.fee_btc, Sats(1_000));
    }

    #[test]
    fn a_consolidation_within_the_wallet_is_only_a_fee() {
        let row = ledger_row("Cold", &tx(100_000, 99_500, Some(500))).expect("row");
        assert_eq!(row.kind, Kind::Fee);
        assert_eq!((row.btc, row.fee_btc), (Sats(0), Sats(500)));
    }

    #[test]
    fn a_shared_spend_carries_no_fee_it_cannot_attribute() {
        let row = ledger_row("Cold", &tx(100_000, 30_000, None)).expect("row");
        assert_eq!(
            (row.kind, row.btc, row.fee_btc),
            (Kind::Withdrawal, Sats(70_000), Sats(0))
        );
        let row = ledger_row("Cold", &tx(50_000, 80_000, None)).expect("row");
        assert_eq!((row.kind, row.btc), (Kind::Deposit, Sats(30_000)));
    }

    #[test]
    fn nothing_moved_is_no_row() {
        assert_eq!(ledger_row("Cold", &tx(0, 0, None)), None);
        assert_eq!(ledger_row("Cold", &tx(5, 5, None)), None);
    }
}

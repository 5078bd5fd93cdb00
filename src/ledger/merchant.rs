//! BTCPay rows recognised in a watched wallet. When the store's wallet is
//! also watched, one on-chain payment shows up twice: as BTCPay income (its
//! outpoint's txid) and as the wallet's deposit (the same txid). Likewise a
//! payout BTCPay paid from the store's wallet is both a BTCPay payout row and
//! the wallet's withdrawal. They are one event: the BTCPay rows stay (they
//! carry what the money was for and its fiat value) and move to the wallet's
//! account, where the coins really are; the wallet's row is absorbed. Pure.

use std::collections::HashMap;

use super::{Kind, Sats, Tx};

/// Source ids of BTCPay income rows (`btcpay:<invoice>:<payment>`).
pub const INCOME_SOURCE: &str = "btcpay:";
/// Source ids of BTCPay payout rows (`btcpay-payout:<payoutId>`).
pub const PAYOUT_SOURCE: &str = "btcpay-payout:";

/// A wallet row that is the same event as these BTCPay rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognised {
    /// The wallet's deposit or withdrawal (index into the rows).
    pub wallet: usize,
    /// The BTCPay income or payout rows it stands for, in row order.
    pub btcpay: Vec<usize>,
}

fn source_is(tx: &Tx, prefix: &str) -> bool {
    tx.id.as_deref().is_some_and(|id| id.starts_with(prefix))
}

fn txid(tx: &Tx) -> Option<&str> {
    tx.txid.as_deref().filter(|t| !t.is_empty())
}

/// Pairs each wallet deposit with the BTCPay income of the same txid, and
/// each wallet withdrawal with the BTCPay payouts of the same txid, when
/// exactly one wallet row has that txid and the amounts agree: the deposit
/// received what the invoices' payments add up to (several invoices can be
/// paid by one transaction), the withdrawal sent what the payouts add up to
/// (BTCPay batches payouts). Anything else is left alone, for matching and
/// review as before. `skip` rows take no part (the user paired them).
pub fn recognise(rows: &[Tx], skip: impl Fn(usize) -> bool) -> Vec<Recognised> {
    let mut found = Vec::new();
    for (btcpay_kind, prefix, wallet_kind) in [
        (Kind::Income, INCOME_SOURCE, Kind::Deposit),
        (Kind::Spend, PAYOUT_SOURCE, Kind::Withdrawal),
    ] {
        let mut btcpay: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut wallet: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, tx) in rows.iter().enumerate().filter(|(i, _)| !skip(*i)) {
            let Some(t) = txid(tx) else { continue };
            if tx.kind == btcpay_kind && source_is(tx, prefix) {
                btcpay.entry(t).or_default().push(i);
            } else if tx.kind == wallet_kind && !source_is(tx, "btcpay") {
                wallet.entry(t).or_default().push(i);
            }
        }
        for (t, ours) in btcpay {
            let Some(&[w]) = wallet.get(t).map(Vec::as_slice) else {
                continue;
            };
            if ours.iter().any(|&i| rows[i].account == rows[w].account) {
                continue;
            }
            let total = ours.iter().fold(Sats::ZERO, |sum, &i| sum + rows[i].btc);
            if total == rows[w].btc {
                let mut ours = ours;
                ours.sort_unstable();
                found.push(Recognised {
                    wallet: w,
                    btcpay: ours,
                });
            }
        }
    }
    found.sort_unstable_by_key(|r| r.wallet);
    found
}

/// Source ids of the rows reversing BTCPay income (`btcpay-reversal:<key>`
/// reverses `btcpay:<key>`).
pub const REVERSAL_SOURCE: &str = "btcpay-reversal:";

/// The next generation's source id of a BTCPay income key: an income booked
/// again after its reversal (`<key>#2`, `#3`, …).
fn next_generation(key: &str) -> String {
    match key.rsplit_once('#') {
        Some((base, n)) => match n.parse::<u32>() {
            Ok(n) => format!("{base}#{}", n + 1),
            Err(_) => format!("{key}#2"),
        },
        None => format!("{key}#2"),
    }
}

/// Reversals undone by a later settlement: (reversal row, reversed income
/// row). When BTCPay reports an invoice settled again after an
/// invalidation, the payment is booked again as the next generation; the
/// first income (reclassified an unexplained deposit by the reversal) and
/// its reversal then cancel out and leave the book, instead of waiting in
/// review. Only while the income row is still that deposit and the
/// reversal still a withdrawal: a user's own reclassification wins.
pub fn cancelled(rows: &[Tx]) -> Vec<(usize, usize)> {
    let by_source: HashMap<(&str, &str), usize> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, tx)| tx.id.as_deref().map(|id| ((tx.account.as_str(), id), i)))
        .collect();
    let mut out = Vec::new();
    for (r, tx) in rows.iter().enumerate() {
        let Some(key) = tx
            .id
            .as_deref()
            .and_then(|id| id.strip_prefix(REVERSAL_SOURCE))
        else {
            continue;
        };
        let account = tx.account.as_str();
        let income = format!("{INCOME_SOURCE}{key}");
        let again = format!("{INCOME_SOURCE}{}", next_generation(key));
        if let (Some(&i), true) = (
            by_source.get(&(account, income.as_str())),
            by_source.contains_key(&(account, again.as_str())),
        ) && tx.kind == Kind::Withdrawal
            && rows[i].kind == Kind::Deposit
        {
            out.push((r, i));
        }
    }
    out.sort_unstable();
    out
}

/// Moves each recognised BTCPay row to its wallet's account; the first of
/// them also takes the wallet row's network fee (a payout transaction's fee
/// left the wallet too). Returns the absorbed wallet rows.
pub fn absorb(rows: &mut [Tx], recognised: &[Recognised]) -> Vec<usize> {
    for r in recognised {
        let (account, fee) = (rows[r.wallet].account.clone(), rows[r.wallet].fee_btc);
        for (k, &i) in r.btcpay.iter().enumerate() {
            rows[i].account.clone_from(&account);
            if k == 0 {
                rows[i].fee_btc = rows[i].fee_btc + fee;
            }
        }
    }
    recognised.iter().map(|r| r.wallet).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, kind: Kind, account: &str, sats: i64, txid: &str) -> Tx {
        Tx {
            id: Some(id.into()),
            time: "2025-03-01T00:00:00Z".parse().expect("time"),
            kind,
            account: account.into(),
            btc: Sats(sats),
            fee_btc: Sats(0),
            fiat_value: None,
            currency: None,
            fee_fiat: rust_decimal::Decimal::ZERO,
            to_account: None,
            txid: Some(txid.into()),
            note: None,
        }
    }

    #[test]
    fn a_deposit_paying_invoices_is_their_income() {
        let rows = vec![
            row("btcpay:I1:aa-0", Kind::Income, "BTCPay S", 3_000, "aa"),
            row("btcpay:I2:aa-1", Kind::Income, "BTCPay S", 2_000, "aa"),
            row("txid:aa", Kind::Deposit, "Shop wallet", 5_000, "aa"),
            // Same txid but the amount differs: left for review.
            row("btcpay:I3:bb-0", Kind::Income, "BTCPay S", 1_000, "bb"),
            row("txid:bb", Kind::Deposit, "Shop wallet", 1_500, "bb"),
        ];
        let found = recognise(&rows, |_| false);
        assert_eq!(
            found,
            vec![Recognised {
                wallet: 2,
                btcpay: vec![0, 1]
            }]
        );
        let mut moved = rows.clone();
        assert_eq!(absorb(&mut moved, &found), vec![2]);
        assert_eq!(moved[0].account, "Shop wallet");
        assert_eq!(moved[1].account, "Shop wallet");
        assert_eq!(moved[3].account, "BTCPay S");
        assert!(recognise(&rows, |i| i == 2).is_empty());
    }

    #[test]
    fn a_reversal_undone_by_a_later_settlement_cancels_out() {
        let mut first = row("btcpay:I1:aa-0", Kind::Deposit, "BTCPay S", 3_000, "aa");
        first.note = Some("reclassified by the reversal".into());
        let rows = vec![
            first,
            row(
                "btcpay-reversal:I1:aa-0",
                Kind::Withdrawal,
                "BTCPay S",
                3_000,
                "aa",
            ),
            row("btcpay:I1:aa-0#2", Kind::Deposit, "BTCPay S", 3_000, "aa"),
            row(
                "btcpay-reversal:I1:aa-0#2",
                Kind::Withdrawal,
                "BTCPay S",
                3_000,
                "aa",
            ),
            row("btcpay:I1:aa-0#3", Kind::Income, "BTCPay S", 3_000, "aa"),
            // Reversed and not settled again: stays for review.
            row("btcpay:I2:bb-0", Kind::Deposit, "BTCPay S", 1_000, "bb"),
            row(
                "btcpay-reversal:I2:bb-0",
                Kind::Withdrawal,
                "BTCPay S",
                1_000,
                "bb",
            ),
        ];
        assert_eq!(cancelled(&rows), vec![(1, 0), (3, 2)]);
        assert_eq!(next_generation("I1:aa-0#9"), "I1:aa-0#10");
    }

    #[test]
    fn a_batched_payout_takes_the_wallet_withdrawal_and_its_fee() {
        let mut spent = row("txid:cc", Kind::Withdrawal, "Shop wallet", 7_000, "cc");
        spent.fee_btc = Sats(300);
        let mut rows = vec![
            row("btcpay-payout:P1", Kind::Spend, "BTCPay S", 4_000, "cc"),
            row("btcpay-payout:P2", Kind::Spend, "BTCPay S", 3_000, "cc"),
            spent,
        ];
        let found = recognise(&rows, |_| false);
        assert_eq!(absorb(&mut rows, &found), vec![2]);
        assert_eq!(rows[0].fee_btc, Sats(300));
        assert_eq!(rows[1].fee_btc, Sats(0));
        assert_eq!(rows[1].account, "Shop wallet");
    }
}

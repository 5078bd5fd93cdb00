//! The user's decisions laid over the imported rows: reclassifications,
//! hand-made pairs, pairs taken apart, and lots picked for a disposal. The
//! result is the book the engines read, and the queue of rows still needing
//! a decision. Pure; imported rows are never changed.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;

use super::duplicates;
use super::matching::{self, Matching};
use super::merchant;
use super::{Kind, Sats, Tx};

/// A stored row's id (`transactions.id`): how decisions name rows.
pub type RowRef = i64;

/// One decision of the user's.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Adjustment {
    /// This withdrawal and this deposit are one transfer.
    Pair { withdrawal: RowRef, deposit: RowRef },
    /// These two are not a transfer: neither is matched automatically again.
    Unpair { withdrawal: RowRef, deposit: RowRef },
    /// The row is of another type (an unexplained deposit that was income,
    /// say), optionally with the fiat value it lacked.
    Reclassify {
        row: RowRef,
        kind: Kind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fiat_value: Option<Decimal>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        currency: Option<String>,
    },
    /// Specific identification: the disposal draws on these lots first,
    /// named by the rows that opened them.
    PickLots {
        disposal: RowRef,
        lots: Vec<(RowRef, Sats)>,
    },
    /// US per-wallet basis from 2025: the user's own allocation of the
    /// remaining lots to wallets, as (wallet, lot's row, amount). Replaces
    /// any earlier allocation; lots it leaves out follow the default rule.
    Allocate { lots: Vec<(String, RowRef, Sats)> },
    /// The row is a second copy of the entry `of` (the same transaction
    /// from an export and from the API): it is left out of the book.
    Duplicate { row: RowRef, of: RowRef },
    /// The row is an entry of its own: it is never taken for a second
    /// copy of another row, nor another for a copy of it.
    Distinct { row: RowRef },
}

impl Adjustment {
    pub fn action(&self) -> &'static str {
        match self {
            Adjustment::Pair { .. } => "pair",
            Adjustment::Unpair { .. } => "unpair",
            Adjustment::Reclassify { .. } => "reclassify",
            Adjustment::PickLots { .. } => "pick_lots",
            Adjustment::Allocate { .. } => "allocate",
            Adjustment::Duplicate { .. } => "duplicate",
            Adjustment::Distinct { .. } => "distinct",
        }
    }
}

/// Why a row is in the review queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// No counterpart among the user's own accounts.
    Unmatched,
    /// More than one counterpart fits.
    Ambiguous,
    /// The user took its pair apart; it needs a pair or a type.
    Unpaired,
    /// It may be a second copy of another row of its account (an export
    /// without ids and the API), and more than one row fits or another row
    /// wants the same one.
    Duplicate,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Unmatched => "unmatched",
            Reason::Ambiguous => "ambiguous",
            Reason::Unpaired => "unpaired",
            Reason::Duplicate => "suspected_duplicate",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub row: RowRef,
    pub reason: Reason,
    /// Rows that would fit as its counterpart.
    pub candidates: Vec<RowRef>,
}

/// What the engines read.
#[derive(Debug, Clone, Default)]
pub struct Book {
    /// Rows after the user's decisions, with matched pairs as transfers.
    pub rows: Vec<Tx>,
    /// For each of `rows`, the stored row it stands for (a transfer stands
    /// for its withdrawal).
    pub origin: Vec<RowRef>,
    /// Specific identification: by index into `rows`, the lots (by the index
    /// of the row that opened them) to draw on first.
    pub picks: HashMap<usize, Vec<(usize, Sats)>>,
    /// The user's 2025 allocation of basis to wallets: (wallet, index of
    /// the lot's row in `rows`, amount).
    pub allocation: Vec<(String, usize, Sats)>,
    pub queue: Vec<Item>,
    /// Pairs made by matching or by hand: (withdrawal, deposit, how).
    pub pairs: Vec<(RowRef, RowRef, PairedBy)>,
    /// Wallet rows that are the same event as BTCPay rows (an invoice's
    /// on-chain payment, a payout): (wallet row, BTCPay rows). The wallet
    /// row is left out of `rows`; the BTCPay rows stand in its account.
    pub recognised: Vec<(RowRef, Vec<RowRef>)>,
    /// BTCPay reversals undone by a later settlement, left out of `rows`
    /// with the income they reversed: (reversal row, income row).
    pub cancelled: Vec<(RowRef, RowRef)>,
    /// Rows left out as second copies of an entry: (the copy, the row it
    /// copies, how: `Amounts` when found by account, type, amount and
    /// time, `User` when the user said so).
    pub duplicates: Vec<(RowRef, RowRef, PairedBy)>,
    /// Accounts whose history is known to be only partly here (an exchange
    /// account whose first sync has not finished): reports say so.
    pub partial_accounts: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairedBy {
    Txid,
    Amounts,
    User,
}

impl Book {
    /// The index in `rows` of a stored row, if it is one of them.
    pub fn index_of(&self, row: RowRef) -> Option<usize> {
        self.origin.iter().position(|o| *o == row)
    }
}

/// Something wrong with a decision, said so that the user can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("row {0} is not in this workspace")]
    UnknownRow(RowRef),
    #[error("row {0} is a {1}, not a withdrawal")]
    NotWithdrawal(RowRef, Kind),
    #[error("row {0} is a {1}, not a deposit")]
    NotDeposit(RowRef, Kind),
    #[error("a transfer must go between two different accounts")]
    SameAccount,
    #[error("the deposit receives more than the withdrawal sent")]
    ReceivesMore,
    #[error("row {0} is already paired; unpair it first")]
    AlreadyPaired(RowRef),
    #[error("rows {0} and {1} are not paired")]
    NotPaired(RowRef, RowRef),
    #[error(
        "a {from} cannot become a {to}: bitcoin must still move the same way (use pair for transfers)"
    )]
    Direction { from: Kind, to: Kind },
    #[error("row {0} is a {1}, not a disposal (sell, spend, gift or fee)")]
    NotDisposal(RowRef, Kind),
    #[error("row {0} is a {1}, not an acquisition")]
    NotAcquisition(RowRef, Kind),
    #[error("a lot must be acquired before the disposal that draws on it")]
    LotAfterDisposal,
    #[error("the picked lots add up to more than the disposal")]
    PickedTooMuch,
    #[error("a picked amount must be more than zero")]
    EmptyPick,
    #[error("each allocated lot needs the wallet it goes to")]
    NoWallet,
    #[error("a row cannot be a copy of itself")]
    SelfCopy,
    #[error("rows {0} and {1} are in different accounts: a copy is always in the same account")]
    CopyElsewhere(RowRef, RowRef),
    #[error("row {0} moves bitcoin in, row {1} out: they cannot be the same entry")]
    CopyOpposite(RowRef, RowRef),
    #[error("row {0} is already left out as a copy of another row")]
    AlreadyCopy(RowRef),
}

/// Builds the book from stored rows (id, row) and the decisions in force,
/// oldest first.
pub fn resolve(stored: &[(RowRef, Tx)], decisions: &[Adjustment]) -> Book {
    let mut rows: Vec<Tx> = stored.iter().map(|(_, tx)| tx.clone()).collect();
    let ids: Vec<RowRef> = stored.iter().map(|(id, _)| *id).collect();
    let at: HashMap<RowRef, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut forced = Vec::new();
    let mut held_back = HashSet::new();
    let mut picks_by_ref = Vec::new();
    let mut allocation_by_ref: &[(String, RowRef, Sats)] = &[];
    let mut copies: Vec<(usize, usize)> = Vec::new();
    let mut distinct: HashSet<usize> = HashSet::new();
    for decision in decisions {
        match decision {
            Adjustment::Reclassify {
                row,
                kind,
                fiat_value,
                currency,
            } => {
                if let Some(&i) = at.get(row) {
                    let tx = &mut rows[i];
                    tx.kind = *kind;
                    if fiat_value.is_some() {
                        tx.fiat_value = *fiat_value;
                        tx.currency.clone_from(currency);
                    }
                }
            }
            Adjustment::Pair {
                withdrawal,
                deposit,
            } => {
                if let (Some(&w), Some(&d)) = (at.get(withdrawal), at.get(deposit)) {
                    forced.push((w, d));
                }
            }
            Adjustment::Unpair {
                withdrawal,
                deposit,
            } => {
                held_back.extend([*withdrawal, *deposit].iter().filter_map(|r| at.get(r)));
            }
            Adjustment::PickLots { disposal, lots } => picks_by_ref.push((*disposal, lots)),
            Adjustment::Allocate { lots } => allocation_by_ref = lots,
            Adjustment::Duplicate { row, of } => {
                if let (Some(&r), Some(&o)) = (at.get(row), at.get(of)) {
                    copies.push((r, o));
                }
            }
            Adjustment::Distinct { row } => distinct.extend(at.get(row)),
        }
    }
    // A hand-made pair outlives a later reclassification of either row only
    // while both are still a withdrawal and a deposit.
    forced.retain(|(w, d)| rows[*w].kind == Kind::Withdrawal && rows[*d].kind == Kind::Deposit);
    let in_forced: HashSet<usize> = forced.iter().flat_map(|(w, d)| [*w, *d]).collect();

    // Second copies of one entry, judged on the rows as stored: the user's
    // word first, then account, type, amount and time.
    copies.retain(|(r, o)| r != o && !in_forced.contains(r) && !held_back.contains(r));
    let copy_rows: HashSet<usize> = copies.iter().map(|(r, _)| *r).collect();
    let originals: HashSet<usize> = copies.iter().map(|(_, o)| *o).collect();
    let found = duplicates::find_by(
        stored.len(),
        |i| &stored[i].1,
        |i| {
            in_forced.contains(&i)
                || held_back.contains(&i)
                || distinct.contains(&i)
                || copy_rows.contains(&i)
        },
        |j| originals.contains(&j),
    );
    let copy_of: HashMap<usize, usize> = copies.iter().copied().collect();
    let mut duplicate_pairs: Vec<(RowRef, RowRef, PairedBy)> = copy_of
        .iter()
        .map(|(r, o)| (ids[*r], ids[*o], PairedBy::User))
        .chain(
            found
                .same
                .iter()
                .map(|(r, o)| (ids[*r], ids[*o], PairedBy::Amounts)),
        )
        .collect();
    duplicate_pairs.sort_unstable_by_key(|(r, o, _)| (*r, *o));
    let dropped: HashSet<usize> = copy_of
        .keys()
        .copied()
        .chain(found.same.iter().map(|(r, _)| *r))
        .collect();

    // A watched wallet's receive of an invoice payment (or send of a
    // payout) is the BTCPay row itself, not a second event.
    let recognised = merchant::recognise(&rows, |i| {
        in_forced.contains(&i) || held_back.contains(&i) || dropped.contains(&i)
    });
    let cancelled: Vec<(usize, usize)> = merchant::cancelled(&rows)
        .into_iter()
        .filter(|(r, i)| {
            ![r, i]
                .iter()
                .any(|&&k| in_forced.contains(&k) || held_back.contains(&k) || dropped.contains(&k))
        })
        .collect();
    let gone: HashSet<usize> = merchant::absorb(&mut rows, &recognised)
        .into_iter()
        .chain(cancelled.iter().flat_map(|(r, i)| [*r, *i]))
        .chain(dropped.iter().copied())
        .collect();

    // Automatic matching over the rows no decision has claimed.
    let free: Vec<usize> = (0..rows.len())
        .filter(|i| !in_forced.contains(i) && !held_back.contains(i) && !gone.contains(i))
        .collect();
    let subset: Vec<Tx> = free.iter().map(|i| rows[*i].clone()).collect();
    let auto = matching::find(&subset);
    let back = |k: usize| free[k];

    let mut pairs: Vec<(usize, usize, bool)> =
        forced.iter().map(|(w, d)| (*w, *d, false)).collect();
    let mut paired_by = Vec::new();
    for (w, d) in &forced {
        paired_by.push((ids[*w], ids[*d], PairedBy::User));
    }
    for (w, d, by_txid) in &auto.pairs {
        pairs.push((back(*w), back(*d), *by_txid));
        let how = if *by_txid {
            PairedBy::Txid
        } else {
            PairedBy::Amounts
        };
        paired_by.push((ids[back(*w)], ids[back(*d)], how));
    }
    let mut queue: Vec<Item> = auto
        .ambiguous
        .iter()
        .map(|(w, ds)| Item {
            row: ids[back(*w)],
            reason: Reason::Ambiguous,
            candidates: ds.iter().map(|d| ids[back(*d)]).collect(),
        })
        .collect();
    queue.extend(auto.unmatched.iter().map(|k| Item {
        row: ids[back(*k)],
        reason: Reason::Unmatched,
        candidates: Vec::new(),
    }));
    queue.extend(found.suspected.iter().map(|(i, candidates)| Item {
        row: ids[*i],
        reason: Reason::Duplicate,
        candidates: candidates.iter().map(|c| ids[*c]).collect(),
    }));
    let mut held: Vec<usize> = held_back
        .iter()
        .copied()
        .filter(|i: &usize| {
            !in_forced.contains(i) && matches!(rows[*i].kind, Kind::Withdrawal | Kind::Deposit)
        })
        .collect();
    held.sort_unstable();
    queue.extend(held.into_iter().map(|i| Item {
        row: ids[i],
        reason: Reason::Unpaired,
        candidates: Vec::new(),
    }));

    let all = Matching {
        pairs,
        ambiguous: Vec::new(),
        unmatched: Vec::new(),
    };
    let (mut effective, mut from) = matching::apply_traced(&rows, &all);
    if !gone.is_empty() {
        let kept: Vec<bool> = from.iter().map(|i| !gone.contains(i)).collect();
        let mut keep = kept.iter();
        effective.retain(|_| keep.next().copied().unwrap_or(true));
        from.retain(|i| !gone.contains(i));
    }
    let origin: Vec<RowRef> = from.iter().map(|i| ids[*i]).collect();
    let index: HashMap<RowRef, usize> = origin.iter().enumerate().map(|(i, r)| (*r, i)).collect();
    let mut picks = HashMap::new();
    for (disposal, lots) in picks_by_ref {
        let Some(&d) = index.get(&disposal) else {
            continue;
        };
        let chosen: Vec<(usize, Sats)> = lots
            .iter()
            .filter_map(|(lot, sats)| index.get(lot).map(|i| (*i, *sats)))
            .collect();
        picks.insert(d, chosen);
    }
    let allocation = allocation_by_ref
        .iter()
        .filter_map(|(wallet, lot, sats)| index.get(lot).map(|i| (wallet.clone(), *i, *sats)))
        .collect();
    Book {
        rows: effective,
        origin,
        picks,
        allocation,
        queue,
        pairs: paired_by,
        recognised: recognised
            .iter()
            .map(|r| (ids[r.wallet], r.btcpay.iter().map(|i| ids[*i]).collect()))
            .collect(),
        cancelled: cancelled.iter().map(|(r, i)| (ids[*r], ids[*i])).collect(),
        duplicates: duplicate_pairs,
        partial_accounts: Vec::new(),
    }
}

/// The book of rows with no decisions and no stored ids (numbered from 0).
pub fn plain(rows: &[Tx]) -> Book {
    let stored: Vec<(RowRef, Tx)> = rows
        .iter()
        .enumerate()
        .map(|(i, tx)| (i as RowRef, tx.clone()))
        .collect();
    resolve(&stored, &[])
}

/// Checks a new decision against the book as it stands, before it is kept.
pub fn check(stored: &[(RowRef, Tx)], book: &Book, decision: &Adjustment) -> Result<(), Refusal> {
    let find = |r: RowRef| {
        stored
            .iter()
            .find(|(id, _)| *id == r)
            .map(|(_, tx)| tx)
            .ok_or(Refusal::UnknownRow(r))
    };
    // The row as the user sees it now: reclassifications applied.
    let current = |r: RowRef| -> Result<Tx, Refusal> {
        let tx = find(r)?;
        Ok(book
            .index_of(r)
            .map(|i| book.rows[i].clone())
            .filter(|t| t.kind != Kind::Transfer)
            .unwrap_or_else(|| tx.clone()))
    };
    let paired = |r: RowRef| book.pairs.iter().any(|(w, d, _)| *w == r || *d == r);
    match decision {
        Adjustment::Pair {
            withdrawal,
            deposit,
        } => {
            let (w, d) = (current(*withdrawal)?, current(*deposit)?);
            if paired(*withdrawal) {
                return Err(Refusal::AlreadyPaired(*withdrawal));
            }
            if paired(*deposit) {
                return Err(Refusal::AlreadyPaired(*deposit));
            }
            if w.kind != Kind::Withdrawal {
                return Err(Refusal::NotWithdrawal(*withdrawal, w.kind));
            }
            if d.kind != Kind::Deposit {
                return Err(Refusal::NotDeposit(*deposit, d.kind));
            }
            if w.account == d.account {
                return Err(Refusal::SameAccount);
            }
            if d.btc > w.btc + w.fee_btc {
                return Err(Refusal::ReceivesMore);
            }
            Ok(())
        }
        Adjustment::Unpair {
            withdrawal,
            deposit,
        } => {
            find(*withdrawal)?;
            find(*deposit)?;
            if book
                .pairs
                .iter()
                .any(|(w, d, _)| w == withdrawal && d == deposit)
            {
                Ok(())
            } else {
                Err(Refusal::NotPaired(*withdrawal, *deposit))
            }
        }
        Adjustment::Reclassify { row, kind, .. } => {
            let original = find(*row)?;
            if paired(*row) {
                return Err(Refusal::AlreadyPaired(*row));
            }
            let movable = |k: Kind| !matches!(k, Kind::Transfer | Kind::Fee);
            if !movable(*kind) || original.kind.is_inflow() != kind.is_inflow() {
                return Err(Refusal::Direction {
                    from: original.kind,
                    to: *kind,
                });
            }
            Ok(())
        }
        Adjustment::PickLots { disposal, lots } => {
            let d = current(*disposal)?;
            if !matches!(
                d.kind,
                Kind::Sell | Kind::Spend | Kind::GiftOut | Kind::GiftSpouse
            ) {
                return Err(Refusal::NotDisposal(*disposal, d.kind));
            }
            let mut total = Sats::ZERO;
            for (lot, sats) in lots {
                let l = current(*lot)?;
                if !l.kind.is_inflow() {
                    return Err(Refusal::NotAcquisition(*lot, l.kind));
                }
                if l.time > d.time {
                    return Err(Refusal::LotAfterDisposal);
                }
                if sats.0 <= 0 {
                    return Err(Refusal::EmptyPick);
                }
                total = total + *sats;
            }
            if total > d.btc + d.fee_btc {
                return Err(Refusal::PickedTooMuch);
            }
            Ok(())
        }
        Adjustment::Duplicate { row, of } => {
            let (copy, original) = (find(*row)?, find(*of)?);
            if row == of {
                return Err(Refusal::SelfCopy);
            }
            if copy.account != original.account {
                return Err(Refusal::CopyElsewhere(*row, *of));
            }
            if copy.kind.is_inflow() != original.kind.is_inflow() {
                return Err(Refusal::CopyOpposite(*row, *of));
            }
            if paired(*row) {
                return Err(Refusal::AlreadyPaired(*row));
            }
            for r in [row, of] {
                if book.duplicates.iter().any(|(c, _, _)| c == r) {
                    return Err(Refusal::AlreadyCopy(*r));
                }
            }
            Ok(())
        }
        Adjustment::Distinct { row } => find(*row).map(|_| ()),
        Adjustment::Allocate { lots } => {
            for (wallet, lot, sats) in lots {
                let l = current(*lot)?;
                if !l.kind.is_inflow() {
                    return Err(Refusal::NotAcquisition(*lot, l.kind));
                }
                if wallet.trim().is_empty() {
                    return Err(Refusal::NoWallet);
                }
                if sats.0 <= 0 {
                    return Err(Refusal::EmptyPick);
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;

//! United States: FIFO, LIFO or HIFO; universal basis, per-wallet basis, or
//! universal before 2025 and per-wallet from 1 January 2025 (`auto`); short
//! and long term by the IRS holding-period rule. Rules and sources are in
//! docs/tax-rules.md.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;

use super::lots::{Lot, Method, Pool, Taken};
use super::{FeePolicy, Issue};
use crate::ledger::{Kind, Sats, Tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasisMode {
    Universal,
    PerWallet,
    /// Universal until 2024 ends, per wallet from 1 January 2025, with the
    /// remaining lots allocated to the wallets that hold the coins then.
    Auto,
}

impl std::str::FromStr for BasisMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "universal" => Ok(BasisMode::Universal),
            "per-wallet" => Ok(BasisMode::PerWallet),
            "auto" => Ok(BasisMode::Auto),
            other => Err(format!(
                "unknown basis {other:?}; use universal, per-wallet or auto"
            )),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub method: Method,
    pub basis: BasisMode,
    pub transfer_fee: FeePolicy,
    pub currency: String,
    pub zone: TimeZone,
}

/// Part of a disposal drawn from one lot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub lot: Taken,
    pub proceeds: Option<Decimal>,
    pub long_term: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disposal {
    pub row: usize,
    pub time: Timestamp,
    pub kind: Kind,
    pub account: Arc<str>,
    pub sats: Sats,
    /// Net of selling fees (Form 8949 practice); `None` when unknown.
    pub proceeds: Option<Decimal>,
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Income {
    pub row: usize,
    pub time: Timestamp,
    pub value: Option<Decimal>,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub disposals: Vec<Disposal>,
    pub incomes: Vec<Income>,
    pub issues: Vec<Issue>,
    pub pool: Pool,
}

/// Long term when sold after the first anniversary of the acquisition date
/// (held more than one year; the holding period starts the day after).
/// A 29 February acquisition's anniversary is 28 February.
pub fn is_long_term(acquired: Date, disposed: Date) -> bool {
    // Compared field by field: this runs for every lot piece of every
    // disposal, and calendar arithmetic would cost far more.
    let leap_day = acquired.month() == 2 && acquired.day() == 29;
    let anniversary = (
        acquired.year() + 1,
        acquired.month(),
        if leap_day { 28 } else { acquired.day() },
    );
    acquired.year() < 9999 && (disposed.year(), disposed.month(), disposed.day()) > anniversary
}

struct Engine<'a> {
    s: &'a Settings,
    /// One shared name per account, so lots and disposals do not each
    /// allocate their own.
    names: Vec<Arc<str>>,
    /// The pieces of the lots a disposal takes, reused from one disposal to
    /// the next instead of allocated for each.
    scratch: Vec<Taken>,
    picks: &'a Picks,
    pool: Pool,
    per_wallet: bool,
    /// What each account holds, whatever the basis mode.
    balances: BTreeMap<String, Sats>,
    out: Outcome,
}

pub fn compute(rows: &[Tx], s: &Settings) -> Outcome {
    compute_with_picks(rows, s, &Picks::new())
}

/// Specific identification: for a disposal (by row index), the lots (by the
/// index of the row that opened them) and amounts to draw on first.
pub type Picks = std::collections::HashMap<usize, Vec<(usize, Sats)>>;

/// As [`compute`], drawing picked lots first; the method fills the rest.
pub fn compute_with_picks(rows: &[Tx], s: &Settings, picks: &Picks) -> Outcome {
    compute_with(rows, s, picks, &[])
}

/// The user's own allocation of remaining basis to wallets on 1 January
/// 2025: (wallet, index of the row that opened the lot, amount). Lots it
/// leaves out are allocated by the default rule.
pub type Allocation = [(String, usize, Sats)];

/// As [`compute_with_picks`], with the user's allocation of basis to
/// wallets when per-wallet basis starts (`auto` basis only).
pub fn compute_with(rows: &[Tx], s: &Settings, picks: &Picks, allocation: &Allocation) -> Outcome {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|a, b| rows[*a].order_key().cmp(&rows[*b].order_key()));
    let switch = Date::new(2025, 1, 1)
        .ok()
        .and_then(|d| d.to_zoned(s.zone.clone()).ok())
        .map(|z| z.timestamp());
    let mut engine = Engine {
        s,
        names: Vec::new(),
        scratch: Vec::new(),
        picks,
        pool: Pool::default(),
        per_wallet: s.basis == BasisMode::PerWallet,
        balances: BTreeMap::new(),
        out: Outcome {
            disposals: Vec::with_capacity(rows.iter().filter(|r| !r.kind.is_inflow()).count()),
            ..Outcome::default()
        },
    };
    let mut switched = s.basis != BasisMode::Auto;
    for i in order {
        let tx = &rows[i];
        if !switched && switch.is_some_and(|at| tx.time >= at) {
            engine.allocate_to_wallets(allocation);
            switched = true;
        }
        engine.row(i, tx);
    }
    engine.out.pool = engine.pool;
    engine.out
}

impl Engine<'_> {
    /// A history has few accounts: a scan beats hashing.
    fn name(&mut self, account: &str) -> Arc<str> {
        if let Some(name) = self.names.iter().find(|n| ***n == *account) {
            return Arc::clone(name);
        }
        let name: Arc<str> = Arc::from(account);
        self.names.push(Arc::clone(&name));
        name
    }

    fn issue(&mut self, row: usize, message: impl Into<String>) {
        self.out.issues.push(Issue {
            row,
            message: message.into(),
        });
    }

    fn scope<'t>(&self, account: &'t str) -> Option<&'t str> {
        self.per_wallet.then_some(account)
    }

    /// The row's fiat value in the report currency, noting when it has none.
    fn value(&mut self, row: usize, tx: &Tx) -> Option<Decimal> {
        if tx.currency.as_deref().is_some_and(|c| c != self.s.currency) {
            self.issue(
                row,
                format!(
                    "valued in {}, not {}: no exchange rate is available",
                    tx.currency.as_deref().unwrap_or(""),
                    self.s.currency
                ),
            );
            return None;
        }
        if tx.fiat_value.is_none() {
            self.issue(
                row,
                format!("{} has no fiat value (missing price)", tx.kind),
            );
        }
        tx.fiat_value
    }

    fn row(&mut self, i: usize, tx: &Tx) {
        let mut change = |account: &str, delta: Sats| match self.balances.get_mut(account) {
            Some(held) => *held = *held + delta,
            None => {
                self.balances.insert(account.to_string(), delta);
            }
        };
        if tx.kind.is_inflow() {
            change(&tx.account, tx.btc);
        } else {
            change(&tx.account, -(tx.btc + tx.fee_btc));
        }
        if let (Kind::Transfer, Some(to)) = (tx.kind, &tx.to_account) {
            change(to, tx.btc);
        }
        match tx.kind {
            Kind::Buy | Kind::Income | Kind::GiftIn => {
                let value = self.value(i, tx);
                if tx.kind == Kind::Income {
                    self.out.incomes.push(Income {
                        row: i,
                        time: tx.time,
                        value,
                    });
                }
                self.open(i, tx, &tx.account, value.map(|v| v + tx.fee_fiat));
            }
            Kind::Deposit => {
                self.issue(i, "an unexplained deposit: classify it (buy, income, transfer...) to give it a basis");
                self.open(i, tx, &tx.account, None);
            }
            Kind::Sell | Kind::Spend => {
                let proceeds = self.value(i, tx).map(|v| v - tx.fee_fiat);
                self.dispose(i, tx, tx.kind, tx.btc + tx.fee_btc, proceeds);
            }
            Kind::GiftOut | Kind::GiftSpouse => self.remove(i, tx, tx.btc + tx.fee_btc),
            Kind::Withdrawal => {
                self.issue(
                    i,
                    "an unexplained withdrawal: classify it (sell, spend, gift, transfer...)",
                );
                self.remove(i, tx, tx.btc + tx.fee_btc);
            }
            Kind::Transfer | Kind::Fee => {
                if tx.kind == Kind::Transfer && self.per_wallet {
                    self.moved(i, tx);
                }
                self.network_fee(i, tx);
            }
        }
    }

    fn open(&mut self, row: usize, tx: &Tx, account: &str, basis: Option<Decimal>) {
        let account = self.name(account);
        self.pool.add(Lot {
            row,
            account,
            acquired: tx.time,
            acquired_on: tx.time.to_zoned(self.s.zone.clone()).date(),
            sats: tx.btc,
            basis,
        });
    }

    /// The pieces taken, in the engine's reused buffer: give it back with
    /// [`Engine::recycle`] once read.
    fn take(&mut self, row: usize, account: &str, amount: Sats) -> Vec<Taken> {
        let scope = self.scope(account);
        let mut taken = std::mem::take(&mut self.scratch);
        taken.clear();
        let mut wanted = amount;
        for (lot, sats) in self.picks.get(&row).into_iter().flatten() {
            let pieces = self.pool.take_from(scope, *lot, (*sats).min(wanted));
            let got = pieces.iter().fold(Sats::ZERO, |sum, p| sum + p.sats);
            if got < *sats {
                self.issue(
                    row,
                    format!(
                        "the picked lot has only {got} BTC of the {sats} BTC picked left{}; the method fills the rest",
                        if self.per_wallet { " in this account" } else { "" }
                    ),
                );
            }
            wanted = wanted - got;
            taken.extend(pieces);
        }
        let short = self
            .pool
            .take_into(scope, wanted, self.s.method, &mut taken);
        if short.0 > 0 {
            self.issue(
                row,
                format!(
                    "{short} BTC more than {} held: its basis is unknown",
                    if self.per_wallet {
                        "the account"
                    } else {
                        "was"
                    }
                ),
            );
        }
        if taken.iter().any(|t| t.basis.is_none()) {
            self.issue(row, "draws on coins whose basis is unknown");
        }
        taken
    }

    fn recycle(&mut self, mut taken: Vec<Taken>) {
        taken.clear();
        self.scratch = taken;
    }

    fn dispose(
        &mut self,
        row: usize,
        tx: &Tx,
        kind: Kind,
        amount: Sats,
        proceeds: Option<Decimal>,
    ) {
        let mut taken = self.take(row, &tx.account, amount);
        let disposed_on = tx.time.to_zoned(self.s.zone.clone()).date();
        // Proceeds are shared by satoshis; the last part takes the remainder
        // so the parts add up exactly.
        let mut left = proceeds;
        let count = taken.len();
        let mut parts = Vec::with_capacity(count);
        parts.extend(taken.drain(..).enumerate().map(|(n, lot)| {
            let share = match (proceeds, left) {
                (Some(_), Some(rest)) if n + 1 == count => Some(rest),
                (Some(total), Some(rest)) => {
                    let share = super::split(total, lot.sats.0, amount.0);
                    left = Some(rest - share);
                    Some(share)
                }
                _ => None,
            };
            let acquired_on = lot.acquired_on;
            Part {
                long_term: is_long_term(acquired_on, disposed_on),
                lot,
                proceeds: share,
            }
        }));
        self.recycle(taken);
        let account = self.name(&tx.account);
        self.out.disposals.push(Disposal {
            row,
            time: tx.time,
            kind,
            account,
            sats: amount,
            proceeds,
            parts,
        });
    }

    fn remove(&mut self, row: usize, tx: &Tx, amount: Sats) {
        let taken = self.take(row, &tx.account, amount);
        self.recycle(taken);
    }

    fn moved(&mut self, row: usize, tx: &Tx) {
        let Some(to) = tx.to_account.as_deref() else {
            return;
        };
        let to = self.name(to);
        let mut taken = self.take(row, &tx.account, tx.btc);
        for piece in taken.drain(..) {
            self.pool.add(Lot {
                row: piece.row,
                account: Arc::clone(&to),
                acquired: piece.acquired,
                acquired_on: piece.acquired_on,
                sats: piece.sats,
                basis: piece.basis,
            });
        }
        self.recycle(taken);
    }

    /// The bitcoin paid to the network on a transfer or fee row.
    fn network_fee(&mut self, row: usize, tx: &Tx) {
        let fee = tx.fee_btc;
        if fee.is_zero() {
            return;
        }
        match self.s.transfer_fee {
            FeePolicy::Disposal => {
                let value = match tx.price_per_sat() {
                    Some(_) if tx.currency.as_deref() == Some(&self.s.currency) => {
                        tx.fiat_value.map(|v| super::split(v, fee.0, tx.btc.0))
                    }
                    _ => {
                        self.issue(row, "the network fee has no fiat value (missing price)");
                        None
                    }
                };
                self.dispose(row, tx, Kind::Fee, fee, value);
            }
            FeePolicy::NonTaxable => self.remove(row, tx, fee),
            FeePolicy::AddToBasis => {
                let taken = self.take(row, &tx.account, fee);
                let basis: Decimal = taken.iter().filter_map(|t| t.basis).sum();
                self.recycle(taken);
                let account = tx.to_account.as_deref().unwrap_or(&tx.account);
                let scope = self.scope(account);
                if !self.pool.add_basis(scope, self.s.method, basis) {
                    self.issue(row, "no lot is left to carry the network fee's basis");
                }
            }
        }
    }

    /// From per-wallet's start, the lots left in the universal pool are
    /// assigned to the wallets holding coins then, wallet by wallet in name
    /// order, oldest lots first (a documented allocation under the 2025
    /// safe harbor).
    fn allocate_to_wallets(&mut self, chosen: &Allocation) {
        let mut universal = std::mem::take(&mut self.pool);
        let mut held: BTreeMap<String, Sats> = self
            .balances
            .iter()
            .filter(|(_, s)| s.0 > 0)
            .map(|(a, s)| (a.clone(), *s))
            .collect();
        // The user's allocation first, within what each wallet holds.
        for (account, lot, sats) in chosen {
            let room = held.get(account).copied().unwrap_or_default();
            let wanted = (*sats).min(room);
            let pieces = universal.take_from(None, *lot, wanted);
            let got = pieces.iter().fold(Sats::ZERO, |sum, p| sum + p.sats);
            if got < *sats {
                self.issue(
                    *lot,
                    format!(
                        "the 2025 allocation gives {sats} BTC of this lot to {account}, but only {got} BTC could go there (what the lot has left, or what the wallet holds)"
                    ),
                );
            }
            if let Some(room) = held.get_mut(account) {
                *room = *room - got;
            }
            let wallet: Arc<str> = Arc::from(account.as_str());
            for piece in pieces {
                self.pool.add(Lot {
                    row: piece.row,
                    account: Arc::clone(&wallet),
                    acquired: piece.acquired,
                    acquired_on: piece.acquired_on,
                    sats: piece.sats,
                    basis: piece.basis,
                });
            }
        }
        let held: Vec<(Arc<str>, Sats)> = held
            .into_iter()
            .filter(|(_, s)| s.0 > 0)
            .map(|(a, s)| (Arc::from(a.as_str()), s))
            .collect();
        for (account, amount) in held {
            let (pieces, _) = universal.take(None, amount, Method::Fifo);
            for piece in pieces {
                self.pool.add(Lot {
                    row: piece.row,
                    account: Arc::clone(&account),
                    acquired: piece.acquired,
                    acquired_on: piece.acquired_on,
                    sats: piece.sats,
                    basis: piece.basis,
                });
            }
        }
        self.per_wallet = true;
    }
}

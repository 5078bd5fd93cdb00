//! The ledger's vocabulary: exact amounts and transaction rows. Pure: no
//! I/O, no async, no clock.

mod amount;
pub mod duplicates;
pub mod matching;
pub mod merchant;
pub mod review;
mod transaction;

pub use amount::{AmountError, SATS_PER_BTC, Sats, money, parse_fiat, round_fiat};
pub use transaction::{Kind, Tx};

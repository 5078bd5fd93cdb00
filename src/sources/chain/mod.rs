//! Watch-only Bitcoin wallets: what the user adds, how it is checked for
//! secrets, and how a chain source's history becomes ledger rows.

pub mod add;
pub mod addresses;
pub mod incremental;
pub mod label_book;
pub mod labels;
pub mod private;
pub mod progress;
pub mod rows;
pub mod service;
pub mod sync;
pub mod watch;

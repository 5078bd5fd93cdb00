//! Watch-only Bitcoin wallets: what the user adds, how it is checked for
//! secrets, and how a chain source's history becomes ledger rows.

pub mod add;
pub mod addresses;
pub mod core_rpc;
pub mod electrum;
pub mod electrum_tls;
pub mod esplora;
pub mod incremental;
pub mod label_book;
pub mod labels;
pub mod private;
pub mod progress;
pub mod rows;
pub mod service;
pub mod source;
pub mod status;
pub mod sync;
pub mod watch;

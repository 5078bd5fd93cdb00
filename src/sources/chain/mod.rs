//! Watch-only Bitcoin wallets: what the user adds, how it is checked for
//! secrets, and how a chain source's history becomes ledger rows. Only the
//! private-material detector builds without the `server` feature (the
//! `detector` feature, for its fuzz target).

#[cfg(feature = "server")]
pub mod add;
#[cfg(feature = "server")]
pub mod addresses;
#[cfg(feature = "server")]
pub mod cookie;
#[cfg(feature = "server")]
pub mod core_rpc;
#[cfg(feature = "server")]
pub mod electrum;
#[cfg(feature = "server")]
pub mod electrum_tls;
#[cfg(feature = "server")]
pub mod esplora;
#[cfg(feature = "server")]
pub mod incremental;
#[cfg(feature = "server")]
pub mod label_book;
#[cfg(feature = "server")]
pub mod labels;
pub mod private;
#[cfg(feature = "server")]
pub mod progress;
#[cfg(feature = "server")]
pub mod rows;
#[cfg(feature = "server")]
pub mod service;
#[cfg(feature = "server")]
pub mod source;
#[cfg(feature = "server")]
pub mod source_settings;
#[cfg(feature = "server")]
pub mod status;
#[cfg(feature = "server")]
pub mod sync;
#[cfg(feature = "server")]
pub mod watch;

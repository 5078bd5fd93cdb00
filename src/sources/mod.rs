//! Importers: each turns outside data into ledger rows, with no knowledge of
//! the database. `format` recognises a file by its header and drives the
//! module of its source. `chain` (wallet sync) and `import` (storing) need
//! the `server` feature; the rest is pure.

pub mod binance;
pub mod binance_history;
pub mod bisq;
pub mod bitfinex;
pub mod bitfinex_ledgers;
pub mod bitstamp;
pub mod bitvavo;
pub mod bluewallet;
pub mod cashapp;
pub mod cell;
#[cfg(any(feature = "server", feature = "detector"))]
pub mod chain;
pub mod coinbase;
pub mod coinbase_pro;
pub mod electrum;
#[cfg(feature = "server")]
pub mod exchanges;
pub mod format;
pub mod fuzzing;
pub mod gemini;
pub mod generic;
pub mod green;
#[cfg(feature = "server")]
pub mod import;
pub mod kraken;
pub mod phoenix;
pub mod read;
pub mod relai;
pub mod river;
pub mod sparrow;
pub mod strike;
pub mod swan;
pub mod table;
#[cfg(test)]
mod testing;
pub mod wallet;

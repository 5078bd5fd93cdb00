#![forbid(unsafe_code)]

//! Ledgersys: a self-hosted, watch-only Bitcoin accounting and tax appliance.
//!
//! The binary is a thin shell over this library: [`cli`] parses the command
//! line, [`Appliance`] opens the data directory and serves HTTP.
//!
//! Everything but the pure ledger and the file parsers sits behind the
//! default `server` feature, so the fuzz targets (`fuzz/`) build with
//! `default-features = false` and instrument a handful of crates instead of
//! the web server, the database driver and the wallet libraries.

pub mod csv_out;
pub mod ledger;
pub mod sources;
#[cfg(feature = "detector")]
pub mod text;

#[cfg(feature = "server")]
pub mod admin;
#[cfg(feature = "server")]
pub mod alerts;
#[cfg(feature = "server")]
mod appliance;
#[cfg(feature = "server")]
pub mod auth;
#[cfg(feature = "server")]
pub mod backup;
#[cfg(feature = "server")]
pub mod btcpay;
#[cfg(feature = "server")]
pub mod cli;
#[cfg(feature = "server")]
pub mod clock;
#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
pub mod crypto;
#[cfg(feature = "server")]
pub mod datadir;
#[cfg(feature = "server")]
pub mod http;
#[cfg(feature = "server")]
mod logging;
#[cfg(feature = "server")]
pub mod outbound;
#[cfg(feature = "server")]
pub mod prices;
#[cfg(feature = "server")]
mod probe;
#[cfg(feature = "server")]
pub mod reports;
#[cfg(feature = "server")]
pub mod review;
#[cfg(feature = "server")]
#[cfg(feature = "server")]
pub mod snapshot;
#[cfg(feature = "server")]
pub mod store;
#[cfg(feature = "server")]
pub mod tax;
#[cfg(feature = "server")]
pub mod tls;

#[cfg(feature = "server")]
pub use appliance::{Appliance, StartError, bind, run};

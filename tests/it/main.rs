//! The one integration-test binary: each module is an area of the appliance,
//! exercised through the real binary over real HTTP on loopback.

mod audit;
mod auth;
mod books;
mod browser;
mod btcpay;
mod btcpay_api;
mod btcpay_stream;
mod cli;
mod fakes;
mod imports;
mod prices;
mod prices_api;
mod prices_sync;
mod reports;
mod review;
mod roles;
mod secrets;
mod server;
mod startup;
mod store;
mod support;
mod wallet_api;
mod wallet_chain;
mod wallet_labels;
mod wallet_secrets;
mod wallet_transfers;
mod wallet_ui;
mod wallet_views;
mod wallets;

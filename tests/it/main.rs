//! The one integration-test binary: each module is an area of the appliance,
//! exercised through the real binary over real HTTP on loopback.

mod audit;
mod auth;
mod books;
mod browser;
mod btcpay;
mod btcpay_api;
mod btcpay_manage;
mod btcpay_payouts;
mod btcpay_rebook;
mod btcpay_stream;
mod btcpay_wallet;
mod cli;
mod export;
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
mod tls;
mod tls_acme;
mod wallet_chain;
mod wallet_secrets;
mod wallet_sources;
mod wallet_views;
mod wallets;

//! In-repo fakes of outside services, speaking their real wire protocols.

pub mod binance;
pub mod btcpay;
pub mod btcpay_more;
pub mod ca;
pub mod chain;
pub mod coinbase;
pub mod core_rpc;
pub mod electrum;
pub mod esplora;
pub mod kraken;
pub mod prices;
pub mod smtp;
pub mod sources;
pub mod webdriver;

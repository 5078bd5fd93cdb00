//! The one integration-test binary: each module is an area of the appliance,
//! exercised through the real binary over real HTTP on loopback.

mod auth;
mod browser;
mod cli;
mod roles;
mod server;
mod startup;
mod store;
mod support;

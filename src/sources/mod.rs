//! Importers: each turns outside data into ledger rows, with no knowledge of
//! the database.

pub mod chain;
pub mod generic;
pub mod import;

//! All SQL lives here. The rest of the program sees typed functions, never
//! a query string.

mod open;
pub mod settings;

pub use open::{Store, StoreError};

/// Migrations are compiled into the binary and applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

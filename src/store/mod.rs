//! All SQL lives here, one module per table. The rest of the program sees
//! typed functions, never a query string. Every mutating function that
//! matters for security takes an `AuditEntry` and writes it in the same
//! transaction as the change.

pub mod adjustments;
pub mod alerts;
pub mod audit;
pub mod btcpay;
pub mod btcpay_authorizations;
pub mod btcpay_manage;
mod btcpay_rows;
pub mod exchanges;
mod ids;
pub mod invitations;
pub mod labels;
mod open;
pub mod price_overrides;
pub mod prices;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod throttle;
pub mod tokens;
pub mod transactions;
pub mod users;
pub mod wallets;
pub mod workspaces;

pub use audit::AuditEntry;
pub use ids::{AdjustmentId, AlertId, TokenId, UserId, WorkspaceId};
pub use open::{DATABASE_FILE, Store, StoreError};

/// Migrations are compiled into the binary and applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

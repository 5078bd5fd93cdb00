//! Who may do what: passwords, sessions and tokens, login throttling, roles.
//! `expiry`, `password`, `role`, `session` and `throttle` are pure; `service` puts them
//! together with the store, the clock and alerts.

pub mod expiry;
pub mod invitations;
pub mod members;
pub mod password;
pub mod role;
pub mod service;
pub mod session;
pub mod setup;
pub mod throttle;

pub use password::Hasher;
pub use role::Role;
pub use service::{Auth, AuthError, Caller, Client, Via};

//! Who may do what: passwords, sessions and tokens, login throttling, roles.
//! The submodules are pure and synchronous except the password [`Hasher`],
//! which moves hashing off the async executor.

pub mod password;
pub mod role;
pub mod session;
pub mod throttle;

pub use password::Hasher;
pub use role::Role;

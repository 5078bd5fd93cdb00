//! Exchange accounts read over the exchanges' APIs, read-only by
//! construction (see `docs/adr/0004-exchange-framework.md`).
//!
//! Each exchange is a thin adapter that declares its read allow-list
//! ([`allow::AllowList`]) and how its keys are judged; the shared pieces
//! here refuse anything off the list before a request is signed
//! ([`client::prepare`]), serialise nonces per key ([`nonce`]) and keep a
//! client-side rate budget ([`budget`]). A key is judged by the
//! exchange's own permission answer before it is stored: every right
//! beyond reading is named for the user to remove, and a permission this
//! code does not know is refused, never guessed at.

pub mod adapter;
pub mod allow;
pub mod binance;
pub mod binance_api;
pub mod binance_rows;
mod binance_walk;
pub mod budget;
pub mod client;
pub mod coinbase;
pub mod coinbase_api;
pub mod coinbase_jwt;
pub mod coinbase_rows;
pub mod kraken;
pub mod kraken_api;
mod kraken_export;
pub mod nonce;
pub mod service;

/// What the permission check found about a key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Rights the key must not have, in the exchange's own words: the key
    /// is refused while any is listed.
    pub remove: Vec<String>,
    /// Rights the key lacks that reading needs.
    pub missing: Vec<String>,
    /// Accepted, but the user should know (a history window, an expiry,
    /// no IP allow-list).
    pub warnings: Vec<String>,
}

impl Verdict {
    pub fn accepted(&self) -> bool {
        self.remove.is_empty() && self.missing.is_empty()
    }

    /// The refusal in the user's words, naming each right to change.
    pub fn refusal(&self) -> Option<String> {
        if self.accepted() {
            return None;
        }
        let mut parts = Vec::new();
        if !self.remove.is_empty() {
            parts.push(format!(
                "this key can do more than read: remove {} and try again",
                self.remove.join(", ")
            ));
        }
        if !self.missing.is_empty() {
            parts.push(format!(
                "the key needs {} to read the history",
                self.missing.join(", ")
            ));
        }
        Some(parts.join("; "))
    }
}

//! The last failed sync, kept so that the wallets page can say the chain
//! source was unreachable instead of quietly showing stale balances. A sync
//! that succeeds clears it.

use crate::store::{Store, StoreError};

const KEY: &str = "chain.last_failure";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    /// Unix seconds.
    pub at: i64,
    pub wallet: String,
    pub message: String,
}

pub async fn failed(store: &Store, failure: &Failure) -> Result<(), StoreError> {
    let value = serde_json::to_string(failure).unwrap_or_default();
    store.set_setting(KEY, &value).await
}

pub async fn succeeded(store: &Store) -> Result<(), StoreError> {
    store.delete_setting(KEY).await
}

pub async fn last_failure(store: &Store) -> Result<Option<Failure>, StoreError> {
    Ok(store
        .setting(KEY)
        .await?
        .and_then(|text| serde_json::from_str(&text).ok()))
}

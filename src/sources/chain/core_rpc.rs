//! Bitcoin Core's JSON-RPC.

use bdk_wallet::Wallet;

use super::addresses::List;
use super::source::Start;
use super::sync::CoreAuth;
use crate::crypto::SecretBox;
use crate::store::Store;

pub struct Core {
    url: String,
}

impl Core {
    pub async fn new(
        _store: &Store,
        _secrets: Option<&SecretBox>,
        url: &str,
        _auth: &CoreAuth,
    ) -> Result<Core, String> {
        Ok(Core {
            url: url.to_string(),
        })
    }

    pub async fn scan_wallet(
        &self,
        _wallet: Wallet,
        _start: Start,
    ) -> Result<(Wallet, u64), String> {
        Err(format!("{}: Bitcoin Core is not supported yet", self.url))
    }

    pub async fn sync_list(&self, _list: List, _start: Start) -> Result<List, String> {
        Err(format!("{}: Bitcoin Core is not supported yet", self.url))
    }
}

//! Bitcoin Core's JSON-RPC: bdk_bitcoind_rpc's emitter hands over every
//! block from the wallet's birthday (genesis when unknown) and BDK keeps
//! what touches the wallet's scripts, watching as far ahead as the gap
//! limit. No `scantxoutset` and no wallet on the node: nothing is written
//! to the node, and spent history is found too (scantxoutset only sees
//! unspent outputs). The cost is reading every block from the birthday once;
//! later syncs read only the new blocks. The mempool is not read: only
//! confirmed transactions are booked.

use std::sync::Arc;

use bdk_bitcoind_rpc::bitcoincore_rpc::{Auth, Client};
use bdk_bitcoind_rpc::{Emitter, NO_EXPECTED_MEMPOOL_TXS};
use bdk_wallet::Wallet;
use zeroize::Zeroizing;

use super::addresses::List;
use super::progress::Tracker;
use super::source::Start;
use super::sync::{CORE_PASSWORD_SECRET, CoreAuth};
use crate::crypto::SecretBox;
use crate::store::Store;

pub struct Core {
    url: String,
    user: String,
    password: Zeroizing<String>,
}

impl Core {
    /// Reads the credentials: the cookie file as it is now (the node
    /// rewrites it at each start), or the sealed password.
    pub async fn new(
        store: &Store,
        secrets: Option<&SecretBox>,
        url: &str,
        auth: &CoreAuth,
    ) -> Result<Core, String> {
        let (user, password) = match auth {
            CoreAuth::Cookie { path } => {
                crate::sources::chain::cookie::read_again(std::path::Path::new(path))
                    .map_err(|e| e.to_string())?
            }
            CoreAuth::User { user } => {
                let sealed = store
                    .secret(CORE_PASSWORD_SECRET)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or("the RPC password is missing; run `ledgersys chain set` again")?;
                let secrets = secrets.ok_or("the RPC password cannot be opened here")?;
                let password = secrets
                    .open(CORE_PASSWORD_SECRET, &sealed.sealed)
                    .map_err(|e| e.to_string())?;
                (user.clone(), Zeroizing::new(password.expose().to_string()))
            }
        };
        Ok(Core {
            url: url.to_string(),
            user,
            password,
        })
    }

    fn client(&self) -> Result<Client, String> {
        let auth = Auth::UserPass(self.user.clone(), self.password.to_string());
        Client::new(&self.url, auth).map_err(|e| e.to_string())
    }

    pub async fn scan_wallet(
        &self,
        mut wallet: Wallet,
        start: Start,
        tracker: &Arc<Tracker>,
    ) -> Result<Wallet, String> {
        let tracker = tracker.clone();
        let client = self.client()?;
        blocking(move || {
            let tip = wallet.latest_checkpoint();
            let mut emitter = Emitter::new(
                &client,
                tip,
                start.birthday.unwrap_or(0),
                NO_EXPECTED_MEMPOOL_TXS,
            );
            while let Some(event) = emitter.next_block().map_err(explain)? {
                wallet
                    .apply_block_connected_to(
                        &event.block,
                        event.block_height(),
                        event.connected_to(),
                    )
                    .map_err(|e| e.to_string())?;
            }
            tracker.add_scripts(wallet.spk_index().inner().all_spks().len() as u64);
            Ok(wallet)
        })
        .await
    }

    pub async fn sync_list(&self, mut list: List, start: Start) -> Result<List, String> {
        let client = self.client()?;
        blocking(move || {
            let tip = list.chain.tip();
            let mut emitter = Emitter::new(
                &client,
                tip,
                start.birthday.unwrap_or(0),
                NO_EXPECTED_MEMPOOL_TXS,
            );
            while let Some(event) = emitter.next_block().map_err(explain)? {
                list.apply_block(&event.block, event.checkpoint)?;
            }
            Ok(list)
        })
        .await
    }
}

/// The client's error, with a refused sign-in said plainly.
fn explain(error: bdk_bitcoind_rpc::bitcoincore_rpc::Error) -> String {
    let text = error.to_string();
    if text.contains("401") {
        "the node refused the RPC user or password (HTTP 401)".into()
    } else {
        text
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| format!("the scan stopped: {e}"))?
}

//! The requests of an incremental sync. A wallet's first sync is a full
//! scan; after it BDK's stored state knows the scripts it revealed (every
//! one up to the last used), so a later sync asks only about those (a
//! `SyncRequest`, which also checks the transactions it expects are still
//! there) and runs a full scan only past them, to the gap limit, for
//! addresses used since. Building the requests is independent of the chain
//! source; the source answers them.

use std::sync::Arc;

use bdk_wallet::chain::SpkIterator;
use bdk_wallet::chain::spk_client::{FullScanRequest, SyncRequest};
use bdk_wallet::{KeychainKind, Wallet};

use super::progress::Tracker;

pub struct Requests {
    /// Every revealed script of every keychain.
    pub revealed: SyncRequest<(KeychainKind, u32)>,
    /// Each keychain's scripts from the first unrevealed one; the scan
    /// stops after the gap limit of unused ones.
    pub beyond: FullScanRequest<KeychainKind>,
}

/// Whether the wallet's last sync left state to continue from.
pub fn applies(stored_state: Option<&str>) -> bool {
    stored_state.is_some()
}

/// The two requests of an incremental sync at `start` (Unix seconds, for
/// BDK's last-seen times), counting every script asked about on `tracker`.
pub fn requests(wallet: &Wallet, start: u64, tracker: &Arc<Tracker>) -> Requests {
    let counter = tracker.clone();
    let revealed = wallet
        .start_sync_with_revealed_spks_at(start)
        .inspect(move |_, _| counter.script_scanned())
        .build();
    let mut beyond = FullScanRequest::builder_at(start).chain_tip(wallet.latest_checkpoint());
    for (keychain, descriptor) in wallet.keychains() {
        let next = wallet.derivation_index(keychain).map_or(0, |i| i + 1);
        beyond = beyond.spks_for_keychain(
            keychain,
            SpkIterator::new_with_range(descriptor.clone(), next..),
        );
    }
    let counter = tracker.clone();
    let beyond = beyond
        .inspect(move |_, _, _| counter.script_scanned())
        .build();
    Requests { revealed, beyond }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXTERNAL: &str = "wpkh(tpubD6NzVbkrYhZ4XgiXtGrdW5XDAPFCL9h7we1vwNCpn8tGbBcgfVYjXyhWo4E1xkh56hjod1RhGjxbaTLV3X4FyWuejifB9jusQ46QzG87VKp/0/*)";
    const INTERNAL: &str = "wpkh(tpubD6NzVbkrYhZ4XgiXtGrdW5XDAPFCL9h7we1vwNCpn8tGbBcgfVYjXyhWo4E1xkh56hjod1RhGjxbaTLV3X4FyWuejifB9jusQ46QzG87VKp/1/*)";

    #[test]
    fn the_requests_split_at_the_last_revealed_script() {
        let mut wallet = Wallet::create(EXTERNAL.to_string(), INTERNAL.to_string())
            .network(bitcoin::Network::Testnet)
            .create_wallet_no_persist()
            .expect("wallet");
        let _ = wallet.reveal_addresses_to(KeychainKind::External, 4);
        let tracker = Arc::new(Tracker::default());
        let mut requests = requests(&wallet, 0, &tracker);
        // Five external scripts revealed, none internal.
        assert_eq!(requests.revealed.progress().total_spks(), 5);
        let first_beyond = requests
            .beyond
            .next_spk(KeychainKind::External)
            .map(|(i, _)| i);
        assert_eq!(first_beyond, Some(5));
        let internal = requests
            .beyond
            .next_spk(KeychainKind::Internal)
            .map(|(i, _)| i);
        assert_eq!(internal, Some(0));
    }
}

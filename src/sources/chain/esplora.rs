//! An Esplora server (self-hosted esplora or mempool): asked per script
//! over REST by bdk_esplora.

use bdk_esplora::EsploraAsyncExt;
use bdk_esplora::esplora_client::{AsyncClient, Builder};
use bdk_wallet::Wallet;

use std::sync::Arc;

use super::addresses::List;
use super::incremental;
use super::progress::Tracker;
use super::source::{self, Start};

/// Requests in flight at once.
const PARALLEL: usize = 4;

pub struct Esplora {
    client: AsyncClient,
}

impl Esplora {
    pub fn new(url: &str) -> Result<Esplora, String> {
        let client = Builder::new(url)
            .max_retries(2)
            .build_async()
            .map_err(|e| e.to_string())?;
        Ok(Esplora { client })
    }

    pub async fn scan_wallet(
        &self,
        mut wallet: Wallet,
        start: Start,
        tracker: &Arc<Tracker>,
    ) -> Result<Wallet, String> {
        let request = source::full_scan_request(&wallet, start, tracker);
        let update = self
            .client
            .full_scan(request, start.gap, PARALLEL)
            .await
            .map_err(|e| e.to_string())?;
        wallet.apply_update(update).map_err(|e| e.to_string())?;
        Ok(wallet)
    }

    pub async fn sync_wallet(
        &self,
        mut wallet: Wallet,
        start: Start,
        tracker: &Arc<Tracker>,
    ) -> Result<Wallet, String> {
        let requests = incremental::requests(&wallet, start.time, tracker);
        let revealed = self
            .client
            .sync(requests.revealed, PARALLEL)
            .await
            .map_err(|e| e.to_string())?;
        let beyond = self
            .client
            .full_scan(requests.beyond, start.gap, PARALLEL)
            .await
            .map_err(|e| e.to_string())?;
        wallet.apply_update(revealed).map_err(|e| e.to_string())?;
        wallet.apply_update(beyond).map_err(|e| e.to_string())?;
        Ok(wallet)
    }

    pub async fn sync_list(&self, mut list: List, start: Start) -> Result<List, String> {
        let request = source::sync_request(&list, start);
        let update = self
            .client
            .sync(request, PARALLEL)
            .await
            .map_err(|e| e.to_string())?;
        list.apply(update)?;
        Ok(list)
    }
}

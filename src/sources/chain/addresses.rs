//! A plain list of addresses: no descriptor for BDK's wallet to derive
//! from, so the scan uses BDK's chain layer directly (an index of the
//! listed scripts, a transaction graph and a local chain), synced through
//! the same chain source.

use std::str::FromStr;

use bdk_wallet::chain::indexed_tx_graph::{self, IndexedTxGraph};
use bdk_wallet::chain::local_chain::{self, LocalChain};
use bdk_wallet::chain::spk_client::SyncResponse;
use bdk_wallet::chain::spk_txout::SpkTxOutIndex;
use bdk_wallet::chain::{
    CanonicalizationParams, ChainPosition, CheckPoint, ConfirmationBlockTime, Merge, tx_graph,
};
use bitcoin::{Address, Block, Network, ScriptBuf};

use super::rows::WalletTx;
use super::source::{Client, Start};
use crate::ledger::Sats;

/// What a list's scan keeps between syncs.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct State {
    chain: local_chain::ChangeSet,
    graph: tx_graph::ChangeSet<ConfirmationBlockTime>,
}

/// The addresses of a list, one a line (blank lines and `#` comments
/// skipped; a CSV line's first field is the address), and their network.
pub fn parse(text: &str) -> Result<(Network, Vec<String>), String> {
    let mut network = None;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split(',').next().unwrap_or_default().trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || format!("line {}: not a Bitcoin address", n + 1);
        let address = Address::from_str(line).map_err(|_| bad())?;
        let here = [Network::Bitcoin, Network::Testnet]
            .into_iter()
            .find(|net| address.is_valid_for_network(*net))
            .ok_or_else(bad)?;
        if *network.get_or_insert(here) != here {
            return Err(format!(
                "line {}: mainnet and testnet addresses are mixed",
                n + 1
            ));
        }
        out.push(line.to_string());
    }
    match network {
        Some(network) => Ok((network, out)),
        None => Err("the list holds no address".into()),
    }
}

fn scripts(network: Network, list: &str) -> Result<Vec<ScriptBuf>, String> {
    list.lines()
        .map(|line| {
            Address::from_str(line)
                .and_then(|a| a.require_network(network))
                .map(|a| a.script_pubkey())
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// A list's scripts with BDK's chain and graph for them, and the state
/// to keep. A source applies what it finds here.
pub struct List {
    pub chain: LocalChain,
    pub graph: IndexedTxGraph<ConfirmationBlockTime, SpkTxOutIndex<u32>>,
    pub scripts: Vec<ScriptBuf>,
    state: State,
}

impl List {
    /// Applies a per-script source's answer.
    pub fn apply(&mut self, update: SyncResponse) -> Result<(), String> {
        if let Some(tip) = update.chain_update {
            let changes = self.chain.apply_update(tip).map_err(|e| e.to_string())?;
            self.state.chain.merge(changes);
        }
        let changes = self.graph.apply_update(update.tx_update);
        self.state.graph.merge(changes.tx_graph);
        Ok(())
    }

    /// Applies one block of the best chain, `tip` being its checkpoint.
    pub fn apply_block(&mut self, block: &Block, tip: CheckPoint) -> Result<(), String> {
        let height = tip.height();
        let changes = self.chain.apply_update(tip).map_err(|e| e.to_string())?;
        self.state.chain.merge(changes);
        let changes = self.graph.apply_block_relevant(block, height);
        self.state.graph.merge(changes.tx_graph);
        Ok(())
    }
}

/// The list's confirmed transactions after syncing it, its confirmed
/// balance, and the state to keep.
pub async fn scan(
    client: &Client,
    network: Network,
    list: &str,
    state: Option<&str>,
    start: Start,
) -> Result<(Vec<WalletTx>, i64, State, u64), String> {
    let mut state: State = match state {
        Some(text) => serde_json::from_str(text).map_err(|e| e.to_string())?,
        None => State::default(),
    };
    let chain = if state.chain.blocks.is_empty() {
        let genesis = bitcoin::constants::genesis_block(network).block_hash();
        let (chain, changeset) = LocalChain::from_genesis_hash(genesis);
        state.chain.merge(changeset);
        chain
    } else {
        LocalChain::from_changeset(state.chain.clone()).map_err(|e| e.to_string())?
    };
    let scripts = scripts(network, list)?;
    let mut index = SpkTxOutIndex::<u32>::default();
    for (i, script) in scripts.iter().enumerate() {
        index.insert_spk(i as u32, script.clone());
    }
    let mut graph = IndexedTxGraph::new(index);
    graph.apply_changeset(indexed_tx_graph::ChangeSet {
        tx_graph: state.graph.clone(),
        indexer: (),
    });
    let list = List {
        chain,
        graph,
        scripts,
        state,
    };
    let List {
        chain,
        graph,
        scripts,
        state,
    } = client.sync_list(list, start).await?;

    let sats = |a: bitcoin::Amount| Sats(i64::try_from(a.to_sat()).unwrap_or(i64::MAX));
    let mut found = Vec::new();
    let mut balance = 0i64;
    for c in graph.graph().list_canonical_txs(
        &chain,
        chain.tip().block_id(),
        CanonicalizationParams::default(),
    ) {
        let ChainPosition::Confirmed { anchor, .. } = c.chain_position else {
            continue;
        };
        let tx = &c.tx_node.tx;
        if !graph.index.is_relevant(tx) {
            continue;
        }
        let (sent, received) = graph.index.sent_and_received(tx, ..);
        let all_ours = tx
            .input
            .iter()
            .all(|i| graph.index.txout(i.previous_output).is_some());
        let own_fee = all_ours
            .then(|| graph.graph().calculate_fee(tx).ok())
            .flatten()
            .map(sats);
        balance += sats(received).0 - sats(sent).0;
        found.push(WalletTx {
            txid: c.tx_node.txid.to_string(),
            block_time: i64::try_from(anchor.confirmation_time).unwrap_or(i64::MAX),
            sent: sats(sent),
            received: sats(received),
            own_fee,
        });
    }
    Ok((found, balance, state, scripts.len() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_read_line_by_line_with_its_network() {
        let text = "# exported\nbc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq\n\n\
                    1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2,label\n3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy\n";
        let (network, list) = parse(text).expect("parse");
        assert_eq!(network, Network::Bitcoin);
        assert_eq!(list.len(), 3);
        assert_eq!(list[1], "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2");
        assert_eq!(
            scripts(network, &list.join("\n")).expect("scripts").len(),
            3
        );
    }

    #[test]
    fn junk_and_mixed_networks_name_the_line() {
        assert_eq!(
            parse("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq\nnope\n").unwrap_err(),
            "line 2: not a Bitcoin address"
        );
        let mixed = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq\n\
                     tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx\n";
        assert!(
            parse(mixed)
                .unwrap_err()
                .starts_with("line 2: mainnet and testnet")
        );
        assert!(parse("\n# nothing\n").is_err());
    }
}

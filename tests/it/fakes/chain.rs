//! The chain the wallet tests build with the `bitcoin` crate, shared by
//! the fakes of every chain source (Esplora, Electrum, Bitcoin Core): each
//! serves the same blocks in its own protocol, so the same scenario runs
//! against each. Headers carry real merkle roots and link by hash; there is
//! no proof of work and the fake verifies no signature. Lookups go through
//! an index rebuilt when the chain changes, so a chain of ten thousand
//! transactions answers as fast as a small one (the benchmark uses it).

use std::collections::{BTreeMap, HashMap};

use bitcoin::block::{Header, Version};
use bitcoin::hashes::{Hash, sha256};
use bitcoin::{
    Amount, Block, CompactTarget, Network, OutPoint, ScriptBuf, Sequence, Transaction, TxIn,
    TxMerkleNode, TxOut, Txid, Witness, absolute, transaction,
};

#[derive(Default)]
pub struct Chain {
    pub blocks: Vec<Block>,
    /// Outputs the transactions spend that lie outside the chain (the
    /// "rest of the world" paying the test's wallets).
    pub foreign: BTreeMap<OutPoint, TxOut>,
    pub requests: Vec<String>,
    pub(crate) index: Index,
}

/// Where each transaction is, by txid, by Esplora script hash and by what
/// it spends; `key` says which chain it was built for.
#[derive(Default)]
pub(crate) struct Index {
    key: Option<(usize, bitcoin::BlockHash, usize)>,
    pub(crate) txs: HashMap<Txid, (usize, usize)>,
    /// Oldest first.
    pub(crate) by_script: HashMap<String, Vec<(usize, usize)>>,
    pub(crate) spenders: HashMap<OutPoint, (usize, usize, usize)>,
}

impl Chain {
    /// Mainnet's genesis block and nothing else.
    pub fn new() -> Chain {
        Chain {
            blocks: vec![bitcoin::constants::genesis_block(Network::Bitcoin)],
            ..Chain::default()
        }
    }

    /// Drops every block above `height`: a reorg, once new blocks follow.
    pub fn rewind(&mut self, height: usize) {
        self.blocks.truncate(height + 1);
    }

    pub fn tip_time(&self) -> u32 {
        self.blocks.last().map_or(0, |b| b.header.time)
    }

    /// Appends a block holding `txs`, ten minutes after the tip.
    pub fn mine(&mut self, txdata: Vec<Transaction>) -> u32 {
        let prev = self.blocks.last().expect("genesis").block_hash();
        let mut block = Block {
            header: Header {
                version: Version::TWO,
                prev_blockhash: prev,
                merkle_root: TxMerkleNode::all_zeros(),
                time: self.tip_time() + 600,
                bits: CompactTarget::from_consensus(0x207f_ffff),
                nonce: 0,
            },
            txdata,
        };
        block.header.merkle_root = block
            .compute_merkle_root()
            .unwrap_or(TxMerkleNode::all_zeros());
        self.blocks.push(block);
        (self.blocks.len() - 1) as u32
    }

    /// A payment from outside: spends a made-up foreign output of `value +
    /// 10,000` sats, pays `value` to `to`, the rest is the fee.
    pub fn pay_from_outside(&mut self, to: ScriptBuf, value: u64, salt: u8) -> Transaction {
        self.pay_from(to, value, [salt; 32], salt)
    }

    /// As [`Chain::pay_from_outside`], spending the foreign output `source`
    /// (its txid's bytes) so that many payments never share an input.
    pub fn pay_from(
        &mut self,
        to: ScriptBuf,
        value: u64,
        source: [u8; 32],
        salt: u8,
    ) -> Transaction {
        let outpoint = OutPoint {
            txid: Txid::from_byte_array(source),
            vout: 0,
        };
        self.foreign.insert(
            outpoint,
            TxOut {
                value: Amount::from_sat(value + 10_000),
                script_pubkey: foreign_script(salt),
            },
        );
        spend(&[outpoint], vec![(to, value)])
    }

    pub fn txout(&self, outpoint: &OutPoint) -> Option<TxOut> {
        if let Some(out) = self.foreign.get(outpoint) {
            return Some(out.clone());
        }
        // The index, when it still describes this chain; else a scan.
        let indexed = self.index.txs.get(&outpoint.txid).and_then(|(h, i)| {
            let tx = self.blocks.get(*h)?.txdata.get(*i)?;
            (tx.compute_txid() == outpoint.txid).then_some(tx)
        });
        if let Some(tx) = indexed {
            return tx.output.get(outpoint.vout as usize).cloned();
        }
        self.confirmed()
            .find(|(_, _, tx)| tx.compute_txid() == outpoint.txid)
            .and_then(|(_, _, tx)| tx.output.get(outpoint.vout as usize).cloned())
    }

    /// The confirmed transactions paying or spending a script `matches`
    /// picks, with their heights and blocks, oldest first.
    pub fn touching(
        &self,
        matches: impl Fn(&ScriptBuf) -> bool,
    ) -> Vec<(u32, &Block, &Transaction)> {
        let touches = |tx: &Transaction| {
            tx.output.iter().any(|o| matches(&o.script_pubkey))
                || tx.input.iter().any(|i| {
                    self.txout(&i.previous_output)
                        .is_some_and(|o| matches(&o.script_pubkey))
                })
        };
        self.confirmed().filter(|(_, _, tx)| touches(tx)).collect()
    }

    /// Every confirmed transaction with its height and block, oldest first.
    pub fn confirmed(&self) -> impl Iterator<Item = (u32, &Block, &Transaction)> {
        self.blocks
            .iter()
            .enumerate()
            .skip(1)
            .flat_map(|(h, b)| b.txdata.iter().map(move |tx| (h as u32, b, tx)))
    }
}

impl Chain {
    /// Rebuilds the index if the chain changed since it was built.
    pub fn refresh(&mut self) {
        let key = (
            self.blocks.len(),
            self.blocks
                .last()
                .map(Block::block_hash)
                .unwrap_or_else(bitcoin::BlockHash::all_zeros),
            self.foreign.len(),
        );
        if self.index.key == Some(key) {
            return;
        }
        let mut index = Index {
            key: Some(key),
            ..Index::default()
        };
        for (h, block) in self.blocks.iter().enumerate().skip(1) {
            for (i, tx) in block.txdata.iter().enumerate() {
                index.txs.insert(tx.compute_txid(), (h, i));
            }
        }
        // `txout` below reads the new positions.
        self.index.txs = std::mem::take(&mut index.txs);
        for (h, block) in self.blocks.iter().enumerate().skip(1) {
            for (i, tx) in block.txdata.iter().enumerate() {
                let mut scripts: Vec<String> = tx
                    .output
                    .iter()
                    .map(|o| hash_of(&o.script_pubkey))
                    .collect();
                for (vin, input) in tx.input.iter().enumerate() {
                    index.spenders.insert(input.previous_output, (h, i, vin));
                    if let Some(out) = self.txout(&input.previous_output) {
                        scripts.push(hash_of(&out.script_pubkey));
                    }
                }
                scripts.sort();
                scripts.dedup();
                for script in scripts {
                    index.by_script.entry(script).or_default().push((h, i));
                }
            }
        }
        index.txs = std::mem::take(&mut self.index.txs);
        self.index = index;
    }
}

/// Esplora's script hash: sha256 of the script, hex, not reversed.
pub fn hash_of(script: &ScriptBuf) -> String {
    hex::encode(sha256::Hash::hash(script.as_bytes()).to_byte_array())
}

/// A script no test wallet owns.
pub fn foreign_script(salt: u8) -> ScriptBuf {
    ScriptBuf::new_p2wpkh(&bitcoin::WPubkeyHash::from_byte_array([salt; 20]))
}

/// An unsigned transaction spending `inputs` (the fake verifies nothing).
pub fn spend(inputs: &[OutPoint], outputs: Vec<(ScriptBuf, u64)>) -> Transaction {
    Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: inputs
            .iter()
            .map(|outpoint| TxIn {
                previous_output: *outpoint,
                script_sig: ScriptBuf::new(),
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                witness: Witness::new(),
            })
            .collect(),
        output: outputs
            .into_iter()
            .map(|(script_pubkey, value)| TxOut {
                value: Amount::from_sat(value),
                script_pubkey,
            })
            .collect(),
    }
}

//! The chain the wallet tests build with the `bitcoin` crate, shared by
//! the fakes of every chain source (Esplora, Electrum, Bitcoin Core): each
//! serves the same blocks in its own protocol, so the same scenario runs
//! against each. Headers carry real merkle roots and link by hash; there is
//! no proof of work and the fake verifies no signature.

use std::collections::BTreeMap;

use bitcoin::block::{Header, Version};
use bitcoin::hashes::Hash;
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
        let outpoint = OutPoint {
            txid: Txid::from_byte_array([salt; 32]),
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

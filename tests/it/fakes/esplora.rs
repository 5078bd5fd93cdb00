//! A fake Esplora REST server on loopback, serving the chain a test builds
//! (`fakes::chain`): the endpoints bdk_esplora's full scan and sync call,
//! in Esplora's JSON (newest first, confirmed history paged by 25,
//! `/txs/chain/{last_seen}` for the next page). `hold` makes every request
//! wait until `release`, to catch a sync in the middle.

use std::sync::{Arc, Mutex};

use bitcoin::{Block, OutPoint, Transaction, Txid};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub use super::chain::{Chain, foreign_script, spend};

/// Esplora's page size for confirmed history.
const PAGE: usize = 25;

impl Chain {
    fn tx_json(&self, height: u32, block: &Block, tx: &Transaction) -> Value {
        let vin: Vec<Value> = tx
            .input
            .iter()
            .map(|input| {
                let prevout = self.txout(&input.previous_output).map(|out| {
                    json!({
                        "scriptpubkey": hex::encode(out.script_pubkey.as_bytes()),
                        "value": out.value.to_sat(),
                    })
                });
                json!({
                    "txid": input.previous_output.txid.to_string(),
                    "vout": input.previous_output.vout,
                    "prevout": prevout,
                    "scriptsig": hex::encode(input.script_sig.as_bytes()),
                    "witness": input.witness.iter().map(hex::encode).collect::<Vec<_>>(),
                    "is_coinbase": false,
                    "sequence": input.sequence.0,
                })
            })
            .collect();
        let inputs: u64 = tx
            .input
            .iter()
            .filter_map(|i| self.txout(&i.previous_output))
            .map(|o| o.value.to_sat())
            .sum();
        let outputs: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
        json!({
            "txid": tx.compute_txid().to_string(),
            "version": tx.version.0,
            "locktime": tx.lock_time.to_consensus_u32(),
            "vin": vin,
            "vout": tx.output.iter().map(|o| json!({
                "scriptpubkey": hex::encode(o.script_pubkey.as_bytes()),
                "value": o.value.to_sat(),
            })).collect::<Vec<_>>(),
            "size": tx.total_size(),
            "weight": tx.weight().to_wu(),
            "fee": inputs.saturating_sub(outputs),
            "status": status(height, block),
        })
    }

    fn block_json(&self, height: usize) -> Value {
        let block = &self.blocks[height];
        json!({
            "id": block.block_hash().to_string(),
            "height": height,
            "version": block.header.version.to_consensus(),
            "timestamp": block.header.time,
            "tx_count": block.txdata.len(),
            "size": bitcoin::consensus::serialize(block).len(),
            "weight": block.weight().to_wu(),
            "merkle_root": block.header.merkle_root.to_string(),
            "previousblockhash": (height > 0).then(|| block.header.prev_blockhash.to_string()),
            "mediantime": block.header.time,
            "nonce": block.header.nonce,
            "bits": block.header.bits.to_consensus(),
            "difficulty": 1,
        })
    }

    /// The confirmed history of a script, newest first.
    fn history(&self, scripthash: &str) -> Vec<(u32, &Block, &Transaction)> {
        self.index
            .by_script
            .get(scripthash)
            .map(|list| {
                list.iter()
                    .rev()
                    .map(|(h, i)| (*h as u32, &self.blocks[*h], &self.blocks[*h].txdata[*i]))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn answer(&mut self, path: &str) -> (u16, String) {
        self.refresh();
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let tip = self.blocks.len() - 1;
        match parts.as_slice() {
            ["blocks"] => (200, self.blocks_from(tip)),
            ["blocks", "tip", "height"] => (200, tip.to_string()),
            ["blocks", "tip", "hash"] => (200, self.blocks[tip].block_hash().to_string()),
            ["blocks", h] => match h.parse::<usize>() {
                Ok(h) if h <= tip => (200, self.blocks_from(h)),
                _ => (404, "Block not found".into()),
            },
            ["block-height", h] => match h.parse::<usize>() {
                Ok(h) if h <= tip => (200, self.blocks[h].block_hash().to_string()),
                _ => (404, "Block not found".into()),
            },
            ["scripthash", hash, "txs"] => (200, self.page(hash, None)),
            ["scripthash", hash, "txs", "chain", last] => (200, self.page(hash, Some(last))),
            ["tx", txid] => self.with_tx(txid, |h, b, tx| self.tx_json(h, b, tx)),
            ["tx", txid, "status"] => self.with_tx(txid, |h, b, _| status(h, b)),
            ["tx", txid, "outspend", vout] => {
                let vout: u32 = vout.parse().unwrap_or(u32::MAX);
                let Ok(txid) = txid.parse::<Txid>() else {
                    return (400, "Invalid hex string".into());
                };
                let spender =
                    self.index
                        .spenders
                        .get(&OutPoint { txid, vout })
                        .map(|(h, i, vin)| {
                            let block = &self.blocks[*h];
                            (*h as u32, block, &block.txdata[*i], *vin)
                        });
                let body = match spender {
                    Some((h, b, tx, vin)) => json!({
                        "spent": true,
                        "txid": tx.compute_txid().to_string(),
                        "vin": vin,
                        "status": status(h, b),
                    }),
                    None => json!({"spent": false}),
                };
                (200, body.to_string())
            }
            _ => (404, "Not Found".into()),
        }
    }

    fn blocks_from(&self, height: usize) -> String {
        let list: Vec<Value> = (0..=height)
            .rev()
            .take(10)
            .map(|h| self.block_json(h))
            .collect();
        Value::Array(list).to_string()
    }

    fn page(&self, scripthash: &str, after: Option<&str>) -> String {
        let history = self.history(scripthash);
        let start = match after {
            Some(last) => history
                .iter()
                .position(|(_, _, tx)| tx.compute_txid().to_string() == last)
                .map_or(history.len(), |i| i + 1),
            None => 0,
        };
        let list: Vec<Value> = history
            .iter()
            .skip(start)
            .take(PAGE)
            .map(|(h, b, tx)| self.tx_json(*h, b, tx))
            .collect();
        Value::Array(list).to_string()
    }

    fn with_tx(&self, txid: &str, f: impl Fn(u32, &Block, &Transaction) -> Value) -> (u16, String) {
        let found = txid
            .parse::<Txid>()
            .ok()
            .and_then(|t| self.index.txs.get(&t));
        match found {
            Some((h, i)) => {
                let block = &self.blocks[*h];
                (200, f(*h as u32, block, &block.txdata[*i]).to_string())
            }
            None => (404, "Transaction not found".into()),
        }
    }
}

fn status(height: u32, block: &Block) -> Value {
    json!({
        "confirmed": true,
        "block_height": height,
        "block_hash": block.block_hash().to_string(),
        "block_time": block.header.time,
    })
}

pub struct FakeEsplora {
    pub url: String,
    pub chain: Arc<Mutex<Chain>>,
    held: tokio::sync::watch::Sender<bool>,
}

impl FakeEsplora {
    pub async fn start(chain: Chain) -> FakeEsplora {
        FakeEsplora::serve(Arc::new(Mutex::new(chain))).await
    }

    /// Serves a chain other fakes may serve too.
    pub async fn serve(chain: Arc<Mutex<Chain>>) -> FakeEsplora {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let shared = chain.clone();
        let (held, gate) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let chain = shared.clone();
                let gate = gate.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, chain, gate).await;
                });
            }
        });
        FakeEsplora { url, chain, held }
    }

    /// Makes every request wait, unanswered, until [`Self::release`].
    pub fn hold(&self) {
        self.held.send_replace(true);
    }

    pub fn release(&self) {
        self.held.send_replace(false);
    }

    /// Requests answered so far (the benchmark's figure).
    #[allow(dead_code)]
    pub fn requests(&self) -> usize {
        self.chain.lock().expect("lock").requests.len()
    }
}

async fn serve(
    mut socket: TcpStream,
    chain: Arc<Mutex<Chain>>,
    mut gate: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    loop {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if socket.read(&mut byte).await? == 0 {
                return Ok(());
            }
            head.push(byte[0]);
        }
        if gate.wait_for(|held| !held).await.is_err() {
            return Ok(());
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let target = head
            .lines()
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .unwrap_or("/")
            .to_string();
        let (status, body) = {
            let mut chain = chain.lock().expect("lock");
            chain.requests.push(target.clone());
            chain.answer(target.split('?').next().unwrap_or(""))
        };
        let reason = if status == 200 { "OK" } else { "Not Found" };
        let kind = if body.starts_with(['[', '{']) {
            "application/json"
        } else {
            "text/plain"
        };
        let out = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(out.as_bytes()).await?;
    }
}

//! A fake Electrum server on loopback (TCP, and TLS with a certificate the
//! test makes), speaking newline-delimited JSON-RPC (protocol 1.4) over the
//! chain a test builds (`fakes::chain`): the calls bdk_electrum makes for a
//! full scan and a sync. Merkle proofs are real: bdk_electrum checks them
//! against the headers' merkle roots.

use std::path::Path;
use std::sync::{Arc, Mutex};

use bitcoin::hashes::{Hash, sha256, sha256d};
use bitcoin::{Block, Txid, consensus};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::chain::Chain;

pub struct FakeElectrum {
    pub host_port: String,
}

impl FakeElectrum {
    /// Plain TCP.
    pub async fn start(chain: Arc<Mutex<Chain>>) -> FakeElectrum {
        FakeElectrum::listen(chain, None).await
    }

    /// TLS with the certificate and key in these PEM files.
    pub async fn start_tls(chain: Arc<Mutex<Chain>>, cert: &Path, key: &Path) -> FakeElectrum {
        let certs = CertificateDer::pem_file_iter(cert)
            .expect("cert")
            .collect::<Result<Vec<_>, _>>()
            .expect("certs");
        let key = PrivateKeyDer::from_pem_file(key).expect("key");
        let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server config");
        FakeElectrum::listen(chain, Some(TlsAcceptor::from(Arc::new(config)))).await
    }

    async fn listen(chain: Arc<Mutex<Chain>>, tls: Option<TlsAcceptor>) -> FakeElectrum {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let host_port = listener.local_addr().expect("addr").to_string();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let chain = chain.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(socket).await {
                                let _ = serve(stream, chain).await;
                            }
                        }
                        None => {
                            let _ = serve(socket, chain).await;
                        }
                    }
                });
            }
        });
        FakeElectrum { host_port }
    }
}

async fn serve(
    stream: impl AsyncRead + AsyncWrite + Unpin,
    chain: Arc<Mutex<Chain>>,
) -> std::io::Result<()> {
    let (read, mut write) = tokio::io::split(stream);
    let mut lines = BufReader::new(read).lines();
    while let Some(line) = lines.next_line().await? {
        let request: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        let method = request["method"].as_str().unwrap_or("").to_string();
        let params = request["params"].as_array().cloned().unwrap_or_default();
        let answer = {
            let mut chain = chain.lock().expect("lock");
            chain.requests.push(format!("electrum {method}"));
            match chain.electrum(&method, &params) {
                Ok(result) => json!({"jsonrpc": "2.0", "id": request["id"], "result": result}),
                Err(message) => json!({
                    "jsonrpc": "2.0",
                    "id": request["id"],
                    "error": {"code": 1, "message": message},
                }),
            }
        };
        let mut out = answer.to_string();
        out.push('\n');
        write.write_all(out.as_bytes()).await?;
        write.flush().await?;
    }
    Ok(())
}

/// Electrum's script hash: sha256 of the script, byte-reversed, hex.
pub fn electrum_hash(script: &bitcoin::Script) -> String {
    let mut bytes = sha256::Hash::hash(script.as_bytes()).to_byte_array();
    bytes.reverse();
    hex::encode(bytes)
}

/// The merkle branch of transaction `pos` in `block`, each hash in
/// Electrum's (display, byte-reversed) hex.
fn merkle_branch(block: &Block, pos: usize) -> Vec<String> {
    let mut level: Vec<[u8; 32]> = block
        .txdata
        .iter()
        .map(|tx| tx.compute_txid().to_byte_array())
        .collect();
    let mut index = pos;
    let mut branch = Vec::new();
    while level.len() > 1 {
        if level.len() % 2 == 1 {
            level.push(*level.last().expect("non-empty"));
        }
        let mut sibling = level[index ^ 1];
        sibling.reverse();
        branch.push(hex::encode(sibling));
        level = level
            .chunks(2)
            .map(|pair| {
                let mut joined = pair[0].to_vec();
                joined.extend_from_slice(&pair[1]);
                sha256d::Hash::hash(&joined).to_byte_array()
            })
            .collect();
        index /= 2;
    }
    branch
}

fn number(params: &[Value], i: usize) -> Result<usize, String> {
    params
        .get(i)
        .and_then(Value::as_u64)
        .map(|n| n as usize)
        .ok_or_else(|| format!("parameter {i} is not a number"))
}

fn text(params: &[Value], i: usize) -> Result<&str, String> {
    params
        .get(i)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("parameter {i} is not a string"))
}

impl Chain {
    fn header_hex(&self, height: usize) -> Result<String, String> {
        self.blocks
            .get(height)
            .map(|b| consensus::encode::serialize_hex(&b.header))
            .ok_or_else(|| format!("height {height} out of range"))
    }

    fn electrum(&self, method: &str, params: &[Value]) -> Result<Value, String> {
        let tip = self.blocks.len() - 1;
        match method {
            "server.version" => Ok(json!(["FakeElectrum 1.0", "1.4"])),
            "server.ping" => Ok(Value::Null),
            "blockchain.headers.subscribe" => {
                Ok(json!({"height": tip, "hex": self.header_hex(tip)?}))
            }
            "blockchain.block.header" => Ok(json!(self.header_hex(number(params, 0)?)?)),
            "blockchain.block.headers" => {
                let start = number(params, 0)?;
                let count = number(params, 1)?.min(2016);
                let heights = start..(start + count).min(tip + 1);
                let hex: Vec<String> = heights
                    .clone()
                    .map(|h| self.header_hex(h))
                    .collect::<Result<_, _>>()?;
                Ok(json!({"count": heights.len(), "hex": hex.concat(), "max": 2016}))
            }
            "blockchain.scripthash.get_history" => {
                let wanted = text(params, 0)?;
                let history: Vec<Value> = self
                    .touching(|script| electrum_hash(script) == wanted)
                    .into_iter()
                    .map(
                        |(h, _, tx)| json!({"height": h, "tx_hash": tx.compute_txid().to_string()}),
                    )
                    .collect();
                Ok(Value::Array(history))
            }
            "blockchain.transaction.get" => {
                let txid: Txid = text(params, 0)?.parse().map_err(|_| "bad txid")?;
                self.confirmed()
                    .find(|(_, _, tx)| tx.compute_txid() == txid)
                    .map(|(_, _, tx)| json!(consensus::encode::serialize_hex(tx)))
                    .ok_or_else(|| format!("no transaction {txid}"))
            }
            "blockchain.transaction.get_merkle" => {
                let txid: Txid = text(params, 0)?.parse().map_err(|_| "bad txid")?;
                let height = number(params, 1)?;
                let block = self.blocks.get(height).ok_or("no such block")?;
                let pos = block
                    .txdata
                    .iter()
                    .position(|tx| tx.compute_txid() == txid)
                    .ok_or_else(|| format!("{txid} is not in block {height}"))?;
                Ok(json!({
                    "block_height": height,
                    "merkle": merkle_branch(block, pos),
                    "pos": pos,
                }))
            }
            "blockchain.estimatefee" => Ok(json!(0.0001)),
            "blockchain.relayfee" => Ok(json!(0.00001)),
            other => Err(format!("unknown method {other}")),
        }
    }
}

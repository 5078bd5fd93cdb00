//! A fake Bitcoin Core JSON-RPC server on loopback: HTTP/1.1 with basic
//! auth (401 with an empty body when it is wrong, as Core answers), serving
//! the chain a test builds (`fakes::chain`) through the calls
//! bdk_bitcoind_rpc's emitter makes, and a few more a client may ask.

use std::sync::{Arc, Mutex};

use base64::Engine;
use bitcoin::{BlockHash, consensus};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::chain::Chain;

pub struct FakeCore {
    pub url: String,
}

impl FakeCore {
    /// Serves `chain` to whoever signs in as `user` with `password`.
    pub async fn start(chain: Arc<Mutex<Chain>>, user: &str, password: &str) -> FakeCore {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let chain = chain.clone();
                let expected = expected.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, chain, &expected).await;
                });
            }
        });
        FakeCore { url }
    }
}

async fn serve(
    mut socket: TcpStream,
    chain: Arc<Mutex<Chain>>,
    expected: &str,
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
        let head = String::from_utf8_lossy(&head).into_owned();
        let header = |name: &str| {
            head.lines().find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_string())
            })
        };
        let length: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        socket.read_exact(&mut body).await?;
        if header("authorization").as_deref() != Some(expected) {
            socket
                .write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
                .await?;
            continue;
        }
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let method = request["method"].as_str().unwrap_or("").to_string();
        let params = request["params"].as_array().cloned().unwrap_or_default();
        let (status, answer) = {
            let mut chain = chain.lock().expect("lock");
            let first = params.first().map(|p| p.to_string()).unwrap_or_default();
            chain
                .requests
                .push(format!("core {method} {}", first.trim_matches('"')));
            match chain.core(&method, &params) {
                Ok(result) => (
                    200,
                    json!({"result": result, "error": null, "id": request["id"]}),
                ),
                Err((code, message)) => (
                    500,
                    json!({"result": null, "error": {"code": code, "message": message}, "id": request["id"]}),
                ),
            }
        };
        let text = answer.to_string();
        let reason = if status == 200 {
            "OK"
        } else {
            "Internal Server Error"
        };
        let out = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        );
        socket.write_all(out.as_bytes()).await?;
    }
}

/// Core's "not found" (RPC_INVALID_ADDRESS_OR_KEY).
const NOT_FOUND: i64 = -5;

impl Chain {
    fn height_of(&self, hash: &str) -> Option<usize> {
        let hash: BlockHash = hash.parse().ok()?;
        self.blocks.iter().position(|b| b.block_hash() == hash)
    }

    fn block_info(&self, height: usize) -> Value {
        let tip = self.blocks.len() - 1;
        let block = &self.blocks[height];
        json!({
            "hash": block.block_hash().to_string(),
            "confirmations": tip - height + 1,
            "size": consensus::serialize(block).len(),
            "weight": block.weight().to_wu(),
            "height": height,
            "version": block.header.version.to_consensus(),
            "versionHex": format!("{:08x}", block.header.version.to_consensus()),
            "merkleroot": block.header.merkle_root.to_string(),
            "tx": block.txdata.iter().map(|tx| tx.compute_txid().to_string()).collect::<Vec<_>>(),
            "time": block.header.time,
            "mediantime": block.header.time,
            "nonce": block.header.nonce,
            "bits": format!("{:08x}", block.header.bits.to_consensus()),
            "difficulty": 1.0,
            "chainwork": format!("{:064x}", height + 1),
            "nTx": block.txdata.len(),
            "previousblockhash": (height > 0).then(|| block.header.prev_blockhash.to_string()),
            "nextblockhash": self.blocks.get(height + 1).map(|b| b.block_hash().to_string()),
        })
    }

    fn core(&self, method: &str, params: &[Value]) -> Result<Value, (i64, String)> {
        let tip = self.blocks.len() - 1;
        let hash_param = || -> Result<usize, (i64, String)> {
            params
                .first()
                .and_then(Value::as_str)
                .and_then(|h| self.height_of(h))
                .ok_or((NOT_FOUND, "Block not found".into()))
        };
        match method {
            "getblockcount" => Ok(json!(tip)),
            "getbestblockhash" => Ok(json!(self.blocks[tip].block_hash().to_string())),
            "getblockchaininfo" => Ok(json!({
                "chain": "main",
                "blocks": tip,
                "headers": tip,
                "bestblockhash": self.blocks[tip].block_hash().to_string(),
                "initialblockdownload": false,
            })),
            "getblockhash" => {
                let height = params.first().and_then(Value::as_u64).unwrap_or(u64::MAX) as usize;
                self.blocks
                    .get(height)
                    .map(|b| json!(b.block_hash().to_string()))
                    .ok_or((-8, "Block height out of range".into()))
            }
            "getblock" => {
                let height = hash_param()?;
                match params.get(1).and_then(Value::as_u64).unwrap_or(1) {
                    0 => Ok(json!(consensus::encode::serialize_hex(
                        &self.blocks[height]
                    ))),
                    _ => Ok(self.block_info(height)),
                }
            }
            "getblockheader" => {
                let height = hash_param()?;
                match params.get(1).and_then(Value::as_bool).unwrap_or(true) {
                    false => Ok(json!(consensus::encode::serialize_hex(
                        &self.blocks[height].header
                    ))),
                    true => Ok(self.block_info(height)),
                }
            }
            "getrawmempool" => Ok(json!([])),
            other => Err((-32601, format!("Method not found: {other}"))),
        }
    }
}

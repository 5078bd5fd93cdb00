//! One chain served by the fake of any chain source, with the `chain set`
//! arguments that point an instance at it: the wallet scenarios run the
//! same against each.

use std::path::Path;
use std::sync::{Arc, Mutex};

use super::chain::Chain;
use super::core_rpc::FakeCore;
use super::electrum::FakeElectrum;
use super::esplora::FakeEsplora;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Esplora,
    Electrum,
    /// Electrum over TLS with a self-signed certificate, pinned.
    ElectrumTls,
    /// Bitcoin Core signed in with its cookie file.
    CoreCookie,
    /// Bitcoin Core signed in with a user and a password file.
    CorePassword,
}

/// The password in the fake node's cookie file, as Bitcoin Core writes it.
pub const COOKIE: &str = "3f9c0a1b2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8";

/// The password of the fake node's `CorePassword` user.
pub const RPC_PASSWORD: &str = "correct-horse-rpc-8f3a9c2d";

pub struct Source {
    pub chain: Arc<Mutex<Chain>>,
    args: Vec<String>,
    _files: tempfile::TempDir,
}

impl Source {
    pub async fn start(via: Via, chain: Chain) -> Source {
        let chain = Arc::new(Mutex::new(chain));
        let files = tempfile::tempdir().expect("temp");
        let dir = files.path();
        let file = |name: &str| dir.join(name).display().to_string();
        let args = match via {
            Via::Esplora => {
                let fake = FakeEsplora::serve(chain.clone()).await;
                vec!["--esplora".into(), fake.url]
            }
            Via::Electrum => {
                let fake = FakeElectrum::start(chain.clone()).await;
                vec!["--electrum".into(), fake.host_port]
            }
            Via::ElectrumTls => {
                self_signed(dir);
                let fake = FakeElectrum::start_tls(
                    chain.clone(),
                    &dir.join("cert.pem"),
                    &dir.join("key.pem"),
                )
                .await;
                vec![
                    "--electrum".into(),
                    fake.host_port,
                    "--tls".into(),
                    "--tls-cert".into(),
                    file("cert.pem"),
                ]
            }
            Via::CoreCookie => {
                let fake = FakeCore::start(chain.clone(), "__cookie__", COOKIE).await;
                std::fs::write(dir.join(".cookie"), format!("__cookie__:{COOKIE}\n"))
                    .expect("cookie");
                vec![
                    "--core-rpc".into(),
                    fake.url,
                    "--cookie-file".into(),
                    file(".cookie"),
                ]
            }
            Via::CorePassword => {
                let fake = FakeCore::start(chain.clone(), "ledger", RPC_PASSWORD).await;
                std::fs::write(dir.join("rpc.pass"), format!("{RPC_PASSWORD}\n")).expect("pass");
                vec![
                    "--core-rpc".into(),
                    fake.url,
                    "--rpc-user".into(),
                    "ledger".into(),
                    "--rpc-password-file".into(),
                    file("rpc.pass"),
                ]
            }
        };
        Source {
            chain,
            args,
            _files: files,
        }
    }

    /// `chain set` and the arguments for this source.
    pub fn set_args(&self) -> Vec<&str> {
        let mut out = vec!["chain", "set"];
        out.extend(self.args.iter().map(String::as_str));
        out
    }

    pub fn requests(&self) -> usize {
        self.chain.lock().expect("lock").requests.len()
    }
}

/// A throwaway self-signed certificate for 127.0.0.1 (`cert.pem`,
/// `key.pem` in `dir`), as a self-hosted Electrum server makes its own.
pub fn self_signed(dir: &Path) {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("cert");
    std::fs::write(dir.join("cert.pem"), made.cert.pem()).expect("cert.pem");
    std::fs::write(dir.join("key.pem"), made.signing_key.serialize_pem()).expect("key.pem");
}

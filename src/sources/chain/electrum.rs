//! An Electrum server (electrs, Fulcrum).

use bdk_wallet::Wallet;

use super::addresses::List;
use super::source::Start;

pub struct Electrum {
    host_port: String,
}

impl Electrum {
    pub fn new(host_port: &str, _tls: bool, _cert_sha256: Option<&str>) -> Electrum {
        Electrum {
            host_port: host_port.to_string(),
        }
    }

    pub async fn scan_wallet(
        &self,
        _wallet: Wallet,
        _start: Start,
    ) -> Result<(Wallet, u64), String> {
        Err(format!("{}: Electrum is not supported yet", self.host_port))
    }

    pub async fn sync_list(&self, _list: List, _start: Start) -> Result<List, String> {
        Err(format!("{}: Electrum is not supported yet", self.host_port))
    }
}

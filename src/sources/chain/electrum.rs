//! An Electrum server (electrs, Fulcrum), over TCP or TLS, asked per script
//! by bdk_electrum. Its client blocks, so every scan runs on tokio's
//! blocking pool over a connection of its own.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use bdk_electrum::BdkElectrumClient;
use bdk_electrum::electrum_client::raw_client::RawClient;
use bdk_electrum::electrum_client::{ElectrumApi, Param};
use bdk_wallet::Wallet;

use super::addresses::List;
use super::electrum_tls;
use super::incremental;
use super::progress::Tracker;
use super::source::{self, Start};

/// Scripts asked about in one batch.
const BATCH: usize = 10;
/// How long one connection attempt or one answer may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A byte stream to the server: plain TCP or TLS over it.
trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

type Connected = BdkElectrumClient<RawClient<Box<dyn Stream>>>;

#[derive(Clone)]
pub struct Electrum {
    host_port: String,
    tls: bool,
    cert_sha256: Option<String>,
}

impl Electrum {
    pub fn new(host_port: &str, tls: bool, cert_sha256: Option<&str>) -> Electrum {
        Electrum {
            host_port: host_port.to_string(),
            tls,
            cert_sha256: cert_sha256.map(str::to_string),
        }
    }

    fn connect(&self) -> Result<Connected, String> {
        let addresses = self
            .host_port
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {}: {e}", self.host_port))?;
        let mut last = format!("{} resolves to no address", self.host_port);
        let mut tcp = None;
        for address in addresses {
            match TcpStream::connect_timeout(&address, TIMEOUT) {
                Ok(stream) => {
                    tcp = Some(stream);
                    break;
                }
                Err(e) => last = format!("cannot connect to {address}: {e}"),
            }
        }
        let tcp = tcp.ok_or(last)?;
        tcp.set_read_timeout(Some(TIMEOUT))
            .and_then(|()| tcp.set_write_timeout(Some(TIMEOUT)))
            .map_err(|e| e.to_string())?;
        let stream: Box<dyn Stream> = if self.tls {
            let host = host_of(&self.host_port);
            Box::new(electrum_tls::connect(
                host,
                tcp,
                self.cert_sha256.as_deref(),
            )?)
        } else {
            Box::new(tcp)
        };
        let client = RawClient::from(stream);
        // Protocol 1.4: what every current server speaks, and the answer
        // format the client then expects.
        client
            .raw_call(
                "server.version",
                [
                    Param::String("ledgersys".into()),
                    Param::String("1.4".into()),
                ],
            )
            .map_err(|e| format!("the server did not answer as an Electrum server: {e}"))?;
        Ok(BdkElectrumClient::new(client))
    }

    pub async fn scan_wallet(
        &self,
        mut wallet: Wallet,
        start: Start,
        tracker: &Arc<Tracker>,
    ) -> Result<Wallet, String> {
        let this = self.clone();
        let tracker = tracker.clone();
        blocking(move || {
            let client = this.connect()?;
            let request = source::full_scan_request(&wallet, start, &tracker);
            // Previous outputs of other people's inputs are not fetched: the
            // wallet's fee is only booked when every input is its own.
            let update = client
                .full_scan(request, start.gap, BATCH, false)
                .map_err(|e| e.to_string())?;
            wallet.apply_update(update).map_err(|e| e.to_string())?;
            Ok(wallet)
        })
        .await
    }

    pub async fn sync_wallet(
        &self,
        mut wallet: Wallet,
        start: Start,
        tracker: &Arc<Tracker>,
    ) -> Result<Wallet, String> {
        let this = self.clone();
        let tracker = tracker.clone();
        blocking(move || {
            let client = this.connect()?;
            let requests = incremental::requests(&wallet, start.time, &tracker);
            let revealed = client
                .sync(requests.revealed, BATCH, false)
                .map_err(|e| e.to_string())?;
            let beyond = client
                .full_scan(requests.beyond, start.gap, BATCH, false)
                .map_err(|e| e.to_string())?;
            wallet.apply_update(revealed).map_err(|e| e.to_string())?;
            wallet.apply_update(beyond).map_err(|e| e.to_string())?;
            Ok(wallet)
        })
        .await
    }

    pub async fn sync_list(&self, mut list: List, start: Start) -> Result<List, String> {
        let this = self.clone();
        blocking(move || {
            let client = this.connect()?;
            let request = source::sync_request(&list, start);
            let update = client
                .sync(request, BATCH, false)
                .map_err(|e| e.to_string())?;
            list.apply(update)?;
            Ok(list)
        })
        .await
    }
}

/// The host of `HOST:PORT` (an IPv6 address without its brackets).
fn host_of(host_port: &str) -> &str {
    let host = host_port
        .rsplit_once(':')
        .map_or(host_port, |(host, _)| host);
    host.trim_start_matches('[').trim_end_matches(']')
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| format!("the scan stopped: {e}"))?
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_host_is_the_part_before_the_port() {
        assert_eq!(super::host_of("electrum.local:50002"), "electrum.local");
        assert_eq!(super::host_of("[::1]:50002"), "::1");
        assert_eq!(super::host_of("10.0.0.2:50001"), "10.0.0.2");
    }
}

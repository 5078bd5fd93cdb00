//! `ledgersys healthcheck`: asks a running server's `/readyz` over plain
//! HTTP/1.1, for container and service-manager health checks.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_secs(5);

/// Ok when the server answers `/readyz` with 200; otherwise why not.
pub async fn ready(addr: SocketAddr) -> Result<(), String> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        let request = format!(
            "GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nUser-Agent: ledgersys-healthcheck\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut head = vec![0u8; 64];
        let n = stream.read(&mut head).await?;
        head.truncate(n);
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&head).into_owned())
    };
    match tokio::time::timeout(TIMEOUT, exchange).await {
        Err(_) => Err(format!(
            "no answer from {addr} within {}s",
            TIMEOUT.as_secs()
        )),
        Ok(Err(err)) => Err(format!("cannot reach {addr}: {err}")),
        Ok(Ok(head)) => {
            let status = head.split_whitespace().nth(1).unwrap_or("");
            if status == "200" {
                Ok(())
            } else {
                Err(format!("{addr} is not ready (status {status})"))
            }
        }
    }
}

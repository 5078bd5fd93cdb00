//! `ledgersys healthcheck`: asks a running server's `/readyz` over
//! HTTP/1.1, for container and service-manager health checks. When the
//! server speaks built-in TLS the probe speaks TLS too.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_secs(5);

/// Ok when the server answers `/readyz` with 200; otherwise why not.
/// `tls` says whether the server's main listener speaks TLS.
pub async fn ready(addr: SocketAddr, tls: bool) -> Result<(), String> {
    let exchange = async {
        let tcp = TcpStream::connect(addr).await?;
        if tls {
            let connector = tokio_rustls::TlsConnector::from(probe_config()?);
            let name = ServerName::IpAddress(addr.ip().into());
            ask(connector.connect(name, tcp).await?, addr).await
        } else {
            ask(tcp, addr).await
        }
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

/// Sends the request and returns the first bytes of the answer: enough
/// for the status line.
async fn ask(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    addr: SocketAddr,
) -> std::io::Result<String> {
    let request = format!(
        "GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nUser-Agent: ledgersys-healthcheck\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    stream.flush().await?;
    let mut head = vec![0u8; 64];
    let n = stream.read(&mut head).await?;
    head.truncate(n);
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// The probe's TLS client: HTTP/1.1 over TLS 1.2 or 1.3 on ring.
fn probe_config() -> std::io::Result<Arc<rustls::ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(SameMachine(provider.clone()));
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?;
    let mut config = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts whatever certificate the server shows, still checking that the
/// handshake is signed by it. The probe connects only to this machine's
/// own server on loopback (`cli::loopback_for`), sends nothing secret and
/// reads one status line, and the server's certificate names its public
/// domain, not the loopback address, so a name check could only fail.
#[derive(Debug)]
struct SameMachine(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for SameMachine {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

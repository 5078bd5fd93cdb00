//! The HTTPS listener: TCP connections wrapped in rustls with the ring
//! provider, the certificate swapped in place when it is renewed.
//!
//! This is ours rather than poem's `rustls` listener because poem pulls
//! `tokio-rustls` with its default features, which link aws-lc-rs beside
//! ring: two crypto libraries in the binary where one is used
//! (see `docs/adr/0003-static-builds.md`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use poem::http::uri::Scheme;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::{LocalAddr, RemoteAddr};
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::server::TlsStream;

/// Where the current certificate lives: `None` until the first one is
/// loaded. Senders replace it; connections accepted after that use it.
pub type Certificates = watch::Sender<Option<Arc<ServerConfig>>>;

pub struct TlsAcceptor {
    tcp: TcpAcceptor,
    current: watch::Receiver<Option<Arc<ServerConfig>>>,
}

impl TlsAcceptor {
    pub fn new(tcp: TcpAcceptor, current: watch::Receiver<Option<Arc<ServerConfig>>>) -> Self {
        TlsAcceptor { tcp, current }
    }
}

impl Acceptor for TlsAcceptor {
    type Io = Handshake;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.tcp.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        // A connection taken before the first certificate could only be
        // dropped, so none is taken until there is one.
        self.current
            .wait_for(Option::is_some)
            .await
            .map_err(|_| io::Error::other("the certificate source is gone"))?;
        let (stream, local, remote, _) = self.tcp.accept().await?;
        // Read after the connection arrives, so it gets the newest one.
        let config = self
            .current
            .borrow()
            .clone()
            .ok_or_else(|| io::Error::other("no certificate"))?;
        let handshake = tokio_rustls::TlsAcceptor::from(config).accept(stream);
        Ok((
            Handshake::Pending(Box::new(handshake)),
            local,
            remote,
            Scheme::HTTPS,
        ))
    }
}

/// A TLS connection whose handshake runs on first use, inside the
/// connection's own task: a slow or silent client never holds up the
/// accept loop.
pub enum Handshake {
    Pending(Box<tokio_rustls::Accept<TcpStream>>),
    Ready(Box<TlsStream<TcpStream>>),
    Failed,
}

impl Handshake {
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&mut TlsStream<TcpStream>>> {
        if let Handshake::Pending(accept) = self {
            match Pin::new(accept.as_mut()).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(stream)) => *self = Handshake::Ready(Box::new(stream)),
                Poll::Ready(Err(err)) => {
                    *self = Handshake::Failed;
                    return Poll::Ready(Err(err));
                }
            }
        }
        match self {
            Handshake::Ready(stream) => Poll::Ready(Ok(stream)),
            _ => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the TLS handshake failed",
            ))),
        }
    }
}

impl AsyncRead for Handshake {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_ready(cx) {
            Poll::Ready(Ok(stream)) => Pin::new(stream).poll_read(cx, buf),
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for Handshake {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.poll_ready(cx) {
            Poll::Ready(Ok(stream)) => Pin::new(stream).poll_write(cx, buf),
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_ready(cx) {
            Poll::Ready(Ok(stream)) => Pin::new(stream).poll_flush(cx),
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this {
            // Nothing was said yet: closing the socket is all there is.
            Handshake::Failed => Poll::Ready(Ok(())),
            _ => match this.poll_ready(cx) {
                Poll::Ready(Ok(stream)) => Pin::new(stream).poll_shutdown(cx),
                Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// The server side of rustls as Ledgersys serves it: ring, TLS 1.3 and
/// 1.2 only, HTTP/2 and HTTP/1.1 offered by ALPN.
pub fn server_config(
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

//! Puts TLS in front of the main listener and starts what keeps its
//! certificate current: ACME renewals, or a reload of the certificate
//! files on `SIGHUP` (what certbot's deploy hook sends).

use std::net::SocketAddr;

use poem::listener::{AcceptorExt, BoxAcceptor, TcpAcceptor};

use super::TlsConfig;
use super::acceptor::{Certificates, TlsAcceptor};
use super::acme::{Acme, swap_in};
use super::certs::{CertError, Pem};
use super::redirect::{Challenges, Redirect};
use crate::crypto::SecretBox;
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot serve HTTPS: {0}; check tls.cert_file and tls.key_file")]
    Certificate(#[from] CertError),
    #[error("cannot listen for plain HTTP on {addr}: {source}; choose another tls.http_listen")]
    HttpListen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// What the server listens with.
pub struct Https {
    pub acceptor: BoxAcceptor,
    /// The plain-HTTP side: ACME challenges and redirects.
    pub redirect: Option<(TcpAcceptor, Redirect)>,
    /// The URL to print: `https://` when TLS is on.
    pub url: String,
}

/// Wraps `main` (already bound) according to `config`.
pub async fn start(
    config: &TlsConfig,
    main: TcpAcceptor,
    main_addr: SocketAddr,
    store: &Store,
    secrets: &SecretBox,
) -> Result<Https, TlsError> {
    // Clients (reqwest, ACME, SMTP) that do not name a provider use ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (updates, received) = tokio::sync::watch::channel(None);
    let challenges = Challenges::default();
    let url = match config {
        TlsConfig::Off => {
            return Ok(Https {
                acceptor: main.boxed(),
                redirect: None,
                url: format!("http://{main_addr}/"),
            });
        }
        TlsConfig::Files { cert, key, .. } => {
            let pem = Pem::from_files(cert, key)?;
            updates.send_replace(Some(pem.server_config()?));
            tokio::spawn(reload_on_hangup(cert.clone(), key.clone(), updates));
            format!("https://{main_addr}/")
        }
        TlsConfig::Acme(acme_config) => {
            let acme = Acme {
                config: acme_config.clone(),
                store: store.clone(),
                secrets: secrets.clone(),
                challenges: challenges.clone(),
            };
            let (pem, facts) = match acme.stored().await {
                Some((pem, facts)) => (pem, Some(facts)),
                None => {
                    tracing::warn!(
                        "serving a temporary self-signed certificate until the ACME server issues one"
                    );
                    (Pem::self_signed(&acme_config.domains)?, None)
                }
            };
            updates.send_replace(Some(pem.server_config()?));
            tokio::spawn(acme.maintain(facts, updates));
            let port = match main_addr.port() {
                443 => String::new(),
                port => format!(":{port}"),
            };
            let host = acme_config.domains.first().cloned().unwrap_or_default();
            format!("https://{host}{port}/")
        }
    };
    let acceptor = TlsAcceptor::new(main, received).boxed();
    let redirect = match config.http_listen() {
        None => None,
        Some(addr) => {
            let failed = |source| TlsError::HttpListen { addr, source };
            let std_listener = std::net::TcpListener::bind(addr).map_err(failed)?;
            std_listener.set_nonblocking(true).map_err(failed)?;
            let listener = tokio::net::TcpListener::from_std(std_listener).map_err(failed)?;
            let local = listener.local_addr().map_err(failed)?;
            let bound = TcpAcceptor::from_tokio(listener).map_err(failed)?;
            tracing::info!(
                http = %format!("http://{local}/"),
                "plain HTTP answers ACME challenges and redirects everything else to HTTPS"
            );
            Some((
                bound,
                Redirect {
                    challenges,
                    https_port: main_addr.port(),
                },
            ))
        }
    };
    Ok(Https {
        acceptor,
        redirect,
        url,
    })
}

/// Reads the certificate files again on every `SIGHUP`. A file that does
/// not check leaves the current certificate in place, with a warning.
async fn reload_on_hangup(
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
    updates: Certificates,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; restart to load a renewed certificate");
        return;
    };
    while hangups.recv().await.is_some() {
        match Pem::from_files(&cert, &key) {
            Ok(pem) => {
                if !swap_in(&updates, &pem) {
                    return;
                }
                tracing::info!(cert = %cert.display(), "HTTPS certificate reloaded");
            }
            Err(err) => tracing::warn!(
                error = %err,
                "the new certificate files do not check; still serving the previous certificate"
            ),
        }
    }
}

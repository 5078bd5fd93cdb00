//! TLS to an Electrum server. Two ways to trust it: a certificate from a
//! public authority for the host's name (the default), or the server's own
//! certificate pinned by its SHA-256 fingerprint: what electrs behind a
//! proxy or Fulcrum with a self-signed certificate needs. A pinned
//! certificate is trusted whatever its names and dates say; the handshake
//! still has to be signed by its key.

use std::net::TcpStream;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned};
use sha2::{Digest, Sha256};

pub type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// The SHA-256 fingerprint (lowercase hex) of the first certificate in a
/// PEM file, or of a DER file.
pub fn fingerprint(bytes: &[u8]) -> Result<String, String> {
    let der = if bytes.starts_with(b"-----") {
        CertificateDer::from_pem_slice(bytes).map_err(|e| format!("not a PEM certificate: {e}"))?
    } else {
        CertificateDer::from(bytes.to_vec())
    };
    if der.is_empty() {
        return Err("the certificate file is empty".into());
    }
    // Pinning bytes that are no certificate would fail every sync later
    // with a puzzling mismatch: refuse them now.
    x509_parser::parse_x509_certificate(der.as_ref())
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    Ok(hex::encode(Sha256::digest(der.as_ref())))
}

/// Starts TLS over `tcp` to `host`, trusting as described above.
pub fn connect(host: &str, tcp: TcpStream, pinned: Option<&str>) -> Result<TlsStream, String> {
    let provider = Arc::new(ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let config = match pinned {
        Some(pin) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Pinned {
                sha256: pin.to_ascii_lowercase(),
                algorithms: provider.signature_verification_algorithms,
            }))
            .with_no_client_auth(),
        None => {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| format!("{host:?} is not a host name or IP address"))?;
    let connection = ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let mut stream = StreamOwned::new(connection, tcp);
    // Handshake now, so that a refused certificate is reported as such.
    while stream.conn.is_handshaking() {
        stream
            .conn
            .complete_io(&mut stream.sock)
            .map_err(|e| format!("TLS handshake failed: {e}"))?;
    }
    Ok(stream)
}

#[derive(Debug)]
struct Pinned {
    sha256: String,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let seen = hex::encode(Sha256::digest(end_entity.as_ref()));
        if seen == self.sha256 {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the server's certificate (SHA-256 {seen}) is not the pinned one"
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_is_pinned_by_the_sha256_of_its_der() {
        let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("cert");
        let der = made.cert.der().to_vec();
        let expected = hex::encode(Sha256::digest(&der));
        assert_eq!(fingerprint(&der).expect("der"), expected);
        assert_eq!(
            fingerprint(made.cert.pem().as_bytes()).expect("pem"),
            expected
        );
        // Bytes that are no certificate, as DER or inside PEM armour.
        assert!(fingerprint(&[0x30u8, 0x03, 0x02, 0x01, 0x05]).is_err());
        let pem = "-----BEGIN CERTIFICATE-----\nMAMCAQU=\n-----END CERTIFICATE-----\n";
        assert!(fingerprint(pem.as_bytes()).is_err());
        assert!(fingerprint(b"-----BEGIN NOTHING-----\n").is_err());
        assert!(fingerprint(b"").is_err());
    }
}

//! Certificates as PEM text: checked before use (the key must match the
//! first certificate), their expiry read, and a temporary self-signed one
//! for the minutes before ACME delivers a real one.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} holds no PEM certificate")]
    NoCertificate(String),
    #[error("{0} holds no PEM private key")]
    NoKey(String),
    #[error("the private key does not belong to the certificate: {0}")]
    Mismatch(String),
    #[error("the certificate cannot be read: {0}")]
    Unreadable(String),
    #[error("cannot make a temporary certificate: {0}")]
    Generate(String),
}

/// A certificate chain and its private key, both PEM.
#[derive(Clone)]
pub struct Pem {
    pub chain: String,
    pub key: String,
}

impl std::fmt::Debug for Pem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pem").finish_non_exhaustive()
    }
}

/// A checked certificate: when it expires and what names it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub not_before: i64,
    pub not_after: i64,
    pub names: Vec<String>,
}

impl Pem {
    /// Reads a chain and key from files, as an operator's tooling (certbot,
    /// a corporate CA) leaves them.
    pub fn from_files(chain: &std::path::Path, key: &std::path::Path) -> Result<Pem, CertError> {
        let read = |path: &std::path::Path| {
            std::fs::read_to_string(path).map_err(|source| CertError::Read {
                path: path.display().to_string(),
                source,
            })
        };
        let pem = Pem {
            chain: read(chain)?,
            key: read(key)?,
        };
        pem.check(&chain.display().to_string(), &key.display().to_string())?;
        Ok(pem)
    }

    /// Proves the key matches the first certificate, and reads its facts.
    pub fn check(&self, chain_name: &str, key_name: &str) -> Result<Facts, CertError> {
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(self.chain.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|e| CertError::Unreadable(e.to_string()))?;
        let first = chain
            .first()
            .cloned()
            .ok_or_else(|| CertError::NoCertificate(chain_name.to_string()))?;
        let key = PrivateKeyDer::from_pem_slice(self.key.as_bytes())
            .map_err(|_| CertError::NoKey(key_name.to_string()))?;
        let provider = rustls::crypto::ring::default_provider();
        CertifiedKey::from_der(chain, key, &provider)
            .map_err(|e| CertError::Mismatch(e.to_string()))?;
        facts(&first)
    }

    /// The facts of the first certificate, for a chain already checked.
    pub fn facts(&self) -> Result<Facts, CertError> {
        let first = CertificateDer::pem_slice_iter(self.chain.as_bytes())
            .next()
            .ok_or_else(|| CertError::NoCertificate("the stored chain".into()))?
            .map_err(|e| CertError::Unreadable(e.to_string()))?;
        facts(&first)
    }

    /// The TLS server configuration serving this certificate.
    pub fn server_config(&self) -> Result<std::sync::Arc<rustls::ServerConfig>, CertError> {
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(self.chain.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|e| CertError::Unreadable(e.to_string()))?;
        let key = PrivateKeyDer::from_pem_slice(self.key.as_bytes())
            .map_err(|_| CertError::NoKey("the certificate's key".into()))?;
        super::acceptor::server_config(chain, key).map_err(|e| CertError::Mismatch(e.to_string()))
    }

    /// A self-signed certificate for `names`, served only until the real
    /// one arrives; browsers warn about it, which is the honest answer.
    pub fn self_signed(names: &[String]) -> Result<Pem, CertError> {
        let generated = rcgen::generate_simple_self_signed(names.to_vec())
            .map_err(|e| CertError::Generate(e.to_string()))?;
        Ok(Pem {
            chain: generated.cert.pem(),
            key: generated.signing_key.serialize_pem(),
        })
    }
}

fn facts(cert: &CertificateDer<'_>) -> Result<Facts, CertError> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| CertError::Unreadable(e.to_string()))?;
    let validity = parsed.validity();
    let names = parsed
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    x509_parser::extensions::GeneralName::DNSName(dns) => {
                        Some(dns.to_ascii_lowercase())
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Facts {
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        names,
    })
}

/// Whether a certificate should be replaced at `now`: when it does not
/// cover every configured name, or has less than a third of its lifetime
/// left (30 days of Let's Encrypt's 90, 2 of a 6-day certificate).
pub fn due_for_renewal(facts: &Facts, domains: &[String], now: i64) -> bool {
    let covers = domains.iter().all(|d| facts.names.contains(d));
    let lifetime = (facts.not_after - facts.not_before).max(0);
    !covers || now >= facts.not_after - lifetime / 3
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_generated_certificate_checks_and_names_its_domains() {
        let pem = Pem::self_signed(&names(&["books.example.org"])).expect("generate");
        let facts = pem.check("chain", "key").expect("check");
        assert_eq!(facts.names, ["books.example.org"]);
        assert!(facts.not_after > facts.not_before);
    }

    #[test]
    fn a_key_from_another_certificate_is_refused() {
        let one = Pem::self_signed(&names(&["one.example.org"])).expect("generate");
        let two = Pem::self_signed(&names(&["two.example.org"])).expect("generate");
        let mixed = Pem {
            chain: one.chain,
            key: two.key,
        };
        assert!(matches!(mixed.check("c", "k"), Err(CertError::Mismatch(_))));
        let empty = Pem {
            chain: String::new(),
            key: String::new(),
        };
        assert!(matches!(
            empty.check("c", "k"),
            Err(CertError::NoCertificate(_))
        ));
    }

    #[test]
    fn renewal_comes_at_two_thirds_of_the_lifetime_or_for_a_new_name() {
        let day = 86_400;
        let facts = Facts {
            not_before: 0,
            not_after: 90 * day,
            names: names(&["a.example.org"]),
        };
        let domains = names(&["a.example.org"]);
        assert!(!due_for_renewal(&facts, &domains, 59 * day));
        assert!(due_for_renewal(&facts, &domains, 60 * day));
        assert!(due_for_renewal(
            &facts,
            &names(&["a.example.org", "b.example.org"]),
            0
        ));
    }
}

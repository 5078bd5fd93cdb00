//! Built-in HTTPS: certificate files the operator manages, or certificates
//! obtained and renewed over ACME (HTTP-01). With TLS on, the main listener
//! speaks only TLS 1.2 or 1.3, cookies are `Secure` with the `__Host-`
//! prefix, every answer carries HSTS, and an optional plain-HTTP listener
//! answers ACME challenges and redirects everything else to HTTPS.

pub mod acceptor;
pub mod acme;
pub mod certs;
pub mod redirect;
pub mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use serve::{Https, start};

/// Let's Encrypt's production directory, the default ACME server.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// How the server speaks HTTPS, from `tls.*` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsConfig {
    Off,
    Files {
        cert: PathBuf,
        key: PathBuf,
        http_listen: Option<SocketAddr>,
    },
    Acme(AcmeConfig),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeConfig {
    pub domains: Vec<String>,
    pub directory: String,
    pub contact: Option<String>,
    /// A private ACME server's root certificate (PEM), to trust its
    /// directory over HTTPS.
    pub ca_file: Option<PathBuf>,
    pub http_listen: SocketAddr,
}

impl TlsConfig {
    pub fn enabled(&self) -> bool {
        !matches!(self, TlsConfig::Off)
    }

    /// Reads the `tls.*` settings; an error names the setting at fault.
    pub fn from_settings(
        get: &dyn Fn(&str) -> String,
    ) -> Result<TlsConfig, (&'static str, String)> {
        let text = |key: &str| Some(get(key).trim().to_string()).filter(|s| !s.is_empty());
        let http_listen = match text("tls.http_listen") {
            None => None,
            Some(addr) => Some(addr.parse::<SocketAddr>().map_err(|_| {
                (
                    "tls.http_listen",
                    format!("{addr:?} is not IP:PORT (for example 0.0.0.0:80)"),
                )
            })?),
        };
        let cert = text("tls.cert_file");
        let key = text("tls.key_file");
        let domains: Vec<String> = get("tls.acme_domains")
            .split(',')
            .map(|d| d.trim().to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .collect();
        match (cert, key, domains.is_empty()) {
            (None, None, true) => match http_listen {
                Some(_) => Err((
                    "tls.http_listen",
                    "a plain-HTTP listener only redirects to HTTPS: set tls.cert_file and tls.key_file, or tls.acme_domains, too".into(),
                )),
                None => Ok(TlsConfig::Off),
            },
            (Some(_), _, false) | (_, Some(_), false) => Err((
                "tls.acme_domains",
                "choose one: certificate files (tls.cert_file, tls.key_file) or ACME (tls.acme_domains)".into(),
            )),
            (Some(cert), Some(key), true) => Ok(TlsConfig::Files {
                cert: cert.into(),
                key: key.into(),
                http_listen,
            }),
            (Some(_), None, true) => Err((
                "tls.key_file",
                "tls.cert_file is set, so tls.key_file must name its private key (PEM)".into(),
            )),
            (None, Some(_), true) => Err((
                "tls.cert_file",
                "tls.key_file is set, so tls.cert_file must name its certificate chain (PEM)".into(),
            )),
            (None, None, false) => {
                if let Some(bad) = domains.iter().find(|d| !valid_domain(d)) {
                    return Err((
                        "tls.acme_domains",
                        format!("{bad:?} is not a domain name such as books.example.org"),
                    ));
                }
                let http_listen = http_listen.ok_or((
                    "tls.http_listen",
                    "ACME proves the domain over plain HTTP on port 80: set tls.http_listen (for example 0.0.0.0:80)".to_string(),
                ))?;
                let directory = get("tls.acme_directory").trim().to_string();
                if !directory.starts_with("https://") {
                    return Err((
                        "tls.acme_directory",
                        format!("{directory:?} is not an https:// ACME directory URL"),
                    ));
                }
                Ok(TlsConfig::Acme(AcmeConfig {
                    domains,
                    directory,
                    contact: text("tls.acme_contact"),
                    ca_file: text("tls.acme_ca_file").map(PathBuf::from),
                    http_listen,
                }))
            }
        }
    }

    /// The plain-HTTP listener's address, when there is one.
    pub fn http_listen(&self) -> Option<SocketAddr> {
        match self {
            TlsConfig::Off => None,
            TlsConfig::Files { http_listen, .. } => *http_listen,
            TlsConfig::Acme(acme) => Some(acme.http_listen),
        }
    }
}

fn valid_domain(domain: &str) -> bool {
    domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<TlsConfig, (&'static str, String)> {
        let map: BTreeMap<&str, &str> = pairs.iter().copied().collect();
        let get = |key: &str| {
            map.get(key).map(|v| v.to_string()).unwrap_or_else(|| {
                if key == "tls.acme_directory" {
                    LETS_ENCRYPT.to_string()
                } else {
                    String::new()
                }
            })
        };
        TlsConfig::from_settings(&get)
    }

    #[test]
    fn off_unless_asked_for() {
        assert_eq!(parse(&[]), Ok(TlsConfig::Off));
    }

    #[test]
    fn files_need_both_halves() {
        assert!(matches!(
            parse(&[("tls.cert_file", "c.pem"), ("tls.key_file", "k.pem")]),
            Ok(TlsConfig::Files { .. })
        ));
        assert_eq!(
            parse(&[("tls.cert_file", "c.pem")]).err().map(|e| e.0),
            Some("tls.key_file")
        );
        assert_eq!(
            parse(&[("tls.key_file", "k.pem")]).err().map(|e| e.0),
            Some("tls.cert_file")
        );
    }

    #[test]
    fn acme_needs_a_plain_http_listener_and_a_real_domain() {
        let missing = parse(&[("tls.acme_domains", "books.example.org")]);
        assert_eq!(missing.err().map(|e| e.0), Some("tls.http_listen"));
        let ok = parse(&[
            ("tls.acme_domains", "Books.Example.org, ledger.example.org"),
            ("tls.http_listen", "0.0.0.0:80"),
        ]);
        let Ok(TlsConfig::Acme(acme)) = ok else {
            panic!("{ok:?}")
        };
        assert_eq!(acme.domains, ["books.example.org", "ledger.example.org"]);
        assert_eq!(acme.directory, LETS_ENCRYPT);
        let bad = parse(&[
            ("tls.acme_domains", "not a domain"),
            ("tls.http_listen", "0.0.0.0:80"),
        ]);
        assert_eq!(bad.err().map(|e| e.0), Some("tls.acme_domains"));
    }

    #[test]
    fn files_and_acme_together_are_refused() {
        let both = parse(&[
            ("tls.cert_file", "c.pem"),
            ("tls.key_file", "k.pem"),
            ("tls.acme_domains", "books.example.org"),
        ]);
        assert_eq!(both.err().map(|e| e.0), Some("tls.acme_domains"));
    }

    #[test]
    fn a_redirect_listener_alone_is_refused() {
        let alone = parse(&[("tls.http_listen", "0.0.0.0:80")]);
        assert_eq!(alone.err().map(|e| e.0), Some("tls.http_listen"));
    }
}

//! Choosing the instance's chain source, the same way from the CLI, the API
//! and the Settings page: one check with one set of messages, and one way of
//! storing it (audited, the Bitcoin Core password sealed, an old password
//! removed when another source is chosen). Only the user's own server is
//! ever used: there is no public fallback to configure.

use std::path::PathBuf;

use zeroize::Zeroizing;

use super::electrum_tls;
use super::sync::{CORE_PASSWORD_SECRET, ChainSource, CoreAuth, SOURCE_KEY};
use crate::crypto::SecretBox;
use crate::store::{AuditEntry, Store, StoreError};

/// A source as the user describes it, before it is checked.
pub enum Input {
    Esplora {
        url: String,
    },
    Electrum {
        host_port: String,
        tls: bool,
        cert: Option<Cert>,
    },
    CoreRpc {
        url: String,
        auth: AuthInput,
    },
}

/// The Electrum server's own certificate, to pin.
pub enum Cert {
    /// The certificate itself, PEM or DER.
    Bytes(Vec<u8>),
    /// Its SHA-256, in hex.
    Sha256(String),
}

pub enum AuthInput {
    /// The node's cookie file, read now to catch a wrong path and again at
    /// every sync; only from under `allowed` (`chain.cookie_dir`), see
    /// [`super::cookie`].
    CookieFile {
        path: PathBuf,
        allowed: Vec<PathBuf>,
    },
    User {
        user: String,
        password: Zeroizing<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The user's input; `code` is machine-readable for the API.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("the RPC password cannot be sealed: {0}")]
    Secret(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(code: &'static str, message: impl Into<String>) -> SourceError {
    SourceError::Invalid {
        code,
        message: message.into(),
    }
}

/// A checked source, with the RPC password to seal if one was given.
pub struct Checked {
    pub source: ChainSource,
    pub password: Option<Zeroizing<String>>,
}

/// Checks what the user gave; nothing is stored.
pub fn check(input: Input) -> Result<Checked, SourceError> {
    match input {
        Input::Esplora { url } => {
            let url = url.trim();
            http_url(url, "the Esplora URL")?;
            let url = url.trim_end_matches('/').to_string();
            Ok(Checked {
                source: ChainSource::Esplora { url },
                password: None,
            })
        }
        Input::Electrum {
            host_port,
            tls,
            cert,
        } => {
            let host_port = host_port.trim().to_string();
            host_and_port(&host_port)?;
            let cert_sha256 = match cert {
                Some(_) if !tls => {
                    return Err(invalid(
                        "invalid_certificate",
                        "a pinned certificate needs TLS",
                    ));
                }
                Some(Cert::Bytes(bytes)) => Some(
                    electrum_tls::fingerprint(&bytes)
                        .map_err(|e| invalid("invalid_certificate", e))?,
                ),
                Some(Cert::Sha256(hex)) => Some(sha256_hex(&hex)?),
                None => None,
            };
            Ok(Checked {
                source: ChainSource::Electrum {
                    host_port,
                    tls,
                    cert_sha256,
                },
                password: None,
            })
        }
        Input::CoreRpc { url, auth } => {
            let url = url.trim();
            if !url.starts_with("http://") {
                return Err(invalid(
                    "invalid_url",
                    "the Bitcoin Core RPC URL must start with http:// (the node speaks no TLS)",
                ));
            }
            http_url(url, "the Bitcoin Core RPC URL")?;
            let url = url.trim_end_matches('/').to_string();
            let (auth, password) = match auth {
                AuthInput::CookieFile { path, allowed } => {
                    let path = super::cookie::check(&path, &allowed)
                        .map_err(|e| invalid("unusable_cookie", e.to_string()))?;
                    let path = path.display().to_string();
                    (CoreAuth::Cookie { path }, None)
                }
                AuthInput::User { user, password } => {
                    if user.is_empty() || user.contains(':') {
                        return Err(invalid(
                            "invalid_user",
                            "the RPC user must be non-empty and without ':'",
                        ));
                    }
                    if password.is_empty() {
                        return Err(invalid("no_password", "the RPC password is empty"));
                    }
                    (CoreAuth::User { user }, Some(password))
                }
            };
            Ok(Checked {
                source: ChainSource::CoreRpc { url, auth },
                password,
            })
        }
    }
}

fn http_url(url: &str, what: &str) -> Result<(), SourceError> {
    crate::outbound::http_base(url, what)
        .map(drop)
        .map_err(|e| invalid("invalid_url", e))
}

fn host_and_port(text: &str) -> Result<(), SourceError> {
    let bad = || {
        invalid(
            "invalid_host_port",
            format!("{text:?} is not HOST:PORT (e.g. 192.168.1.5:50001)"),
        )
    };
    if text.contains("://") || text.contains('/') || text.chars().any(char::is_whitespace) {
        return Err(bad());
    }
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.trim_matches(['[', ']']).is_empty() || port == 0 {
        return Err(bad());
    }
    Ok(())
}

fn sha256_hex(text: &str) -> Result<String, SourceError> {
    let hex: String = text.trim().replace(':', "").to_ascii_lowercase();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(invalid(
            "invalid_certificate",
            "the certificate's SHA-256 is 64 hexadecimal digits",
        ));
    }
    Ok(hex)
}

/// The fields of the API body and the Settings form, all optional: which
/// ones a kind needs is checked here, once for both.
#[derive(Default)]
pub struct Fields {
    /// `esplora`, `electrum` or `core_rpc`.
    pub kind: String,
    pub url: Option<String>,
    pub host_port: Option<String>,
    pub tls: bool,
    pub cert_pem: Option<String>,
    pub cert_sha256: Option<String>,
    pub cookie_file: Option<String>,
    pub rpc_user: Option<String>,
    pub rpc_password: Option<Zeroizing<String>>,
}

fn given(field: Option<String>) -> Option<String> {
    field.filter(|f| !f.trim().is_empty())
}

fn needed(field: Option<String>, what: &str) -> Result<String, SourceError> {
    given(field).ok_or_else(|| invalid("missing_field", format!("give {what}")))
}

impl Fields {
    /// `cookie_dirs`: where a cookie file may come from (`chain.cookie_dir`).
    pub fn into_input(self, cookie_dirs: &[PathBuf]) -> Result<Input, SourceError> {
        match self.kind.trim() {
            "esplora" => Ok(Input::Esplora {
                url: needed(self.url, "the Esplora URL")?,
            }),
            "electrum" => {
                let cert = match (given(self.cert_pem), given(self.cert_sha256)) {
                    (Some(_), Some(_)) => {
                        return Err(invalid(
                            "invalid_certificate",
                            "give the certificate or its SHA-256, not both",
                        ));
                    }
                    (Some(pem), None) => Some(Cert::Bytes(pem.trim().as_bytes().to_vec())),
                    (None, Some(hex)) => Some(Cert::Sha256(hex)),
                    (None, None) => None,
                };
                Ok(Input::Electrum {
                    host_port: needed(self.host_port, "the Electrum server's HOST:PORT")?,
                    tls: self.tls,
                    cert,
                })
            }
            "core_rpc" => {
                let url = needed(self.url, "the Bitcoin Core RPC URL")?;
                let password = self.rpc_password.filter(|p| !p.is_empty());
                let auth = match (given(self.cookie_file), given(self.rpc_user), password) {
                    (Some(path), None, None) => AuthInput::CookieFile {
                        path: PathBuf::from(path.trim()),
                        allowed: cookie_dirs.to_vec(),
                    },
                    (None, Some(user), Some(password)) => AuthInput::User { user, password },
                    (None, Some(_), None) => {
                        return Err(invalid("no_password", "the RPC password is empty"));
                    }
                    _ => {
                        return Err(invalid(
                            "missing_field",
                            "Bitcoin Core needs its cookie file, or an RPC user and password",
                        ));
                    }
                };
                Ok(Input::CoreRpc { url, auth })
            }
            _ => Err(invalid(
                "invalid_kind",
                "kind is one of esplora, electrum, core_rpc",
            )),
        }
    }
}

/// Who is choosing the source, for the audit log.
pub struct Who<'a> {
    pub user: Option<crate::store::UserId>,
    pub name: &'a str,
    /// The client's address; empty from the CLI.
    pub from: &'a str,
}

impl Who<'_> {
    fn entry(&self, now: i64, action: &'static str) -> AuditEntry {
        AuditEntry::new(now, self.user, self.name, action).from_addr(self.from)
    }
}

/// Stores a checked source, sealing its password first; a source without
/// one removes any password stored before. Returns the password's last four.
/// `secrets` is needed only for a password.
pub async fn save(
    store: &Store,
    secrets: Option<&SecretBox>,
    checked: &Checked,
    who: &Who<'_>,
) -> Result<Option<String>, SourceError> {
    let now = crate::clock::now();
    let last4 = match &checked.password {
        Some(password) => {
            let secrets =
                secrets.ok_or_else(|| SourceError::Secret("no key to seal it with".into()))?;
            let sealed = secrets
                .seal(CORE_PASSWORD_SECRET, password.as_bytes())
                .map_err(|e| SourceError::Secret(e.to_string()))?;
            let last4 = crate::crypto::last4(password);
            let audit = who
                .entry(now, "chain.rpc_password_set")
                .target(CORE_PASSWORD_SECRET);
            store
                .put_secret(CORE_PASSWORD_SECRET, &sealed, &last4, &audit)
                .await?;
            Some(last4)
        }
        None => {
            let audit = who
                .entry(now, "chain.rpc_password_removed")
                .target(CORE_PASSWORD_SECRET);
            store.delete_secret(CORE_PASSWORD_SECRET, &audit).await?;
            None
        }
    };
    let value = serde_json::to_string(&checked.source)
        .map_err(|e| invalid("invalid_source", e.to_string()))?;
    let audit = who
        .entry(now, "chain.source_set")
        .target(checked.source.to_string());
    store
        .set_setting_audited(SOURCE_KEY, &value, &audit)
        .await?;
    Ok(last4)
}

/// The stored source, and the stored RPC password's last four.
pub async fn current(store: &Store) -> Result<Option<(ChainSource, Option<String>)>, StoreError> {
    let Some(text) = store.setting(SOURCE_KEY).await? else {
        return Ok(None);
    };
    let Ok(source) = serde_json::from_str::<ChainSource>(&text) else {
        return Ok(None);
    };
    let last4 = match &source {
        ChainSource::CoreRpc {
            auth: CoreAuth::User { .. },
            ..
        } => store.secret(CORE_PASSWORD_SECRET).await?.map(|s| s.last4),
        _ => None,
    };
    Ok(Some((source, last4)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn electrum_addresses_are_host_and_port() {
        assert!(host_and_port("10.0.0.2:50001").is_ok());
        assert!(host_and_port("electrs.local:50002").is_ok());
        assert!(host_and_port("[::1]:50001").is_ok());
        for bad in [
            "10.0.0.2",
            "tcp://10.0.0.2:50001",
            ":50001",
            "h:0",
            "h:99999",
            "h:x",
            "h x:1",
        ] {
            assert!(host_and_port(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rpc_urls_need_a_scheme_and_a_host() {
        assert!(http_url("http://127.0.0.1:8332", "u").is_ok());
        assert!(http_url("127.0.0.1:8332", "u").is_err());
        assert!(http_url("http://", "u").is_err());
    }

    #[test]
    fn a_pin_is_64_hex_digits_and_needs_tls() {
        let pin = "AB".repeat(32);
        assert_eq!(sha256_hex(&pin).ok(), Some("ab".repeat(32)));
        assert!(sha256_hex("abc").is_err());
        let no_tls = check(Input::Electrum {
            host_port: "h:1".into(),
            tls: false,
            cert: Some(Cert::Sha256(pin)),
        });
        assert!(matches!(
            no_tls,
            Err(SourceError::Invalid {
                code: "invalid_certificate",
                ..
            })
        ));
    }

    #[test]
    fn an_empty_password_or_a_user_with_a_colon_is_refused() {
        for (user, password, code) in [
            ("u", "", "no_password"),
            ("a:b", "pw", "invalid_user"),
            ("", "pw", "invalid_user"),
        ] {
            let got = check(Input::CoreRpc {
                url: "http://127.0.0.1:8332".into(),
                auth: AuthInput::User {
                    user: user.into(),
                    password: Zeroizing::new(password.into()),
                },
            });
            assert!(
                matches!(got, Err(SourceError::Invalid { code: c, .. }) if c == code),
                "{user}"
            );
        }
    }
}

//! `ledgersys chain set`: the instance's chain source, the user's own
//! server and never a public one.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use zeroize::Zeroizing;

use super::books::{actor, open};
use super::exit;
use crate::config::Config;
use crate::sources::chain::electrum_tls;
use crate::sources::chain::sync::{CORE_PASSWORD_SECRET, ChainSource, CoreAuth, SOURCE_KEY};
use crate::store::{AuditEntry, Store};

#[derive(Debug, Subcommand)]
pub enum ChainCommand {
    /// Set the instance's chain source: the user's own server, never a
    /// public one.
    Set(SetArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("kind").required(true).multiple(false)
    .args(["esplora", "electrum", "core_rpc"])))]
pub struct SetArgs {
    /// An Esplora API base URL, e.g. http://127.0.0.1:3002/api
    #[arg(long, value_name = "URL")]
    esplora: Option<String>,
    /// An Electrum server (electrs, Fulcrum), HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    electrum: Option<String>,
    /// Speak TLS to the Electrum server.
    #[arg(long, requires = "electrum")]
    tls: bool,
    /// The Electrum server's own certificate (PEM or DER): trusted by its
    /// fingerprint instead of a public certificate authority, for a
    /// self-signed certificate.
    #[arg(long, value_name = "FILE", requires = "tls")]
    tls_cert: Option<PathBuf>,
    /// Bitcoin Core's RPC URL, e.g. http://127.0.0.1:8332
    #[arg(long, value_name = "URL")]
    core_rpc: Option<String>,
    /// The node's cookie file (read at every sync).
    #[arg(
        long,
        value_name = "FILE",
        requires = "core_rpc",
        conflicts_with = "rpc_user"
    )]
    cookie_file: Option<PathBuf>,
    /// An RPC user (rpcauth or rpcuser), with --rpc-password-file.
    #[arg(long, value_name = "U", requires_all = ["core_rpc", "rpc_password_file"])]
    rpc_user: Option<String>,
    /// A file holding the RPC user's password; it is stored sealed.
    #[arg(long, value_name = "FILE", requires = "rpc_user")]
    rpc_password_file: Option<PathBuf>,
}

fn say(text: &str) -> Result<(), String> {
    use std::io::Write;
    writeln!(std::io::stdout(), "{text}").map_err(|e| e.to_string())
}

/// The source the arguments describe, and the RPC password if one was
/// given. Errors are the user's.
fn parse(args: &SetArgs) -> Result<(ChainSource, Option<Zeroizing<String>>), String> {
    if let Some(url) = &args.esplora {
        http_url(url, "the Esplora URL")?;
        let url = url.trim_end_matches('/').to_string();
        return Ok((ChainSource::Esplora { url }, None));
    }
    if let Some(host_port) = &args.electrum {
        host_and_port(host_port)?;
        let cert_sha256 = match &args.tls_cert {
            Some(path) => Some(electrum_tls::fingerprint(&read(path)?)?),
            None => None,
        };
        let source = ChainSource::Electrum {
            host_port: host_port.clone(),
            tls: args.tls,
            cert_sha256,
        };
        return Ok((source, None));
    }
    let Some(url) = &args.core_rpc else {
        return Err("give --esplora, --electrum or --core-rpc".into());
    };
    if !url.starts_with("http://") {
        return Err(
            "the Bitcoin Core RPC URL must start with http:// (the node speaks no TLS)".into(),
        );
    }
    http_url(url, "the Bitcoin Core RPC URL")?;
    let url = url.trim_end_matches('/').to_string();
    match (&args.cookie_file, &args.rpc_user, &args.rpc_password_file) {
        (Some(cookie), None, None) => {
            // Read now to catch a wrong path; read again at every sync.
            read(cookie)?;
            let path = std::path::absolute(cookie).map_err(|e| e.to_string())?;
            let auth = CoreAuth::Cookie {
                path: path.display().to_string(),
            };
            Ok((ChainSource::CoreRpc { url, auth }, None))
        }
        (None, Some(user), Some(file)) => {
            let bytes = Zeroizing::new(read(file)?);
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| format!("{} is not text", file.display()))?;
            let password = Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_string());
            if password.is_empty() {
                return Err(format!("{} holds no password", file.display()));
            }
            if user.is_empty() || user.contains(':') {
                return Err("the RPC user must be non-empty and without ':'".into());
            }
            let auth = CoreAuth::User { user: user.clone() };
            Ok((ChainSource::CoreRpc { url, auth }, Some(password)))
        }
        _ => Err(
            "--core-rpc needs --cookie-file FILE or --rpc-user U --rpc-password-file FILE".into(),
        ),
    }
}

fn http_url(url: &str, what: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("{what} must start with http:// or https://"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("{what} has no host"));
    }
    Ok(())
}

fn host_and_port(text: &str) -> Result<(), String> {
    let bad = || format!("{text:?} is not HOST:PORT (e.g. 192.168.1.5:50001)");
    if text.contains("://") || text.contains('/') {
        return Err(bad());
    }
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.trim_matches(['[', ']']).is_empty() || port == 0 {
        return Err(bad());
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

pub async fn run(command: ChainCommand, config: &Config) -> Result<u8, String> {
    let ChainCommand::Set(args) = command;
    let (source, password) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(exit::USAGE);
        }
    };
    let store = open(config).await?;
    let done = save(
        &store,
        config,
        &source,
        password.as_deref().map(String::as_str),
    )
    .await;
    store.close().await;
    let last4 = done?;
    say(&format!("chain source: {source}"))?;
    if let ChainSource::Electrum {
        cert_sha256: Some(pin),
        ..
    } = &source
    {
        say(&format!("pinned certificate SHA-256: {pin}"))?;
    }
    if let Some(last4) = last4 {
        say(&format!("RPC password stored sealed (ends in {last4})"))?;
    }
    Ok(exit::SUCCESS)
}

/// Stores the source, sealing a password first; a source without one
/// removes any password stored before. Returns the password's last four.
async fn save(
    store: &Store,
    config: &Config,
    source: &ChainSource,
    password: Option<&str>,
) -> Result<Option<String>, String> {
    let now = crate::clock::now();
    let last4 = match password {
        Some(password) => {
            let keys = crate::crypto::keys::key_source(config, &config.data_dir);
            let keys = crate::crypto::keys::open(store, &keys, now)
                .await
                .map_err(|e| e.to_string())?;
            let sealed = keys
                .secrets
                .seal(CORE_PASSWORD_SECRET, password.as_bytes())
                .map_err(|e| e.to_string())?;
            let last4 = crate::crypto::last4(password);
            let audit = AuditEntry::new(now, None, actor(), "chain.rpc_password_set")
                .target(CORE_PASSWORD_SECRET);
            store
                .put_secret(CORE_PASSWORD_SECRET, &sealed, &last4, &audit)
                .await
                .map_err(|e| e.to_string())?;
            Some(last4)
        }
        None => {
            let audit = AuditEntry::new(now, None, actor(), "chain.rpc_password_removed")
                .target(CORE_PASSWORD_SECRET);
            store
                .delete_secret(CORE_PASSWORD_SECRET, &audit)
                .await
                .map_err(|e| e.to_string())?;
            None
        }
    };
    let value = serde_json::to_string(source).map_err(|e| e.to_string())?;
    let audit = AuditEntry::new(now, None, actor(), "chain.source_set").target(source.to_string());
    store
        .set_setting_audited(SOURCE_KEY, &value, &audit)
        .await
        .map_err(|e| e.to_string())?;
    Ok(last4)
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
}

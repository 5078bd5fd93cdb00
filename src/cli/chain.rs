//! `ledgersys chain set`: the instance's chain source, the user's own
//! server and never a public one.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use zeroize::Zeroizing;

use super::books::{actor, open};
use super::exit;
use crate::config::Config;
use crate::sources::chain::source_settings::{AuthInput, Cert, Checked, Input, Who, check, save};
use crate::sources::chain::sync::ChainSource;
use crate::store::Store;

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

/// The source the arguments describe, its files read. Errors are the
/// user's.
fn input(args: &SetArgs, cookie_dirs: &[PathBuf]) -> Result<Input, String> {
    if let Some(url) = &args.esplora {
        return Ok(Input::Esplora { url: url.clone() });
    }
    if let Some(host_port) = &args.electrum {
        let cert = match &args.tls_cert {
            Some(path) => Some(Cert::Bytes(read(path)?)),
            None => None,
        };
        return Ok(Input::Electrum {
            host_port: host_port.clone(),
            tls: args.tls,
            cert,
        });
    }
    let Some(url) = &args.core_rpc else {
        return Err("give --esplora, --electrum or --core-rpc".into());
    };
    let auth = match (&args.cookie_file, &args.rpc_user, &args.rpc_password_file) {
        (Some(cookie), None, None) => AuthInput::CookieFile {
            path: cookie.clone(),
            allowed: cookie_dirs.to_vec(),
        },
        (None, Some(user), Some(file)) => {
            let bytes = Zeroizing::new(read(file)?);
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| format!("{} is not text", file.display()))?;
            let password = Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_string());
            if password.is_empty() {
                return Err(format!("{} holds no password", file.display()));
            }
            AuthInput::User {
                user: user.clone(),
                password,
            }
        }
        _ => {
            return Err(
                "--core-rpc needs --cookie-file FILE or --rpc-user U --rpc-password-file FILE"
                    .into(),
            );
        }
    };
    Ok(Input::CoreRpc {
        url: url.clone(),
        auth,
    })
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

pub async fn run(command: ChainCommand, config: &Config) -> Result<u8, String> {
    let ChainCommand::Set(args) = command;
    let checked =
        match input(&args, &config.cookie_dirs).and_then(|i| check(i).map_err(|e| e.to_string())) {
            Ok(checked) => checked,
            Err(err) => {
                eprintln!("error: {err}");
                return Ok(exit::USAGE);
            }
        };
    let store = open(config).await?;
    let done = save_with_keys(&store, config, &checked).await;
    store.close().await;
    let last4 = done?;
    let source = &checked.source;
    say(&format!("chain source: {source}"))?;
    if let ChainSource::Electrum {
        cert_sha256: Some(pin),
        ..
    } = source
    {
        say(&format!("pinned certificate SHA-256: {pin}"))?;
    }
    if let Some(last4) = last4 {
        say(&format!("RPC password stored sealed (ends in {last4})"))?;
    }
    Ok(exit::SUCCESS)
}

/// Stores the source; the keys are opened only to seal a password.
async fn save_with_keys(
    store: &Store,
    config: &Config,
    checked: &Checked,
) -> Result<Option<String>, String> {
    let keys = match checked.password {
        Some(_) => {
            let source = crate::crypto::keys::key_source(config, &config.data_dir);
            let keys = crate::crypto::keys::open(store, &source, crate::clock::now())
                .await
                .map_err(|e| e.to_string())?;
            Some(keys)
        }
        None => None,
    };
    let who = Who {
        user: None,
        name: &actor(),
        from: "",
    };
    save(store, keys.as_ref().map(|k| &k.secrets), checked, &who)
        .await
        .map_err(|e| e.to_string())
}

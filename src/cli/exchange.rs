//! `ledgersys exchange add|sync|list|remove`: exchange accounts read over
//! their APIs with keys proven read-only (the command-line contract's
//! "Exchange accounts, read-only").

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::exit;
use crate::config::Config;
use crate::sources::exchanges::service::{ExchangeError, Exchanges, NewKey};
use crate::store::{AuditEntry, Store};

#[derive(Debug, Subcommand)]
pub enum ExchangeCommand {
    /// Connect an account: the exchange is asked about the key first, and a
    /// key that can do more than read is refused with nothing stored.
    Add(AddArgs),
    /// Fetch the whole history the first time, only what is new after.
    Sync {
        #[arg(long)]
        name: Option<String>,
    },
    /// The connections, as JSON.
    List {
        #[arg(long, default_value = "json")]
        format: String,
    },
    /// Delete a connection and its key; the synced rows stay.
    Remove {
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// kraken, coinbase or binance (bitfinex, gemini, bitstamp, bybit and
    /// okx are named by the contract and not readable yet).
    exchange: String,
    #[arg(long)]
    name: String,
    #[arg(long, value_name = "FILE")]
    key_file: PathBuf,
    #[arg(long, value_name = "FILE")]
    secret_file: PathBuf,
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    #[arg(long, default_value = crate::auth::setup::DEFAULT_WORKSPACE)]
    workspace: String,
    /// Another base URL (a regional host, a proxy, a test server):
    /// https://, or http:// on loopback only.
    #[arg(long, value_name = "URL")]
    api_url: Option<String>,
    /// For exchanges that cannot report a key's permissions.
    #[arg(long)]
    confirm_read_only: bool,
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

async fn service(store: &Store, config: &Config) -> Result<Exchanges, String> {
    let source = crate::crypto::keys::key_source(config, &config.data_dir);
    let keys = crate::crypto::keys::open(store, &source, crate::clock::now())
        .await
        .map_err(|e| e.to_string())?;
    Ok(Exchanges::new(store.clone(), keys.secrets)
        .without_rate_budget(!config.exchange_rate_budget))
}

fn print(value: &impl serde::Serialize) -> Result<(), String> {
    let json = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    writeln!(std::io::stdout(), "{json}").map_err(|e| e.to_string())
}

pub async fn run(command: ExchangeCommand, config: &Config) -> Result<u8, String> {
    let store = super::books::open(config).await?;
    let code = match command {
        ExchangeCommand::Add(args) => add(&store, config, args).await,
        ExchangeCommand::Sync { name } => sync(&store, config, name.as_deref()).await,
        ExchangeCommand::List { format } => list(&store, config, &format).await,
        ExchangeCommand::Remove { name } => remove(&store, config, &name).await,
    };
    store.close().await;
    code
}

async fn add(store: &Store, config: &Config, args: AddArgs) -> Result<u8, String> {
    let key = read(&args.key_file)?;
    let secret = read(&args.secret_file)?;
    if args.passphrase_file.is_some() {
        eprintln!(
            "error: {} keys have no passphrase; leave out --passphrase-file",
            args.exchange
        );
        return Ok(exit::USAGE);
    }
    let _ = args.confirm_read_only; // every exchange read today reports its permissions
    let service = service(store, config).await?;
    let audit = AuditEntry::new(
        crate::clock::now(),
        None,
        super::books::actor(),
        "exchange.connected",
    );
    let new = NewKey {
        exchange: &args.exchange,
        name: &args.name,
        workspace: crate::sources::import::Target::Named(&args.workspace),
        key: &key,
        secret: &secret,
        api_url: args.api_url.as_deref(),
    };
    match service.add(&new, &audit).await {
        Ok(added) => {
            print(&added)?;
            Ok(exit::SUCCESS)
        }
        Err(ExchangeError::Refused(message)) => {
            eprintln!("error: {message}; nothing was stored");
            Ok(exit::USAGE)
        }
        Err(e) => Err(format!("{e}; nothing was stored")),
    }
}

async fn sync(store: &Store, config: &Config, only: Option<&str>) -> Result<u8, String> {
    let service = service(store, config).await?;
    let connections = store
        .exchange_connections()
        .await
        .map_err(|e| e.to_string())?;
    let chosen: Vec<_> = connections
        .into_iter()
        .filter(|c| only.is_none_or(|n| n == c.name))
        .collect();
    if let (Some(name), true) = (only, chosen.is_empty()) {
        eprintln!("error: there is no exchange connection named {name:?}");
        return Ok(exit::USAGE);
    }
    let mut results = Vec::new();
    let mut failed = false;
    for connection in &chosen {
        let progress = |done: usize, total: usize| {
            eprintln!("{}: {done} of {total} entries", connection.name);
        };
        match service
            .sync(connection, &progress, &super::books::actor())
            .await
        {
            Ok(synced) => {
                if synced
                    .exchange_balance_sat
                    .is_some_and(|b| b != synced.balance_sat)
                {
                    eprintln!(
                        "warning: {}: the synced rows add up to {} sat, but {} reports {} sat; a part of the history may be missing",
                        synced.name,
                        synced.balance_sat,
                        synced.exchange,
                        synced.exchange_balance_sat.unwrap_or_default()
                    );
                }
                results.push(synced);
            }
            Err(e) => {
                failed = true;
                eprintln!("error: {}: {e}", connection.name);
            }
        }
    }
    print(&serde_json::json!({ "connections": results }))?;
    Ok(if failed { exit::FAILURE } else { exit::SUCCESS })
}

async fn list(store: &Store, config: &Config, format: &str) -> Result<u8, String> {
    if format != "json" {
        eprintln!("error: --format json is the only format");
        return Ok(exit::USAGE);
    }
    let service = service(store, config).await?;
    let mut out = Vec::new();
    for c in store
        .exchange_connections()
        .await
        .map_err(|e| e.to_string())?
    {
        let (rows, balance) = service
            .account_totals(&c)
            .await
            .map_err(|e| e.to_string())?;
        out.push(serde_json::json!({
            "name": c.name,
            "exchange": c.exchange,
            "key_last4": c.key_last4,
            "last_sync": c.last_sync_at.map(crate::clock::rfc3339),
            "rows": rows,
            "balance_sat": balance,
        }));
    }
    print(&out)?;
    Ok(exit::SUCCESS)
}

async fn remove(store: &Store, config: &Config, name: &str) -> Result<u8, String> {
    let service = service(store, config).await?;
    let audit = AuditEntry::new(
        crate::clock::now(),
        None,
        super::books::actor(),
        "exchange.removed",
    );
    match service.remove(name, &audit).await {
        Ok(true) => Ok(exit::SUCCESS),
        Ok(false) => {
            eprintln!("error: there is no exchange connection named {name:?}");
            Ok(exit::USAGE)
        }
        Err(e) => Err(e.to_string()),
    }
}

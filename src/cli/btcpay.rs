//! `ledgersys btcpay add|sweep`: connecting a BTCPay Server store and
//! reconciling its invoices, on the data directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::exit;
use crate::btcpay::{BtcpayError, NewConnection, Service};
use crate::config::Config;
use crate::store::{AuditEntry, Store};

#[derive(Debug, Subcommand)]
pub enum BtcpayCommand {
    /// Connect a store: checks the API key's permissions (read-only) first,
    /// then prints a JSON object with "integration_id" and "webhook_path",
    /// and, when no secret file is given, a generated "webhook_secret" once.
    Add(AddArgs),
    /// Reconcile against the Greenfield API: every invoice since the last
    /// sweep's cursor, booking income the webhooks missed.
    Sweep {
        #[arg(long, value_name = "ID")]
        integration: Option<i64>,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The BTCPay Server's base URL, e.g. https://btcpay.example.
    #[arg(long)]
    url: String,
    #[arg(long, value_name = "ID")]
    store_id: String,
    /// File holding the Greenfield API key (never given on the command line).
    #[arg(long, value_name = "FILE")]
    api_key_file: PathBuf,
    /// File holding the webhook secret set in BTCPay's webhook form.
    #[arg(long, value_name = "FILE")]
    webhook_secret_file: Option<PathBuf>,
    #[arg(long, default_value = crate::auth::setup::DEFAULT_WORKSPACE)]
    workspace: String,
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

async fn service(store: &Store, config: &Config) -> Result<Service, String> {
    let source = crate::crypto::keys::key_source(config, &config.data_dir);
    let keys = crate::crypto::keys::open(store, &source, crate::clock::now())
        .await
        .map_err(|e| e.to_string())?;
    Ok(Service::new(store.clone(), keys.secrets))
}

pub async fn run(command: BtcpayCommand, config: &Config) -> Result<u8, String> {
    let store = super::books::open(config).await?;
    let code = match command {
        BtcpayCommand::Add(args) => add(&store, config, args).await,
        BtcpayCommand::Sweep { integration } => sweep(&store, config, integration).await,
    };
    store.close().await;
    code
}

async fn add(store: &Store, config: &Config, args: AddArgs) -> Result<u8, String> {
    let api_key = read(&args.api_key_file)?;
    let secret = args.webhook_secret_file.as_deref().map(read).transpose()?;
    let service = service(store, config).await?;
    let audit = AuditEntry::new(
        crate::clock::now(),
        None,
        super::books::actor(),
        "btcpay.connected",
    )
    .detail(format!("store {} at {}", args.store_id, args.url));
    let new = NewConnection {
        workspace: &args.workspace,
        url: &args.url,
        store_id: &args.store_id,
        api_key: &api_key,
        webhook_secret: secret.as_deref(),
        register_at: None,
    };
    match service.add(&new, &audit).await {
        Ok(added) => {
            let json = serde_json::to_string_pretty(&added).map_err(|e| e.to_string())?;
            writeln!(std::io::stdout(), "{json}").map_err(|e| e.to_string())?;
            Ok(exit::SUCCESS)
        }
        Err(BtcpayError::Refused(message)) => {
            eprintln!("error: {message}; nothing was stored");
            Ok(exit::USAGE)
        }
        Err(e) => Err(format!("{e}; nothing was stored")),
    }
}

async fn sweep(store: &Store, config: &Config, only: Option<i64>) -> Result<u8, String> {
    let service = service(store, config).await?;
    match service
        .sweep(only, &super::books::actor(), crate::clock::now())
        .await
    {
        Ok(reports) => {
            let json = serde_json::to_string_pretty(&reports).map_err(|e| e.to_string())?;
            writeln!(std::io::stdout(), "{json}").map_err(|e| e.to_string())?;
            Ok(exit::SUCCESS)
        }
        Err(BtcpayError::Refused(message)) => {
            eprintln!("error: {message}");
            Ok(exit::USAGE)
        }
        Err(e) => Err(e.to_string()),
    }
}

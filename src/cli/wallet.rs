//! `ledgersys chain set` and `ledgersys wallet add|sync|list`: watch-only
//! wallets from the command line.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use zeroize::Zeroizing;

use super::books::{actor, open};
use super::exit;
use crate::config::Config;
use crate::crypto::SecretBox;
use crate::sources::chain::add::{self, AddError, Kind};
use crate::sources::chain::label_book::{self, LabelError};
use crate::sources::chain::status;
use crate::sources::chain::sync::{self, ChainSource, CoreAuth};
use crate::store::wallets::WalletRecord;
use crate::store::{AuditEntry, Store};

#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Watch a wallet by its public keys. Private keys and seeds are refused.
    Add(AddArgs),
    /// Scan wallets on the chain source and add their new transactions to
    /// the ledger. Progress goes to standard error.
    Sync {
        /// Only this wallet [default: all].
        #[arg(long)]
        name: Option<String>,
        /// The workspace of the named wallet; needed only when several
        /// workspaces have a wallet of that name.
        #[arg(long, requires = "name")]
        workspace: Option<String>,
    },
    /// The watched wallets with their balance and last sync.
    List {
        #[arg(long, value_enum, default_value = "text")]
        format: super::ListFormat,
    },
    /// BIP-329 labels (JSONL) from Sparrow, BTCPay or Bitcoin Core.
    Labels {
        #[command(subcommand)]
        command: LabelsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum LabelsCommand {
    /// Import a label file: checked whole, every bad line named on standard
    /// error, nothing stored unless all are good.
    Import {
        file: PathBuf,
        #[arg(long, default_value = crate::auth::setup::DEFAULT_WORKSPACE)]
        workspace: String,
    },
    /// Print the workspace's labels and notes as BIP-329 JSONL.
    Export {
        #[arg(long, default_value = crate::auth::setup::DEFAULT_WORKSPACE)]
        workspace: String,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).multiple(false)))]
pub struct AddArgs {
    #[arg(long)]
    name: String,
    /// An output descriptor with public keys: pkh, sh(wpkh), wpkh, tr,
    /// sh/wsh(sortedmulti).
    #[arg(long, group = "source", value_name = "D")]
    descriptor: Option<String>,
    /// An account's extended public key: xpub/ypub/zpub or tpub/upub/vpub.
    #[arg(long, group = "source", value_name = "X")]
    xpub: Option<String>,
    /// A file of addresses, one a line.
    #[arg(long, group = "source", value_name = "FILE")]
    addresses: Option<PathBuf>,
    /// A Sparrow, Specter or Coldcard wallet export.
    #[arg(long, group = "source", value_name = "EXPORT")]
    file: Option<PathBuf>,
    #[arg(long, default_value = crate::auth::setup::DEFAULT_WORKSPACE)]
    workspace: String,
    /// Unused addresses in a row before the scan stops.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    gap_limit: u32,
    /// The height of the wallet's first block, if known.
    #[arg(long, value_name = "HEIGHT")]
    birthday: Option<u32>,
}

fn say(text: &str) -> Result<(), String> {
    writeln!(std::io::stdout(), "{text}").map_err(|e| e.to_string())
}

pub async fn wallet(command: WalletCommand, config: &Config) -> Result<u8, String> {
    let store = open(config).await?;
    let code = match command {
        WalletCommand::Add(args) => add(&store, args).await,
        WalletCommand::Sync { name, workspace } => {
            let named = match name.as_deref() {
                Some(name) => match named_wallet(&store, name, workspace.as_deref()).await? {
                    Ok(wallet) => Some(wallet),
                    Err(message) => {
                        eprintln!("error: {message}");
                        store.close().await;
                        return Ok(exit::USAGE);
                    }
                },
                None => None,
            };
            sync_wallets(&store, config, named).await
        }
        WalletCommand::List { format } => list(&store, format).await,
        WalletCommand::Labels { command } => labels(&store, command).await,
    };
    store.close().await;
    code
}

fn read(path: &std::path::Path) -> Result<Zeroizing<String>, String> {
    let bytes = Zeroizing::new(
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?,
    );
    Ok(Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned()))
}

async fn add(store: &Store, args: AddArgs) -> Result<u8, String> {
    // The input may hold a secret: it is wiped as soon as it is checked.
    let (kind, text) = match (&args.descriptor, &args.xpub, &args.addresses, &args.file) {
        (Some(d), ..) => (Kind::Descriptor, Zeroizing::new(d.clone())),
        (_, Some(x), ..) => (Kind::Xpub, Zeroizing::new(x.clone())),
        (.., Some(path), _) => (Kind::Addresses, read(path)?),
        (.., Some(path)) => (Kind::Export, read(path)?),
        _ => return Ok(exit::USAGE),
    };
    let prepared = add::prepare(kind, &text);
    drop(text);
    let watched = match prepared {
        Ok(watched) => watched,
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(exit::USAGE);
        }
    };
    let now = crate::clock::now();
    let created =
        AuditEntry::new(now, None, actor(), "workspace.created").target(args.workspace.as_str());
    let workspace = store
        .workspace_named(&args.workspace, &created)
        .await
        .map_err(|e| e.to_string())?;
    let settings = add::Settings {
        name: &args.name,
        gap_limit: args.gap_limit,
        birthday: args.birthday,
    };
    let audit = AuditEntry::new(now, None, actor(), "wallet.added");
    match add::save(store, workspace, &watched, &settings, &audit).await {
        Ok(_) => {}
        Err(AddError::Store(e)) => return Err(e.to_string()),
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(exit::USAGE);
        }
    }
    say(&format!(
        "added wallet {} ({}, gap limit {}) to workspace {}; first receive addresses:",
        args.name, watched.network, args.gap_limit, args.workspace
    ))?;
    for (i, address) in watched.shown.iter().enumerate() {
        say(&format!("  {i}: {address}"))?;
    }
    Ok(exit::SUCCESS)
}

/// The one wallet a name (and workspace, if given) picks out. Names are
/// unique per workspace only, so a name two workspaces use must come with
/// `--workspace`: a sync never guesses which books it writes to.
async fn named_wallet(
    store: &Store,
    name: &str,
    workspace: Option<&str>,
) -> Result<Result<WalletRecord, String>, String> {
    let mut wallets = store.wallets_named(name).await.map_err(|e| e.to_string())?;
    if let Some(workspace) = workspace {
        let ws = store
            .workspace_by_name(workspace)
            .await
            .map_err(|e| e.to_string())?;
        let Some(ws) = ws else {
            return Ok(Err(format!("no workspace named {workspace:?}")));
        };
        wallets.retain(|w| w.workspace_id == ws.id);
    }
    if wallets.len() > 1 {
        return Ok(Err(format!(
            "{} workspaces have a wallet named {name:?}: say which with --workspace",
            wallets.len()
        )));
    }
    Ok(wallets
        .pop()
        .ok_or_else(|| format!("no wallet named {name:?}")))
}

async fn sync_wallets(
    store: &Store,
    config: &Config,
    named: Option<WalletRecord>,
) -> Result<u8, String> {
    let wallets = match named {
        Some(wallet) => vec![wallet],
        None => store.wallets().await.map_err(|e| e.to_string())?,
    };
    if wallets.is_empty() {
        return Ok(exit::SUCCESS);
    }
    let keys = match secrets_if_needed(store, config).await {
        Ok(keys) => keys,
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(exit::FAILURE);
        }
    };
    let progress = |line: &str| eprintln!("{line}");
    let mut code = exit::SUCCESS;
    for wallet in &wallets {
        let now = crate::clock::now();
        match sync::sync(store, keys.as_ref(), wallet, &actor(), now, &progress).await {
            Ok(done) => {
                status::succeeded(store).await.map_err(|e| e.to_string())?;
                say(&format!(
                    "{}: {} transactions, balance {} sat, {} new ledger rows",
                    wallet.name, done.transactions, done.balance_sat, done.rows_added
                ))?
            }
            Err(err) => {
                eprintln!("error: {}: {err}", wallet.name);
                if matches!(err, sync::SyncError::Unreachable { .. }) {
                    let failure = status::Failure {
                        at: now,
                        wallet: wallet.name.clone(),
                        message: err.to_string(),
                    };
                    status::failed(store, &failure)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                code = exit::FAILURE;
            }
        }
    }
    Ok(code)
}

/// The secret box, when the chain source has a sealed RPC password to open.
async fn secrets_if_needed(store: &Store, config: &Config) -> Result<Option<SecretBox>, String> {
    let source = match sync::source(store).await {
        Ok(source) => source,
        // The sync itself reports a missing or bad source.
        Err(_) => return Ok(None),
    };
    if !matches!(
        source,
        ChainSource::CoreRpc {
            auth: CoreAuth::User { .. },
            ..
        }
    ) {
        return Ok(None);
    }
    let keys = crate::crypto::keys::key_source(config, &config.data_dir);
    let keys = crate::crypto::keys::open(store, &keys, crate::clock::now())
        .await
        .map_err(|e| e.to_string())?;
    Ok(Some(keys.secrets))
}

#[derive(serde::Serialize)]
struct Listed {
    name: String,
    balance_sat: i64,
    transactions: i64,
    last_sync: Option<String>,
}

async fn list(store: &Store, format: super::ListFormat) -> Result<u8, String> {
    let wallets = store.wallets().await.map_err(|e| e.to_string())?;
    let listed: Vec<Listed> = wallets
        .into_iter()
        .map(|w| Listed {
            name: w.name,
            balance_sat: w.balance_sat,
            transactions: w.transactions,
            last_sync: w.last_sync.map(crate::clock::rfc3339),
        })
        .collect();
    match format {
        super::ListFormat::Json => {
            say(&serde_json::to_string(&listed).map_err(|e| e.to_string())?)?;
        }
        super::ListFormat::Text => {
            for w in &listed {
                say(&format!(
                    "{}\t{} sat\t{} transactions\tlast sync {}",
                    w.name,
                    w.balance_sat,
                    w.transactions,
                    w.last_sync.as_deref().unwrap_or("never")
                ))?;
            }
        }
    }
    Ok(exit::SUCCESS)
}

async fn labels(store: &Store, command: LabelsCommand) -> Result<u8, String> {
    let (LabelsCommand::Import { workspace, .. } | LabelsCommand::Export { workspace }) = &command;
    let Some(ws) = store
        .workspace_by_name(workspace)
        .await
        .map_err(|e| e.to_string())?
    else {
        eprintln!("error: no workspace named {workspace:?}");
        return Ok(exit::USAGE);
    };
    match command {
        LabelsCommand::Export { .. } => {
            let text = label_book::export(store, ws.id)
                .await
                .map_err(|e| e.to_string())?;
            std::io::stdout()
                .write_all(text.as_bytes())
                .map_err(|e| e.to_string())?;
            Ok(exit::SUCCESS)
        }
        LabelsCommand::Import { file, .. } => {
            let bytes =
                std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let name = actor();
            let who = crate::review::Actor {
                name: &name,
                id: None,
                now: crate::clock::now(),
            };
            match label_book::import(store, ws.id, &bytes, &who).await {
                Ok(done) => {
                    say(&format!(
                        "{} labels read, {} new or changed, {} transactions classified",
                        done.labels, done.changed, done.classified
                    ))?;
                    Ok(exit::SUCCESS)
                }
                Err(LabelError::Store(e)) => Err(e.to_string()),
                Err(LabelError::Lines(lines)) => {
                    for l in &lines {
                        eprintln!("line {}: {}", l.line, l.message);
                    }
                    eprintln!("error: {} bad line(s); nothing was stored", lines.len());
                    Ok(exit::USAGE)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(exit::USAGE)
                }
            }
        }
    }
}

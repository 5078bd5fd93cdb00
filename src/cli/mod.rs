//! The command line. Each subcommand resolves the configuration, then calls
//! into the library; nothing here knows about SQL or HTTP internals.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{self, Config, LogFormat, Overrides};

mod books;
mod btcpay;
mod chain;
mod convert;
mod exchange;
mod prices;
mod wallet;

/// Exit codes shared by every subcommand.
pub mod exit {
    pub const SUCCESS: u8 = 0;
    pub const FAILURE: u8 = 1;
    pub const USAGE: u8 = 2;
    /// The data has problems: a refused file, or a report that is incomplete.
    pub const DATA: u8 = 3;
}

#[derive(Debug, Parser)]
#[command(
    name = "ledgersys",
    version,
    about = "Self-hosted Bitcoin accounting and tax appliance: watch-only, exact, private.",
    long_about = "Ledgersys keeps your Bitcoin books: watch-only wallets from your own node, \
exchange imports, BTCPay income, and cost-basis, gains and income reports.\n\n\
Settings come from built-in defaults, then a TOML file (--config or LEDGERSYS_CONFIG), \
then LEDGERSYS_* environment variables, then these flags. See docs/configuration.md."
)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where Ledgersys keeps its database and keys [default: ./ledgersys-data].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Log format on standard error [default: human].
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    /// Log level or filter, e.g. info, debug, ledgersys=debug [default: info].
    #[arg(long, global = true, value_name = "LEVEL")]
    log_level: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web UI and API. Prints the URL it serves as its first line.
    Serve {
        /// Address to listen on, IP:PORT; port 0 picks a free port [default: 127.0.0.1:8420].
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Ask a running server whether it is ready (exit 0) or not (exit 1).
    Healthcheck,
    /// Write a consistent copy of the database to
    /// DATA_DIR/snapshot/ledgersys.sqlite3, for backup systems that copy the
    /// data directory while the server runs. Safe while the server runs.
    Snapshot,
    /// Write an encrypted backup (database and key) to a file. Safe while the
    /// server runs.
    Backup {
        /// Where to write it: outside the data directory, ideally another disk.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// File holding the passphrase (`-` for standard input).
        #[arg(long, value_name = "FILE")]
        passphrase_file: PathBuf,
    },
    /// Replace the database and key with a backup's (server stopped). The
    /// previous files are kept beside, renamed.
    Restore {
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        #[arg(long, value_name = "FILE")]
        passphrase_file: PathBuf,
    },
    /// Accounts and keys, offline on the data directory.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Import a transaction file into a workspace: all of it or nothing.
    Import(books::ImportArgs),
    /// Tax reports.
    #[command(subcommand)]
    Report(books::ReportCommand),
    /// The BTC price table: import a file, look a day up, fill gaps.
    #[command(subcommand)]
    Prices(prices::PricesCommand),
    /// The instance's chain source for watched wallets.
    #[command(subcommand)]
    Chain(chain::ChainCommand),
    /// Watch-only wallets: add, sync, list.
    #[command(subcommand)]
    Wallet(wallet::WalletCommand),
    /// Print the generic CSV that an exchange or wallet export becomes
    /// (skipped rows and warnings on standard error).
    Convert(convert::ConvertArgs),
    /// BTCPay Server: connect a store, reconcile its invoices.
    #[command(subcommand)]
    Btcpay(btcpay::BtcpayCommand),
    /// Exchange accounts over their APIs, with keys proven read-only.
    #[command(subcommand)]
    Exchange(exchange::ExchangeCommand),
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Print the one-time token that first-run setup asks for.
    SetupToken,
    /// Create an account and add it to a workspace.
    CreateUser {
        #[arg(long)]
        username: String,
        /// File holding the password (`-` for standard input). Never given
        /// on the command line, where other users could read it.
        #[arg(long, value_name = "FILE")]
        password_file: PathBuf,
        #[arg(long, value_parser = parse_role)]
        role: crate::auth::Role,
        /// Created if it does not exist.
        #[arg(long, default_value = crate::auth::setup::DEFAULT_WORKSPACE)]
        workspace: String,
        #[arg(long)]
        email: Option<String>,
        /// May manage instance settings and open other workspaces with a reason.
        #[arg(long)]
        instance_admin: bool,
    },
    /// Set a new password; ends the user's sessions and clears a lockout.
    ResetPassword {
        #[arg(long)]
        username: String,
        #[arg(long, value_name = "FILE")]
        password_file: PathBuf,
    },
    /// List accounts with their workspaces and roles.
    ListUsers {
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
    /// End every session of a user.
    RevokeSessions {
        #[arg(long)]
        username: String,
    },
    /// Re-encrypt every stored secret under a new key (server stopped).
    RotateKey,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ListFormat {
    Text,
    Json,
}

fn parse_role(text: &str) -> Result<crate::auth::Role, String> {
    text.parse()
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Check the configuration and print each value with where it came from.
    Check,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let listen = match &cli.command {
        Command::Serve { listen } => listen.clone(),
        _ => None,
    };
    let config = match load_config(&cli, listen) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(exit::USAGE);
        }
    };
    crate::logging::init(config.log_format, &config.log_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let result = runtime.block_on(dispatch(cli.command, config));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(exit::FAILURE)
        }
    }
}

fn load_config(cli: &Cli, listen: Option<String>) -> Result<Config, config::ConfigError> {
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| k.starts_with("LEDGERSYS_"))
        .collect();
    let file = cli
        .config
        .clone()
        .or_else(|| env.get(config::CONFIG_ENV).map(PathBuf::from));
    let flags = Overrides {
        data_dir: cli.data_dir.clone(),
        listen,
        log_format: cli.log_format,
        log_level: cli.log_level.clone(),
    };
    Config::load(file.as_deref(), &env, flags)
}

async fn dispatch(command: Command, config: Config) -> Result<u8, String> {
    let done = |r: Result<(), String>| r.map(|()| exit::SUCCESS);
    match command {
        Command::Import(args) => books::import(args, &config).await,
        Command::Report(report) => books::report(report, &config).await,
        Command::Prices(command) => prices::run(command, &config).await,
        Command::Chain(command) => chain::run(command, &config).await,
        Command::Wallet(command) => wallet::wallet(command, &config).await,
        Command::Convert(args) => convert::convert(&args),
        Command::Btcpay(command) => btcpay::run(command, &config).await,
        Command::Exchange(command) => exchange::run(command, &config).await,
        other => done(run(other, config).await),
    }
}

async fn run(command: Command, config: Config) -> Result<(), String> {
    match command {
        Command::Import(_)
        | Command::Report(_)
        | Command::Convert(_)
        | Command::Prices(_)
        | Command::Chain(_)
        | Command::Wallet(_)
        | Command::Btcpay(_)
        | Command::Exchange(_) => Ok(()),
        Command::Serve { .. } => serve(config).await,
        Command::Config(ConfigCommand::Check) => {
            let mut out = std::io::stdout().lock();
            for (key, value, origin) in config.describe() {
                writeln!(out, "{key} = {value:?}  # {origin}").map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        Command::Healthcheck => {
            crate::probe::ready(loopback_for(config.listen), config.tls.enabled()).await
        }
        Command::Admin(command) => admin(command, config).await,
        Command::Snapshot => {
            crate::datadir::ensure(&config.data_dir).map_err(|e| e.to_string())?;
            let store = crate::store::Store::open(&config.data_dir)
                .await
                .map_err(|e| e.to_string())?;
            let written = crate::snapshot::write(&store, &config.data_dir).await;
            store.close().await;
            writeln!(std::io::stdout(), "{}", written?.display()).map_err(|e| e.to_string())
        }
        Command::Backup {
            out,
            passphrase_file,
        } => {
            let passphrase = crate::admin::read_password_file(&passphrase_file)?;
            let done = crate::backup::create(&config, &out, &passphrase).await?;
            writeln!(std::io::stdout(), "{done}").map_err(|e| e.to_string())
        }
        Command::Restore {
            from,
            passphrase_file,
        } => {
            let passphrase = crate::admin::read_password_file(&passphrase_file)?;
            let done = crate::backup::restore(&config, &from, &passphrase).await?;
            writeln!(std::io::stdout(), "{done}").map_err(|e| e.to_string())
        }
    }
}

async fn admin(command: AdminCommand, config: Config) -> Result<(), String> {
    use crate::admin;
    let mut out = std::io::stdout().lock();
    match command {
        AdminCommand::SetupToken => admin::setup_token(&config, &mut out).await,
        AdminCommand::CreateUser {
            username,
            password_file,
            role,
            workspace,
            email,
            instance_admin,
        } => {
            let new = admin::CreateUser {
                username: username.trim(),
                password: admin::read_password_file(&password_file)?,
                role,
                workspace: &workspace,
                email: email.as_deref(),
                instance_admin,
            };
            admin::create_user(&config, new, &mut out).await
        }
        AdminCommand::ResetPassword {
            username,
            password_file,
        } => {
            let password = admin::read_password_file(&password_file)?;
            admin::reset_password(&config, &username, password, &mut out).await
        }
        AdminCommand::ListUsers { format } => {
            admin::list_users(&config, matches!(format, ListFormat::Json), &mut out).await
        }
        AdminCommand::RevokeSessions { username } => {
            admin::revoke_sessions(&config, &username, &mut out).await
        }
        AdminCommand::RotateKey => admin::rotate_key(&config, &mut out).await,
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let listener = crate::bind(config.listen).map_err(|e| e.to_string())?;
    let appliance = crate::Appliance::open(&config, listener)
        .await
        .map_err(|e| e.to_string())?;
    // Handlers go in before the URL is printed: a supervisor may signal as
    // soon as it has read it.
    let shutdown = shutdown_signal()?;
    // Scripts and tests read this line to learn where we are.
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", appliance.url())
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())?;
    drop(out);
    appliance.run(shutdown).await.map_err(|e| e.to_string())
}

/// A server listening on every interface is probed on loopback.
fn loopback_for(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

/// Installs SIGTERM and SIGINT handlers; the future resolves on either.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let install = |kind| signal(kind).map_err(|e| format!("cannot install signal handlers: {e}"));
    let mut term = install(SignalKind::terminate())?;
    let mut int = install(SignalKind::interrupt())?;
    Ok(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutting down; finishing in-flight requests");
    })
}

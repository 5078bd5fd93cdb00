//! `ledgersys import` and `ledgersys report`: the books from the command
//! line, with the flags and exit codes of the command-line contract.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::exit;
use crate::config::Config;
use crate::datadir;
use crate::reports::{self, Options};
use crate::sources::import::{self, ImportError, Request, Target};
use crate::store::{AuditEntry, Store};

const DEFAULT_WORKSPACE: &str = "default";

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file to import.
    file: PathBuf,
    /// Created on first use.
    #[arg(long, default_value = DEFAULT_WORKSPACE)]
    workspace: String,
    /// The account for rows that name none.
    #[arg(long)]
    account: Option<String>,
    /// `auto` (recognised from the header) or a format name such as
    /// coinbase, kraken-ledgers, strike, generic.
    #[arg(long, default_value = "auto")]
    format: String,
    /// Time zone for timestamps without an offset.
    #[arg(long, default_value = "UTC")]
    timezone: String,
    /// Check the file and say what would be imported, storing nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Totals per tax year: proceeds, basis, gains, income.
    Summary(SummaryArgs),
    /// One line per disposal: Form 8949 rows (US) or the HMRC computation
    /// by matching rule (UK).
    CapitalGains(SummaryArgs),
    /// One line per income receipt.
    Income(SummaryArgs),
    /// Lots (US) or the Section 104 pool (UK) at the end of --date.
    Holdings(SummaryArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
    Csv,
    Text,
}

#[derive(Debug, Args)]
pub struct SummaryArgs {
    #[arg(long, default_value = DEFAULT_WORKSPACE)]
    workspace: String,
    /// us, uk, de, ca or au.
    #[arg(long)]
    jurisdiction: String,
    /// fifo, lifo, hifo or specific (US) [default: fifo].
    #[arg(long)]
    method: Option<String>,
    /// universal, per-wallet or auto (US) [default: auto].
    #[arg(long)]
    basis: Option<String>,
    /// disposal, non-taxable or add-to-basis [default: disposal].
    #[arg(long)]
    transfer_fee: Option<String>,
    /// Report currency [default: USD for us, GBP for uk].
    #[arg(long)]
    currency: Option<String>,
    /// Only this year (`2021`, or the UK year starting in it).
    #[arg(long)]
    year: Option<String>,
    /// For holdings: the day whose end is reported (YYYY-MM-DD).
    #[arg(long)]
    date: Option<String>,
    #[arg(long, value_enum)]
    format: Format,
}

pub(super) fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

pub(super) async fn open(config: &Config) -> Result<Store, String> {
    datadir::ensure(&config.data_dir).map_err(|e| e.to_string())?;
    Store::open_for_command(&config.data_dir)
        .await
        .map_err(|e| e.to_string())
}

pub async fn import(args: ImportArgs, config: &Config) -> Result<u8, String> {
    let store = open(config).await?;
    let actor = actor();
    let bytes = std::fs::read(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let request = Request {
        file_name: &file_name,
        bytes: &bytes,
        workspace: Target::Named(&args.workspace),
        account: args.account.as_deref(),
        format: &args.format,
        timezone: &args.timezone,
        dry_run: args.dry_run,
        actor: &actor,
        actor_id: None,
        now: crate::clock::now(),
    };
    let mut out = std::io::stdout().lock();
    let say =
        |out: &mut dyn Write, text: String| writeln!(out, "{text}").map_err(|e| e.to_string());
    match import::import(&store, &request).await {
        Ok(report) => {
            eprintln!("{}: read as {}", args.file.display(), report.format.label);
            for s in &report.skipped {
                eprintln!(
                    "{}: line {}: skipped: {}",
                    args.file.display(),
                    s.line,
                    s.reason
                );
            }
            if report.imported.is_none() {
                eprintln!("{} rows are already present", report.present);
            }
            match report.imported {
                None => say(
                    &mut out,
                    format!(
                        "{} rows are valid; nothing was stored (dry run)",
                        report.rows.len()
                    ),
                )?,
                Some(done) => say(
                    &mut out,
                    format!(
                        "imported {} new rows into workspace {}; {} were already present",
                        done.added, args.workspace, done.present
                    ),
                )?,
            }
            if report.counted_once > 0 {
                eprintln!(
                    "{} of the rows are entries already in the books from another source (same account, type, amount and time): each counts once",
                    report.counted_once
                );
            }
            Ok(exit::SUCCESS)
        }
        Err(ImportError::Refused(errors)) => {
            for error in &errors {
                eprintln!("{}: {error}", args.file.display());
            }
            eprintln!(
                "error: the file was refused ({} problem(s)); nothing was stored",
                errors.len()
            );
            Ok(exit::DATA)
        }
        Err(err @ (ImportError::Format(_) | ImportError::Zone(_))) => {
            eprintln!("error: {err}");
            Ok(exit::USAGE)
        }
        Err(err) => Err(err.to_string()),
    }
}

pub async fn report(command: ReportCommand, config: &Config) -> Result<u8, String> {
    let (args, which) = match command {
        ReportCommand::Summary(args) => (args, None),
        ReportCommand::CapitalGains(args) => (args, Some(reports::Detail::CapitalGains)),
        ReportCommand::Income(args) => (args, Some(reports::Detail::Income)),
        ReportCommand::Holdings(args) => {
            let Some(date) = args.date.as_deref() else {
                eprintln!("error: holdings needs --date YYYY-MM-DD");
                return Ok(exit::USAGE);
            };
            let Ok(date) = date.parse::<jiff::civil::Date>() else {
                eprintln!("error: --date {date:?} is not YYYY-MM-DD");
                return Ok(exit::USAGE);
            };
            (args, Some(reports::Detail::Holdings(date)))
        }
    };
    let started = std::time::Instant::now();
    let store = open(config).await?;
    let created = AuditEntry::new(crate::clock::now(), None, actor(), "workspace.created")
        .target(&args.workspace);
    let workspace = store
        .workspace_named(&args.workspace, &created)
        .await
        .map_err(|e| e.to_string())?;
    let timezone = store
        .workspace_timezone(workspace)
        .await
        .map_err(|e| e.to_string())?;
    let options = Options {
        timezone,
        jurisdiction: args.jurisdiction.clone(),
        method: args.method.clone(),
        basis: args.basis.clone(),
        transfer_fee: args.transfer_fee.clone(),
        currency: args.currency.clone(),
        year: args.year.clone(),
    };
    let book = reports::priced::book(&store, workspace, &options)
        .await
        .map_err(|e| e.to_string())?;
    let loaded = std::time::Instant::now();
    let (text, issues) = match which {
        None => match reports::summary(&book, &options) {
            Ok(summary) => {
                let text = match args.format {
                    Format::Json => format!(
                        "{}\n",
                        serde_json::to_string_pretty(&summary.json).map_err(|e| e.to_string())?
                    ),
                    Format::Csv => reports::summary_csv(&summary.json),
                    Format::Text => reports::summary_text(&summary.json),
                };
                for note in &summary.notes {
                    eprintln!("note: {note}");
                }
                (text, summary.issues)
            }
            Err(message) => {
                eprintln!("error: {message}");
                return Ok(exit::USAGE);
            }
        },
        Some(which) => match reports::detail(&book, &options, which) {
            Ok(lines) => {
                let text = match args.format {
                    Format::Json => format!(
                        "{}\n",
                        serde_json::to_string_pretty(&lines.lines).map_err(|e| e.to_string())?
                    ),
                    Format::Csv | Format::Text => {
                        reports::detail::to_csv(&lines.lines, &lines.columns)
                    }
                };
                (text, lines.issues)
            }
            Err(message) => {
                eprintln!("error: {message}");
                return Ok(exit::USAGE);
            }
        },
    };
    if std::env::var_os(crate::config::TIMINGS_ENV).is_some() {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        eprintln!(
            "timings: load {:.1} ms ({} rows), compute {:.1} ms",
            ms(loaded - started),
            book.rows.len(),
            ms(loaded.elapsed())
        );
    }
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|e| e.to_string())?;
    for issue in &issues {
        eprintln!("incomplete: {issue}");
    }
    Ok(if issues.is_empty() {
        exit::SUCCESS
    } else {
        exit::DATA
    })
}

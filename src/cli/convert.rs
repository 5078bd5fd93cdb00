//! `ledgersys convert FILE`: the generic CSV a file becomes, on standard
//! output, so that a user can check or edit it before importing. Needs no
//! data directory.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::exit;
use crate::sources::generic;
use crate::sources::import::{self, ImportError};

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The exchange or wallet export to convert.
    file: PathBuf,
    /// `auto` (recognised from the header) or a format name such as
    /// coinbase, kraken-ledgers, strike, generic.
    #[arg(long, default_value = "auto")]
    format: String,
    /// Time zone for timestamps the file writes without an offset.
    #[arg(long, default_value = "UTC")]
    timezone: String,
    /// The account of the rows [default: the source's name, e.g. coinbase].
    #[arg(long)]
    account: Option<String>,
}

pub fn convert(args: &ConvertArgs) -> Result<u8, String> {
    let bytes = std::fs::read(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let name = args.file.display();
    match import::read(
        &bytes,
        &args.format,
        &args.timezone,
        args.account.as_deref(),
    ) {
        Ok(converted) => {
            let rows: Vec<_> = converted.rows.into_iter().map(|(_, tx)| tx).collect();
            let csv = generic::write(&rows)?;
            eprintln!(
                "{name}: read as {} ({} rows, {} skipped)",
                converted.format.label,
                rows.len(),
                converted.skipped.len()
            );
            for s in &converted.skipped {
                eprintln!("{name}: line {}: skipped: {}", s.line, s.reason);
            }
            std::io::stdout()
                .write_all(csv.as_bytes())
                .map_err(|e| e.to_string())?;
            Ok(exit::SUCCESS)
        }
        Err(ImportError::Refused(errors)) => {
            for error in &errors {
                eprintln!("{name}: {error}");
            }
            eprintln!(
                "error: the file has {} problem(s); nothing was converted",
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

//! `ledgersys prices import|get|sync`: the price table from the command line.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::exit;
use crate::config::Config;
use crate::prices::sync::{self, Fetcher};
use crate::prices::{self as p, Resolution, settings};
use crate::store::{AuditEntry, Store};

#[derive(Debug, Subcommand)]
pub enum PricesCommand {
    /// Store a price file: long `date,currency,price` or wide
    /// `Date,BTC_USD,BTC_EUR,...`. All of it or nothing; its prices replace
    /// stored ones for the same days.
    Import { file: PathBuf },
    /// Print the stored daily price (exit 3 when there is none).
    Get {
        /// YYYY-MM-DD
        #[arg(long)]
        date: String,
        #[arg(long)]
        currency: String,
    },
    /// Fill the table's gaps from the sources set in Settings, in their
    /// order, in bulk ranges. Progress goes to standard error, one line per
    /// source and range to standard output; exit 3 when days stay missing.
    Sync(SyncArgs),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Only this source (mempool, coinbase, bitstamp, kraken, coingecko).
    #[arg(long)]
    source: Option<String>,
    /// Only this currency [default: USD, EUR, GBP, CAD, AUD, CHF, JPY].
    #[arg(long)]
    currency: Option<String>,
    /// First day to fill [default: 2010-07-18].
    #[arg(long)]
    from: Option<String>,
}

fn say(text: &str) -> Result<(), String> {
    writeln!(std::io::stdout(), "{text}").map_err(|e| e.to_string())
}

pub async fn run(command: PricesCommand, config: &Config) -> Result<u8, String> {
    let store = super::books::open(config).await?;
    let code = match command {
        PricesCommand::Import { file } => import(&store, &file).await,
        PricesCommand::Get { date, currency } => get(&store, &date, &currency).await,
        PricesCommand::Sync(args) => sync(&store, config, args).await,
    };
    store.close().await;
    code
}

async fn import(store: &Store, file: &std::path::Path) -> Result<u8, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let points = match p::file::parse(&bytes) {
        Ok(points) => points,
        Err(errors) => {
            for error in &errors {
                eprintln!("{}: {error}", file.display());
            }
            eprintln!(
                "error: the file was refused ({} problem(s)); nothing was stored",
                errors.len()
            );
            return Ok(exit::DATA);
        }
    };
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let now = crate::clock::now();
    let audit = AuditEntry::new(now, None, super::books::actor(), "prices.imported").target(&name);
    let changed = store
        .put_prices(&points, "file", true, now, Some(&audit))
        .await
        .map_err(|e| e.to_string())?;
    say(&format!(
        "stored {changed} prices from {name}; {} were already present",
        points.len() as u64 - changed
    ))?;
    Ok(exit::SUCCESS)
}

async fn get(store: &Store, date: &str, currency: &str) -> Result<u8, String> {
    let Ok(day) = date.parse::<jiff::civil::Date>() else {
        eprintln!("error: --date {date:?} is not YYYY-MM-DD");
        return Ok(exit::USAGE);
    };
    let currency = match p::currency_code(currency) {
        Ok(c) => c,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(exit::USAGE);
        }
    };
    match store
        .price(&currency, Resolution::Day, p::day_start(day))
        .await
        .map_err(|e| e.to_string())?
    {
        Some((price, _source)) => {
            say(&price.to_string())?;
            Ok(exit::SUCCESS)
        }
        None => {
            eprintln!("no {currency} price for {day} is stored (missing price)");
            Ok(exit::DATA)
        }
    }
}

async fn sync(store: &Store, config: &Config, args: SyncArgs) -> Result<u8, String> {
    let from = match args.from.as_deref().map(str::parse::<jiff::civil::Date>) {
        None => p::FIRST_DAY,
        Some(Ok(d)) => d,
        Some(Err(_)) => {
            eprintln!("error: --from is not YYYY-MM-DD");
            return Ok(exit::USAGE);
        }
    };
    let currencies = match &args.currency {
        None => p::CURRENCIES.iter().map(|c| c.to_string()).collect(),
        Some(c) => match p::currency_code(c) {
            Ok(c) => vec![c],
            Err(message) => {
                eprintln!("error: {message}");
                return Ok(exit::USAGE);
            }
        },
    };
    if let Some(name) = &args.source
        && !settings::SOURCE_NAMES.contains(&name.as_str())
    {
        eprintln!(
            "error: unknown source {name:?}; use {}",
            settings::SOURCE_NAMES.join(", ")
        );
        return Ok(exit::USAGE);
    }
    let stored = settings::load(store).await.map_err(|e| e.to_string())?;
    let key = if store
        .secret(settings::COINGECKO_KEY_SECRET)
        .await
        .map_err(|e| e.to_string())?
        .is_some()
    {
        let source = crate::crypto::keys::key_source(config, &config.data_dir);
        let keys = crate::crypto::keys::open(store, &source, crate::clock::now())
            .await
            .map_err(|e| e.to_string())?;
        sync::coingecko_key(store, &keys.secrets).await?
    } else {
        None
    };
    let (sources, notes) = sync::build(&stored, key, args.source.as_deref());
    for note in &notes {
        eprintln!("{note}");
    }
    if sources.is_empty() {
        eprintln!("error: no price source is usable; set one up in Settings");
        return Ok(exit::DATA);
    }
    let now = crate::clock::now();
    let today = p::utc_day(now);
    let fetcher = Fetcher::new()?;
    let progress = |s: &sync::Progress| {
        eprintln!("[{}/{}] {}", s.done, s.planned, s.current);
    };
    let reports = sync::fill_gaps(
        store,
        &fetcher,
        &sources,
        &currencies,
        from,
        today,
        now,
        &progress,
    )
    .await
    .map_err(|e| e.to_string())?;
    for r in &reports {
        say(&r.to_string())?;
    }
    Ok(if reports.iter().any(sync::RangeReport::leaves_gap) {
        exit::DATA
    } else {
        exit::SUCCESS
    })
}

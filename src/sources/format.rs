//! The known file formats, recognised by their header row, and the common
//! driver that turns a file of any of them into ledger rows, rows skipped
//! with their reason, or line-numbered errors.

use std::collections::{HashMap, HashSet};

use jiff::tz::TimeZone;

use super::generic::{self, LineError};
use super::table::{self, Header, Row};
use crate::ledger::{Kind, Tx};

/// What a format needs besides the file.
pub struct Context<'a> {
    /// For timestamps the file writes without an offset.
    pub zone: &'a TimeZone,
    /// The account every row of the file belongs to.
    pub account: &'a str,
}

/// The outcome of one record.
pub enum Step {
    Keep(Tx),
    /// Skipped with a warning: pending, fiat-only, not bitcoin, ...
    Skip(String),
    Fail(String),
    /// Blank lines, repeated headers: skipped without a word.
    Ignore,
    /// One line that is two movements (a purchase sent straight on to the
    /// buyer's own wallet).
    Many(Vec<Tx>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub line: u64,
    pub reason: String,
}

/// Where a format's rows land.
#[derive(Default)]
pub struct Outcome {
    pub rows: Vec<(u64, Tx)>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<LineError>,
}

impl Outcome {
    pub fn push(&mut self, line: u64, step: Step) {
        match step {
            Step::Keep(tx) => match check(&tx) {
                Ok(()) => self.rows.push((line, tx)),
                Err(message) => self.errors.push(LineError { line, message }),
            },
            Step::Skip(reason) => self.skipped.push(Skipped { line, reason }),
            Step::Fail(message) => self.errors.push(LineError { line, message }),
            Step::Ignore => {}
            Step::Many(txs) => {
                for tx in txs {
                    self.push(line, Step::Keep(tx));
                }
            }
        }
    }
}

/// The file below its header, for a format to read.
pub struct Input<'a> {
    pub bytes: &'a [u8],
    pub offset: usize,
    pub header_line: u64,
    pub header: &'a Header,
}

impl Input<'_> {
    /// Visits every record; blank records are left out.
    pub fn rows(&self, mut visit: impl FnMut(Row<'_>)) -> Vec<LineError> {
        table::each_row(
            self.bytes,
            self.offset,
            self.header_line,
            self.header,
            |row| {
                if !row.is_blank() {
                    visit(row);
                }
            },
        )
    }

    /// The usual case: each record becomes at most one row on its own.
    pub fn map(&self, ctx: &Context, f: impl Fn(&Row<'_>, &Context) -> Step) -> Outcome {
        let mut out = Outcome::default();
        let errors = self.rows(|row| {
            let step = if is_comment(&row) {
                Step::Skip("a comment or summary line".into())
            } else {
                f(&row, ctx)
            };
            out.push(row.line, step);
        });
        out.errors.extend(errors);
        out
    }
}

/// Trailing `# ...` lines that some wallets append.
pub fn is_comment(row: &Row<'_>) -> bool {
    row.cells().next().is_some_and(|c| c.starts_with('#'))
}

pub struct Format {
    /// The name for `--format`: `coinbase`, `kraken-ledgers`, ...
    pub name: &'static str,
    /// What the preview calls it.
    pub label: &'static str,
    /// The account of its rows unless the user names one.
    pub account: &'static str,
    pub detect: fn(&Header) -> bool,
    pub read: fn(&Input<'_>, &Context) -> Outcome,
}

/// Most specific first: detection takes the first format whose header
/// matches, on the first line where any does.
pub const FORMATS: &[Format] = &[
    super::coinbase::FORMAT,
    super::coinbase_pro::FILLS,
    super::coinbase_pro::ACCOUNT,
    super::kraken::LEDGERS,
    super::kraken::TRADES,
    super::bitstamp::FORMAT,
    super::bitstamp::OLDER,
    super::gemini::FORMAT,
    super::binance::FORMAT,
    super::binance_history::TRADES,
    super::binance_history::TRANSFERS,
    super::binance_history::FIAT,
    super::bitfinex::TRADES,
    super::bitfinex::MOVEMENTS,
    super::bitfinex_ledgers::LEDGERS,
    super::bitvavo::FORMAT,
    super::bisq::FORMAT,
    super::relai::FORMAT,
    super::river::FORMAT,
    super::strike::FORMAT,
    super::strike::MONTHLY,
    super::swan::FORMAT,
    super::swan::WITHDRAWALS,
    super::cashapp::FORMAT,
    super::sparrow::FORMAT,
    super::electrum::FORMAT,
    super::phoenix::FORMAT,
    super::bluewallet::FORMAT,
    super::green::FORMAT,
    GENERIC,
];

pub const GENERIC: Format = Format {
    name: "generic",
    label: "Ledgersys generic CSV",
    account: "",
    detect: |h| {
        h.names
            .iter()
            .all(|n| generic::COLUMNS.contains(&n.as_str()))
            && h.has_all(&["timestamp", "type", "btc"])
    },
    read: |_, _| Outcome::default(),
};

pub fn named(name: &str) -> Option<&'static Format> {
    FORMATS.iter().find(|f| f.name == name)
}

pub fn names() -> Vec<&'static str> {
    FORMATS.iter().map(|f| f.name).collect()
}

/// The format and header line of a file: the first line that any format
/// recognises (or `wanted` recognises, when the user chose it).
pub fn detect(
    bytes: &[u8],
    wanted: Option<&'static Format>,
) -> Result<(&'static Format, usize, u64, Header), String> {
    for (offset, line, header) in table::candidates(bytes) {
        let found = match wanted {
            Some(f) => (f.detect)(&header).then_some(f),
            None => FORMATS.iter().find(|f| (f.detect)(&header)),
        };
        if let Some(format) = found {
            return Ok((format, offset, line, header));
        }
    }
    Err(match wanted {
        Some(f) => format!("no {} header found in the file", f.label),
        None => format!(
            "the format was not recognised from any header line; name it with a format ({})",
            names().join(", ")
        ),
    })
}

/// A whole file as ledger rows. Errors refuse the file.
pub struct Converted {
    pub format: &'static Format,
    pub rows: Vec<(u64, Tx)>,
    pub skipped: Vec<Skipped>,
}

pub fn convert(
    bytes: &[u8],
    wanted: Option<&'static Format>,
    ctx: &Context,
) -> Result<Converted, Vec<LineError>> {
    if !looks_like_text(bytes) {
        return Err(vec![LineError {
            line: 1,
            message: "the file is not CSV text (binary or not UTF-8)".into(),
        }]);
    }
    let (format, offset, line, header) =
        detect(bytes, wanted).map_err(|message| vec![LineError { line: 1, message }])?;
    if format.name == GENERIC.name {
        let body = &table::strip_bom(bytes)[offset..];
        let shift = line - 1;
        return generic::parse(body, ctx.zone)
            .map(|rows| Converted {
                format,
                rows: rows.into_iter().map(|(l, tx)| (l + shift, tx)).collect(),
                skipped: Vec::new(),
            })
            .map_err(|errors| {
                errors
                    .into_iter()
                    .map(|e| LineError {
                        line: e.line + shift,
                        message: e.message,
                    })
                    .collect()
            });
    }
    let input = Input {
        bytes,
        offset,
        header_line: line,
        header: &header,
    };
    let mut out = (format.read)(&input, ctx);
    if !out.errors.is_empty() {
        out.errors.sort_by_key(|e| e.line);
        return Err(out.errors);
    }
    unique_ids(&mut out.rows);
    out.rows.sort_by_key(|(line, _)| *line);
    out.skipped.sort_by_key(|s| s.line);
    Ok(Converted {
        format,
        rows: out.rows,
        skipped: out.skipped,
    })
}

/// Sniffs the start of a file: no NUL bytes, and UTF-8 (a character may
/// be cut at the end of the sniffed block).
pub fn looks_like_text(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    !head.contains(&0)
        && match std::str::from_utf8(head) {
            Ok(_) => true,
            Err(e) => e.error_len().is_none(),
        }
}

/// Some sources repeat an id (Strike's Reference, one Coinbase id for both
/// legs); the ledger wants it unique per account, so repeats get `#2`, `#3`,
/// skipping any such id the file itself already holds.
fn unique_ids(rows: &mut [(u64, Tx)]) {
    let mut taken: HashSet<String> = rows.iter().filter_map(|(_, tx)| tx.id.clone()).collect();
    let mut seen: HashMap<String, u32> = HashMap::new();
    for (_, tx) in rows.iter_mut() {
        let Some(id) = tx.id.take() else { continue };
        let n = seen.entry(id.clone()).or_default();
        *n += 1;
        if *n == 1 {
            tx.id = Some(id);
            continue;
        }
        let mut candidate = format!("{id}#{n}");
        while taken.contains(&candidate) {
            *n += 1;
            candidate = format!("{id}#{n}");
        }
        taken.insert(candidate.clone());
        tx.id = Some(candidate);
    }
}

/// The rules of the generic format, for rows built by a format module.
fn check(tx: &Tx) -> Result<(), String> {
    if tx.kind == Kind::Fee {
        if !tx.btc.is_zero() || tx.fee_btc.0 <= 0 {
            return Err("a fee row moves no bitcoin besides its fee".into());
        }
    } else if tx.btc.0 <= 0 {
        return Err(format!("the {} row moves no bitcoin", tx.kind));
    }
    if tx.fee_btc.0 < 0 || tx.fee_fiat.is_sign_negative() {
        return Err("a fee is negative".into());
    }
    if tx.kind.requires_fiat_value() && tx.fiat_value.is_none() {
        return Err(format!("a {} row needs its fiat value", tx.kind));
    }
    if tx.fiat_value.is_some_and(|v| v.is_sign_negative()) {
        return Err("the fiat value is negative".into());
    }
    if (tx.fiat_value.is_some() || !tx.fee_fiat.is_zero()) && tx.currency.is_none() {
        return Err("a fiat amount has no currency".into());
    }
    if let Some(c) = &tx.currency
        && (c.len() != 3 || !c.chars().all(|ch| ch.is_ascii_uppercase()))
    {
        return Err(format!("{c:?} is not a currency code such as USD"));
    }
    Ok(())
}

/// A row with the fields every format fills the same way.
pub fn tx(ctx: &Context, time: jiff::Timestamp, kind: Kind, btc: crate::ledger::Sats) -> Tx {
    Tx {
        id: None,
        time,
        kind,
        account: ctx.account.to_string(),
        btc,
        fee_btc: crate::ledger::Sats::ZERO,
        fiat_value: None,
        currency: None,
        fee_fiat: rust_decimal::Decimal::ZERO,
        to_account: None,
        txid: None,
        note: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing: a repeat's `#n` must not take an id the file
    /// already holds.
    #[test]
    fn a_repeated_id_never_takes_an_id_the_file_holds() {
        let zone = jiff::tz::TimeZone::UTC;
        let ctx = Context {
            zone: &zone,
            account: "green",
        };
        let row = |id: &str| {
            let mut t = tx(
                &ctx,
                jiff::Timestamp::UNIX_EPOCH,
                Kind::Deposit,
                crate::ledger::Sats(1),
            );
            t.id = Some(id.to_string());
            (1, t)
        };
        let mut rows = vec![row("A"), row("A#2"), row("A"), row("A")];
        unique_ids(&mut rows);
        let ids: Vec<_> = rows
            .iter()
            .map(|(_, t)| t.id.clone().unwrap_or_default())
            .collect();
        assert_eq!(ids, ["A", "A#2", "A#3", "A#4"]);
    }
}

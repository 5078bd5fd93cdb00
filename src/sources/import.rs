//! Importing a file into a workspace: parse it whole, then store it in one
//! transaction, or store nothing.

use jiff::tz::TimeZone;
use sha2::{Digest, Sha256};

use super::format::{self, Context, Converted, Skipped};
use super::generic::{self, LineError};
use crate::store::transactions::{ImportMeta, Imported, Keyed};
use crate::store::{AuditEntry, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("unknown format {0:?}; use auto or one of {names}", names = format::names().join(", "))]
    Format(String),
    #[error("unknown time zone {0:?}; use an IANA name such as Europe/London or UTC")]
    Zone(String),
    #[error("the file was refused; nothing was stored")]
    Refused(Vec<LineError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Request<'a> {
    pub file_name: &'a str,
    pub bytes: &'a [u8],
    pub workspace: Target<'a>,
    /// Fills the account of rows that leave it empty.
    pub account: Option<&'a str>,
    pub format: &'a str,
    pub timezone: &'a str,
    pub dry_run: bool,
    pub actor: &'a str,
    pub actor_id: Option<crate::store::UserId>,
    pub now: i64,
}

/// The workspace to import into.
pub enum Target<'a> {
    /// By name, created on first use (the command line).
    Named(&'a str),
    Id(crate::store::WorkspaceId),
}

pub struct Report {
    /// The format the file was read as (detected, or the one asked for).
    pub format: &'static format::Format,
    /// The rows the file holds, in file order.
    pub rows: Vec<crate::ledger::Tx>,
    /// Rows left out, with the reason (pending, fiat-only, ...).
    pub skipped: Vec<Skipped>,
    /// Rows already stored by an earlier import (re-importing is a no-op);
    /// on a dry run, counted without storing.
    pub present: u64,
    pub imported: Option<Imported>,
}

/// Reads a file of any known format into ledger rows, storing nothing:
/// `format` is `auto` (detected from the header) or a format's name.
pub fn read(
    bytes: &[u8],
    format: &str,
    timezone: &str,
    account: Option<&str>,
) -> Result<Converted, ImportError> {
    let zone = TimeZone::get(timezone).map_err(|_| ImportError::Zone(timezone.to_string()))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::Refused(vec![LineError {
            line: 1,
            message: "the file is empty".into(),
        }]));
    }
    if !format::looks_like_text(bytes) {
        return Err(ImportError::Refused(vec![LineError {
            line: 1,
            message: "the file is not CSV text (binary, or not UTF-8)".into(),
        }]));
    }
    let wanted = match format {
        "auto" => None,
        name => Some(format::named(name).ok_or_else(|| ImportError::Format(name.to_string()))?),
    };
    let is_generic = |f: &format::Format| f.name == format::GENERIC.name;
    // `None`: the generic format. An unrecognised file is read as generic
    // too, whose errors say which column is unknown or missing.
    let chosen = match (wanted, format::detect(bytes, wanted)) {
        (Some(f), _) if is_generic(f) => None,
        (_, Ok((f, ..))) if is_generic(f) => None,
        (_, Ok((f, ..))) => Some(f),
        (None, Err(_)) => None,
        (Some(_), Err(message)) => {
            return Err(ImportError::Refused(vec![LineError { line: 1, message }]));
        }
    };
    let Some(chosen) = chosen else {
        let bytes = match account {
            Some(account) => fill_account(bytes, account),
            None => bytes.to_vec(),
        };
        let rows = generic::parse(&bytes, &zone).map_err(|mut errors| {
            if wanted.is_none() && errors.len() == 1 && errors[0].line == 1 {
                errors[0].message = format!(
                    "{}; nor is it any other known format ({})",
                    errors[0].message,
                    format::names().join(", ")
                );
            }
            ImportError::Refused(errors)
        })?;
        return Ok(Converted {
            format: &format::GENERIC,
            rows,
            skipped: Vec::new(),
        });
    };
    let ctx = Context {
        zone: &zone,
        account: account.unwrap_or(chosen.account),
    };
    format::convert(bytes, Some(chosen), &ctx).map_err(ImportError::Refused)
}

pub async fn import(store: &Store, req: &Request<'_>) -> Result<Report, ImportError> {
    let converted = read(req.bytes, req.format, req.timezone, req.account)?;
    let rows: Vec<_> = converted.rows.into_iter().map(|(_, tx)| tx).collect();
    let ids = generic::source_ids(&rows);
    let workspace = match req.workspace {
        Target::Id(id) => Some(id),
        Target::Named(name) if req.dry_run => store.workspace_by_name(name).await?.map(|w| w.id),
        Target::Named(name) => {
            let created =
                AuditEntry::new(req.now, req.actor_id, req.actor, "workspace.created").target(name);
            Some(store.workspace_named(name, &created).await?)
        }
    };
    let keyed: Vec<Keyed> = ids
        .into_iter()
        .zip(&rows)
        .map(|(source_id, tx)| Keyed { source_id, tx })
        .collect();
    if req.dry_run {
        let present = match workspace {
            Some(ws) => store.count_present(ws, &keyed).await?,
            None => 0,
        };
        return Ok(Report {
            format: converted.format,
            rows,
            skipped: converted.skipped,
            present,
            imported: None,
        });
    }
    let Some(workspace) = workspace else {
        return Err(ImportError::Store(StoreError::Invalid(
            "no workspace".into(),
        )));
    };
    let sha256 = hex::encode(Sha256::digest(req.bytes));
    let meta = ImportMeta {
        file_name: req.file_name,
        sha256: &sha256,
        format: converted.format.name,
        actor: req.actor,
        now: req.now,
    };
    let audit =
        AuditEntry::new(req.now, req.actor_id, req.actor, "import.completed").target(req.file_name);
    let imported = store
        .import_transactions(workspace, &meta, &keyed, &audit)
        .await?;
    drop(keyed);
    Ok(Report {
        format: converted.format,
        present: imported.present,
        rows,
        skipped: converted.skipped,
        imported: Some(imported),
    })
}

/// Adds an `account` column filled with `account` when the file has none.
fn fill_account(bytes: &[u8], account: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return bytes.to_vec();
    };
    if header
        .split(',')
        .any(|h| h.trim().eq_ignore_ascii_case("account"))
    {
        return bytes.to_vec();
    }
    let quoted = format!("\"{}\"", account.replace('"', "\"\""));
    let mut out = format!("{header},account\n");
    for line in lines.filter(|l| !l.trim().is_empty()) {
        out.push_str(line);
        out.push(',');
        out.push_str(&quoted);
        out.push('\n');
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(bytes: &[u8], format: &str) -> Vec<LineError> {
        match read(bytes, format, "UTC", None) {
            Err(ImportError::Refused(errors)) => errors,
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn empty_binary_and_unknown_files_are_refused_with_a_reason() {
        assert_eq!(refusal(b" \r\n", "auto")[0].message, "the file is empty");
        assert!(
            refusal(b"PK\x03\x04\x00\x00", "auto")[0]
                .message
                .contains("not CSV text")
        );
        assert!(
            refusal(b"\xff\xfe,a\n", "auto")[0]
                .message
                .contains("not CSV text")
        );
        let unknown = refusal(b"date,amount\n2024-01-01,1\n", "auto");
        assert!(
            unknown[0].message.starts_with("unknown column \"date\""),
            "{unknown:?}"
        );
        assert!(
            unknown[0]
                .message
                .contains("nor is it any other known format")
        );
        assert!(matches!(
            read(b"a,b\n", "mtgox", "UTC", None),
            Err(ImportError::Format(_))
        ));
        assert!(matches!(
            read(b"a,b\n", "auto", "Mars/Olympus", None),
            Err(ImportError::Zone(_))
        ));
    }

    #[test]
    fn the_account_is_the_sources_unless_named_and_generic_keeps_its_own_errors() {
        let file = b"Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,Tag\n\
                     2024-01-01 00:00:00,,,0.1,BTC,,,Deposit\n";
        let read_as = |account| {
            read(file, "auto", "UTC", account).expect("valid").rows[0]
                .1
                .account
                .clone()
        };
        assert_eq!(read_as(None), "river");
        assert_eq!(read_as(Some("river-joint")), "river-joint");
        let typo = refusal(b"timestamp,type,acount,btc\n", "generic");
        assert_eq!(typo[0].line, 1);
        assert!(
            typo[0].message.starts_with("unknown column \"acount\""),
            "{typo:?}"
        );
        assert!(!typo[0].message.contains("nor is it"));
    }
}

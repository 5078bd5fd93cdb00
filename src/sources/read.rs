//! Reading a file of any known format into ledger rows: detection, then
//! the format's module (or the generic parser). Pure, so the fuzz targets
//! build it without the server (`default-features = false`).

use jiff::tz::TimeZone;

use super::format::{self, Context, Converted};
use super::generic::{self, LineError};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("unknown format {0:?}; use auto or one of {names}", names = format::names().join(", "))]
    Format(String),
    #[error("unknown time zone {0:?}; use an IANA name such as Europe/London or UTC")]
    Zone(String),
    #[error("the file was refused; nothing was stored")]
    Refused(Vec<LineError>),
    /// Only when storing: reading alone never touches the database.
    #[cfg(feature = "server")]
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
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
        return checked(Converted {
            format: &format::GENERIC,
            rows,
            skipped: Vec::new(),
        });
    };
    let ctx = Context {
        zone: &zone,
        account: account.unwrap_or(chosen.account),
    };
    checked(format::convert(bytes, Some(chosen), &ctx).map_err(ImportError::Refused)?)
}

/// Every row, whichever format it came from, is checked before anything is
/// stored. Its time must fall after Bitcoin began: an earlier one (year 24,
/// or a negative year a lenient date layout let through) is a misread date,
/// not a transaction. Every text field is bounded and free of private
/// material. One bad row refuses the whole file, naming the line and the
/// field but never repeating what a text field holds.
fn checked(converted: Converted) -> Result<Converted, ImportError> {
    let mut errors = Vec::new();
    for (line, tx) in &converted.rows {
        let refused = too_early(tx).or_else(|| private_or_too_long(tx));
        if let Some(message) = refused {
            errors.push(LineError {
                line: *line,
                message,
            });
        }
    }
    if errors.is_empty() {
        Ok(converted)
    } else {
        Err(ImportError::Refused(errors))
    }
}

/// The same checks for rows an exchange adapter built itself: the first
/// refusal, naming the entry by its place in the batch.
pub fn check_rows(rows: &[crate::ledger::Tx]) -> Result<(), String> {
    for (at, tx) in rows.iter().enumerate() {
        if let Some(message) = too_early(tx).or_else(|| private_or_too_long(tx)) {
            return Err(format!("entry {}: {message}", at + 1));
        }
    }
    Ok(())
}

/// The day of Bitcoin's first block, 2009-01-03, in UTC.
const BITCOIN_BEGAN: jiff::Timestamp = jiff::Timestamp::constant(1_230_940_800, 0);

fn too_early(tx: &crate::ledger::Tx) -> Option<String> {
    (tx.time < BITCOIN_BEGAN).then(|| {
        format!(
            "the time {} is before Bitcoin began (2009-01-03): check the date column",
            tx.time
        )
    })
}

#[cfg(feature = "detector")]
fn private_or_too_long(tx: &crate::ledger::Tx) -> Option<String> {
    use crate::text::Field;
    let fields = [
        (Field::Name, "the account", Some(&tx.account)),
        (
            Field::Name,
            "the destination account",
            tx.to_account.as_ref(),
        ),
        (Field::Id, "the id", tx.id.as_ref()),
        (Field::Id, "the transaction id", tx.txid.as_ref()),
        (Field::Id, "the currency", tx.currency.as_ref()),
        (Field::Note, "the note", tx.note.as_ref()),
    ];
    fields
        .into_iter()
        .find_map(|(field, what, value)| value.and_then(|v| field.check(what, v).err()))
        .map(|refused| refused.to_string())
}

#[cfg(not(feature = "detector"))]
fn private_or_too_long(_: &crate::ledger::Tx) -> Option<String> {
    None
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
    fn a_time_before_bitcoin_began_is_a_misread_date_whatever_the_format() {
        // A signed year slips through a strftime `%Y`: found by fuzzing.
        let trades = b"#,PAIR,AMOUNT,PRICE,FEE,FEE PERC,FEE CURRENCY,DATE,ORDER ID\n\
                       1,BTC/USD,0.1,44000,-0.0002,0.2%,BTC,05-01-24 10:00:00,9001\n\
                       2,BTC/USD,0.1,44000,-0.0002,0.2%,BTC,04-03--24 00:01:15,9002\n";
        let errors = refusal(trades, "auto");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 3);
        assert!(
            errors[0].message.contains("before Bitcoin began"),
            "{errors:?}"
        );
        let generic = b"timestamp,type,account,btc\n\
                        2009-01-03T00:00:00Z,income,cold,0.5\n\
                        2009-01-02T23:59:59Z,income,cold,0.5\n";
        let errors = refusal(generic, "generic");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 3);
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

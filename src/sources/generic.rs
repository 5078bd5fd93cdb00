//! The generic transaction CSV (format version 1): every other source is
//! turned into these rows. Pure: bytes in, rows or line-numbered errors out.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;

use crate::ledger::{Kind, Sats, Tx, parse_fiat};

pub const COLUMNS: [&str; 12] = [
    "id",
    "timestamp",
    "type",
    "account",
    "btc",
    "fiat_value",
    "fiat_currency",
    "fee_btc",
    "fee_fiat",
    "to_account",
    "txid",
    "note",
];
const REQUIRED: [&str; 4] = ["timestamp", "type", "account", "btc"];

/// A problem with one line of a file (line 1 is the header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Parses a whole file. Any error refuses the file: the caller stores
/// nothing unless the error list is empty.
pub fn parse(bytes: &[u8], zone: &TimeZone) -> Result<Vec<(u64, Tx)>, Vec<LineError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let header_error = |message: String| vec![LineError { line: 1, message }];
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| header_error(format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let mut seen = BTreeSet::new();
    for h in &headers {
        if !COLUMNS.contains(&h.as_str()) {
            return Err(header_error(format!(
                "unknown column {h:?}; the generic format has {}",
                COLUMNS.join(", ")
            )));
        }
        if !seen.insert(h.clone()) {
            return Err(header_error(format!("column {h:?} appears twice")));
        }
    }
    if let Some(missing) = REQUIRED.iter().find(|r| !seen.contains(**r)) {
        return Err(header_error(format!(
            "the required column {missing:?} is missing"
        )));
    }

    // Line numbers counted from the bytes: for CRLF files the csv crate
    // starts a record at the `\n` of the previous line's `\r\n`.
    // Counted incrementally: records come in order.
    let mut counted = (0usize, 1u64);
    let mut line_at = |byte: u64| {
        let start = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
        let upto = if bytes.get(start) == Some(&b'\n') {
            start + 1
        } else {
            start
        };
        let (from, lines) = counted;
        let upto = upto.max(from);
        let more = bytes[from..upto].iter().filter(|b| **b == b'\n').count() as u64;
        counted = (upto, lines + more);
        lines + more
    };
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut ids = BTreeMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| line_at(p.byte())).unwrap_or(0);
                errors.push(LineError {
                    line,
                    message: format!("not valid CSV: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map(|p| line_at(p.byte())).unwrap_or(0);
        let fields: BTreeMap<&str, &str> = headers
            .iter()
            .map(String::as_str)
            .zip(record.iter().map(str::trim))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        match row(&fields, zone) {
            Ok(tx) => {
                if let Some(id) = &tx.id
                    && let Some(first) = ids.insert((tx.account.clone(), id.clone()), line)
                {
                    errors.push(LineError {
                        line,
                        message: format!(
                            "id {id:?} of account {:?} already appears on line {first}",
                            tx.account
                        ),
                    });
                    continue;
                }
                rows.push((line, tx));
            }
            Err(message) => errors.push(LineError { line, message }),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Reads `2021-03-04T15:04:05Z` (an offset is required in RFC 3339 form),
/// or `2021-03-04 15:04:05` in the import's time zone.
pub fn parse_time(text: &str, zone: &TimeZone) -> Result<Timestamp, String> {
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    let civil: DateTime = text.parse().map_err(|_| {
        format!("timestamp {text:?} is not RFC 3339 (2021-03-04T15:04:05Z) or YYYY-MM-DD HH:MM:SS")
    })?;
    zone.to_ambiguous_timestamp(civil)
        .compatible()
        .map_err(|e| format!("timestamp {text:?} does not exist in the import's time zone: {e}"))
}

fn row(f: &BTreeMap<&str, &str>, zone: &TimeZone) -> Result<Tx, String> {
    let get = |k: &str| f.get(k).copied();
    // Text columns as this product writes them: a leading quote that kept a
    // spreadsheet from running the cell comes off (crate::csv_out).
    let text = |k: &str| get(k).map(crate::csv_out::unquote);
    let kind: Kind = get("type").unwrap_or_default().parse()?;
    let time = parse_time(get("timestamp").unwrap_or_default(), zone)?;
    let account = text("account").ok_or("the account is empty")?.to_string();
    let sats = |k: &str| -> Result<Sats, String> {
        match get(k) {
            None => Ok(Sats::ZERO),
            Some(v) => Sats::parse_positive_btc(v).map_err(|e| format!("{k}: {e}")),
        }
    };
    let btc = sats("btc")?;
    let fee_btc = sats("fee_btc")?;
    let fiat = |k: &str| -> Result<Option<Decimal>, String> {
        get(k)
            .map(|v| match parse_fiat(v) {
                Ok(d) if d.is_sign_negative() => Err(format!("{k} must not be negative")),
                Ok(d) => Ok(d),
                Err(e) => Err(format!("{k}: {e}")),
            })
            .transpose()
    };
    let fiat_value = fiat("fiat_value")?;
    let fee_fiat = fiat("fee_fiat")?;
    let currency = get("fiat_currency").map(|c| c.to_ascii_uppercase());

    if kind == Kind::Fee {
        if !btc.is_zero() || fee_btc.is_zero() {
            return Err("a fee row has btc 0 and the fee in fee_btc".into());
        }
    } else if btc.is_zero() {
        return Err(format!("btc must be positive on a {kind} row"));
    }
    if kind.requires_fiat_value() && fiat_value.is_none() {
        return Err(format!("a {kind} row needs fiat_value"));
    }
    if (fiat_value.is_some() || fee_fiat.is_some()) && currency.is_none() {
        return Err("fiat_currency is required with fiat_value or fee_fiat".into());
    }
    if let Some(c) = &currency
        && (c.len() != 3 || !c.chars().all(|ch| ch.is_ascii_alphabetic()))
    {
        return Err(format!(
            "fiat_currency {c:?} is not an ISO 4217 code such as USD"
        ));
    }
    let to_account = text("to_account").map(str::to_string);
    match (kind, &to_account) {
        (Kind::Transfer, None) => return Err("a transfer needs to_account".into()),
        (Kind::Transfer, Some(to)) if *to == account => {
            return Err("a transfer's to_account must differ from its account".into());
        }
        (Kind::Transfer, Some(_)) | (_, None) => {}
        (_, Some(_)) => return Err(format!("to_account is only for transfers, not {kind}")),
    }
    Ok(Tx {
        id: text("id").map(str::to_string),
        time,
        kind,
        account,
        btc,
        fee_btc,
        fiat_value,
        currency,
        fee_fiat: fee_fiat.unwrap_or_default(),
        to_account,
        txid: text("txid").map(str::to_string),
        note: text("note").map(str::to_string),
    })
}

/// The id that makes re-importing a row a no-op: its own `id`, or else a
/// hash of its content with its occurrence number among identical rows of
/// the file (two identical fills stay two rows).
pub fn source_ids(rows: &[Tx]) -> Vec<String> {
    use sha2::{Digest, Sha256};
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    rows.iter()
        .map(|tx| {
            if let Some(id) = &tx.id {
                return id.clone();
            }
            let line = write(std::slice::from_ref(tx)).unwrap_or_default();
            let hash = hex::encode(&Sha256::digest(line.as_bytes())[..12]);
            let n = seen.entry(hash.clone()).or_default();
            *n += 1;
            format!("sha256:{hash}:{n}")
        })
        .collect()
}

/// Writes rows back as generic CSV (export; round-trips through [`parse`]).
pub fn write(rows: &[Tx]) -> Result<String, String> {
    use crate::csv_out::{Cell, CsvOut};
    let mut out = CsvOut::new(&COLUMNS)?;
    for tx in rows {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let nonzero = |v: String, zero: bool| if zero { String::new() } else { v };
        let (id, currency, to_account, txid, note) = (
            opt(&tx.id),
            opt(&tx.currency),
            opt(&tx.to_account),
            opt(&tx.txid),
            opt(&tx.note),
        );
        let (time, kind, btc) = (tx.time.to_string(), tx.kind.to_string(), tx.btc.to_string());
        let fiat_value = tx.fiat_value.map(|v| v.to_string()).unwrap_or_default();
        let fee_btc = nonzero(tx.fee_btc.to_string(), tx.fee_btc.is_zero());
        let fee_fiat = nonzero(tx.fee_fiat.to_string(), tx.fee_fiat.is_zero());
        out.row(&[
            Cell::Text(&id),
            Cell::Text(&time),
            Cell::Text(&kind),
            Cell::Text(&tx.account),
            Cell::Number(&btc),
            Cell::Number(&fiat_value),
            Cell::Text(&currency),
            Cell::Number(&fee_btc),
            Cell::Number(&fee_fiat),
            Cell::Text(&to_account),
            Cell::Text(&txid),
            Cell::Text(&note),
        ])?;
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Vec<(u64, Tx)>, Vec<LineError>> {
        parse(text.as_bytes(), &TimeZone::UTC)
    }

    #[test]
    fn formula_looking_text_round_trips_in_every_text_column() {
        let file = "id,timestamp,type,account,btc,fiat_value,fiat_currency,to_account,txid,note\n\
                    -7,2021-03-04T15:04:05Z,transfer,=a,0.5,,,@b,+c,-d\n";
        let rows: Vec<Tx> = parse_str(file)
            .expect("valid")
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        let written = write(&rows).expect("write");
        assert!(written.contains("'-7,"), "{written}");
        assert!(written.contains(",'=a,"), "{written}");
        assert!(written.ends_with(",'@b,'+c,'-d\n"), "{written}");
        let back: Vec<Tx> = parse_str(&written)
            .expect("back")
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(back, rows);
    }

    #[test]
    fn every_field_of_a_row_is_read_exactly() {
        let file = "\u{feff}ID,Timestamp,Type,Account,BTC,Fiat_Value,Fiat_Currency,Fee_BTC,Fee_Fiat,To_Account,Txid,Note\r\n\
                    b1,2021-03-04T15:04:05Z,buy,coinbase,0.5,25000.10,usd,,1.99,,,first buy\r\n\
                    t1,2021-03-05 10:00:00,transfer,coinbase,0.4,,,0.0001,,cold,abc123,\r\n";
        let rows = parse_str(file).expect("valid");
        assert_eq!(rows.len(), 2);
        let (line, buy) = &rows[0];
        assert_eq!(*line, 2);
        assert_eq!(buy.kind, Kind::Buy);
        assert_eq!(buy.btc, Sats(50_000_000));
        assert_eq!(buy.fiat_value, Some(Decimal::new(2_500_010, 2)));
        assert_eq!(buy.currency.as_deref(), Some("USD"));
        assert_eq!(buy.fee_fiat, Decimal::new(199, 2));
        assert_eq!(buy.note.as_deref(), Some("first buy"));
        let (_, transfer) = &rows[1];
        assert_eq!(transfer.time.to_string(), "2021-03-05T10:00:00Z");
        assert_eq!(transfer.fee_btc, Sats(10_000));
        assert_eq!(transfer.to_account.as_deref(), Some("cold"));
        assert_eq!(transfer.txid.as_deref(), Some("abc123"));
    }

    #[test]
    fn times_without_an_offset_are_read_in_the_import_zone() {
        let london = TimeZone::get("Europe/London").expect("zone");
        let summer = parse_time("2024-07-01 09:00:00", &london).expect("time");
        assert_eq!(summer.to_string(), "2024-07-01T08:00:00Z");
        let winter = parse_time("2024-01-01 09:00:00", &london).expect("time");
        assert_eq!(winter.to_string(), "2024-01-01T09:00:00Z");
        assert!(parse_time("04/03/2021", &london).is_err());
    }

    #[test]
    fn bad_rows_are_reported_with_their_line_and_reason() {
        let file = "timestamp,type,account,btc,fiat_value,fiat_currency,to_account\n\
                    2021-01-01T00:00:00Z,buy,a,1,100,USD,\n\
                    2021-01-02T00:00:00Z,buy,a,1,,,\n\
                    2021-01-03T00:00:00Z,swap,a,1,100,USD,\n\
                    2021-01-04T00:00:00Z,sell,a,0.000000001,100,USD,\n\
                    2021-01-05T00:00:00Z,transfer,a,1,,,\n\
                    2021-01-06T00:00:00Z,sell,a,1,100,,\n";
        let errors = parse_str(file).expect_err("refused");
        let lines: Vec<(u64, &str)> = errors
            .iter()
            .map(|e| (e.line, e.message.as_str()))
            .collect();
        assert_eq!(lines.len(), 5, "{lines:?}");
        assert_eq!(lines[0], (3, "a buy row needs fiat_value"));
        assert!(
            lines[1].0 == 4 && lines[1].1.starts_with("unknown type \"swap\""),
            "{lines:?}"
        );
        assert!(
            lines[2].0 == 5 && lines[2].1.contains("more than 8 decimal places"),
            "{lines:?}"
        );
        assert_eq!(lines[3], (6, "a transfer needs to_account"));
        assert_eq!(
            lines[4],
            (7, "fiat_currency is required with fiat_value or fee_fiat")
        );
    }

    #[test]
    fn unknown_or_missing_columns_refuse_the_file() {
        let unknown = parse_str("timestamp,type,account,btc,amount\n").expect_err("typo");
        assert!(unknown[0].message.contains("unknown column \"amount\""));
        let missing = parse_str("timestamp,type,btc\n").expect_err("missing");
        assert!(missing[0].message.contains("\"account\""));
    }

    #[test]
    fn duplicate_ids_in_one_file_are_refused() {
        let file = "id,timestamp,type,account,btc,fiat_value,fiat_currency\n\
                    x,2021-01-01T00:00:00Z,buy,a,1,100,USD\n\
                    x,2021-01-02T00:00:00Z,buy,a,1,100,USD\n\
                    x,2021-01-02T00:00:00Z,buy,b,1,100,USD\n";
        let errors = parse_str(file).expect_err("duplicate");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 3);
    }

    #[test]
    fn written_rows_read_back_identically() {
        let file = "id,timestamp,type,account,btc,fiat_value,fiat_currency,fee_btc,fee_fiat,to_account,txid,note\n\
                    1,2021-03-04T15:04:05Z,buy,coinbase,0.5,25000.10,USD,,1.99,,,\"a, quoted note\"\n\
                    2,2021-03-05T10:00:00Z,transfer,coinbase,0.4,,,0.0001,,cold,abc,\n\
                    3,2021-03-06T10:00:00Z,fee,cold,0,,,0.00002,,,,\n";
        let rows: Vec<Tx> = parse_str(file)
            .expect("valid")
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        let again: Vec<Tx> = parse_str(&write(&rows).expect("write"))
            .expect("valid")
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(rows, again);
    }
}

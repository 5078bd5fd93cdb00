//! A first Kraken sync through the Export API: Kraken writes the whole
//! ledger as the web export's `ledgers.csv` (in a zip), which is read by the
//! same importer as a downloaded file, so its rows are the ones `Ledgers`
//! paging would make. A long history then costs a handful of calls instead
//! of a page of 50 entries every six seconds; `Ledgers` paging takes over
//! from the export's newest entry.
//!
//! The key needs Kraken's Export Data permission. Without it (or when the
//! export fails, or is not ready within [`GIVE_UP_SECS`]) the sync falls
//! back to paging from the start. The steps are in the cursor, so a sync
//! killed while Kraken prepares the export asks about the same export when
//! it starts again.

use std::io::Read as _;
use std::time::Duration;

use serde_json::{Value, json};

use super::adapter::{Batch, ExchangeError, rows_from_export};
use super::kraken_api::{Answer, Kraken, KrakenError};

/// How long Kraken may take to prepare an export before the sync pages
/// instead.
const GIVE_UP_SECS: i64 = 30 * 60;
/// Between two questions about the export's status.
const POLL: Duration = Duration::from_secs(5);
/// The largest `ledgers.csv` read from an export (a million entries is
/// about 150 MB).
const LARGEST_CSV: u64 = 1 << 30;

/// The cursor's `export` field: where the bulk start has got to.
enum Step {
    /// A first sync that has not asked for an export yet.
    Ask,
    /// Asked at `asked` (Unix seconds); Kraken calls it `id`.
    Waiting { id: String, asked: i64 },
    /// Paging, not exporting: the export was read, or cannot be had.
    Page,
}

fn step(cursor: &Value) -> Step {
    // A sync that has started paging (or finished one) carries `since`.
    if cursor.get("since").is_some() {
        return Step::Page;
    }
    match &cursor["export"] {
        Value::Object(e) => match (e.get("id").and_then(Value::as_str), e.get("asked")) {
            (Some(id), Some(asked)) => Step::Waiting {
                id: id.to_string(),
                asked: asked.as_i64().unwrap_or(0),
            },
            _ => Step::Ask,
        },
        Value::String(s) if s == "none" => Step::Page,
        _ => Step::Ask,
    }
}

/// Paging from the start, the export left aside.
fn page_from_start() -> Batch {
    Batch {
        cursor: json!({"export": "none"}),
        ..Batch::default()
    }
}

impl Kraken {
    /// The export's part of a sync: `None` once paging is under way.
    pub(super) async fn export_step(
        &self,
        cursor: &Value,
        account: &str,
    ) -> Result<Option<Batch>, ExchangeError> {
        match step(cursor) {
            Step::Page => Ok(None),
            Step::Ask => Ok(Some(self.ask_for_export().await?)),
            Step::Waiting { id, asked } => Ok(Some(self.follow_export(&id, asked, account).await?)),
        }
    }

    async fn ask_for_export(&self) -> Result<Batch, ExchangeError> {
        let params = [
            ("report", "ledgers".to_string()),
            ("format", "CSV".to_string()),
            ("description", "Ledgersys first sync".to_string()),
            ("fields", "all".to_string()),
        ];
        match self.call("AddExport", &params, 1).await {
            Ok(result) => match result["id"].as_str() {
                Some(id) => Ok(Batch {
                    cursor: json!({"export": {"id": id, "asked": crate::clock::now()}}),
                    ..Batch::default()
                }),
                None => Ok(page_from_start()),
            },
            // No Export Data permission, or Kraken will not export now.
            Err(KrakenError::Permission(_) | KrakenError::Key(_) | KrakenError::Malformed(_)) => {
                Ok(page_from_start())
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn follow_export(
        &self,
        id: &str,
        asked: i64,
        account: &str,
    ) -> Result<Batch, ExchangeError> {
        let waiting = Batch {
            cursor: json!({"export": {"id": id, "asked": asked}}),
            ..Batch::default()
        };
        let status = match self
            .call("ExportStatus", &[("report", "ledgers".to_string())], 1)
            .await
        {
            Ok(reports) => reports
                .as_array()
                .and_then(|all| all.iter().find(|r| r["id"].as_str() == Some(id)))
                .and_then(|r| r["status"].as_str())
                .map(str::to_string),
            Err(KrakenError::Permission(_) | KrakenError::Key(_) | KrakenError::Malformed(_)) => {
                None
            }
            Err(e) => return Err(e.into()),
        };
        match status.as_deref() {
            Some("Processed") => self.read_export(id, account).await,
            Some("Queued" | "Processing") if crate::clock::now() - asked < GIVE_UP_SECS => {
                tokio::time::sleep(if self.is_unbudgeted() {
                    Duration::from_millis(50)
                } else {
                    POLL
                })
                .await;
                Ok(waiting)
            }
            // Failed, gone, or too slow: page instead (and tidy up).
            _ => {
                self.remove_export(id, "cancel").await;
                Ok(page_from_start())
            }
        }
    }

    async fn read_export(&self, id: &str, account: &str) -> Result<Batch, ExchangeError> {
        let file = match self
            .request("RetrieveExport", &[("id", id.to_string())], 1)
            .await
        {
            Ok(Answer::File(zip)) => zip,
            Ok(Answer::Json(_))
            | Err(KrakenError::Permission(_) | KrakenError::Key(_) | KrakenError::Malformed(_)) => {
                self.remove_export(id, "delete").await;
                return Ok(page_from_start());
            }
            Err(e) => return Err(e.into()),
        };
        let csv = ledgers_csv(&file).map_err(|why| {
            ExchangeError::Failed(format!("Kraken's export does not read: {why}"))
        })?;
        let rows = rows_from_export("kraken-ledgers", &csv, account)?;
        let newest = newest_time(&csv);
        // The report has done its work; Kraken keeps it otherwise.
        self.remove_export(id, "delete").await;
        let read = rows.len();
        Ok(Batch {
            rows,
            // Paging goes on from the export's newest entry (a second
            // before it, dropping what is already stored).
            cursor: json!({"since": newest.to_string()}),
            done: false,
            read,
            total: None,
        })
    }

    /// Best effort: an export left behind is Kraken's to expire.
    async fn remove_export(&self, id: &str, how: &str) {
        let params = [("id", id.to_string()), ("type", how.to_string())];
        if let Err(e) = self.call("RemoveExport", &params, 1).await {
            tracing::info!(error = %e, "could not remove a Kraken export report");
        }
    }
}

/// The `ledgers.csv` inside an export's zip.
fn ledgers_csv(zip: &[u8]) -> Result<String, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip))
        .map_err(|_| "not a zip file".to_string())?;
    let index = (0..archive.len())
        .find(|i| {
            archive
                .name_for_index(*i)
                .and_then(Result::ok)
                .is_some_and(|n| {
                    n.rsplit('/')
                        .next()
                        .is_some_and(|f| f.eq_ignore_ascii_case("ledgers.csv"))
                })
        })
        .ok_or_else(|| "it holds no ledgers.csv".to_string())?;
    let file = archive
        .by_index(index)
        .map_err(|_| "its ledgers.csv does not read".to_string())?;
    let mut text = String::new();
    file.take(LARGEST_CSV + 1)
        .read_to_string(&mut text)
        .map_err(|_| "its ledgers.csv is not text".to_string())?;
    if text.len() as u64 > LARGEST_CSV {
        return Err("its ledgers.csv is larger than 1 GB".into());
    }
    Ok(text)
}

/// The newest `time` of a `ledgers.csv` in Unix seconds (0 when empty):
/// paging after the export starts from it.
fn newest_time(csv: &str) -> i64 {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(csv.as_bytes());
    let Some(column) = reader
        .headers()
        .ok()
        .and_then(|h| h.iter().position(|c| c.trim() == "time"))
    else {
        return 0;
    };
    reader
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| r.get(column).map(str::to_string))
        .filter_map(|t| {
            let whole = t.trim().split('.').next().unwrap_or("").to_string();
            jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", &whole)
                .ok()
                .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
                .map(|z| z.timestamp().as_second())
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_names_each_step_and_paging_wins() {
        assert!(matches!(step(&Value::Null), Step::Ask));
        assert!(matches!(step(&json!({})), Step::Ask));
        assert!(matches!(
            step(&json!({"export": {"id": "TCJA", "asked": 5}})),
            Step::Waiting { ref id, asked: 5 } if id == "TCJA"
        ));
        assert!(matches!(step(&json!({"export": "none"})), Step::Page));
        assert!(matches!(step(&json!({"since": "0"})), Step::Page));
        assert!(matches!(
            step(&json!({"since": "1", "export": {"id": "X", "asked": 1}})),
            Step::Page
        ));
    }

    #[test]
    fn the_newest_time_reads_fractions_and_ignores_bad_cells() {
        let csv = "\"txid\",\"refid\",\"time\",\"type\"\n\
                   \"L1\",\"R1\",\"2024-01-01 00:00:00\",\"trade\"\n\
                   \"L2\",\"R2\",\"2024-01-02 00:00:01.5\",\"trade\"\n\
                   \"L3\",\"R3\",\"not a time\",\"trade\"\n";
        assert_eq!(newest_time(csv), 1_704_153_601);
        assert_eq!(newest_time("\"txid\",\"time\"\n"), 0);
        assert_eq!(newest_time(""), 0);
    }

    #[test]
    fn a_zip_without_ledgers_csv_or_no_zip_at_all_is_said_plainly() {
        assert_eq!(
            ledgers_csv(b"PK\x03\x04 broken").err().as_deref(),
            Some("not a zip file")
        );
        let mut out = std::io::Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut out);
            w.start_file("trades.csv", zip::write::SimpleFileOptions::default())
                .expect("start");
            std::io::Write::write_all(&mut w, b"txid\n").expect("write");
            w.finish().expect("finish");
        }
        assert_eq!(
            ledgers_csv(out.get_ref()).err().as_deref(),
            Some("it holds no ledgers.csv")
        );
    }
}

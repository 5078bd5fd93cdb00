//! Helpers for the format tests: read a fixture, convert it, and compare
//! the generic rows it becomes with the rows written out in the test.

use jiff::tz::TimeZone;

use super::format::{self, Context, Converted};
use super::generic;

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Converts a fixture by detection, checks the detected format, and returns
/// the rows as generic CSV with the skipped lines.
pub fn convert(name: &str, expect_format: &str, zone: &str, account: &str) -> (String, Vec<u64>) {
    let zone = TimeZone::get(zone).expect("zone");
    let ctx = Context {
        zone: &zone,
        account,
    };
    let converted: Converted = match format::convert(&fixture(name), None, &ctx) {
        Ok(c) => c,
        Err(errors) => panic!("{name} refused: {errors:?}"),
    };
    assert_eq!(converted.format.name, expect_format, "{name}");
    let rows: Vec<_> = converted.rows.into_iter().map(|(_, tx)| tx).collect();
    let csv = generic::write(&rows).expect("write");
    // What convert prints must import back unchanged.
    let again: Vec<_> = generic::parse(csv.as_bytes(), &TimeZone::UTC)
        .expect("reads back")
        .into_iter()
        .map(|(_, tx)| tx)
        .collect();
    assert_eq!(again, rows, "{name} does not read back");
    (csv, converted.skipped.iter().map(|s| s.line).collect())
}

/// Compares line by line, so that a failure names the row that differs.
pub fn assert_rows(actual: &str, expected: &str) {
    let header = generic::COLUMNS.join(",");
    let want: Vec<String> = std::iter::once(header)
        .chain(
            expected
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string),
        )
        .collect();
    let got: Vec<&str> = actual.lines().collect();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "row {i} differs");
    }
    assert_eq!(got.len(), want.len(), "row count: {actual}");
}

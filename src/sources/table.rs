//! A CSV export as a table: the header found by its column names wherever
//! it sits (title lines above it are common), then each record with its
//! line number in the file.

use csv::StringRecord;

use super::generic::LineError;

/// How far down a file the header is looked for.
const HEADER_SEARCH_LINES: usize = 40;

/// A header row, its names trimmed and lower-cased.
pub struct Header {
    pub names: Vec<String>,
}

impl Header {
    pub fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    pub fn has_all(&self, names: &[&str]) -> bool {
        names.iter().all(|n| self.has(n))
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The first column whose name satisfies `test`.
    pub fn find(&self, test: impl Fn(&str) -> bool) -> Option<usize> {
        self.names.iter().position(|n| test(n))
    }
}

/// The candidate header lines of a file: (byte offset, line number, header).
pub fn candidates(bytes: &[u8]) -> Vec<(usize, u64, Header)> {
    let bytes = strip_bom(bytes);
    let mut out = Vec::new();
    let mut start = 0;
    for line_no in 1..=HEADER_SEARCH_LINES as u64 {
        if start >= bytes.len() {
            break;
        }
        let end = bytes[start..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |i| start + i + 1);
        let line = &bytes[start..end];
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(line);
        if let Some(Ok(record)) = reader.records().next() {
            let names: Vec<String> = record.iter().map(normalize).collect();
            if names.iter().filter(|n| !n.is_empty()).count() >= 2 {
                out.push((start, line_no, Header { names }));
            }
        }
        start = end;
    }
    out
}

pub fn normalize(name: &str) -> String {
    name.trim_start_matches('\u{feff}')
        .trim()
        .trim_matches('"')
        .trim()
        .to_lowercase()
}

pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// One record of the body.
pub struct Row<'h> {
    pub line: u64,
    header: &'h Header,
    record: &'h StringRecord,
}

impl Row<'_> {
    /// The trimmed cell of a column, `None` when the column is absent or
    /// the cell empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.at(self.header.index(name)?)
    }

    pub fn at(&self, index: usize) -> Option<&str> {
        let value = self.record.get(index)?.trim();
        (!value.is_empty()).then_some(value)
    }

    /// A cell the row cannot do without.
    pub fn need(&self, name: &str) -> Result<&str, String> {
        self.get(name).ok_or_else(|| format!("{name} is empty"))
    }

    pub fn cells(&self) -> impl Iterator<Item = &str> {
        self.record.iter().map(str::trim)
    }

    /// How many cells the record has (more than the header when an
    /// unquoted comma split a cell).
    pub fn len(&self) -> usize {
        self.record.len()
    }

    pub fn is_empty(&self) -> bool {
        self.record.is_empty()
    }

    /// A cell as written, spaces included.
    pub fn raw(&self, index: usize) -> Option<&str> {
        self.record.get(index)
    }

    pub fn header(&self) -> &Header {
        self.header
    }

    pub fn is_blank(&self) -> bool {
        self.cells().all(str::is_empty)
    }
}

/// Reads every record below the header at `offset`, calling `visit` with
/// each; CSV errors are collected with their line.
pub fn each_row(
    bytes: &[u8],
    offset: usize,
    header_line: u64,
    header: &Header,
    mut visit: impl FnMut(Row<'_>),
) -> Vec<LineError> {
    let bytes = strip_bom(bytes);
    let body = &bytes[offset.min(bytes.len())..];
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(body);
    let mut errors = Vec::new();
    let mut lines = LineCounter::new(body, header_line);
    let mut record = StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| lines.at(p.byte()));
                visit(Row {
                    line,
                    header,
                    record: &record,
                });
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.at(p.byte()));
                errors.push(LineError {
                    line,
                    message: format!("not valid CSV: {e}"),
                });
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
            }
        }
    }
    errors
}

/// Line numbers from byte positions, counted incrementally as records come
/// in order. For CRLF files the csv crate starts a record at the `\n` of
/// the previous line's `\r\n`, which belongs to that previous line.
struct LineCounter<'a> {
    bytes: &'a [u8],
    from: usize,
    lines: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8], first_line: u64) -> Self {
        LineCounter {
            bytes,
            from: 0,
            lines: first_line,
        }
    }

    fn at(&mut self, byte: u64) -> u64 {
        let start = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        let upto = if self.bytes.get(start) == Some(&b'\n') {
            start + 1
        } else {
            start
        };
        let upto = upto.max(self.from);
        self.lines += self.bytes[self.from..upto]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        self.from = upto;
        self.lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_found_below_title_lines_and_rows_keep_their_line() {
        let file = "\u{feff}\r\nTransactions\r\nUser,someone,42\r\nA,B,C\r\n1,2,3\r\n\"x\ny\",5,6\r\n7,8\r\n";
        let found = candidates(file.as_bytes());
        let (offset, line, header) = found
            .into_iter()
            .find(|(_, _, h)| h.has_all(&["a", "b", "c"]))
            .expect("header");
        assert_eq!(line, 4);
        let mut seen = Vec::new();
        let errors = each_row(file.as_bytes(), offset, line, &header, |row| {
            seen.push((
                row.line,
                row.get("a").map(str::to_string),
                row.get("c").map(str::to_string),
            ));
        });
        assert!(errors.is_empty());
        assert_eq!(
            seen,
            vec![
                (5, Some("1".into()), Some("3".into())),
                (6, Some("x\ny".into()), Some("6".into())),
                (8, Some("7".into()), None),
            ]
        );
    }
}

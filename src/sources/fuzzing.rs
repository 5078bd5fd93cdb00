//! The property every parser keeps, for the fuzz targets (`fuzz/`) and the
//! mutation test below: whatever the bytes, no panic, and either rows that
//! keep the generic format's rules and read back unchanged from the CSV
//! `convert` prints, or a refusal with every problem on a numbered line.

use jiff::tz::TimeZone;

use super::format::{self, Context};
use super::generic;
use super::read::{ImportError, read};

/// Reads `bytes` as format `name` (or `auto`) and checks the outcome;
/// panics (for the fuzzer to report) when the property does not hold.
pub fn check(name: &str, bytes: &[u8]) {
    match read(bytes, name, "Europe/London", None) {
        Ok(converted) => {
            let rows: Vec<_> = converted.rows.into_iter().map(|(_, tx)| tx).collect();
            let Ok(csv) = generic::write(&rows) else {
                panic!("rows that cannot be written back");
            };
            let again = generic::parse(csv.as_bytes(), &TimeZone::UTC);
            let again: Vec<_> = match again {
                Ok(rows) => rows.into_iter().map(|(_, tx)| tx).collect(),
                Err(errors) => panic!("converted rows are refused on reading back: {errors:?}"),
            };
            assert_eq!(again, rows, "converted rows change on reading back");
        }
        Err(ImportError::Refused(errors)) => {
            assert!(!errors.is_empty(), "refused without a reason");
            for e in &errors {
                assert!(e.line >= 1, "an error without its line: {e}");
                assert!(!e.message.is_empty(), "an error without a message");
            }
        }
        Err(other) => panic!("unexpected error: {other}"),
    }
}

/// The names the fuzz targets cover: every format but generic, which has
/// its own target.
pub fn names() -> impl Iterator<Item = &'static str> {
    format::FORMATS.iter().map(|f| f.name)
}

/// For the mutation test: a context like an import's.
pub fn context(zone: &TimeZone) -> Context<'_> {
    Context {
        zone,
        account: "fuzz",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs the fuzzers found, kept so they stay fixed.
    #[test]
    fn inputs_the_fuzzers_found_are_answered() {
        // A header naming an offset of 80 hours, which no clock has.
        check(
            "binance-transfers",
            b"Date(UTC+80),Coin,Network,Amount,Fee,Address,TXID,Status\n\
              24-01-05 10:00:00,BTC,BTC,0.1,0.0001,bc1qdest,6161,Completed\n",
        );
    }

    /// A cheap, deterministic stand-in for the fuzzer that runs with every
    /// test: each fixture cut short, with bytes flipped, lines repeated and
    /// cells emptied, through its own parser and through detection.
    #[test]
    fn mutated_fixtures_never_panic_and_refusals_name_their_line() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let mut seed: u64 = 0x5eed;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        };
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).expect("fixtures") {
            let path = entry.expect("entry").path();
            let bytes = std::fs::read(&path).expect("fixture");
            let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            let format = format::named(name).map_or("auto", |f| f.name);
            for round in 0..25 {
                let mut b = bytes.clone();
                match round % 5 {
                    0 => b.truncate(next(b.len())),
                    1 => {
                        for _ in 0..4 {
                            let i = next(b.len());
                            if let Some(x) = b.get_mut(i) {
                                *x = b",-.\"\n\r0 9$#e"[next(12)];
                            }
                        }
                    }
                    2 => {
                        let i = next(b.len());
                        let copy = b[i..].to_vec();
                        b.extend_from_slice(&copy);
                    }
                    3 => {
                        let i = next(b.len());
                        if let Some(end) = b[i..].iter().position(|c| *c == b',') {
                            b.drain(i..i + end);
                        }
                    }
                    _ => {
                        let i = next(b.len());
                        b.insert(i.min(b.len()), 0xC3);
                    }
                }
                check(format, &b);
                check("auto", &b);
                checked += 2;
            }
        }
        assert!(checked >= 2 * 25 * 20, "{checked}");
    }
}

//! BIP-329 wallet labels: one JSON object a line, `{"type", "ref", "label",
//! "origin"?, "spendable"?}`, as Sparrow, BTCPay and Bitcoin Core (through
//! their exports) write them. Parsing checks every line and names each bad
//! one; a file with any bad line is refused whole. Pure.
//!
//! A `tx` label whose first word is one of [`RULES`]' keywords also says
//! what the transaction was: see [`classification`].

use serde::{Deserialize, Serialize};

use crate::ledger::Kind;
use crate::text::Field;

/// The reference types of BIP-329.
pub const TYPES: [&str; 6] = ["tx", "addr", "pubkey", "input", "output", "xpub"];

/// The largest label file read (BIP-329 suggests labels of at most 255
/// characters; a wallet's whole history fits well within this).
pub const MAX_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spendable: Option<bool>,
}

/// A bad line: its number (from 1) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

/// The labels of a file, every line checked; blank lines are skipped. A
/// later label for the same type and ref replaces an earlier one, as in
/// BIP-329.
pub fn parse(text: &str) -> Result<Vec<Label>, Vec<LineError>> {
    let mut labels: Vec<Label> = Vec::new();
    let mut errors = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() {
            continue;
        }
        match parse_line(line) {
            Ok(label) => {
                match labels
                    .iter_mut()
                    .find(|l| l.kind == label.kind && l.reference == label.reference)
                {
                    Some(earlier) => *earlier = label,
                    None => labels.push(label),
                }
            }
            Err(message) => errors.push(LineError {
                line: n + 1,
                message,
            }),
        }
    }
    if errors.is_empty() {
        Ok(labels)
    } else {
        Err(errors)
    }
}

/// The fields BIP-329 defines; others (height, time, fee, value, ...) are
/// allowed and ignored.
#[derive(Deserialize)]
struct Wire {
    #[serde(rename = "type")]
    kind: Option<serde_json::Value>,
    #[serde(rename = "ref")]
    reference: Option<serde_json::Value>,
    label: Option<serde_json::Value>,
    origin: Option<serde_json::Value>,
    spendable: Option<serde_json::Value>,
}

fn text(field: &str, value: Option<serde_json::Value>) -> Result<Option<String>, String> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("\"{field}\" must be a string")),
    }
}

fn parse_line(line: &str) -> Result<Label, String> {
    let wire: Wire = serde_json::from_str(line)
        .map_err(|_| "not a JSON object (BIP-329 has one object a line)".to_string())?;
    let kind = text("type", wire.kind)?.ok_or("\"type\" is missing")?;
    if !TYPES.contains(&kind.as_str()) {
        return Err(format!(
            "\"type\" {kind:?} is not one of {}",
            TYPES.join(", ")
        ));
    }
    let reference = text("ref", wire.reference)?
        .filter(|r| !r.trim().is_empty())
        .ok_or("\"ref\" is missing")?;
    if kind == "tx" && !is_txid(&reference) {
        return Err("a tx label's \"ref\" is a txid: 64 hexadecimal characters".into());
    }
    let spendable = match wire.spendable {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Bool(b)) => Some(b),
        Some(_) => return Err("\"spendable\" must be true or false".into()),
    };
    // Txids are compared in lower case, as wallets write them.
    let reference = if kind == "tx" {
        reference.trim().to_ascii_lowercase()
    } else {
        reference.trim().to_string()
    };
    let label = text("label", wire.label)?.unwrap_or_default();
    let origin = text("origin", wire.origin)?;
    // Labels are free text that is stored: bounded, and free of secrets.
    for (what, value) in [("the label", Some(&label)), ("the origin", origin.as_ref())] {
        if let Some(value) = value {
            Field::Note.check(what, value).map_err(|e| e.to_string())?;
        }
    }
    Ok(Label {
        reference,
        label,
        origin,
        spendable,
        kind,
    })
}

fn is_txid(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Labels as BIP-329 JSONL, one a line, each line ending in a newline.
pub fn export(labels: &[Label]) -> String {
    let mut out = String::new();
    for label in labels {
        if let Ok(line) = serde_json::to_string(label) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// The keywords a `tx` label may begin with, and what the transaction then
/// is: (keyword, type for a deposit, type for a withdrawal).
pub const RULES: [(&str, Option<Kind>, Option<Kind>); 5] = [
    ("income", Some(Kind::Income), None),
    ("gift", Some(Kind::GiftIn), Some(Kind::GiftOut)),
    ("spend", None, Some(Kind::Spend)),
    ("payment", None, Some(Kind::Spend)),
    ("purchase", None, Some(Kind::Spend)),
];

/// What a `tx` label says a deposit or withdrawal was, if it begins with
/// one of [`RULES`]' keywords (any case) followed by a colon, a space or
/// nothing: "income: March invoice", "Gift for Ana", "spend:coffee".
pub fn classification(label: &str, row: Kind) -> Option<Kind> {
    let label = label.trim_start();
    let word: String = label
        .chars()
        .take_while(|c| c.is_alphabetic())
        .collect::<String>()
        .to_lowercase();
    let rest = &label[label
        .char_indices()
        .find(|(_, c)| !c.is_alphabetic())
        .map_or(label.len(), |(i, _)| i)..];
    if !(rest.is_empty() || rest.starts_with(':') || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    let (_, deposit, withdrawal) = RULES.iter().find(|(k, _, _)| *k == word)?;
    match row {
        Kind::Deposit => *deposit,
        Kind::Withdrawal => *withdrawal,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TXID: &str = "f91d0a8a78462bc59398f2c5d7a84fcff491c26ba54c4833478b202796c8aafd";

    #[test]
    fn sparrow_and_core_lines_read_and_write_back() {
        let file = format!(
            "{{\"type\":\"tx\",\"ref\":\"{TXID}\",\"label\":\"Transaction\",\"origin\":\"wpkh([d34db33f/84'/0'/0'])\"}}\n\
             \n\
             {{\"type\":\"addr\",\"ref\":\"bc1q34aq5drpuwy3wgl9lhup9892qp6svr8ldzyy7c\",\"label\":\"Address\",\"height\":800000}}\n\
             {{\"type\":\"output\",\"ref\":\"{TXID}:1\",\"label\":\"Output\",\"spendable\":false}}\n"
        );
        let labels = parse(&file).expect("labels");
        assert_eq!(labels.len(), 3);
        assert_eq!(
            labels[0].origin.as_deref(),
            Some("wpkh([d34db33f/84'/0'/0'])")
        );
        assert_eq!(labels[2].spendable, Some(false));
        let written = export(&labels);
        assert_eq!(parse(&written).expect("again"), labels);
        assert_eq!(
            written.lines().nth(1),
            Some(
                "{\"type\":\"addr\",\"ref\":\"bc1q34aq5drpuwy3wgl9lhup9892qp6svr8ldzyy7c\",\"label\":\"Address\"}"
            )
        );
    }

    #[test]
    fn every_bad_line_is_named() {
        let file = format!(
            "{{\"type\":\"tx\",\"ref\":\"{TXID}\",\"label\":\"ok\"}}\n\
             not json\n\
             {{\"type\":\"coin\",\"ref\":\"x\",\"label\":\"a\"}}\n\
             {{\"type\":\"tx\",\"ref\":\"abc\",\"label\":\"a\"}}\n\
             {{\"type\":\"addr\",\"label\":\"a\"}}\n\
             {{\"type\":\"output\",\"ref\":\"{TXID}:0\",\"spendable\":\"yes\"}}\n"
        );
        let errors = parse(&file).expect_err("refused");
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6]);
        assert!(errors[1].message.contains("\"coin\""), "{:?}", errors[1]);
    }

    #[test]
    fn keywords_say_what_a_deposit_or_withdrawal_was() {
        assert_eq!(
            classification("income: March invoice", Kind::Deposit),
            Some(Kind::Income)
        );
        assert_eq!(classification("Income", Kind::Deposit), Some(Kind::Income));
        assert_eq!(
            classification("Gift for Ana", Kind::Withdrawal),
            Some(Kind::GiftOut)
        );
        assert_eq!(
            classification("gift:birthday", Kind::Deposit),
            Some(Kind::GiftIn)
        );
        assert_eq!(
            classification("spend: coffee", Kind::Withdrawal),
            Some(Kind::Spend)
        );
        // A keyword that does not fit the direction, or is only a prefix.
        assert_eq!(classification("income", Kind::Withdrawal), None);
        assert_eq!(classification("spend", Kind::Deposit), None);
        assert_eq!(classification("incomes", Kind::Deposit), None);
        assert_eq!(classification("giftcard", Kind::Deposit), None);
        assert_eq!(classification("from Bob", Kind::Deposit), None);
    }
}

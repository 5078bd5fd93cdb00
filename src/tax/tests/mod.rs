//! Hand-worked examples for every rule, and property tests of the engines'
//! invariants. The working is written beside each assertion.

mod de;
mod props;
mod uk;
mod us;

use jiff::tz::TimeZone;
use rust_decimal::Decimal;

use crate::ledger::Tx;
use crate::sources::generic;

/// Rows from a compact generic CSV with this header:
/// `timestamp,type,account,btc,fiat_value,fee_btc,fee_fiat,to_account`
/// (currency is added as `cur`).
pub(crate) fn rows(cur: &str, body: &str) -> Vec<Tx> {
    let mut file = String::from(
        "timestamp,type,account,btc,fiat_value,fee_btc,fee_fiat,to_account,fiat_currency\n",
    );
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let has_value = line.split(',').nth(4).is_some_and(|v| !v.is_empty())
            || line.split(',').nth(6).is_some_and(|v| !v.is_empty());
        file.push_str(line);
        file.push(',');
        if has_value {
            file.push_str(cur);
        }
        file.push('\n');
    }
    generic::parse(file.as_bytes(), &TimeZone::UTC)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .into_iter()
        .map(|(_, tx)| tx)
        .collect()
}

pub fn d(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

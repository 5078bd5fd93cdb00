//! Coinbase v2 transactions of a BTC account as ledger rows. Each row
//! carries the transaction's own `id`, as the Coinbase CSV importer gives
//! its rows the file's `ID`, so a file and the API bring one row once.
//! Amounts are read as decimal text, never through floats.

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::ledger::{Kind, Sats, Tx};
use crate::sources::cell::btc;

#[derive(Debug, Clone, Deserialize)]
pub struct Money {
    pub amount: String,
    pub currency: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Network {
    #[serde(default)]
    pub hash: Option<String>,
    #[serde(default)]
    pub transaction_fee: Option<Money>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Details {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub subtitle: Option<String>,
}

/// One entry of `/v2/accounts/{id}/transactions`.
#[derive(Debug, Clone, Deserialize)]
pub struct V2Tx {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub amount: Money,
    #[serde(default)]
    pub native_amount: Option<Money>,
    pub created_at: String,
    #[serde(default)]
    pub network: Option<Network>,
    #[serde(default)]
    pub details: Option<Details>,
}

/// No longer pending: a later sync need not look at it again.
pub fn settled(status: &str) -> bool {
    matches!(
        status,
        "completed" | "failed" | "canceled" | "expired" | "declined"
    )
}

fn decimal(text: &str, what: &str) -> Result<Decimal, String> {
    text.trim()
        .parse::<Decimal>()
        .map_err(|_| format!("its {what} is not a number"))
}

/// The row of a completed entry (`None` for others), into `account`.
pub fn row(tx: &V2Tx, account: &str) -> Result<Option<Tx>, String> {
    if tx.status != "completed" {
        return Ok(None);
    }
    if !tx.amount.currency.eq_ignore_ascii_case("BTC") {
        return Ok(None);
    }
    let amount = decimal(&tx.amount.amount, "amount")?;
    let time: jiff::Timestamp = tx
        .created_at
        .parse()
        .map_err(|_| "its time does not read".to_string())?;
    let outgoing = amount.is_sign_negative();
    let kind = match tx.kind.as_str() {
        "buy" | "advanced_trade_fill" | "trade" | "cardbuyback" if !outgoing => Kind::Buy,
        "buy" | "advanced_trade_fill" | "trade" | "sell" => Kind::Sell,
        "cardspend" => Kind::Spend,
        "send"
        | "receive"
        | "transfer"
        | "pro_deposit"
        | "pro_withdrawal"
        | "exchange_deposit"
        | "exchange_withdrawal"
        | "prime_withdrawal"
        | "vault_withdrawal" => {
            if outgoing {
                Kind::Withdrawal
            } else {
                Kind::Deposit
            }
        }
        "interest" | "staking_reward" | "inflation_reward" | "reward" | "earn_payout" => {
            Kind::Income
        }
        other => return Err(format!("its type {other:?} is not one Ledgersys knows")),
    };
    let mut whole = btc(amount.abs())?;
    let mut fee = Sats::ZERO;
    let network = tx.network.clone().unwrap_or_default();
    if kind == Kind::Withdrawal
        && let Some(f) = &network.transaction_fee
        && f.currency.eq_ignore_ascii_case("BTC")
    {
        // The debit includes the network fee.
        fee = btc(decimal(&f.amount, "network fee")?.abs())?;
        if fee.0 > whole.0 {
            return Err("its network fee is larger than the amount sent".into());
        }
        whole = Sats(whole.0 - fee.0);
    }
    let native = tx
        .native_amount
        .as_ref()
        .map(|m| decimal(&m.amount, "native amount").map(|d| (d.abs(), m.currency.to_uppercase())))
        .transpose()?;
    let note = tx.details.as_ref().and_then(|d| {
        let parts: Vec<&str> = [d.title.as_deref(), d.subtitle.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.trim().is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    });
    let txid = match kind {
        Kind::Withdrawal | Kind::Deposit => network.hash.filter(|h| !h.trim().is_empty()),
        _ => None,
    };
    Ok(Some(Tx {
        id: Some(tx.id.clone()),
        time,
        kind,
        account: account.to_string(),
        btc: whole,
        fee_btc: fee,
        // Buys and sells: the fiat paid or received, fees included (v2
        // does not split them out).
        fiat_value: native.as_ref().map(|(v, _)| *v),
        currency: native.map(|(_, c)| c),
        fee_fiat: Decimal::ZERO,
        to_account: None,
        txid,
        note,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(json: &str) -> V2Tx {
        serde_json::from_str(json).expect("entry")
    }

    #[test]
    fn each_type_becomes_its_row() {
        let buy = entry(
            r#"{"id":"t-1","type":"buy","status":"completed","amount":{"amount":"0.02000000","currency":"BTC"},
                "native_amount":{"amount":"862.49","currency":"USD"},"created_at":"2024-02-01T10:00:00Z",
                "details":{"title":"Bought Bitcoin","subtitle":"Using USD Wallet"}}"#,
        );
        let r = row(&buy, "CB").expect("reads").expect("row");
        assert_eq!(
            (r.kind, r.btc, r.id.as_deref()),
            (Kind::Buy, Sats(2_000_000), Some("t-1"))
        );
        assert_eq!(r.fiat_value, Some(Decimal::new(86249, 2)));
        assert_eq!(r.currency.as_deref(), Some("USD"));
        assert_eq!(r.note.as_deref(), Some("Bought Bitcoin, Using USD Wallet"));

        let send = entry(
            r#"{"id":"t-2","type":"send","status":"completed","amount":{"amount":"-0.01010000","currency":"BTC"},
                "native_amount":{"amount":"-600.00","currency":"EUR"},"created_at":"2024-03-01T10:00:00Z",
                "network":{"status":"confirmed","hash":"ab12","transaction_fee":{"amount":"0.00010000","currency":"BTC"}}}"#,
        );
        let r = row(&send, "CB").expect("reads").expect("row");
        assert_eq!(
            (r.kind, r.btc, r.fee_btc),
            (Kind::Withdrawal, Sats(1_000_000), Sats(10_000))
        );
        assert_eq!(r.txid.as_deref(), Some("ab12"));

        let receive = entry(
            r#"{"id":"t-3","type":"send","status":"completed","amount":{"amount":"0.5","currency":"BTC"},
                "created_at":"2024-03-02T10:00:00Z","network":{"hash":"cd34"}}"#,
        );
        let r = row(&receive, "CB").expect("reads").expect("row");
        assert_eq!(
            (r.kind, r.btc, r.txid.as_deref()),
            (Kind::Deposit, Sats(50_000_000), Some("cd34"))
        );

        let fill = entry(
            r#"{"id":"t-4","type":"advanced_trade_fill","status":"completed","amount":{"amount":"-0.1","currency":"BTC"},
                "native_amount":{"amount":"-4000.00","currency":"USD"},"created_at":"2024-03-03T10:00:00Z"}"#,
        );
        assert_eq!(
            row(&fill, "CB").expect("reads").expect("row").kind,
            Kind::Sell
        );
        let reward = entry(
            r#"{"id":"t-5","type":"staking_reward","status":"completed","amount":{"amount":"0.00001","currency":"BTC"},
                "created_at":"2024-03-04T10:00:00Z"}"#,
        );
        assert_eq!(
            row(&reward, "CB").expect("reads").expect("row").kind,
            Kind::Income
        );
        let pending = entry(
            r#"{"id":"t-6","type":"send","status":"pending","amount":{"amount":"-0.1","currency":"BTC"},
                "created_at":"2024-03-05T10:00:00Z"}"#,
        );
        assert!(row(&pending, "CB").expect("reads").is_none());
        assert!(!settled("pending"));
        let odd = entry(
            r#"{"id":"t-7","type":"mystery","status":"completed","amount":{"amount":"1","currency":"BTC"},
                "created_at":"2024-03-05T10:00:00Z"}"#,
        );
        assert!(row(&odd, "CB").is_err());
    }
}

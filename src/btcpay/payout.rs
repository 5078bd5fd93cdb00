//! A payout as BTCPay reports it, turned into a ledger row. Pure. A payout
//! is bitcoin the store paid away (a refund the customer claimed, or any
//! pull payment): a disposal (`spend`) at its fiat value, booked when it is
//! `Completed` and never otherwise. Cancelled payouts never left the store.

use jiff::Timestamp;
use rust_decimal::Decimal;

use super::wire::{Payout, Rail, normalise_method};
use crate::ledger::merchant::PAYOUT_SOURCE;
use crate::ledger::{Kind, Sats, Tx, round_fiat};

/// `btcpay-payout:<payoutId>`: one row per payout, however often seen.
pub fn source_id(payout_id: &str) -> String {
    format!("{PAYOUT_SOURCE}{payout_id}")
}

/// Currencies that are bitcoin, not fiat.
fn is_bitcoin(currency: &str) -> bool {
    matches!(currency.to_ascii_uppercase().as_str(), "BTC" | "SATS")
}

/// The row for a completed bitcoin payout; `None` for any other state or
/// coin. `currency` is the pull payment's currency (what `amount` is in),
/// when known: a fiat amount is the row's fiat value; otherwise the row has
/// none and is valued from the price table like any spend.
pub fn outcome(
    account: &str,
    payout: &Payout,
    currency: Option<&str>,
) -> Result<Option<(String, Tx)>, String> {
    if !payout.state.eq_ignore_ascii_case("completed") {
        return Ok(None);
    }
    let method = if payout.payout_method_id.is_empty() {
        "BTC"
    } else {
        payout.payout_method_id.as_str()
    };
    let Some((code, rail)) = normalise_method(method) else {
        return Ok(None);
    };
    if code != "BTC" {
        return Ok(None);
    }
    let fiat_currency = currency.filter(|c| !is_bitcoin(c));
    let btc_text = match (&payout.payment_method_amount, &payout.amount, currency) {
        (Some(v), _, _) => v.clone(),
        (None, Some(v), Some(c)) if is_bitcoin(c) => v.clone(),
        _ => return Err(format!("payout {} has no bitcoin amount", payout.id)),
    };
    let btc = Sats::parse_btc(&btc_text).map_err(|e| format!("payout {}: {e}", payout.id))?;
    let fiat_value = match (fiat_currency, &payout.amount) {
        (Some(c), Some(amount)) => {
            let value: Decimal = amount.trim().parse().map_err(|_| {
                format!(
                    "payout {}: the amount {amount:?} is not a number",
                    payout.id
                )
            })?;
            Some(round_fiat(value, c))
        }
        _ => None,
    };
    let time = Timestamp::from_second(payout.date)
        .map_err(|_| format!("payout {}: bad date", payout.id))?;
    let txid = match rail {
        Rail::Chain => payout.txid().map(str::to_string),
        Rail::Lightning => None,
    };
    let mut note = format!("BTCPay payout {}", payout.id);
    if let Some(pp) = &payout.pull_payment_id {
        note.push_str(&format!(", pull payment {pp}"));
    }
    if let Some(to) = &payout.destination {
        note.push_str(&format!(", to {to}"));
    }
    Ok(Some((
        source_id(&payout.id),
        Tx {
            id: None,
            time,
            kind: Kind::Spend,
            account: account.to_string(),
            btc,
            fee_btc: Sats(0),
            fiat_value,
            currency: fiat_currency.map(str::to_ascii_uppercase),
            fee_fiat: Decimal::ZERO,
            to_account: None,
            txid,
            note: Some(note),
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payout(json: &str) -> Payout {
        serde_json::from_str(json).expect("payout")
    }

    const TXID: &str = "4c3b2a1908f7e6d5c4b3a2918070f6e5d4c3b2a1908f7e6d5c4b3a2918070f6e";

    #[test]
    fn a_completed_refund_is_a_spend_at_its_fiat_amount() {
        // 2.x shape.
        let p = payout(&format!(
            r#"{{"id":"P1","pullPaymentId":"PP1","date":1700000000,"destination":"bc1qcustomer",
                "payoutMethodId":"BTC-CHAIN","cryptoCode":"BTC","amount":"25.005",
                "paymentMethodAmount":"0.0005","state":"Completed","revision":0,
                "paymentProof":{{"proofType":"PayoutTransactionOnChainBlob","transactionId":"{TXID}"}}}}"#
        ));
        let (source, tx) = outcome("BTCPay S", &p, Some("usd"))
            .expect("ok")
            .expect("row");
        assert_eq!(source, "btcpay-payout:P1");
        assert_eq!(tx.kind, Kind::Spend);
        assert_eq!(tx.btc, Sats(50_000));
        assert_eq!(tx.fiat_value, Some("25.00".parse().expect("dec")));
        assert_eq!(tx.currency.as_deref(), Some("USD"));
        assert_eq!(tx.txid.as_deref(), Some(TXID));
    }

    #[test]
    fn other_states_book_nothing_and_a_bitcoin_amount_has_no_fiat_value() {
        for state in [
            "AwaitingApproval",
            "AwaitingPayment",
            "InProgress",
            "Cancelled",
        ] {
            let p = payout(&format!(
                r#"{{"id":"P2","date":1,"paymentMethod":"BTC","amount":"0.1","paymentMethodAmount":"0.1","state":"{state}"}}"#
            ));
            assert_eq!(outcome("a", &p, Some("BTC")), Ok(None), "{state}");
        }
        // 1.x shape, a pull payment in BTC, paid over Lightning.
        let p = payout(
            r#"{"id":"P3","date":1,"paymentMethod":"BTC-LightningNetwork","amount":"0.001","state":"Completed"}"#,
        );
        let (_, tx) = outcome("a", &p, Some("BTC")).expect("ok").expect("row");
        assert_eq!(
            (tx.btc, tx.fiat_value, tx.txid),
            (Sats(100_000), None, None)
        );
    }
}

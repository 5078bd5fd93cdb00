//! An invoice as BTCPay reports it, turned into ledger rows. Pure: the same
//! invoice always gives the same rows with the same source ids, which is
//! what makes the webhook path and the sweep agree and never double.

use jiff::Timestamp;
use rust_decimal::Decimal;

use super::wire::{Invoice, Rail, normalise_method};
use crate::ledger::{Kind, Sats, Tx, round_fiat};

/// Source ids of BTCPay income rows start with this, then the invoice id.
pub const SOURCE_PREFIX: &str = "btcpay:";

/// The source id prefix shared by every row of one invoice.
pub fn invoice_prefix(invoice_id: &str) -> String {
    format!("{SOURCE_PREFIX}{invoice_id}:")
}

/// What the ledger should hold for an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Income rows keyed by source id (`btcpay:<invoice>:<payment>`).
    pub income: Vec<(String, Tx)>,
    /// The invoice was invalidated: income booked for it is reversed.
    pub reverse: bool,
}

/// Every settled bitcoin payment of the invoice is income at the invoice's
/// own rate, in the invoice's currency. An `Invalid` invoice books nothing
/// and reverses what was booked before.
pub fn outcome(account: &str, invoice: &Invoice) -> Result<Outcome, String> {
    if invoice.status.eq_ignore_ascii_case("invalid") {
        return Ok(Outcome {
            income: Vec::new(),
            reverse: true,
        });
    }
    let mut income = Vec::new();
    for method in invoice.payment_methods.iter().flatten() {
        let Some((code, rail)) = normalise_method(&method.payment_method_id) else {
            continue;
        };
        if code != "BTC" {
            continue;
        }
        let rate: Decimal = method.rate.trim().parse().map_err(|_| {
            format!(
                "invoice {}: the rate {:?} is not a number",
                invoice.id, method.rate
            )
        })?;
        for payment in &method.payments {
            if !payment.status.eq_ignore_ascii_case("settled") {
                continue;
            }
            let sats = Sats::parse_btc(&payment.value)
                .map_err(|e| format!("invoice {}: payment {}: {e}", invoice.id, payment.id))?;
            let btc = Decimal::from(sats.0) / Decimal::from(crate::ledger::SATS_PER_BTC);
            let time = Timestamp::from_second(payment.received_date)
                .map_err(|_| format!("invoice {}: bad payment date", invoice.id))?;
            let (txid, proof) = match rail {
                Rail::Chain => {
                    let txid = payment
                        .id
                        .rsplit_once('-')
                        .map_or(payment.id.as_str(), |(txid, _)| txid);
                    (Some(txid.to_string()), format!("outpoint {}", payment.id))
                }
                // A payment hash is not a transaction id: it goes in the note.
                Rail::Lightning => (None, format!("lightning payment hash {}", payment.id)),
            };
            let mut note = format!("BTCPay invoice {}", invoice.id);
            if let Some(order) = invoice.order_id() {
                note.push_str(&format!(", order {order}"));
            }
            note.push_str(&format!(", {proof}"));
            income.push((
                format!("{}{}", invoice_prefix(&invoice.id), payment.id),
                Tx {
                    id: None,
                    time,
                    kind: Kind::Income,
                    account: account.to_string(),
                    btc: sats,
                    fee_btc: Sats(0),
                    fiat_value: Some(round_fiat(btc * rate, &invoice.currency)),
                    currency: Some(invoice.currency.to_ascii_uppercase()),
                    fee_fiat: Decimal::ZERO,
                    to_account: None,
                    txid,
                    note: Some(note),
                },
            ));
        }
    }
    Ok(Outcome {
        income,
        reverse: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invoice(json: &str) -> Invoice {
        serde_json::from_str(json).expect("invoice")
    }

    #[test]
    fn a_settled_chain_payment_is_income_at_the_invoice_rate() {
        let inv = invoice(
            r#"{"id":"INV1","status":"Settled","currency":"EUR","metadata":{"orderId":"42"},
                "paymentMethods":[{"paymentMethodId":"BTC-CHAIN","rate":"60000.00","payments":[
                  {"id":"aa11-1","receivedDate":1700000000,"value":"0.00123457","status":"Settled"},
                  {"id":"bb22-0","receivedDate":1700000100,"value":"0.001","status":"Processing"}]}]}"#,
        );
        let out = outcome("BTCPay S1", &inv).expect("outcome");
        assert!(!out.reverse);
        assert_eq!(out.income.len(), 1);
        let (source, tx) = &out.income[0];
        assert_eq!(source, "btcpay:INV1:aa11-1");
        assert_eq!(tx.btc, Sats(123_457));
        // 0.00123457 × 60000 = 74.0742 → 74.07
        assert_eq!(tx.fiat_value, Some("74.07".parse().expect("dec")));
        assert_eq!(tx.currency.as_deref(), Some("EUR"));
        assert_eq!(tx.txid.as_deref(), Some("aa11"));
        assert_eq!(
            tx.note.as_deref(),
            Some("BTCPay invoice INV1, order 42, outpoint aa11-1")
        );
    }

    #[test]
    fn lightning_keeps_the_payment_hash_out_of_the_txid() {
        let inv = invoice(
            r#"{"id":"INV2","status":"Settled","currency":"USD",
                "paymentMethods":[{"paymentMethod":"BTC-LightningNetwork","rate":"50000","payments":[
                  {"id":"ff00","receivedDate":1700000000,"value":"0.0002","status":"Settled"}]}]}"#,
        );
        let out = outcome("a", &inv).expect("outcome");
        let tx = &out.income[0].1;
        assert_eq!(tx.txid, None);
        assert_eq!(tx.fiat_value, Some(Decimal::from(10)));
        assert!(
            tx.note
                .as_deref()
                .is_some_and(|n| n.contains("lightning payment hash ff00"))
        );
    }

    #[test]
    fn an_invalid_invoice_books_nothing_and_reverses() {
        let inv = invoice(
            r#"{"id":"INV3","status":"Invalid","currency":"USD",
                "paymentMethods":[{"paymentMethodId":"BTC-CHAIN","rate":"1","payments":[
                  {"id":"x-0","receivedDate":1,"value":"1","status":"Settled"}]}]}"#,
        );
        let out = outcome("a", &inv).expect("outcome");
        assert!(out.reverse && out.income.is_empty());
    }
}

//! The Greenfield JSON Ledgersys reads, for BTCPay 1.x and 2.x, normalised
//! to one form: payment method ids in the 2.x spelling (`BTC-CHAIN`,
//! `BTC-LN`, `BTC-LNURL`), whatever the server's version called them.

use serde::Deserialize;

/// `GET /api/v1/api-keys/current`.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiKey {
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// `GET /api/v1/server/info`.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerInfo {
    pub version: String,
}

/// A server version, as far as behaviour differs by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// Reads `1.13.7`, `2.4.1.0` or `v2.0.0-rc1`; missing parts count as 0.
    pub fn parse(text: &str) -> Option<Version> {
        let mut parts = text.trim().trim_start_matches('v').split(['.', '-', '+']);
        let mut next = || parts.next().and_then(|p| p.parse::<u32>().ok());
        let major = next()?;
        Some(Version(major, next().unwrap_or(0), next().unwrap_or(0)))
    }

    /// The invoice list can include payment methods from 2.3.6 on; older
    /// servers need one request per invoice.
    pub fn lists_payment_methods(self) -> bool {
        self >= Version(2, 3, 6)
    }
}

/// An invoice, with its payment methods when they were asked for.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    pub id: String,
    pub status: String,
    pub currency: String,
    #[serde(default)]
    pub created_time: i64,
    #[serde(default)]
    pub monitoring_expiration: i64,
    #[serde(default)]
    pub metadata: serde_json::Value,
    #[serde(default)]
    pub payment_methods: Option<Vec<PaymentMethod>>,
}

impl Invoice {
    pub fn order_id(&self) -> Option<&str> {
        self.metadata.get("orderId").and_then(|v| v.as_str())
    }
}

/// One payment method of an invoice (`InvoicePaymentMethodDataModel`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethod {
    /// 2.x `paymentMethodId`, 1.x `paymentMethod`; see [`normalise_method`].
    #[serde(alias = "paymentMethod")]
    pub payment_method_id: String,
    /// Invoice currency per unit of the payment currency, fixed when the
    /// method was activated: BTCPay's own valuation at sale time.
    pub rate: String,
    #[serde(default)]
    pub payments: Vec<Payment>,
}

/// A payment, as in the API and in webhooks.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    /// `<txid>-<vout>` on chain; the payment hash for Lightning.
    pub id: String,
    pub received_date: i64,
    /// In the payment currency (BTC).
    pub value: String,
    pub status: String,
}

/// A payout (`PayoutData`): money the store sends out, for a refund (BTCPay
/// refunds through a pull payment the customer claims) or any other pull
/// payment. 1.x names the method `paymentMethod`, 2.x `payoutMethodId`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payout {
    pub id: String,
    #[serde(default)]
    pub pull_payment_id: Option<String>,
    /// Unix seconds: when the payout was created (the model has no paid time).
    #[serde(default)]
    pub date: i64,
    #[serde(default)]
    pub destination: Option<String>,
    #[serde(alias = "paymentMethod", default)]
    pub payout_method_id: String,
    /// In the pull payment's currency.
    #[serde(default)]
    pub amount: Option<String>,
    /// In the payout method's currency (BTC), once approved.
    #[serde(default)]
    pub payment_method_amount: Option<String>,
    pub state: String,
    /// On chain `{"transactionId": …}`; over Lightning a payment hash or
    /// preimage. Read loosely: only the txid is used.
    #[serde(default)]
    pub payment_proof: Option<serde_json::Value>,
}

impl Payout {
    /// The on-chain transaction that paid it, when the proof names one.
    pub fn txid(&self) -> Option<&str> {
        let proof = self.payment_proof.as_ref()?;
        ["transactionId", "txid", "transactionHash"]
            .iter()
            .find_map(|k| proof.get(*k).and_then(|v| v.as_str()))
            .filter(|t| t.len() == 64 && t.chars().all(|c| c.is_ascii_hexdigit()))
    }
}

/// A pull payment (`GET /api/v1/pull-payments/{id}`): only its currency, the
/// currency a payout's `amount` is in.
#[derive(Debug, Clone, Deserialize)]
pub struct PullPayment {
    pub currency: String,
}

/// A webhook body's envelope and the invoice fields Ledgersys uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub delivery_id: String,
    /// Very old servers spelled it `orignalDeliveryId`.
    #[serde(default, alias = "orignalDeliveryId")]
    pub original_delivery_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub store_id: Option<String>,
    #[serde(default)]
    pub invoice_id: Option<String>,
    #[serde(default)]
    pub payout_id: Option<String>,
}

impl Event {
    /// The idempotency key: every retry of one event shares it.
    pub fn original_id(&self) -> &str {
        self.original_delivery_id
            .as_deref()
            .filter(|id| !id.is_empty())
            .unwrap_or(&self.delivery_id)
    }

    /// A "send test webhook" event (≤ 2.2), never booked.
    pub fn is_test(&self) -> bool {
        [&self.invoice_id, &self.payout_id]
            .iter()
            .any(|id| id.as_deref().is_some_and(|id| id.starts_with("__test__")))
    }
}

/// The kind of a payment method, whatever the version spelled it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rail {
    Chain,
    Lightning,
}

/// `(crypto code, rail)` of a payment method id in either spelling:
/// 1.x `BTC`, `BTC-OnChain`, `BTC_LightningLike`, `BTC-LightningNetwork`,
/// `BTC-LNURLPAY`; 2.x `BTC-CHAIN`, `BTC-LN`, `BTC-LNURL`.
pub fn normalise_method(id: &str) -> Option<(String, Rail)> {
    let (code, kind) = id.split_once(['-', '_']).unwrap_or((id, "CHAIN"));
    let rail = match kind.to_ascii_lowercase().as_str() {
        "chain" | "onchain" | "bitcoinlike" | "btclike" => Rail::Chain,
        "ln" | "lnurl" | "lnurlpay" | "lightninglike" | "lightningnetwork" | "offchain" => {
            Rail::Lightning
        }
        _ => return None,
    };
    Some((code.to_ascii_uppercase(), rail))
}

/// The 2.x spelling of a payment method id.
pub fn canonical_method(id: &str) -> Option<String> {
    let (code, rail) = normalise_method(id)?;
    let lnurl = id.to_ascii_lowercase().contains("lnurl");
    Some(match (rail, lnurl) {
        (Rail::Chain, _) => format!("{code}-CHAIN"),
        (Rail::Lightning, true) => format!("{code}-LNURL"),
        (Rail::Lightning, false) => format!("{code}-LN"),
    })
}

/// Ids BTCPay generates are Base58 or similar; anything else is refused
/// before it reaches a request path.
pub fn is_plain_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_method_ids_of_both_versions_normalise_alike() {
        for (given, want) in [
            ("BTC", "BTC-CHAIN"),
            ("BTC-OnChain", "BTC-CHAIN"),
            ("BTC_OnChain", "BTC-CHAIN"),
            ("BTC-CHAIN", "BTC-CHAIN"),
            ("BTC-LightningNetwork", "BTC-LN"),
            ("BTC_LightningLike", "BTC-LN"),
            ("BTC-LN", "BTC-LN"),
            ("BTC-LNURLPAY", "BTC-LNURL"),
            ("BTC-LNURL", "BTC-LNURL"),
        ] {
            assert_eq!(canonical_method(given).as_deref(), Some(want), "{given}");
        }
        assert_eq!(canonical_method("BTC-Monero"), None);
    }

    #[test]
    fn versions_compare_by_number() {
        assert_eq!(Version::parse("1.13.7"), Some(Version(1, 13, 7)));
        assert_eq!(Version::parse("v2.4.1.0"), Some(Version(2, 4, 1)));
        assert!(!Version(2, 3, 5).lists_payment_methods());
        assert!(Version(2, 3, 6).lists_payment_methods());
        assert!(!Version(1, 13, 7).lists_payment_methods());
        assert_eq!(Version::parse("unknown"), None);
    }

    #[test]
    fn the_1x_field_names_read_into_the_same_form() {
        let v1: PaymentMethod = serde_json::from_str(
            r#"{"paymentMethod":"BTC","cryptoCode":"BTC","rate":"50000","networkFee":"0","payments":[]}"#,
        )
        .expect("1.x");
        let v2: PaymentMethod = serde_json::from_str(
            r#"{"paymentMethodId":"BTC-CHAIN","currency":"BTC","rate":"50000","paymentMethodFee":"0","payments":[]}"#,
        )
        .expect("2.x");
        assert_eq!(
            canonical_method(&v1.payment_method_id),
            canonical_method(&v2.payment_method_id)
        );
    }

    #[test]
    fn the_idempotency_key_is_the_original_delivery() {
        let retry: Event = serde_json::from_str(
            r#"{"deliveryId":"B","originalDeliveryId":"A","isRedelivery":true,"type":"InvoiceSettled","invoiceId":"I"}"#,
        )
        .expect("event");
        assert_eq!(retry.original_id(), "A");
        let old: Event = serde_json::from_str(
            r#"{"deliveryId":"B","orignalDeliveryId":"A","type":"InvoiceSettled"}"#,
        )
        .expect("event");
        assert_eq!(old.original_id(), "A");
    }
}

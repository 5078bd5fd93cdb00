//! Binance (binance.com): the query signature, the read allow-list, and
//! the judgement of a key from `apiRestrictions` (facts: the exchange-API
//! notes, sections 3.5 and 4).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::Verdict;
use super::allow::{AllowList, get};

/// Reads only, all `GET`.
pub const ALLOW: AllowList = AllowList {
    exchange: "Binance",
    endpoints: &[
        get("/sapi/v1/account/apiRestrictions"),
        get("/api/v3/account"),
        get("/api/v3/myTrades"),
        get("/sapi/v1/capital/deposit/hisrec"),
        get("/sapi/v1/capital/withdraw/history"),
        get("/sapi/v1/fiat/orders"),
        get("/sapi/v1/fiat/payments"),
        get("/sapi/v1/convert/tradeFlow"),
        get("/sapi/v1/asset/assetDividend"),
        get("/sapi/v1/asset/dribblet"),
        get("/sapi/v1/simple-earn/flexible/history/rewardsRecord"),
    ],
};

/// What a Binance key cannot show Ledgersys, said when it is added.
pub const LIMITS: &[&str] = &[
    "Binance's API lists no pairs an account traded: fills are read for a fixed list of BTC pairs (bitcoin against fiat and stablecoins, and the larger coins against bitcoin); import Binance's trade history file for others",
    "the balance check counts the Spot wallet only: bitcoin held in Funding or Earn shows as a difference",
];

/// Binance's endpoints that trade, move funds, make deposit addresses or
/// open streams, by any method (`*`).
pub const NEVER_CALL: &[(&str, &str)] = &[
    ("*", "/api/v3/order"),
    ("*", "/api/v3/order/test"),
    ("*", "/api/v3/order/oco"),
    ("*", "/api/v3/order/cancelReplace"),
    ("*", "/api/v3/orderList"),
    ("*", "/api/v3/orderList/oco"),
    ("*", "/api/v3/sor/order"),
    ("*", "/api/v3/userDataStream"),
    ("*", "/sapi/v1/capital/withdraw/apply"),
    ("*", "/sapi/v1/capital/deposit/address"),
    ("*", "/sapi/v1/asset/transfer"),
    ("*", "/sapi/v1/asset/dust"),
    ("*", "/sapi/v1/sub-account/universalTransfer"),
    ("*", "/sapi/v1/sub-account/transfer/subToMaster"),
    ("*", "/sapi/v1/margin/order"),
    ("*", "/sapi/v1/margin/transfer"),
    ("*", "/sapi/v1/margin/loan"),
    ("*", "/sapi/v1/convert/getQuote"),
    ("*", "/sapi/v1/convert/acceptQuote"),
    ("*", "/sapi/v1/simple-earn/flexible/subscribe"),
    ("*", "/sapi/v1/simple-earn/flexible/redeem"),
    ("*", "/sapi/v1/futures/transfer"),
];

/// The `signature` parameter: hex HMAC-SHA256 of the query string followed
/// by the body, exactly as sent.
pub fn sign(query_and_body: &str, secret: &str) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.trim().as_bytes()) else {
        return String::new(); // HMAC takes keys of any length
    };
    mac.update(query_and_body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// What the rights in `apiRestrictions` are called on Binance's key page.
const RIGHTS: &[(&str, &str)] = &[
    ("enableWithdrawals", "Enable Withdrawals"),
    ("enableInternalTransfer", "Permits Internal Transfer"),
    ("permitsUniversalTransfer", "Permits Universal Transfer"),
    ("enableMargin", "Enable Margin Loan, Repay & Transfer"),
    ("enableFutures", "Enable Futures"),
    ("enableVanillaOptions", "Enable European Options"),
    ("enableSpotAndMarginTrading", "Enable Spot & Margin Trading"),
    (
        "enablePortfolioMarginTrading",
        "Enable Portfolio Margin Trading",
    ),
    ("enableFixApiTrade", "Enable FIX API Trading"),
];

/// Judges a key from the `apiRestrictions` answer: reading must be on and
/// every other `enable…`/`permits…` flag off (FIX read-only may be on). A
/// flag of that shape this code does not know, switched on, is refused.
pub fn judge(restrictions: &serde_json::Value) -> Verdict {
    let mut verdict = Verdict::default();
    let Some(fields) = restrictions.as_object() else {
        verdict
            .missing
            .push("a permission answer Ledgersys can read".into());
        return verdict;
    };
    if fields.get("enableReading") != Some(&serde_json::Value::Bool(true)) {
        verdict.missing.push("Enable Reading".into());
    }
    for (name, value) in fields {
        let flag = name.starts_with("enable") || name.starts_with("permits");
        if !flag || matches!(name.as_str(), "enableReading" | "enableFixReadOnly") {
            continue;
        }
        if value != &serde_json::Value::Bool(false) {
            let label = RIGHTS.iter().find(|(n, _)| n == name).map_or_else(
                || format!("the right {name:?}, which Ledgersys does not know"),
                |(_, l)| (*l).to_string(),
            );
            verdict.remove.push(label);
        }
    }
    if fields.get("ipRestrict") != Some(&serde_json::Value::Bool(true)) {
        verdict.warnings.push(
            "the key works from any IP address; restricting it to this server's address on Binance limits what a stolen key could read".into(),
        );
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Binance's published example of a signed request ("SIGNED endpoint
    /// examples", HMAC key).
    #[test]
    fn the_signature_matches_binances_published_example() {
        let secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
        let query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        assert_eq!(
            sign(query, secret),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
    }

    fn read_only() -> serde_json::Value {
        json!({
            "ipRestrict": true, "createTime": 1_698_645_219_000_i64,
            "enableReading": true, "enableWithdrawals": false, "enableInternalTransfer": false,
            "permitsUniversalTransfer": false, "enableMargin": false, "enableFutures": false,
            "enableVanillaOptions": false, "enableSpotAndMarginTrading": false,
            "enablePortfolioMarginTrading": false, "enableFixApiTrade": false, "enableFixReadOnly": true
        })
    }

    #[test]
    fn a_reading_key_is_accepted() {
        let verdict = judge(&read_only());
        assert!(verdict.accepted(), "{verdict:?}");
        assert!(verdict.warnings.is_empty());
        let mut open = read_only();
        open["ipRestrict"] = json!(false);
        assert_eq!(judge(&open).warnings.len(), 1);
    }

    #[test]
    fn trading_withdrawing_and_unknown_rights_are_named_and_refused() {
        let mut key = read_only();
        key["enableSpotAndMarginTrading"] = json!(true);
        key["enableWithdrawals"] = json!(true);
        key["enableTeleport"] = json!(true);
        let verdict = judge(&key);
        assert!(!verdict.accepted());
        let mut named = verdict.remove.clone();
        named.sort();
        assert_eq!(
            named,
            vec![
                "Enable Spot & Margin Trading".to_string(),
                "Enable Withdrawals".to_string(),
                "the right \"enableTeleport\", which Ledgersys does not know".to_string(),
            ]
        );
        let mut no_read = read_only();
        no_read["enableReading"] = json!(false);
        assert_eq!(judge(&no_read).missing, vec!["Enable Reading".to_string()]);
        assert!(
            !judge(&json!([])).accepted(),
            "an answer of the wrong shape fails closed"
        );
        let mut odd = read_only();
        odd["enableMargin"] = json!("false");
        assert!(
            !judge(&odd).accepted(),
            "anything but a JSON false fails closed"
        );
    }
}

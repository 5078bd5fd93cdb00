//! Kraken spot REST: `API-Sign` signatures, the read allow-list, and the
//! judgement of a key from `GetApiKeyInfo` (facts: the exchange-API notes,
//! sections 3.1 and 4).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256, Sha512};

use super::Verdict;
use super::allow::{AllowList, post};

/// The private endpoints Ledgersys reads. Deposit and withdrawal status
/// are not here: Kraken files them under the Deposit and Withdraw Funds
/// permissions, which a read-only key must not have.
pub const ALLOW: AllowList = AllowList {
    exchange: "Kraken",
    endpoints: &[
        post("/0/private/GetApiKeyInfo"),
        post("/0/private/Balance"),
        post("/0/private/BalanceEx"),
        post("/0/private/Ledgers"),
        post("/0/private/QueryLedgers"),
        post("/0/private/TradesHistory"),
        // The Export API: a first sync's bulk history. Adding and removing
        // an export report changes what Kraken keeps for the account, not
        // its funds or orders.
        post("/0/private/AddExport"),
        post("/0/private/ExportStatus"),
        post("/0/private/RetrieveExport"),
        post("/0/private/RemoveExport"),
    ],
};

/// Kraken's endpoints that trade, move funds or change the account, by
/// any method (`*`).
pub const NEVER_CALL: &[(&str, &str)] = &[
    ("*", "/0/private/AddOrder"),
    ("*", "/0/private/AddOrderBatch"),
    ("*", "/0/private/AmendOrder"),
    ("*", "/0/private/EditOrder"),
    ("*", "/0/private/CancelOrder"),
    ("*", "/0/private/CancelAll"),
    ("*", "/0/private/CancelAllOrdersAfter"),
    ("*", "/0/private/CancelOrderBatch"),
    ("*", "/0/private/Withdraw"),
    ("*", "/0/private/WithdrawCancel"),
    ("*", "/0/private/WithdrawInfo"),
    ("*", "/0/private/WithdrawMethods"),
    ("*", "/0/private/WithdrawAddresses"),
    ("*", "/0/private/WithdrawStatus"),
    ("*", "/0/private/DepositStatus"),
    ("*", "/0/private/DepositMethods"),
    ("*", "/0/private/DepositAddresses"),
    ("*", "/0/private/WalletTransfer"),
    ("*", "/0/private/CreateSubaccount"),
    ("*", "/0/private/AccountTransfer"),
    ("*", "/0/private/Earn/Allocate"),
    ("*", "/0/private/Earn/Deallocate"),
    ("*", "/0/private/GetWebSocketsToken"),
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the Kraken private key is not valid base64; copy it again from Kraken")]
pub struct BadSecret;

/// `API-Sign` for a request to `path` whose url-encoded body (holding
/// `nonce=`) is `body`: base64 of HMAC-SHA512, keyed with the decoded
/// secret, over the path followed by SHA-256 of nonce and body.
pub fn sign(path: &str, nonce: u64, body: &str, secret: &str) -> Result<String, BadSecret> {
    let key = STANDARD.decode(secret.trim()).map_err(|_| BadSecret)?;
    let digest = Sha256::new()
        .chain_update(nonce.to_string())
        .chain_update(body)
        .finalize();
    let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(&key).map_err(|_| BadSecret)?;
    mac.update(path.as_bytes());
    mac.update(&digest);
    Ok(STANDARD.encode(mac.finalize().into_bytes()))
}

/// `GetApiKeyInfo`'s result. Times are strings of unix seconds, `"0"`
/// meaning unset.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyInfo {
    #[serde(default)]
    pub api_key_name: String,
    pub permissions: Vec<String>,
    #[serde(default)]
    pub valid_until: Option<String>,
    #[serde(default)]
    pub query_from: Option<String>,
    #[serde(default)]
    pub query_to: Option<String>,
    #[serde(default)]
    pub ip_allowlist: Option<serde_json::Value>,
}

/// The permissions a read-only key may hold, and what the UI calls them.
const READ: &[(&str, &str)] = &[
    ("query-funds", "Query Funds"),
    ("query-open-trades", "Query Open Orders & Trades"),
    ("query-closed-trades", "Query Closed Orders & Trades"),
    ("query-ledger", "Query Ledger Entries"),
    ("export-data", "Export Data"),
];

/// Reading needs these two: the ledger and the balance to check it by.
const NEEDED: &[&str] = &["query-ledger", "query-funds"];

/// What the UI calls the rights a read-only key must not have.
const WRITE: &[(&str, &str)] = &[
    ("modify-trades", "Create & Modify Orders"),
    ("close-trades", "Cancel/Close Orders"),
    ("create-ws-token", "Access WebSocket API"),
    ("withdraw-funds", "Withdraw Funds"),
    ("add-withdraw-address", "Add Withdrawal Addresses"),
    ("update-withdraw-address", "Update Withdrawal Addresses"),
    ("earn-funds", "Earn Funds"),
    ("add-funds", "Deposit Funds"),
];

/// Keys that expire within this many seconds get a warning.
const EXPIRY_WARNING: i64 = 30 * 86_400;

/// Judges a key: every permission must be a known read permission; a
/// permission this code does not know is refused too (Kraken publishes no
/// list, so an unknown one may be a write right).
pub fn judge(info: &KeyInfo, now: i64) -> Verdict {
    let mut verdict = Verdict::default();
    for permission in &info.permissions {
        if READ.iter().any(|(p, _)| p == permission) {
            continue;
        }
        let name = WRITE.iter().find(|(p, _)| p == permission).map_or_else(
            || format!("the permission {permission:?}, which Ledgersys does not know"),
            |(_, n)| (*n).to_string(),
        );
        verdict.remove.push(name);
    }
    for needed in NEEDED {
        if !info.permissions.iter().any(|p| p == needed) {
            let name = READ
                .iter()
                .find(|(p, _)| p == needed)
                .map_or(*needed, |(_, n)| n);
            verdict.missing.push(name.to_string());
        }
    }
    let seconds = |field: &Option<String>| {
        field
            .as_deref()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|s| *s > 0)
    };
    if seconds(&info.query_from).is_some() || seconds(&info.query_to).is_some() {
        verdict.warnings.push(
            "the key may only see part of the history (a query start or end date is set on it); clear them on Kraken to sync everything".into(),
        );
    }
    if let Some(until) = seconds(&info.valid_until) {
        if until <= now {
            verdict.missing.push("a key that has not expired".into());
        } else if until - now < EXPIRY_WARNING {
            verdict.warnings.push(format!(
                "the key expires in {} days; make a new one before then",
                (until - now) / 86_400
            ));
        }
    }
    let allowlisted = match &info.ip_allowlist {
        Some(serde_json::Value::Array(ips)) => !ips.is_empty(),
        Some(serde_json::Value::String(ips)) => !ips.trim().is_empty(),
        _ => false,
    };
    if !allowlisted {
        verdict.warnings.push(
            "the key works from any IP address; allowing only this server's address on Kraken limits what a stolen key could read".into(),
        );
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kraken's published example ("Spot REST Authentication"): a limit
    /// order for 1.25 XBTUSD at 37,500.
    #[test]
    fn the_signature_matches_krakens_published_example() {
        let secret = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
        let nonce = 1_616_492_376_594;
        let body =
            "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25";
        assert_eq!(
            sign("/0/private/AddOrder", nonce, body, secret).as_deref(),
            Ok(
                "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
            )
        );
        assert_eq!(
            sign("/0/private/Balance", 1, "nonce=1", "not base64!"),
            Err(BadSecret)
        );
    }

    fn info(json: &str) -> KeyInfo {
        serde_json::from_str(json).expect("key info")
    }

    #[test]
    fn a_key_with_only_read_permissions_is_accepted_with_warnings() {
        let key = info(
            r#"{"apiKeyName":"ledgersys","apiKey":"x","nonce":"0","nonceWindow":0,
                "permissions":["query-funds","query-ledger","query-closed-trades","export-data"],
                "iban":"AA00","validUntil":"0","queryFrom":"0","queryTo":"0",
                "createdTime":"1700000000","modifiedTime":"1700000000","ipAllowlist":[],"lastUsed":"0"}"#,
        );
        let verdict = judge(&key, 1_800_000_000);
        assert!(verdict.accepted(), "{verdict:?}");
        assert_eq!(
            verdict.warnings.len(),
            1,
            "only the missing IP allow-list: {verdict:?}"
        );
    }

    #[test]
    fn write_rights_and_unknown_permissions_are_named_and_refused() {
        let key = info(
            r#"{"permissions":["query-funds","query-ledger","withdraw-funds","modify-trades","teleport-funds"],
                "ipAllowlist":["203.0.113.5"]}"#,
        );
        let verdict = judge(&key, 0);
        assert!(!verdict.accepted());
        assert_eq!(
            verdict.remove,
            vec![
                "Withdraw Funds".to_string(),
                "Create & Modify Orders".to_string(),
                "the permission \"teleport-funds\", which Ledgersys does not know".to_string(),
            ]
        );
        let refusal = verdict.refusal().expect("refused");
        assert!(
            refusal.contains("remove Withdraw Funds, Create & Modify Orders"),
            "{refusal}"
        );
    }

    #[test]
    fn a_key_that_cannot_read_the_ledger_or_has_expired_is_refused() {
        let verdict = judge(&info(r#"{"permissions":["query-funds"]}"#), 0);
        assert_eq!(verdict.missing, vec!["Query Ledger Entries".to_string()]);
        let expired = judge(
            &info(r#"{"permissions":["query-funds","query-ledger"],"validUntil":"1000"}"#),
            2000,
        );
        assert!(!expired.accepted());
        let soon = judge(
            &info(
                r#"{"permissions":["query-funds","query-ledger"],"validUntil":"865000","queryFrom":"1600000000"}"#,
            ),
            0,
        );
        assert!(soon.accepted());
        assert!(
            soon.warnings
                .iter()
                .any(|w| w.contains("expires in 10 days")),
            "{soon:?}"
        );
        assert!(
            soon.warnings
                .iter()
                .any(|w| w.contains("part of the history")),
            "{soon:?}"
        );
    }
}

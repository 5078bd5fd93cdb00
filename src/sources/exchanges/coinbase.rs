//! Coinbase (App "v2" and Advanced Trade "v3" APIs): the read allow-list
//! and the judgement of a key from `key_permissions` (facts: the
//! exchange-API notes, sections 3.2 and 4). `GET` only.

use serde::Deserialize;

use super::Verdict;
use super::allow::{AllowList, get};

pub const ALLOW: AllowList = AllowList {
    exchange: "Coinbase",
    endpoints: &[
        get("/api/v3/brokerage/key_permissions"),
        get("/v2/user"),
        get("/v2/accounts"),
        get("/v2/accounts/{account_id}/transactions"),
        get("/v2/accounts/{account_id}/buys"),
        get("/v2/accounts/{account_id}/sells"),
        get("/v2/accounts/{account_id}/deposits"),
        get("/v2/accounts/{account_id}/withdrawals"),
        get("/api/v3/brokerage/accounts"),
        get("/api/v3/brokerage/orders/historical/fills"),
        get("/api/v3/brokerage/orders/historical/batch"),
        get("/api/v3/brokerage/transaction_summary"),
        get("/api/v3/brokerage/portfolios"),
    ],
};

/// Coinbase's endpoints that trade, convert, move funds or make
/// addresses; `*` is any method.
pub const NEVER_CALL: &[(&str, &str)] = &[
    ("*", "/api/v3/brokerage/orders"),
    ("*", "/api/v3/brokerage/orders/batch_cancel"),
    ("*", "/api/v3/brokerage/orders/edit"),
    ("*", "/api/v3/brokerage/orders/edit_preview"),
    ("*", "/api/v3/brokerage/orders/preview"),
    ("*", "/api/v3/brokerage/orders/close_position"),
    ("*", "/api/v3/brokerage/convert/quote"),
    ("*", "/api/v3/brokerage/convert/trade/abc-123"),
    ("POST", "/api/v3/brokerage/portfolios"),
    ("*", "/api/v3/brokerage/portfolios/move_funds"),
    ("*", "/api/v3/brokerage/portfolios/abc-123"),
    ("*", "/api/v3/brokerage/intx/allocate"),
    ("*", "/api/v3/brokerage/cfm/sweeps/schedule"),
    ("*", "/api/v3/brokerage/cfm/sweeps"),
    ("POST", "/v2/accounts/abc-123/transactions"),
    ("POST", "/v2/accounts/abc-123/buys"),
    ("*", "/v2/accounts/abc-123/buys/def-456/commit"),
    ("POST", "/v2/accounts/abc-123/sells"),
    ("*", "/v2/accounts/abc-123/sells/def-456/commit"),
    ("POST", "/v2/accounts/abc-123/deposits"),
    ("*", "/v2/accounts/abc-123/deposits/def-456/commit"),
    ("POST", "/v2/accounts/abc-123/withdrawals"),
    ("*", "/v2/accounts/abc-123/withdrawals/def-456/commit"),
    ("*", "/v2/accounts/abc-123/addresses"),
    ("*", "/v2/accounts/abc-123"),
];

/// `GET /api/v3/brokerage/key_permissions`.
#[derive(Debug, Clone, Deserialize)]
pub struct KeyPermissions {
    pub can_view: bool,
    pub can_trade: bool,
    pub can_transfer: bool,
    #[serde(default)]
    pub portfolio_uuid: Option<String>,
    #[serde(default)]
    pub portfolio_type: Option<String>,
}

/// Accepted only with viewing on and trading and transfers off. A key is
/// scoped to one portfolio: the user hears which.
pub fn judge(key: &KeyPermissions) -> Verdict {
    let mut verdict = Verdict::default();
    if !key.can_view {
        verdict.missing.push("the View permission".into());
    }
    if key.can_trade {
        verdict.remove.push("the Trade permission".into());
    }
    if key.can_transfer {
        verdict.remove.push("the Transfer permission".into());
    }
    match key.portfolio_type.as_deref() {
        Some("DEFAULT" | "CONSUMER") | None => {}
        Some(other) => verdict.warnings.push(format!(
            "the key reads the {other} portfolio only; other portfolios need their own keys"
        )),
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(json: &str) -> KeyPermissions {
        serde_json::from_str(json).expect("permissions")
    }

    #[test]
    fn a_view_only_key_is_accepted_and_others_are_named() {
        let view = key(
            r#"{"can_view":true,"can_trade":false,"can_transfer":false,"portfolio_uuid":"p","portfolio_type":"DEFAULT"}"#,
        );
        assert!(judge(&view).accepted());
        let trader = key(
            r#"{"can_view":true,"can_trade":true,"can_transfer":true,"portfolio_type":"DEFAULT"}"#,
        );
        let verdict = judge(&trader);
        assert_eq!(
            verdict.remove,
            vec![
                "the Trade permission".to_string(),
                "the Transfer permission".to_string()
            ]
        );
        let blind = key(r#"{"can_view":false,"can_trade":false,"can_transfer":false}"#);
        assert_eq!(
            judge(&blind).missing,
            vec!["the View permission".to_string()]
        );
        let intx = key(
            r#"{"can_view":true,"can_trade":false,"can_transfer":false,"portfolio_type":"INTX"}"#,
        );
        assert_eq!(judge(&intx).warnings.len(), 1);
    }

    #[test]
    fn an_answer_missing_a_flag_does_not_read() {
        assert!(
            serde_json::from_str::<KeyPermissions>(r#"{"can_view":true,"can_trade":false}"#)
                .is_err()
        );
    }
}

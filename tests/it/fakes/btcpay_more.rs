//! The fake BTCPay's payouts (store payouts, one payout, the public pull
//! payment) and webhook management (create, read, update, delete; only for
//! a key holding `btcpay.store.webhooks.canmodifywebhooks`).

use std::sync::MutexGuard;

use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde_json::{Value, json};

use super::btcpay::{STORE, Shared, State, authorised, unauthorised, v2};

/// The state, after recording the request, if its key is the right one.
fn lock<'a>(req: &Request, state: &'a Shared) -> Option<MutexGuard<'a, State>> {
    let mut s = state.lock().expect("state");
    s.requests.push(req.uri().to_string());
    authorised(req, &s).then_some(s)
}

/// A payout of the store (`PayoutData`), for a refund or a pull payment.
#[derive(Debug, Clone)]
pub struct FakePayout {
    pub id: String,
    pub pull_payment_id: Option<String>,
    pub date: i64,
    /// In the pull payment's currency.
    pub amount: String,
    /// In BTC, once approved.
    pub btc: Option<String>,
    pub state: String,
    pub txid: Option<String>,
    pub lightning: bool,
}

pub(super) fn payout_json(state: &State, p: &FakePayout) -> Value {
    let proof = match (&p.txid, p.lightning) {
        (Some(txid), false) => json!({"proofType": "PayoutTransactionOnChainBlob",
            "transactionId": txid, "candidates": [txid], "link": format!("https://mempool.space/tx/{txid}")}),
        (_, true) if p.state == "Completed" => json!({"proofType": "PayoutLightningBlob",
            "paymentHash": "5e1f0d6c2b3a49f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a291807"}),
        _ => Value::Null,
    };
    let mut v = json!({
        "date": p.date, "id": p.id, "pullPaymentId": p.pull_payment_id,
        "destination": if p.lightning { "lnbc1fake" } else { "bc1qcustomer" },
        "cryptoCode": "BTC", "amount": p.amount, "paymentMethodAmount": p.btc,
        "state": p.state, "revision": 0, "paymentProof": proof, "metadata": {}
    });
    let method = if v2(state) {
        (
            "payoutMethodId",
            if p.lightning { "BTC-LN" } else { "BTC-CHAIN" },
        )
    } else {
        (
            "paymentMethod",
            if p.lightning {
                "BTC-LightningNetwork"
            } else {
                "BTC"
            },
        )
    };
    v[method.0] = json!(method.1);
    v
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PayoutQuery {
    include_cancelled: Option<bool>,
}

#[handler]
pub(super) fn payouts(
    req: &Request,
    state: Data<&Shared>,
    Path(store): Path<String>,
    Query(q): Query<PayoutQuery>,
) -> Response {
    let s = match lock(req, state.0) {
        Some(s) => s,
        None => return unauthorised(),
    };
    if store != STORE || s.no_payouts_list {
        return StatusCode::NOT_FOUND.into_response();
    }
    let list: Vec<Value> = s
        .payouts
        .iter()
        .filter(|p| q.include_cancelled.unwrap_or(false) || p.state != "Cancelled")
        .map(|p| payout_json(&s, p))
        .collect();
    poem::web::Json(list).into_response()
}

#[handler]
pub(super) fn payout(
    req: &Request,
    state: Data<&Shared>,
    Path((store, id)): Path<(String, String)>,
) -> Response {
    let s = match lock(req, state.0) {
        Some(s) => s,
        None => return unauthorised(),
    };
    match s.payouts.iter().find(|p| p.id == id && store == STORE) {
        Some(p) => poem::web::Json(payout_json(&s, p)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Public in BTCPay: no key needed.
#[handler]
pub(super) fn pull_payment(state: Data<&Shared>, Path(id): Path<String>) -> Response {
    let s = state.0.lock().expect("state");
    match s.pull_payments.iter().find(|(pp, _)| *pp == id) {
        Some((pp, currency)) => {
            poem::web::Json(json!({"id": pp, "name": "Refund", "description": "",
            "currency": currency, "amount": "25", "period": null, "archived": false,
            "viewLink": format!("https://btcpay.invalid/pull-payments/{pp}")}))
            .into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn may_modify_webhooks(s: &State) -> bool {
    s.permissions.iter().any(|p| {
        p == "btcpay.store.webhooks.canmodifywebhooks"
            || *p == format!("btcpay.store.webhooks.canmodifywebhooks:{STORE}")
    })
}

fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        poem::web::Json(json!({"code": "missing-permission", "message": "Missing permission"})),
    )
        .into_response()
}

/// `POST /api/v1/stores/{storeId}/webhooks` (`StoreWebhookBaseData`).
#[handler]
pub(super) async fn create_webhook(
    req: &Request,
    state: Data<&Shared>,
    Path(store): Path<String>,
    body: poem::web::Json<Value>,
) -> Response {
    let mut s = match lock(req, state.0) {
        Some(s) => s,
        None => return unauthorised(),
    };
    if !may_modify_webhooks(&s) {
        return forbidden();
    }
    if store != STORE {
        return StatusCode::NOT_FOUND.into_response();
    }
    let url = body["url"].as_str().unwrap_or_default().to_string();
    let secret = body["secret"].as_str().unwrap_or_default().to_string();
    let id = format!("Wh{:020}", s.webhooks.len() + 1);
    s.webhooks.push((id.clone(), url.clone(), secret.clone()));
    poem::web::Json(
        json!({"id": id, "enabled": true, "automaticRedelivery": true, "url": url,
        "authorizedEvents": body["authorizedEvents"].clone(), "secret": secret}),
    )
    .into_response()
}

#[handler]
pub(super) async fn one_webhook(
    req: &Request,
    state: Data<&Shared>,
    Path((store, id)): Path<(String, String)>,
    body: Option<poem::web::Json<Value>>,
) -> Response {
    let mut s = match lock(req, state.0) {
        Some(s) => s,
        None => return unauthorised(),
    };
    if !may_modify_webhooks(&s) {
        return forbidden();
    }
    let Some(at) = s.webhooks.iter().position(|w| w.0 == id && store == STORE) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match *req.method() {
        poem::http::Method::DELETE => {
            s.webhooks.remove(at);
            StatusCode::OK.into_response()
        }
        poem::http::Method::PUT => {
            let body = body.map(|b| b.0).unwrap_or_default();
            if let Some(url) = body["url"].as_str() {
                s.webhooks[at].1 = url.to_string();
            }
            if let Some(secret) = body["secret"].as_str() {
                s.webhooks[at].2 = secret.to_string();
            }
            poem::web::Json(json!({"id": id, "url": s.webhooks[at].1})).into_response()
        }
        _ => poem::web::Json(
            json!({"id": id, "enabled": true, "automaticRedelivery": true,
            "url": s.webhooks[at].1, "authorizedEvents": {"everything": true}}),
        )
        .into_response(),
    }
}

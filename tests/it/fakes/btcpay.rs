//! A fake BTCPay Server on loopback: the Greenfield API a read-only consumer
//! uses (`api-keys/current`, `server/info`, store invoices with paging and
//! payment methods) in the JSON of either 1.x or 2.x, checking the
//! `Authorization: token` header; and webhook deliveries signed the way
//! BTCPay signs them (HMAC-SHA256 of the pretty-printed body, `BTCPay-Sig`),
//! with redeliveries that keep `originalDeliveryId`.

use std::sync::{Arc, Mutex};

use hmac::{Hmac, KeyInit, Mac};
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::{Data, Path, Query};
use poem::{EndpointExt, IntoResponse, Request, Response, Route, Server, get, handler};
use serde_json::{Value, json};
use sha2::Sha256;

pub use super::btcpay_more::FakePayout;
use super::btcpay_more::{create_webhook, one_webhook, payout, payouts, pull_payment};

#[derive(Debug, Clone)]
pub struct FakePayment {
    /// `<txid>-<vout>` on chain, a payment hash on Lightning.
    pub id: String,
    pub received: i64,
    pub value: String,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct FakeInvoice {
    pub id: String,
    pub status: String,
    pub currency: String,
    pub created: i64,
    pub monitoring_until: i64,
    pub order_id: Option<String>,
    pub rate: String,
    pub lightning: bool,
    pub payments: Vec<FakePayment>,
}

impl FakeInvoice {
    /// A settled invoice paid once, on chain or over Lightning.
    pub fn settled(id: &str, created: i64, value: &str, rate: &str, payment_id: &str) -> Self {
        FakeInvoice {
            id: id.into(),
            status: "Settled".into(),
            currency: "USD".into(),
            created,
            monitoring_until: created + 3600,
            order_id: Some(format!("order-{id}")),
            rate: rate.into(),
            lightning: !payment_id.contains('-'),
            payments: vec![FakePayment {
                id: payment_id.into(),
                received: created + 60,
                value: value.into(),
                status: "Settled".into(),
            }],
        }
    }
}

#[derive(Debug)]
pub struct State {
    pub version: String,
    pub api_key: String,
    pub permissions: Vec<String>,
    pub invoices: Vec<FakeInvoice>,
    pub payouts: Vec<FakePayout>,
    /// Answer 404 to the payouts list, as older servers do.
    pub no_payouts_list: bool,
    /// Pull payments: (id, currency).
    pub pull_payments: Vec<(String, String)>,
    /// Webhooks registered through the API: (id, url, secret).
    pub webhooks: Vec<(String, String, String)>,
    /// Every request target, in order.
    pub requests: Vec<String>,
    /// Counts deliveries, for fresh delivery ids.
    pub deliveries: u64,
}

pub struct FakeBtcpay {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

pub const STORE: &str = "HUZAUrnnsHztegnRKHhe9LQMcykQVq1Uaj8UyEbkgcWS";
pub const API_KEY: &str = "d7f8e9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6";

pub(super) fn v2(state: &State) -> bool {
    !state.version.starts_with("1.")
}

fn method_json(state: &State, inv: &FakeInvoice) -> Value {
    let payments: Vec<Value> = inv
        .payments
        .iter()
        .map(|p| {
            json!({"id": p.id, "receivedDate": p.received, "value": p.value, "fee": "0",
                   "status": p.status, "destination": "bc1qfake"})
        })
        .collect();
    if v2(state) {
        json!({
            "paymentMethodId": if inv.lightning { "BTC-LN" } else { "BTC-CHAIN" },
            "currency": "BTC", "destination": "bc1qfake", "paymentLink": "bitcoin:bc1qfake",
            "rate": inv.rate, "paymentMethodPaid": "0", "totalPaid": "0", "due": "0",
            "amount": "0", "paymentMethodFee": "0", "payments": payments, "activated": true,
            "additionalData": {}
        })
    } else {
        json!({
            "paymentMethod": if inv.lightning { "BTC-LightningNetwork" } else { "BTC" },
            "cryptoCode": "BTC", "destination": "bc1qfake", "paymentLink": "bitcoin:bc1qfake",
            "rate": inv.rate, "paymentMethodPaid": "0", "totalPaid": "0", "due": "0",
            "amount": "0", "networkFee": "0", "payments": payments, "activated": true,
            "additionalData": {}
        })
    }
}

fn invoice_json(state: &State, inv: &FakeInvoice, with_methods: bool) -> Value {
    let mut v = json!({
        "id": inv.id, "storeId": STORE, "amount": "10", "currency": inv.currency,
        "type": "Standard", "checkoutLink": format!("https://btcpay.invalid/i/{}", inv.id),
        "status": inv.status, "additionalStatus": "None", "createdTime": inv.created,
        "expirationTime": inv.created + 900, "monitoringExpiration": inv.monitoring_until,
        "archived": false, "metadata": inv.order_id.as_ref().map_or(json!({}), |o| json!({"orderId": o})),
        "checkout": {"speedPolicy": "MediumSpeed"}, "availableStatusesForManualMarking": []
    });
    if v2(state) {
        v["paidAmount"] = json!("10");
    }
    if with_methods {
        v["paymentMethods"] = json!([method_json(state, inv)]);
    }
    v
}

fn version(text: &str) -> (u32, u32, u32) {
    let mut parts = text.split('.').map(|p| p.parse().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}

pub(super) fn authorised(req: &Request, state: &State) -> bool {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("token {}", state.api_key))
}

pub(super) fn unauthorised() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        poem::web::Json(
            json!({"code": "unauthenticated", "message": "Authentication is required"}),
        ),
    )
        .into_response()
}

pub(super) type Shared = Arc<Mutex<State>>;

macro_rules! guard {
    ($req:expr, $state:expr) => {{
        let mut s = $state.lock().expect("state");
        s.requests.push($req.uri().to_string());
        if !authorised($req, &s) {
            return unauthorised();
        }
        s
    }};
}

#[handler]
fn current_key(req: &Request, state: Data<&Shared>) -> Response {
    let s = guard!(req, state.0);
    poem::web::Json(
        json!({"apiKey": s.api_key, "label": "ledgersys", "permissions": s.permissions}),
    )
    .into_response()
}

#[handler]
fn server_info(req: &Request, state: Data<&Shared>) -> Response {
    let s = guard!(req, state.0);
    poem::web::Json(json!({"version": s.version, "onion": null,
        "supportedPaymentMethods": ["BTC-CHAIN", "BTC-LN"], "fullySynched": true, "syncStatus": []}))
    .into_response()
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    start_date: Option<i64>,
    skip: Option<usize>,
    take: Option<usize>,
    include_payment_methods: Option<bool>,
}

#[handler]
fn invoices(
    req: &Request,
    state: Data<&Shared>,
    Path(store): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let s = guard!(req, state.0);
    if store != STORE {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut list: Vec<&FakeInvoice> = s
        .invoices
        .iter()
        .filter(|i| i.created >= q.start_date.unwrap_or(0))
        .collect();
    // Newest first, as BTCPay sorts them.
    list.sort_by_key(|i| std::cmp::Reverse(i.created));
    // Payment methods in the list only from 2.3.6 on.
    let with = q.include_payment_methods.unwrap_or(false) && version(&s.version) >= (2, 3, 6);
    let page: Vec<Value> = list
        .into_iter()
        .skip(q.skip.unwrap_or(0))
        .take(q.take.unwrap_or(usize::MAX))
        .map(|i| invoice_json(&s, i, with))
        .collect();
    poem::web::Json(page).into_response()
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct OneQuery {
    include_payment_methods: Option<bool>,
}

#[handler]
fn invoice(
    req: &Request,
    state: Data<&Shared>,
    Path((store, id)): Path<(String, String)>,
    Query(q): Query<OneQuery>,
) -> Response {
    let s = guard!(req, state.0);
    // Payment methods with the invoice only from 2.3.6 on.
    let with = q.include_payment_methods.unwrap_or(false) && version(&s.version) >= (2, 3, 6);
    match s.invoices.iter().find(|i| i.id == id && store == STORE) {
        Some(i) => poem::web::Json(invoice_json(&s, i, with)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[handler]
fn payment_methods(
    req: &Request,
    state: Data<&Shared>,
    Path((store, id)): Path<(String, String)>,
) -> Response {
    let s = guard!(req, state.0);
    match s.invoices.iter().find(|i| i.id == id && store == STORE) {
        Some(i) => poem::web::Json(json!([method_json(&s, i)])).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// BTCPay's signature header for a body.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl FakeBtcpay {
    pub async fn start(version: &str, permissions: &[String]) -> FakeBtcpay {
        let state = Arc::new(Mutex::new(State {
            version: version.into(),
            api_key: API_KEY.into(),
            permissions: permissions.to_vec(),
            invoices: Vec::new(),
            payouts: Vec::new(),
            no_payouts_list: false,
            pull_payments: Vec::new(),
            webhooks: Vec::new(),
            requests: Vec::new(),
            deliveries: 0,
        }));
        let app = Route::new()
            .at("/api/v1/api-keys/current", get(current_key))
            .at("/api/v1/server/info", get(server_info))
            .at("/api/v1/stores/:store/invoices", get(invoices))
            .at("/api/v1/stores/:store/invoices/:id", get(invoice))
            .at(
                "/api/v1/stores/:store/invoices/:id/payment-methods",
                get(payment_methods),
            )
            .at("/api/v1/stores/:store/payouts", get(payouts))
            .at("/api/v1/stores/:store/payouts/:id", get(payout))
            .at("/api/v1/pull-payments/:id", get(pull_payment))
            .at("/api/v1/stores/:store/webhooks", poem::post(create_webhook))
            .at(
                "/api/v1/stores/:store/webhooks/:id",
                get(one_webhook).put(one_webhook).delete(one_webhook),
            )
            .data(state.clone());
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind");
        let addr = acceptor.local_addr()[0]
            .as_socket_addr()
            .copied()
            .expect("addr");
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        FakeBtcpay {
            url: format!("http://{addr}"),
            state,
        }
    }

    pub fn set(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state.lock().expect("state"));
    }

    fn next_delivery_id(&self) -> String {
        let mut s = self.state.lock().expect("state");
        s.deliveries += 1;
        format!("Dlv{:019}", s.deliveries)
    }

    /// A webhook body as BTCPay writes it: pretty-printed, camelCase, Unix
    /// seconds, amounts as strings; 1.x or 2.x field names.
    pub fn event(&self, kind: &str, invoice_id: &str, original: Option<&str>) -> (String, Vec<u8>) {
        let delivery = self.next_delivery_id();
        let original = original.map_or(delivery.clone(), str::to_string);
        let s = self.state.lock().expect("state");
        let mut body = json!({
            "deliveryId": delivery,
            "webhookId": "V9YybsYgDaguxf98N54SJr",
            "originalDeliveryId": original,
            "isRedelivery": original != delivery,
            "type": kind,
            "timestamp": 1_700_000_000,
            "storeId": STORE,
            "invoiceId": invoice_id,
            "metadata": {},
        });
        match kind {
            "InvoiceSettled" => {
                body["manuallyMarked"] = json!(false);
                body["overPaid"] = json!(false);
            }
            "InvoiceInvalid" => body["manuallyMarked"] = json!(true),
            "InvoicePaymentSettled" | "InvoiceReceivedPayment" => {
                if let Some(inv) = s.invoices.iter().find(|i| i.id == invoice_id) {
                    let method = method_json(&s, inv);
                    let id_field = if v2(&s) {
                        "paymentMethodId"
                    } else {
                        "paymentMethod"
                    };
                    body[id_field] = method
                        .get("paymentMethodId")
                        .or(method.get("paymentMethod"))
                        .cloned()
                        .unwrap_or(Value::Null);
                    body["afterExpiration"] = json!(false);
                    if let Some(p) = inv.payments.first() {
                        body["payment"] = json!({"id": p.id, "receivedDate": p.received,
                            "value": p.value, "fee": "0", "status": p.status, "destination": "bc1qfake"});
                    }
                }
            }
            k if k.starts_with("Payout") => {
                let map = body.as_object_mut().expect("object");
                map.remove("invoiceId");
                map.remove("metadata");
                map.insert("payoutId".into(), json!(invoice_id));
                let found = s.payouts.iter().find(|p| p.id == invoice_id);
                map.insert(
                    "pullPaymentId".into(),
                    json!(found.and_then(|p| p.pull_payment_id.clone())),
                );
                map.insert(
                    "payoutState".into(),
                    json!(found.map_or("Completed", |p| p.state.as_str())),
                );
            }
            k if k.starts_with("PaymentRequest") => {
                let map = body.as_object_mut().expect("object");
                map.remove("invoiceId");
                map.remove("metadata");
                map.insert("paymentRequestId".into(), json!(invoice_id));
                map.insert("status".into(), json!("Completed"));
            }
            "InvoiceProcessing" => body["overPaid"] = json!(false),
            "InvoiceExpired" => body["partiallyPaid"] = json!(false),
            _ => {}
        }
        (
            original,
            serde_json::to_vec_pretty(&body).expect("serialise"),
        )
    }

    /// The "send test webhook" event of BTCPay ≤ 2.2: `__test__` ids.
    pub fn test_event(&self) -> Vec<u8> {
        let id = "__test__9f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b__test__";
        serde_json::to_vec_pretty(&json!({
            "deliveryId": id, "webhookId": "V9YybsYgDaguxf98N54SJr", "originalDeliveryId": id,
            "isRedelivery": false, "type": "InvoiceSettled", "timestamp": 1_700_000_000,
            "storeId": STORE, "invoiceId": id, "metadata": null,
            "manuallyMarked": false, "overPaid": false
        }))
        .expect("serialise")
    }

    /// POSTs a body to `url` the way BTCPay's webhook sender does.
    pub async fn deliver(&self, url: &str, secret: &str, body: &[u8]) -> reqwest::Response {
        let version = self.state.lock().expect("state").version.clone();
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client")
            .post(url)
            .header("Content-Type", "application/json")
            .header("BTCPay-Sig", sign(secret, body))
            .header("User-Agent", format!("BTCPayServer/{version}"))
            .body(body.to_vec())
            .send()
            .await
            .expect("deliver")
    }
}

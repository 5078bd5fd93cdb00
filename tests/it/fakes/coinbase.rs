//! A fake Coinbase on loopback: the read calls Ledgersys may make, each
//! checked the way Coinbase checks a CDP key's JWT: the signature with the
//! key's public key (ES256 or EdDSA), `kid` and `sub` the key name, a
//! `nbf`/`exp` window of at most 120 s around now, `iss` as configured,
//! and `uri` = "METHOD host:port/path" of this very request. Anything else
//! is a 401. `/v2/accounts` and the transactions page with `limit`,
//! `starting_after`, `order` and `pagination.next_uri`; a call can be
//! answered 429 (with `Retry-After`) or a page failed on demand.
//!
//! Keys are made fresh in each test (ring), never stored.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, IntoResponse, Request, Response, Route, Server, handler};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, EcdsaKeyPair,
    Ed25519KeyPair, KeyPair as _, UnparsedPublicKey,
};
use serde_json::{Value, json};

/// A CDP key made for one test: its name, its secret as the portal shows
/// it, and the public half the fake verifies with.
#[derive(Clone)]
pub struct TestKey {
    pub name: String,
    pub secret: String,
    pub alg: &'static str,
    pub public: Vec<u8>,
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    if content.len() < 0x80 {
        out.push(content.len() as u8);
    } else {
        out.extend([0x81, content.len() as u8]);
    }
    out.extend_from_slice(content);
    out
}

/// One DER element: (content, rest).
fn tlv(input: &[u8]) -> (&[u8], &[u8]) {
    let first = input[1] as usize;
    let (len, head) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        (
            input[2..2 + n]
                .iter()
                .fold(0usize, |a, b| a << 8 | *b as usize),
            2 + n,
        )
    };
    (&input[head..head + len], &input[head + len..])
}

impl TestKey {
    fn name() -> String {
        let mut id = [0u8; 8];
        SystemRandom::new().fill(&mut id).expect("random");
        format!("organizations/test-org/apiKeys/test-{}", hex::encode(id))
    }

    /// An ECDSA key as the CDP portal gives it: SEC1 PEM, curve named,
    /// public key included (as OpenSSL writes it).
    pub fn es256() -> TestKey {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("pair");
        let (info, _) = tlv(pkcs8.as_ref());
        let (_, rest) = tlv(info); // version
        let (_, rest) = tlv(rest); // algorithm
        let (ring_sec1, _) = tlv(rest);
        let (inner, _) = tlv(ring_sec1);
        let (_, rest) = tlv(inner); // version 1
        let (private, _) = tlv(rest);
        let p256 = der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);
        let point = [&[0u8][..], pair.public_key().as_ref()].concat();
        let sec1 = der(
            0x30,
            &[
                der(0x02, &[1]),
                der(0x04, private),
                der(0xa0, &p256),
                der(0xa1, &der(0x03, &point)),
            ]
            .concat(),
        );
        let body = STANDARD.encode(&sec1);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).expect("ascii"))
            .collect();
        TestKey {
            name: Self::name(),
            secret: format!(
                "-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----\n",
                lines.join("\n")
            ),
            alg: "ES256",
            public: pair.public_key().as_ref().to_vec(),
        }
    }

    /// An Ed25519 key: base64 of the seed and the public key.
    pub fn ed25519() -> TestKey {
        let mut seed = [0u8; 32];
        SystemRandom::new().fill(&mut seed).expect("random");
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).expect("pair");
        TestKey {
            name: Self::name(),
            secret: STANDARD.encode([&seed[..], pair.public_key().as_ref()].concat()),
            alg: "EdDSA",
            public: pair.public_key().as_ref().to_vec(),
        }
    }
}

/// The documented answers of `key_permissions`.
pub fn read_only() -> Value {
    json!({"can_view": true, "can_trade": false, "can_transfer": false,
           "portfolio_uuid": "11111111-2222-3333-4444-555555555555", "portfolio_type": "DEFAULT"})
}
pub fn can_trade() -> Value {
    json!({"can_view": true, "can_trade": true, "can_transfer": false,
           "portfolio_uuid": "11111111-2222-3333-4444-555555555555", "portfolio_type": "DEFAULT"})
}
pub fn can_transfer() -> Value {
    json!({"can_view": true, "can_trade": false, "can_transfer": true,
           "portfolio_uuid": "11111111-2222-3333-4444-555555555555", "portfolio_type": "CONSUMER"})
}
/// Read-only, with fields this code does not know.
pub fn read_only_with_more() -> Value {
    json!({"can_view": true, "can_trade": false, "can_transfer": false,
           "portfolio_uuid": "p-1", "portfolio_type": "UNDEFINED", "can_sign": false,
           "scopes": ["view"]})
}

pub struct Account {
    pub id: String,
    pub currency: &'static str,
    pub balance: String,
    pub transactions: Vec<Value>,
}

pub struct State {
    pub key: TestKey,
    /// The `iss` accepted.
    pub issuer: String,
    pub permissions: Value,
    pub accounts: Vec<Account>,
    /// `/v2/accounts` pages at most this many.
    pub accounts_page: usize,
    /// Answer the next this many calls 429 with `Retry-After: 1`.
    pub rate_limited: u32,
    /// Answer 500 to any transactions page starting at or past this
    /// position of an account's history.
    pub fail_from: Option<usize>,
    /// Each transactions page waits this long.
    pub delay_ms: u64,
    /// Calls, as "GET /path?query", in order; 401s included.
    pub calls: Vec<String>,
    pub refused: u32,
}

pub struct FakeCoinbase {
    pub url: String,
    state: Arc<Mutex<State>>,
}

/// Coinbase's check of one request's token; `host` is `host:port` as the
/// request reached it.
pub fn verify(
    token: &str,
    key: &TestKey,
    issuer: &str,
    method: &str,
    host: &str,
    path: &str,
    now: i64,
) -> Result<(), &'static str> {
    let parts: Vec<&str> = token.split('.').collect();
    let [head, body, sig] = parts[..] else {
        return Err("not a JWT");
    };
    let decode = |p: &str| -> Result<Value, &'static str> {
        let bytes = URL_SAFE_NO_PAD.decode(p).map_err(|_| "not base64url")?;
        serde_json::from_slice(&bytes).map_err(|_| "not JSON")
    };
    let header = decode(head)?;
    let claims = decode(body)?;
    if header["alg"] != key.alg || header["typ"] != "JWT" {
        return Err("alg");
    }
    if header["kid"] != key.name.as_str() || claims["sub"] != key.name.as_str() {
        return Err("kid/sub");
    }
    if header["nonce"].as_str().is_none_or(|n| n.len() < 16) {
        return Err("nonce");
    }
    if claims["iss"] != issuer {
        return Err("iss");
    }
    let (Some(nbf), Some(exp)) = (claims["nbf"].as_i64(), claims["exp"].as_i64()) else {
        return Err("nbf/exp");
    };
    if nbf > now + 5 || exp <= now || exp - nbf > 120 {
        return Err("window");
    }
    if claims["uri"] != format!("{method} {host}{path}").as_str() {
        return Err("uri");
    }
    let signature = URL_SAFE_NO_PAD.decode(sig).map_err(|_| "signature")?;
    let input = format!("{head}.{body}");
    let checked = match key.alg {
        "ES256" => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &key.public)
            .verify(input.as_bytes(), &signature),
        _ => UnparsedPublicKey::new(&ED25519, &key.public).verify(input.as_bytes(), &signature),
    };
    checked.map_err(|_| "signature")
}

fn answer(status: StatusCode, body: Value) -> Response {
    poem::web::Json(body).with_status(status).into_response()
}

fn query(req: &Request) -> BTreeMap<String, String> {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// A v2 page of `items` (ids in field `id`) after `starting_after`.
fn paged(items: &[Value], q: &BTreeMap<String, String>, path: &str, cap: usize) -> (Value, usize) {
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(25)
        .clamp(1, 100)
        .min(cap);
    let mut ordered: Vec<&Value> = items.iter().collect();
    let asc = q.get("order").map(String::as_str) == Some("asc");
    if !asc {
        ordered.reverse();
    }
    let start = match q.get("starting_after") {
        Some(after) => ordered
            .iter()
            .position(|v| v["id"] == after.as_str())
            .map_or(ordered.len(), |i| i + 1),
        None => 0,
    };
    let page: Vec<Value> = ordered
        .iter()
        .skip(start)
        .take(limit)
        .map(|v| (*v).clone())
        .collect();
    let more = start + page.len() < ordered.len();
    let next = match (more, page.last()) {
        (true, Some(last)) => json!(format!(
            "{path}?{}limit={limit}&starting_after={}",
            if asc { "order=asc&" } else { "" },
            last["id"].as_str().unwrap_or("")
        )),
        _ => Value::Null,
    };
    let body = json!({
        "pagination": {"limit": limit, "order": if asc {"asc"} else {"desc"},
                       "starting_after": q.get("starting_after"), "ending_before": null,
                       "next_uri": next},
        "data": page,
    });
    (body, start)
}

#[handler]
async fn any(req: &Request, state: Data<&Arc<Mutex<State>>>, host: Data<&String>) -> Response {
    let path = req.uri().path().to_string();
    let delay = {
        let mut s = state.lock().expect("state");
        s.calls.push(format!(
            "{} {path}{}",
            req.method(),
            req.uri()
                .query()
                .map(|q| format!("?{q}"))
                .unwrap_or_default()
        ));
        let token = req
            .header("Authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
            .unwrap_or("");
        let now = ledgersys::clock::now();
        if verify(
            token,
            &s.key,
            &s.issuer,
            req.method().as_str(),
            &host,
            &path,
            now,
        )
        .is_err()
        {
            s.refused += 1;
            return answer(
                StatusCode::UNAUTHORIZED,
                json!({"error": "unauthorized", "message": "Unauthorized"}),
            );
        }
        if s.rate_limited > 0 {
            s.rate_limited -= 1;
            let mut r = answer(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"errors": [{"id": "rate_limit_exceeded", "message": "Too many requests"}]}),
            );
            r.headers_mut()
                .insert("Retry-After", poem::http::HeaderValue::from_static("1"));
            return r;
        }
        s.delay_ms
    };
    if req.method() != poem::http::Method::GET {
        return answer(
            StatusCode::NOT_FOUND,
            json!({"errors": [{"id": "not_found"}]}),
        );
    }
    let q = query(req);
    if path.contains("/transactions") && delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let s = state.lock().expect("state");
    if path == "/api/v3/brokerage/key_permissions" {
        return answer(StatusCode::OK, s.permissions.clone());
    }
    if path == "/v2/accounts" {
        let accounts: Vec<Value> = s
            .accounts
            .iter()
            .map(|a| {
                json!({"id": a.id, "name": format!("{} Wallet", a.currency), "primary": false,
                       "type": "wallet",
                       "currency": {"code": a.currency, "name": a.currency},
                       "balance": {"amount": a.balance, "currency": a.currency}})
            })
            .collect();
        return answer(
            StatusCode::OK,
            paged(&accounts, &q, &path, s.accounts_page).0,
        );
    }
    let segments: Vec<&str> = path.split('/').collect();
    if let ["", "v2", "accounts", id, "transactions"] = segments[..]
        && let Some(account) = s.accounts.iter().find(|a| a.id == id)
    {
        let (body, start) = paged(&account.transactions, &q, &path, 100);
        if s.fail_from.is_some_and(|f| start >= f) {
            return answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"errors": [{"id": "internal_server_error"}]}),
            );
        }
        return answer(StatusCode::OK, body);
    }
    answer(
        StatusCode::NOT_FOUND,
        json!({"errors": [{"id": "not_found", "message": "Not found"}]}),
    )
}

impl FakeCoinbase {
    pub async fn start(key: &TestKey, issuer: &str) -> FakeCoinbase {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind");
        let addr = acceptor.local_addr()[0]
            .as_socket_addr()
            .copied()
            .expect("addr");
        let host = addr.to_string();
        let state = Arc::new(Mutex::new(State {
            key: key.clone(),
            issuer: issuer.to_string(),
            permissions: read_only(),
            accounts: Vec::new(),
            accounts_page: 100,
            rate_limited: 0,
            fail_from: None,
            delay_ms: 0,
            calls: Vec::new(),
            refused: 0,
        }));
        let app = Route::new()
            .at("/*path", any)
            .data(state.clone())
            .data(host.clone());
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        FakeCoinbase {
            url: format!("http://{host}"),
            state,
        }
    }

    pub fn set(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state.lock().expect("state"));
    }

    pub fn calls(&self) -> Vec<String> {
        self.state.lock().expect("state").calls.clone()
    }

    pub fn refused(&self) -> u32 {
        self.state.lock().expect("state").refused
    }

    /// Transactions pages asked for so far.
    pub fn pages(&self) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.contains("/transactions"))
            .count()
    }
}

fn money(amount: String, currency: &str) -> Value {
    json!({"amount": amount, "currency": currency})
}

fn at(i: usize) -> String {
    jiff::Timestamp::from_second(1_704_067_200 + 3600 * i as i64)
        .expect("time")
        .to_string()
}

/// `buys` purchases of 0.01 BTC for 400.00 USD each, ids `cb-buy-NNNNN`.
pub fn buys(buys: usize) -> Vec<Value> {
    (0..buys)
        .map(|i| {
            json!({"id": format!("cb-buy-{i:05}"), "type": "buy", "status": "completed",
                   "amount": money("0.01000000".into(), "BTC"),
                   "native_amount": money("400.00".into(), "USD"),
                   "created_at": at(i), "description": null,
                   "details": {"title": "Bought Bitcoin", "subtitle": "Using USD Wallet"}})
        })
        .collect()
}

/// Every kind of entry once, after `first` hours: a buy (0.1), a receive
/// (0.05, on chain), an advanced trade fill selling 0.02, interest
/// 0.0001, a send of 0.0301 including a 0.0001 fee, a pending send (not
/// counted) and a failed buy (not counted). Net: +0.1 BTC.
pub fn every_kind(first: usize) -> Vec<Value> {
    let t = |k: usize| at(first + k);
    vec![
        json!({"id": "cb-mix-1", "type": "buy", "status": "completed",
               "amount": money("0.10000000".into(), "BTC"), "native_amount": money("4262.50".into(), "USD"),
               "created_at": t(0)}),
        json!({"id": "cb-mix-2", "type": "send", "status": "completed",
               "amount": money("0.05000000".into(), "BTC"), "native_amount": money("2100.00".into(), "USD"),
               "created_at": t(1), "network": {"status": "confirmed", "hash": "aa".repeat(32)}}),
        json!({"id": "cb-mix-3", "type": "advanced_trade_fill", "status": "completed",
               "amount": money("-0.02000000".into(), "BTC"), "native_amount": money("-860.00".into(), "USD"),
               "created_at": t(2)}),
        json!({"id": "cb-mix-4", "type": "interest", "status": "completed",
               "amount": money("0.00010000".into(), "BTC"), "native_amount": money("4.30".into(), "USD"),
               "created_at": t(3)}),
        json!({"id": "cb-mix-5", "type": "send", "status": "completed",
               "amount": money("-0.03010000".into(), "BTC"), "native_amount": money("-1290.00".into(), "USD"),
               "created_at": t(4),
               "network": {"status": "confirmed", "hash": "bb".repeat(32),
                           "transaction_fee": money("0.00010000".into(), "BTC")}}),
        json!({"id": "cb-mix-6", "type": "send", "status": "pending",
               "amount": money("-0.01000000".into(), "BTC"), "native_amount": money("-430.00".into(), "USD"),
               "created_at": t(5), "network": {"status": "pending"}}),
        json!({"id": "cb-mix-7", "type": "buy", "status": "failed",
               "amount": money("0.50000000".into(), "BTC"), "native_amount": money("21500.00".into(), "USD"),
               "created_at": t(6)}),
    ]
}

/// A USD account and an ETH account beside the BTC ones, which must not
/// count.
pub fn other_accounts() -> Vec<Account> {
    vec![
        Account {
            id: "acct-usd".into(),
            currency: "USD",
            balance: "1234.56".into(),
            transactions: Vec::new(),
        },
        Account {
            id: "acct-eth".into(),
            currency: "ETH",
            balance: "2.000000000000000000".into(),
            transactions: Vec::new(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use ledgersys::sources::exchanges::coinbase_jwt::Signer;

    use super::*;

    /// The fake's verifier accepts what the adapter signs, for both key
    /// kinds, and refuses any change to it.
    #[test]
    fn the_verifier_accepts_the_adapters_tokens_and_refuses_tampered_ones() {
        let now = 1_750_000_000;
        let (host, path) = ("127.0.0.1:4000", "/v2/accounts");
        for key in [TestKey::es256(), TestKey::ed25519()] {
            let signer = Signer::from_secret(&key.secret).expect("secret");
            let token = signer
                .jwt(&key.name, "cdp", &format!("GET {host}{path}"), now)
                .expect("jwt");
            assert_eq!(verify(&token, &key, "cdp", "GET", host, path, now), Ok(()));
            assert_eq!(
                verify(&token, &key, "coinbase-cloud", "GET", host, path, now),
                Err("iss")
            );
            assert_eq!(
                verify(&token, &key, "cdp", "POST", host, path, now),
                Err("uri")
            );
            assert_eq!(
                verify(&token, &key, "cdp", "GET", "127.0.0.1:4001", path, now),
                Err("uri")
            );
            assert_eq!(
                verify(&token, &key, "cdp", "GET", host, path, now + 121),
                Err("window")
            );
            // The claims changed after signing.
            let parts: Vec<&str> = token.split('.').collect();
            let mut claims: Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64"))
                    .expect("json");
            claims["uri"] = json!(format!("GET {host}/v2/user"));
            let tampered = format!(
                "{}.{}.{}",
                parts[0],
                URL_SAFE_NO_PAD.encode(claims.to_string()),
                parts[2]
            );
            assert_eq!(
                verify(&tampered, &key, "cdp", "GET", host, "/v2/user", now),
                Err("signature")
            );
            let other = if key.alg == "ES256" {
                TestKey::es256()
            } else {
                TestKey::ed25519()
            };
            let foreign = TestKey {
                name: key.name.clone(),
                ..other
            };
            assert_eq!(
                verify(&token, &foreign, "cdp", "GET", host, path, now),
                Err("signature")
            );
        }
    }
}

//! A fake Kraken on loopback: the private REST calls Ledgersys may make,
//! each checked the way Kraken checks it: `API-Key`, `API-Sign` recomputed
//! from the body (HMAC-SHA512 over the path and SHA-256 of nonce and body,
//! keyed with the base64-decoded secret), and a nonce above the last one.
//! `Ledgers` pages 50 at a time, newest first, with `start` exclusive and
//! `end` inclusive; a page can be refused for the rate limit on demand.
//! The Export API (with the `export-data` permission) writes the ledger as
//! Kraken's web export does, `ledgers.csv` in a zip, ready after a set
//! number of status questions.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::{Data, Path};
use poem::{EndpointExt, IntoResponse, Request, Route, Server, handler, post};
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha512};

pub const KEY: &str = "kraken-test-key-A1B2C3D4E5F6G7H8I9J0";
/// A 64-byte secret, base64 as Kraken shows it.
pub const SECRET: &str =
    "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0xMjM0NTY3OA==";

pub const READ_ONLY: &[&str] = &["query-funds", "query-ledger", "query-closed-trades"];

#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub refid: String,
    pub time: i64,
    pub kind: &'static str,
    pub asset: &'static str,
    pub amount: String,
    pub fee: String,
}

pub struct State {
    pub permissions: Vec<String>,
    pub entries: Vec<Entry>,
    /// The BTC balance `Balance` reports.
    pub btc_balance: String,
    pub last_nonce: u64,
    /// Answer the next this many calls with the rate-limit error.
    pub rate_limited: u32,
    /// Calls by method, in order.
    pub calls: Vec<String>,
    /// Each `Ledgers` answer waits this long (to stop a sync half way).
    pub ledgers_delay_ms: u64,
    /// Export reports asked for, by id.
    pub exports: Vec<Export>,
    /// `ExportStatus` says "Processing" this many times before "Processed".
    pub export_polls: u32,
    /// Exports end as "Failed" instead.
    pub export_fails: bool,
}

/// One export report: the ledger as it was when asked for.
#[derive(Debug, Clone)]
pub struct Export {
    pub id: String,
    pub csv: String,
    pub polls_left: u32,
    pub removed: bool,
}

/// `ledgers.csv` as Kraken's web export writes it.
pub fn ledgers_csv(entries: &[Entry]) -> String {
    let mut out = String::from(
        "\"txid\",\"refid\",\"time\",\"type\",\"subtype\",\"aclass\",\"asset\",\"wallet\",\"amount\",\"fee\",\"balance\"\n",
    );
    for e in entries {
        let time = jiff::Timestamp::from_second(e.time)
            .expect("time")
            .strftime("%Y-%m-%d %H:%M:%S.1234");
        out.push_str(&format!(
            "\"{}\",\"{}\",\"{time}\",\"{}\",\"\",\"currency\",\"{}\",\"spot / main\",\"{}\",\"{}\",\"0.0000000000\"\n",
            e.id, e.refid, e.kind, e.asset, e.amount, e.fee
        ));
    }
    out
}

fn zipped(name: &str, text: &str) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut out);
    w.start_file(
        name,
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated),
    )
    .expect("zip");
    std::io::Write::write_all(&mut w, text.as_bytes()).expect("zip");
    w.finish().expect("zip");
    out.into_inner()
}

pub struct FakeKraken {
    pub url: String,
    state: Arc<Mutex<State>>,
}

/// Kraken's signature for `path` and the exact `body`.
pub fn signature(path: &str, body: &str, secret: &str) -> Option<String> {
    let nonce = form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "nonce")
        .map(|(_, v)| v.into_owned())?;
    let key = STANDARD.decode(secret).ok()?;
    let digest = Sha256::new()
        .chain_update(nonce)
        .chain_update(body)
        .finalize();
    let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(&key).ok()?;
    mac.update(path.as_bytes());
    mac.update(&digest);
    Some(STANDARD.encode(mac.finalize().into_bytes()))
}

fn refuse(error: &str) -> Value {
    json!({"error": [error]})
}

#[handler]
async fn private(
    req: &Request,
    Path(method): Path<String>,
    body: String,
    state: Data<&Arc<Mutex<State>>>,
) -> poem::Response {
    let (answer, delay) = answer(req, &method, &body, &state);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    // RetrieveExport answers the zip itself.
    if let Some(zip) = answer["zip"].as_str() {
        return poem::Response::builder()
            .content_type("application/octet-stream")
            .body(STANDARD.decode(zip).expect("zip"));
    }
    poem::web::Json(answer).into_response()
}

/// The answer, and how long to wait before giving it.
fn answer(req: &Request, method: &str, body: &str, state: &Mutex<State>) -> (Value, u64) {
    let mut s = state.lock().expect("state");
    let method = method.to_string();
    let body = body.to_string();
    s.calls.push(method.clone());
    let path = format!("/0/private/{method}");
    if req.header("API-Key") != Some(KEY) {
        return (refuse("EAPI:Invalid key"), 0);
    }
    if req.header("API-Sign").is_none()
        || signature(&path, &body, SECRET).as_deref() != req.header("API-Sign")
    {
        return (refuse("EAPI:Invalid signature"), 0);
    }
    let form: std::collections::HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let nonce: u64 = form.get("nonce").and_then(|n| n.parse().ok()).unwrap_or(0);
    if nonce <= s.last_nonce {
        return (refuse("EAPI:Invalid nonce"), 0);
    }
    s.last_nonce = nonce;
    if s.rate_limited > 0 {
        s.rate_limited -= 1;
        return (refuse("EAPI:Rate limit exceeded"), 0);
    }
    let result = match method.as_str() {
        "GetApiKeyInfo" => json!({
            "apiKeyName": "ledgersys", "apiKey": KEY, "nonce": "0", "nonceWindow": 0,
            "permissions": s.permissions, "iban": "AA00 0000", "validUntil": "0",
            "queryFrom": "0", "queryTo": "0", "createdTime": "1700000000",
            "modifiedTime": "1700000000", "ipAllowlist": [], "lastUsed": "0"
        }),
        "Balance" => json!({"ZUSD": "100.0000", "XXBT": s.btc_balance}),
        "Ledgers" => ledgers(&s.entries, &form),
        "AddExport" | "ExportStatus" | "RetrieveExport" | "RemoveExport"
            if !s.permissions.iter().any(|p| p == "export-data") =>
        {
            return (refuse("EGeneral:Permission denied"), 0);
        }
        "AddExport" => {
            if form.get("report").map(String::as_str) != Some("ledgers") {
                return (refuse("EGeneral:Invalid arguments"), 0);
            }
            let id = format!("EXP{}", s.exports.len() + 1);
            let csv = ledgers_csv(&s.entries);
            let polls_left = s.export_polls;
            s.exports.push(Export {
                id: id.clone(),
                csv,
                polls_left,
                removed: false,
            });
            json!({"id": id})
        }
        "ExportStatus" => {
            let fails = s.export_fails;
            let reports: Vec<Value> = s
                .exports
                .iter_mut()
                .filter(|e| !e.removed)
                .map(|e| {
                    let status = if fails {
                        "Failed"
                    } else if e.polls_left > 0 {
                        e.polls_left -= 1;
                        "Processing"
                    } else {
                        "Processed"
                    };
                    json!({"id": e.id, "descr": "Ledgersys first sync", "format": "CSV",
                           "report": "ledgers", "status": status, "flags": "0",
                           "fields": "all", "createdtm": "1700000000"})
                })
                .collect();
            json!(reports)
        }
        "RetrieveExport" => {
            let id = form.get("id").cloned().unwrap_or_default();
            match s.exports.iter().find(|e| e.id == id && !e.removed) {
                Some(e) if e.polls_left == 0 => {
                    return (
                        json!({"zip": STANDARD.encode(zipped("ledgers.csv", &e.csv))}),
                        0,
                    );
                }
                _ => return (refuse("EGeneral:Invalid arguments"), 0),
            }
        }
        "RemoveExport" => {
            let id = form.get("id").cloned().unwrap_or_default();
            match s.exports.iter_mut().find(|e| e.id == id && !e.removed) {
                Some(e) => {
                    e.removed = true;
                    json!({"delete": true})
                }
                None => return (refuse("EGeneral:Invalid arguments"), 0),
            }
        }
        _ => return (refuse("EGeneral:Unknown method"), 0),
    };
    let delay = if method == "Ledgers" {
        s.ledgers_delay_ms
    } else {
        0
    };
    (json!({"error": [], "result": result}), delay)
}

fn ledgers(entries: &[Entry], form: &std::collections::HashMap<String, String>) -> Value {
    let number = |k: &str| form.get(k).and_then(|v| v.parse::<f64>().ok());
    let start = number("start").map_or(i64::MIN, |v| v as i64);
    let end = number("end").map_or(i64::MAX, |v| v as i64);
    let ofs = form
        .get("ofs")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    // `entries` is in time order (`FakeKraken::set`): newest first is the
    // range read backwards.
    let from = entries.partition_point(|e| e.time <= start);
    let to = entries.partition_point(|e| e.time <= end);
    let matching = &entries[from..to.max(from)];
    let page: serde_json::Map<String, Value> = matching
        .iter()
        .rev()
        .skip(ofs)
        .take(50)
        .map(|e| {
            (
                e.id.clone(),
                json!({"refid": e.refid, "time": e.time as f64 + 0.1234, "type": e.kind, "subtype": "",
                       "aclass": "currency", "asset": e.asset, "amount": e.amount, "fee": e.fee,
                       "balance": "0.0000000000"}),
            )
        })
        .collect();
    json!({"ledger": page, "count": matching.len()})
}

impl FakeKraken {
    pub async fn start(permissions: &[&str]) -> FakeKraken {
        let state = Arc::new(Mutex::new(State {
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
            entries: Vec::new(),
            btc_balance: "0.0000000000".into(),
            last_nonce: 0,
            rate_limited: 0,
            calls: Vec::new(),
            ledgers_delay_ms: 0,
            exports: Vec::new(),
            export_polls: 2,
            export_fails: false,
        }));
        let app = Route::new()
            .at("/0/private/:method", post(private))
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
        FakeKraken {
            url: format!("http://{addr}"),
            state,
        }
    }

    /// A fake that is not listening: its URL names a server that is not
    /// there.
    pub fn unstarted(url: &str) -> FakeKraken {
        FakeKraken {
            url: url.to_string(),
            state: Arc::new(Mutex::new(State {
                permissions: Vec::new(),
                entries: Vec::new(),
                btc_balance: String::new(),
                last_nonce: 0,
                rate_limited: 0,
                calls: Vec::new(),
                ledgers_delay_ms: 0,
                exports: Vec::new(),
                export_polls: 0,
                export_fails: false,
            })),
        }
    }

    pub fn set(&self, f: impl FnOnce(&mut State)) {
        let mut s = self.state.lock().expect("state");
        f(&mut s);
        // Kept in time order, so a page is found without sorting: a
        // history of 100,000 entries pages as fast as a short one.
        s.entries
            .sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
    }

    pub fn calls(&self) -> Vec<String> {
        self.state.lock().expect("state").calls.clone()
    }
}

/// A history: `buys` purchases of 0.01 BTC for 400 USD each (two legs
/// sharing a refid), after one USD deposit; one entry per hour.
pub fn history(buys: usize) -> Vec<Entry> {
    let mut entries = vec![Entry {
        id: "LDEP-USD".into(),
        refid: "RDEP".into(),
        time: 1_704_067_200,
        kind: "deposit",
        asset: "ZUSD",
        amount: format!("{}.0000", 400 * buys),
        fee: "0.0000".into(),
    }];
    for i in 0..buys {
        let time = 1_704_070_800 + 3600 * i as i64;
        entries.push(Entry {
            id: format!("LUSD-{i:05}"),
            refid: format!("RTRADE-{i:05}"),
            time,
            kind: "trade",
            asset: "ZUSD",
            amount: "-400.0000".into(),
            fee: "0.0000".into(),
        });
        entries.push(Entry {
            id: format!("LBTC-{i:05}"),
            refid: format!("RTRADE-{i:05}"),
            time,
            kind: "trade",
            asset: "XXBT",
            amount: "0.0100000000".into(),
            fee: "0.0000000000".into(),
        });
    }
    entries
}

#[cfg(test)]
mod tests {
    /// The fake checks signatures as Kraken does: its own computation
    /// gives Kraken's published example.
    #[test]
    fn the_fakes_signature_check_matches_krakens_published_example() {
        let secret = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
        let body =
            "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25";
        assert_eq!(
            super::signature("/0/private/AddOrder", body, secret).as_deref(),
            Some(
                "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
            )
        );
    }
}

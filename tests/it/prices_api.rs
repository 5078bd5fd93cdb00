//! Prices through the running server: settings, the sealed CoinGecko key,
//! and a fill-gaps run against the fakes, followed to its end.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fakes::prices::{DAY, FakePrices, price};
use crate::support::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_key_and_a_fill_run_through_the_api_and_the_settings_page() {
    let today = ledgersys::prices::day_start(ledgersys::prices::utc_day(ledgersys::clock::now()));
    let fake = FakePrices::start(today).await;
    let key = fake.state.lock().expect("lock").coingecko_key.clone();
    fake.state
        .lock()
        .expect("lock")
        .cut_off
        .push("historical-price".into());
    let server = Server::start();
    let owner = server.owner().await;

    let view: Value = owner
        .get("/api/v1/instance/prices")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(view["settings"]["rule"], "day_close");
    assert_eq!(
        view["settings"]["sources"][0]["name"], "mempool",
        "a local mempool comes first"
    );
    assert_eq!(view["coverage"], json!([]));
    assert_eq!(view["coingecko_key_last4"], Value::Null);

    let bad = owner
        .put(
            "/api/v1/instance/prices",
            json!({"rule": "day_close", "timezone": "UTC", "coingecko_pro": false,
                   "sources": [{"name": "bitcoinaverage", "enabled": true}]}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json::<Value>().await.expect("json")["code"], "invalid");

    let put = owner
        .put("/api/v1/instance/prices/coingecko-key", json!({"key": key}))
        .await;
    assert_eq!(put.status(), StatusCode::NO_CONTENT);
    let source = |name: &str, enabled: bool| json!({"name": name, "enabled": enabled, "base_url": fake.base(name)});
    let put = owner
        .put(
            "/api/v1/instance/prices",
            json!({"rule": "day_close", "timezone": "Europe/London", "coingecko_pro": false,
                   "sources": [source("mempool", true), source("coingecko", true), source("coinbase", false)]}),
        )
        .await;
    assert_eq!(put.status(), StatusCode::NO_CONTENT);
    let view = owner
        .get("/api/v1/instance/prices")
        .await
        .text()
        .await
        .expect("text");
    assert!(!view.contains(&key), "the key is never shown");
    let view: Value = serde_json::from_str(&view).expect("json");
    assert_eq!(view["coingecko_key_last4"], "7a3f");
    assert_eq!(view["settings"]["timezone"], "Europe/London");

    let refused = owner.post("/api/v1/instance/prices/fill", json!({})).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let from = ledgersys::prices::utc_day(today - 30 * DAY).to_string();
    let started = owner
        .post(
            "/api/v1/instance/prices/fill",
            json!({"currencies": ["gbp"], "from": from}),
        )
        .await;
    assert_eq!(started.status(), StatusCode::ACCEPTED);
    let mut status = Value::Null;
    for _ in 0..600 {
        status = owner
            .get("/api/v1/instance/prices/fill")
            .await
            .json()
            .await
            .expect("json");
        if status["running"] == false {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status["running"], false, "{status}");
    let ranges = status["ranges"].as_array().expect("ranges");
    assert_eq!(ranges.len(), 2, "{status}");
    assert_eq!(ranges[0]["source"], "mempool");
    assert_eq!(ranges[0]["outcome"], "failed");
    assert!(
        ranges[0]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("cut off"),
        "{status}"
    );
    assert_eq!(ranges[1]["source"], "coingecko");
    assert_eq!(ranges[1]["outcome"], "complete");
    // Under 90 days CoinGecko answers hourly: 30 day closes and the hours.
    let stored = ranges[1]["stored"].as_i64().expect("stored");
    assert_eq!(stored, 30 + 29 * 23, "{status}");
    assert_eq!(status["done"], 2);
    assert!(
        fake.state
            .lock()
            .expect("lock")
            .keys_seen
            .iter()
            .all(|k| *k == key)
    );

    let view: Value = owner
        .get("/api/v1/instance/prices")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        view["coverage"][0],
        json!({"currency": "GBP", "resolution": "day", "count": 30, "first": from,
                "last": ledgersys::prices::utc_day(today - DAY).to_string(), "sources": "coingecko"})
    );
    assert_eq!(view["coverage"][1]["resolution"], "hour");
    assert_eq!(view["coverage"][1]["count"], stored - 30);
    let out = server.cli(&["prices", "get", "--date", &from, "--currency", "GBP"]);
    assert_eq!(
        crate::support::text(&out.stdout).trim(),
        price("GBP", today - 30 * DAY).trim_end_matches('0')
    );

    let page = owner.get("/settings").await.text().await.expect("page");
    assert!(
        page.contains("id=\"prices\""),
        "the section is on the Settings page"
    );
    assert!(page.contains("ends in <code>7a3f</code>"));
    assert!(!page.contains(&key));
    assert!(page.contains("outcome-failed") && page.contains("cut off"));
    assert!(page.contains("<progress max=\"2\" value=\"2\">"), "{page}");
}

#[tokio::test]
async fn a_manual_price_values_one_row_and_is_kept_in_the_audit_log() {
    let server = Server::start();
    let owner = server.owner().await;
    let history = "id,timestamp,type,account,btc,fiat_value,fiat_currency\n\
        i1,2021-05-01T12:00:00Z,income,mining,0.02,,\n\
        i2,2021-06-01T12:00:00Z,income,mining,0.5,,\n";
    let imported = owner
        .http
        .post(owner.url("/api/v1/workspaces/1/imports?file_name=income.csv"))
        .header("x-csrf-token", &owner.csrf)
        .header("content-type", "application/octet-stream")
        .body(history)
        .send()
        .await
        .expect("import");
    assert_eq!(imported.status(), StatusCode::OK);
    let summary = || async {
        owner
            .get("/api/v1/workspaces/1/reports/summary?jurisdiction=us")
            .await
            .json::<Value>()
            .await
            .expect("json")
    };
    assert_eq!(summary().await["complete"], false, "no prices yet");

    let set = |id: &str, price: Value| {
        owner.put(
            "/api/v1/workspaces/1/price-overrides",
            json!({"account": "mining", "id": id, "price": price, "currency": "usd"}),
        )
    };
    assert_eq!(
        set("i1", json!("57750.25")).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        set("i2", json!("36000")).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        set("nope", json!("1")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        set("i1", json!("0")).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let report = summary().await;
    assert_eq!(report["complete"], true, "{report}");
    // 0.02 × 57750.25 + 0.5 × 36000 = 1155.005 + 18000, rounded once.
    assert_eq!(report["years"][0]["income"], "19155.00");

    assert_eq!(
        set("i2", Value::Null).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        summary().await["complete"],
        false,
        "removed: i2 is missing again"
    );
    let listed: Value = owner
        .get("/api/v1/workspaces/1/price-overrides")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        listed,
        json!([{"account": "mining", "id": "i1", "price": "57750.25", "currency": "USD"}])
    );
    let log: Value = owner
        .get("/api/v1/workspaces/1/audit")
        .await
        .json()
        .await
        .expect("json");
    let details: Vec<&str> = log
        .as_array()
        .expect("log")
        .iter()
        .filter(|e| e["action"] == "transaction.price_overridden")
        .map(|e| e["detail"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(details.len(), 3, "{log}");
    assert!(
        details.contains(&"price per BTC 36000 USD -> none"),
        "{details:?}"
    );
    assert!(
        details.contains(&"price per BTC none -> 57750.25 USD"),
        "{details:?}"
    );
}

#[tokio::test]
async fn the_settings_form_orders_sources_and_only_instance_admins_may_post_it() {
    let server = Server::start();
    let owner = server.owner().await;
    server.add_member(&owner, "acct", "accountant").await;
    let acct = server.login("acct", crate::support::PASSWORD).await;
    let post = |s: &crate::support::Session, fields: &[(&str, &str)]| {
        let mut fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        fields.push(("csrf_token".into(), s.csrf.clone()));
        s.http.post(s.url("/settings/prices")).form(&fields).send()
    };
    let fields = [
        ("rule", "nearest_hour"),
        ("timezone", "America/Toronto"),
        ("position.kraken", "1"),
        ("enabled.kraken", "on"),
        ("position.mempool", "2"),
        ("enabled.mempool", "on"),
        ("url.mempool", "http://mempool.local:8999"),
        ("position.coinbase", "3"),
        ("position.bitstamp", "4"),
        ("position.coingecko", "5"),
    ];
    let refused = post(&acct, &fields).await.expect("post");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let saved = post(&owner, &fields).await.expect("post");
    assert!(saved.status().is_success(), "{}", saved.status());
    let view: Value = owner
        .get("/api/v1/instance/prices")
        .await
        .json()
        .await
        .expect("json");
    let s = &view["settings"];
    assert_eq!(s["rule"], "nearest_hour");
    assert_eq!(s["timezone"], "America/Toronto");
    let order: Vec<(&str, bool)> = s["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .map(|x| (x["name"].as_str().unwrap_or(""), x["enabled"] == true))
        .collect();
    assert_eq!(
        order,
        [
            ("kraken", true),
            ("mempool", true),
            ("coinbase", false),
            ("bitstamp", false),
            ("coingecko", false),
            ("coinbase_hourly", false),
        ]
    );
    assert_eq!(s["sources"][1]["base_url"], "http://mempool.local:8999");
    let bad = post(&owner, &[("timezone", "Atlantis/Capital")])
        .await
        .expect("post");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The fill button: instance administrators only, and checked before any
    // request leaves (nothing here reaches a source).
    let fill = |s: &crate::support::Session, currency: &str| {
        let fields = vec![
            ("csrf_token".to_string(), s.csrf.clone()),
            ("currency".to_string(), currency.to_string()),
            ("from".to_string(), "2024-01-01".to_string()),
        ];
        s.http
            .post(s.url("/settings/prices/fill"))
            .form(&fields)
            .send()
    };
    assert_eq!(
        fill(&acct, "USD").await.expect("post").status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        fill(&owner, "dollars").await.expect("post").status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let status: Value = owner
        .get("/api/v1/instance/prices/fill")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(status["running"], false);
    assert_eq!(status["planned"], 0, "no run was started");
}

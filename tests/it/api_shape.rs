//! The API's answers have the shape the HTTP rules and the OpenAPI document
//! promise: a user's mistake is a 4xx with the reason, and a 405 says which
//! methods the path does answer.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Server, client};

#[tokio::test]
async fn a_malformed_btcpay_address_is_the_users_mistake_not_an_outage() {
    let server = Server::start();
    let owner = server.owner().await;
    for (url, reason) in [
        ("http://", "not an address"),
        ("http://exa mple.org", "spaces"),
        ("http://[::1", "not an address"),
        ("https://user:pw@btcpay.example.org", "user or password"),
        ("btcpay.example.org", "must start with"),
    ] {
        let resp = owner
            .post(
                "/api/v1/workspaces/1/btcpay",
                json!({"url": url, "store_id": "Store1", "api_key": "0123456789abcdef"}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["code"], "invalid_url", "{url}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(reason), "{url}: {message}");
    }
}

#[tokio::test]
async fn every_405_names_the_methods_the_path_answers() {
    let server = Server::start();
    server.owner().await;
    let http = client();
    for (method, path, allow) in [
        (reqwest::Method::DELETE, "/login", "GET, HEAD, POST"),
        (reqwest::Method::GET, "/logout", "POST"),
        (reqwest::Method::PUT, "/wallets/3/sync", "POST"),
        (reqwest::Method::POST, "/healthz", "GET, HEAD"),
        (reqwest::Method::PATCH, "/api/v1/session", "DELETE, POST"),
        (
            reqwest::Method::DELETE,
            "/api/v1/workspaces/1/btcpay",
            "GET, HEAD, POST",
        ),
    ] {
        let resp = http
            .request(method.clone(), server.at(path))
            .send()
            .await
            .expect("send");
        assert_eq!(
            resp.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(
            resp.headers().get("allow").and_then(|v| v.to_str().ok()),
            Some(allow),
            "{method} {path}"
        );
    }
}

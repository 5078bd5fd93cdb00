//! Behind a reverse proxy the client is the address the proxy names, but
//! only when the connection comes from a proxy the operator trusts.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{PASSWORD, Server, client};

async fn login(server: &Server, forwarded_for: &str, username: &str, password: &str) -> StatusCode {
    client()
        .post(server.at("/api/v1/session"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login")
        .status()
}

#[tokio::test]
async fn a_trusted_proxy_names_each_visitor_so_one_strangers_guesses_lock_out_only_them() {
    let server = Server::start_with(&[("LEDGERSYS_HTTP_TRUSTED_PROXIES", "127.0.0.0/8")]);
    server.owner().await;
    for i in 0..20 {
        let status = login(
            &server,
            "203.0.113.9",
            &format!("guess{i}"),
            "wrong password!!",
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login(&server, "203.0.113.9", "owner", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the guessing address is locked"
    );
    // Another visitor behind the same proxy signs in; a forged hop to the
    // left of the proxy's own does not help the stranger.
    assert_eq!(
        login(&server, "198.51.100.4", "owner", PASSWORD).await,
        StatusCode::OK
    );
    assert_eq!(
        login(&server, "198.51.100.4, 203.0.113.9", "owner", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    let db = server.data_dir.join("ledgersys.sqlite3");
    let named = crate::support::sqlite_count(
        &db,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'login.failed' AND client_addr = '203.0.113.9'",
    )
    .await;
    assert_eq!(named, 20, "the audit log names the visitor, not the proxy");
}

#[tokio::test]
async fn without_a_trusted_proxy_the_header_is_ignored() {
    let server = Server::start();
    server.owner().await;
    for i in 0..20 {
        let forged = format!("203.0.113.{i}");
        let status = login(&server, &forged, &format!("guess{i}"), "wrong password!!").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login(&server, "198.51.100.4", "owner", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "a forged X-Forwarded-For does not escape the address limit"
    );
}

#[test]
fn a_trusted_proxy_list_that_does_not_read_stops_start_up() {
    let data = tempfile::tempdir().expect("temp");
    let out = crate::support::command()
        .args(["config", "check"])
        .env("LEDGERSYS_DATA_DIR", data.path())
        .env("LEDGERSYS_HTTP_TRUSTED_PROXIES", "10.0.0.0/40")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        crate::support::text(&out.stderr).contains("LEDGERSYS_HTTP_TRUSTED_PROXIES"),
        "{}",
        crate::support::text(&out.stderr)
    );
}

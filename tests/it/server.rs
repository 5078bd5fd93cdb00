//! The served surface: probes, the OpenAPI document, assets, headers, errors.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{Server, client, signal};

#[tokio::test]
async fn probes_answer_json() {
    let server = Server::start();
    let http = client();
    let health = http
        .get(server.at("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.json::<Value>().await.expect("json")["status"], "ok");
    let ready = http.get(server.at("/readyz")).send().await.expect("readyz");
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(
        ready.json::<Value>().await.expect("json")["status"],
        "ready"
    );
}

#[tokio::test]
async fn the_openapi_document_is_valid_openapi_3() {
    let server = Server::start();
    let resp = client()
        .get(server.at("/api/openapi.json"))
        .send()
        .await
        .expect("spec");
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.expect("body");
    // An optional property is written as `null` when absent, so the
    // document must allow `null` wherever a property is not required.
    let raw: serde_json::Value = serde_json::from_str(&text).expect("json");
    let mut not_nullable = Vec::new();
    for (name, schema) in raw["components"]["schemas"].as_object().expect("schemas") {
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            if !required.contains(&field.as_str()) && property["nullable"] != true {
                not_nullable.push(format!("{name}.{field}"));
            }
        }
    }
    assert!(
        not_nullable.is_empty(),
        "optional but not nullable: {not_nullable:?}"
    );
    let spec: openapiv3::OpenAPI = serde_json::from_str(&text).expect("a valid OpenAPI 3 document");
    assert!(spec.openapi.starts_with("3."), "{}", spec.openapi);
    assert_eq!(spec.info.title, "Ledgersys");
    assert_eq!(spec.servers[0].url, "/api/v1");
    assert!(
        spec.paths.paths.contains_key("/status"),
        "paths: {:?}",
        spec.paths.paths.keys()
    );
    assert!(
        spec.components
            .expect("components")
            .schemas
            .contains_key("ErrorBody"),
        "every error shares one documented body"
    );
}

#[tokio::test]
async fn the_api_answers_with_the_instance_status() {
    let server = Server::start();
    let status: Value = client()
        .get(server.at("/api/v1/status"))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    let newest = ledgersys::store::MIGRATOR.iter().map(|m| m.version).max();
    assert_eq!(status["schema_version"].as_i64(), newest);
}

#[tokio::test]
async fn the_api_docs_render_under_their_own_policy() {
    let server = Server::start();
    let resp = client()
        .get(server.at("/api/docs/"))
        .send()
        .await
        .expect("docs");
    assert_eq!(resp.status(), StatusCode::OK);
    let policy = resp.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(policy.contains("script-src 'sha256-"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(resp.text().await.expect("body").contains("SwaggerUIBundle"));
}

#[tokio::test]
async fn assets_are_embedded_with_etags_and_revalidate_to_304() {
    let server = Server::start();
    let http = client();
    let page = http.get(server.url.clone()).send().await.expect("page");
    let html = page.text().await.expect("html");
    let css_path = html
        .split("href=\"")
        .map(|s| s.split('"').next().unwrap_or(""))
        .find(|s| s.starts_with("/assets/app.css?v="))
        .expect("the page links its stylesheet with a version")
        .to_string();

    let first = http.get(server.at(&css_path)).send().await.expect("css");
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["content-type"], "text/css");
    assert_eq!(
        first.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let etag = first.headers()["etag"].to_str().expect("etag").to_string();
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    let body = first.text().await.expect("css body");
    assert!(body.contains("prefers-color-scheme: dark"));

    let again = http
        .get(server.at(&css_path))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("revalidate");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"], etag.as_str());
    assert!(again.bytes().await.expect("empty").is_empty());

    let unpinned = http
        .get(server.at("/assets/app.js"))
        .send()
        .await
        .expect("js");
    assert_eq!(unpinned.headers()["cache-control"], "no-cache");
    assert_eq!(unpinned.headers()["content-type"], "text/javascript");

    let stale = http
        .get(server.at(&css_path))
        .header("if-none-match", "\"something-else\"")
        .send()
        .await
        .expect("stale");
    assert_eq!(stale.status(), StatusCode::OK);

    let missing = http
        .get(server.at("/assets/nope.css"))
        .send()
        .await
        .expect("missing");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let server = Server::start();
    let http = client();
    for path in [
        "/",
        "/settings",
        "/api/v1/status",
        "/healthz",
        "/nope",
        "/assets/app.css",
    ] {
        let resp = http.get(server.at(path)).send().await.expect(path);
        let h = resp.headers();
        let csp = h["content-security-policy"].to_str().expect("csp");
        assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
    }
    let page = http.get(server.at("/")).send().await.expect("page");
    assert_eq!(page.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn the_ui_has_every_section_and_no_inline_code() {
    let server = Server::start();
    let owner = server.owner().await;
    for (path, title) in [
        ("/", "Dashboard"),
        ("/transactions", "Transactions"),
        ("/wallets", "Wallets &amp; Accounts"),
        ("/imports", "Imports"),
        ("/reports", "Reports"),
        ("/settings", "Settings"),
        ("/account", "Account"),
        ("/audit", "Audit log"),
    ] {
        let resp = owner.get(path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let html = resp.text().await.expect("html");
        assert!(html.contains(&format!("<h1>{title}</h1>")), "{path}");
        assert!(
            html.contains(&format!("href=\"{path}\" aria-current=\"page\"")),
            "{path}"
        );
        // A strict CSP only holds if nothing inline needs an exception.
        assert!(
            !html.contains("<script>") && !html.contains("<style"),
            "{path}"
        );
        assert!(
            !html.contains(" style=\"") && !html.contains(" onclick="),
            "{path}"
        );
    }
}

#[tokio::test]
async fn pages_send_visitors_to_setup_then_to_sign_in() {
    let server = Server::start();
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let first = http.get(server.at("/reports")).send().await.expect("page");
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(first.headers()["location"], "/setup");
    server.owner().await;
    let later = http.get(server.at("/reports")).send().await.expect("page");
    assert_eq!(later.status(), StatusCode::SEE_OTHER);
    assert_eq!(later.headers()["location"], "/login?next=%2Freports");
}

#[tokio::test]
async fn unknown_paths_get_a_404_page_or_a_json_error() {
    let server = Server::start();
    let http = client();
    let page = http
        .get(server.at("/no/such/page"))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/html")
    );
    let html = page.text().await.expect("html");
    assert!(
        html.contains("<h1>Not Found</h1>") && html.contains("/no/such/page"),
        "{html}"
    );

    for path in ["/api/v1/nope", "/api/nope", "/api"] {
        let resp = http.get(server.at(path)).send().await.expect(path);
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        let body: Value = resp.json().await.expect("json error");
        assert_eq!(body["code"], "not_found", "{path}");
        assert!(
            body["message"].as_str().expect("message").contains(path),
            "{path}"
        );
    }

    let wrong_method = http
        .post(server.at("/api/v1/status"))
        .send()
        .await
        .expect("post");
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = wrong_method.json().await.expect("json error");
    assert_eq!(body["code"], "method_not_allowed");
}

#[test]
fn sigterm_finishes_a_request_in_flight_then_exits_cleanly() {
    let mut server = Server::start();
    let mut stream = TcpStream::connect(server.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    // The request has started arriving, and the server has read what came,
    // when the signal comes...
    stream
        .write_all(b"GET /readyz HTTP/1.1\r\nHost: ledgersys\r\n")
        .expect("first half");
    let client_port = stream.local_addr().expect("local addr").port();
    let server_port = stream.peer_addr().expect("peer addr").port();
    wait_until_read(server_port, client_port);
    signal(&server.child, "TERM");
    std::thread::sleep(Duration::from_millis(300));
    // ...and is still answered once it is complete.
    stream
        .write_all(b"Connection: close\r\n\r\n")
        .expect("second half");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"ready\""), "{answer}");
    let status = server.child.wait().expect("exit");
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn names_are_escaped_on_every_page() {
    let server = Server::start();
    let pw = server.data_dir.with_extension("pw");
    std::fs::write(&pw, crate::support::PASSWORD).expect("write");
    let hostile = "<script>alert(1)</script>";
    let out = server.cli(&[
        "admin",
        "create-user",
        "--username",
        "owner",
        "--password-file",
        pw.to_str().expect("utf-8"),
        "--role",
        "owner",
        "--workspace",
        hostile,
    ]);
    assert!(
        out.status.success(),
        "{}",
        crate::support::text(&out.stderr)
    );
    let owner = server.login("owner", crate::support::PASSWORD).await;
    for path in ["/", "/settings", "/account"] {
        let html = owner.get(path).await.text().await.expect("html");
        assert!(!html.contains(hostile), "{path} shows the name unescaped");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn only_static_content_is_compressed() {
    let server = Server::start();
    let owner = server.owner().await;
    let page = owner
        .http
        .get(owner.url("/account"))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers().get("content-encoding").is_none(),
        "pages with CSRF tokens stay uncompressed"
    );
    let css = client()
        .get(server.at("/assets/app.css"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("css");
    assert_eq!(css.headers()["content-encoding"], "gzip");
}

#[test]
fn a_body_over_the_limit_is_refused_before_it_is_read() {
    let server = Server::start();
    let mut stream = TcpStream::connect(server.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let request = "POST /api/v1/workspaces/1/imports HTTP/1.1\r\nHost: ledgersys\r\n\
                   Content-Type: application/octet-stream\r\nContent-Length: 60000000\r\nConnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).expect("write");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("\"code\":\"payload_too_large\""),
        "{answer}"
    );
}

/// Waits until the server has accepted the connection from `client_port`
/// and read everything sent on it. The kernel's socket table tells both: a
/// connection still in the accept queue has no inode, and unread bytes show
/// in its receive queue. Without this, a loaded machine could deliver the
/// signal before the server took the connection, and the test would prove
/// nothing about requests in flight.
fn wait_until_read(server_port: u16, client_port: u16) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let local = format!(":{server_port:04X}");
    let remote = format!(":{client_port:04X}");
    loop {
        let table = std::fs::read_to_string("/proc/net/tcp").expect("socket table");
        let read = table.lines().skip(1).any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() > 9
                && fields[1].ends_with(&local)
                && fields[2].ends_with(&remote)
                && fields[4].ends_with(":00000000")
                && fields[9] != "0"
        });
        if read {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server never read the request"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

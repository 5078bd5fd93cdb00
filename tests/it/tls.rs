//! Built-in HTTPS from certificate files: TLS only on the main port, a
//! plain-HTTP port that only redirects, HSTS, `Secure` `__Host-` cookies,
//! and a renewed certificate loaded on SIGHUP without a restart.

use std::net::SocketAddr;
use std::time::Duration;

use crate::fakes::ca::TestCa;
use crate::support::{PASSWORD, Server, signal};

const NAME: &str = "books.test";

pub(crate) fn port_of(url: &str) -> u16 {
    let rest = url.trim_end_matches('/');
    rest.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port")
}

/// A client that trusts only `root_pem` and finds `NAME` on loopback.
fn trusting(root_pem: &str, port: u16) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(root_pem.as_bytes()).expect("root"))
        .resolve(NAME, SocketAddr::from(([127, 0, 0, 1], port)))
        .tls_info(true)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// The certificate the server presented on `resp`'s connection.
fn served_certificate(resp: &reqwest::Response) -> Vec<u8> {
    resp.extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("peer certificate")
        .to_vec()
}

/// The plain-HTTP listener's address, from the server's log.
fn redirect_url(server: &Server) -> String {
    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.contains("redirects everything else to HTTPS"))
        .unwrap_or_else(|| panic!("no redirect listener logged: {log}"));
    let start = line.find("http://").expect("url");
    line[start..]
        .split_whitespace()
        .next()
        .expect("url")
        .trim_end_matches(['"', ','])
        .to_string()
}

/// Waits up to `patience` for the server to log `needle`.
pub(crate) async fn wait_for_log(server: &Server, needle: &str, patience: Duration) {
    let deadline = std::time::Instant::now() + patience;
    while std::time::Instant::now() < deadline {
        if server.log().contains(needle) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("never logged {needle:?}: {}", server.log());
}

#[tokio::test]
async fn https_from_certificate_files_redirects_plain_http_and_reloads_on_sighup() {
    let certs = tempfile::tempdir().expect("temp");
    let ca = TestCa::new("operator");
    let first = ca.leaf(certs.path(), "server", &[NAME]);
    let (cert, key) = (
        first.cert.to_str().expect("utf-8"),
        first.key.to_str().expect("utf-8"),
    );
    let server = Server::start_with(&[
        ("LEDGERSYS_TLS_CERT_FILE", cert),
        ("LEDGERSYS_TLS_KEY_FILE", key),
        ("LEDGERSYS_TLS_HTTP_LISTEN", "127.0.0.1:0"),
    ]);
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let port = port_of(&server.url);
    let https = trusting(&ca.root_pem, port);
    let base = format!("https://{NAME}:{port}");

    let health = https
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("https");
    assert_eq!(health.status(), 200);
    assert_eq!(served_certificate(&health), first.der);
    assert_eq!(
        health.headers()["strict-transport-security"],
        "max-age=31536000"
    );

    // `healthcheck` (the image's HEALTHCHECK) speaks TLS when the server does.
    let probe = crate::support::command()
        .args(["healthcheck"])
        .env("LEDGERSYS_LISTEN", format!("127.0.0.1:{port}"))
        .env("LEDGERSYS_TLS_CERT_FILE", cert)
        .env("LEDGERSYS_TLS_KEY_FILE", key)
        .output()
        .expect("run healthcheck");
    assert!(
        probe.status.success(),
        "healthcheck over TLS: {}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let plain_probe = crate::support::command()
        .args(["healthcheck"])
        .env("LEDGERSYS_LISTEN", format!("127.0.0.1:{port}"))
        .output()
        .expect("run healthcheck");
    assert_eq!(
        plain_probe.status.code(),
        Some(1),
        "plain probe of a TLS port"
    );

    // The main port does not speak plain HTTP at all.
    let plain = crate::support::client()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await;
    assert!(
        plain.is_err(),
        "plain HTTP answered on the TLS port: {plain:?}"
    );

    // The plain-HTTP port sends every page to the same place over HTTPS.
    let redirect = redirect_url(&server);
    let http_port = port_of(&redirect);
    let moved = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .resolve(NAME, SocketAddr::from(([127, 0, 0, 1], http_port)))
        .build()
        .expect("client")
        .get(format!("http://{NAME}:{http_port}/login?next=/reports"))
        .send()
        .await
        .expect("redirect");
    assert_eq!(moved.status(), 308);
    assert_eq!(
        moved.headers()["location"],
        format!("https://{NAME}:{port}/login?next=/reports").as_str()
    );
    assert!(moved.headers().get("set-cookie").is_none());

    // Sessions over TLS: the cookie is Secure, HttpOnly and __Host- named.
    let setup = https
        .post(format!("{base}/api/v1/setup"))
        .json(&serde_json::json!({
            "setup_token": server.setup_token(),
            "username": "owner",
            "password": PASSWORD,
            "email": "owner@example.org",
        }))
        .send()
        .await
        .expect("setup");
    assert_eq!(setup.status(), 201);
    let login = https
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "owner", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(cookie.starts_with("__Host-"), "{cookie}");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("; HttpOnly"), "{cookie}");
    let me = https
        .get(format!("{base}/api/v1/me"))
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), 200, "the Secure cookie works over HTTPS");

    // A renewed certificate is served after SIGHUP, without a restart...
    let renewed = ca.leaf(certs.path(), "server", &[NAME]);
    signal(&server.child, "HUP");
    wait_for_log(
        &server,
        "HTTPS certificate reloaded",
        Duration::from_secs(10),
    )
    .await;
    let fresh = trusting(&ca.root_pem, port);
    let after = fresh
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("https");
    assert_eq!(served_certificate(&after), renewed.der);
    assert_ne!(renewed.der, first.der);

    // ...and files that do not check leave the current one in place.
    let other = TestCa::new("other").leaf(certs.path(), "stray", &[NAME]);
    std::fs::copy(&other.key, &renewed.key).expect("swap key");
    signal(&server.child, "HUP");
    wait_for_log(
        &server,
        "still serving the previous certificate",
        Duration::from_secs(10),
    )
    .await;
    let kept = trusting(&ca.root_pem, port)
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("https");
    assert_eq!(served_certificate(&kept), renewed.der);
}

#[test]
fn a_key_that_does_not_match_its_certificate_stops_start_up_with_the_reason() {
    let certs = tempfile::tempdir().expect("temp");
    let good = TestCa::new("operator").leaf(certs.path(), "server", &[NAME]);
    let stray = TestCa::new("other").leaf(certs.path(), "stray", &[NAME]);
    let data = certs.path().join("data");
    let err = Server::start_in_with(
        &data,
        &[
            (
                "LEDGERSYS_TLS_CERT_FILE",
                good.cert.to_str().expect("utf-8"),
            ),
            ("LEDGERSYS_TLS_KEY_FILE", stray.key.to_str().expect("utf-8")),
        ],
    )
    .err()
    .expect("must not start");
    assert!(
        err.contains("the private key does not belong to the certificate"),
        "{err}"
    );
    let missing = Server::start_in_with(
        &data,
        &[
            ("LEDGERSYS_TLS_CERT_FILE", "/nonexistent/cert.pem"),
            ("LEDGERSYS_TLS_KEY_FILE", good.key.to_str().expect("utf-8")),
        ],
    )
    .err()
    .expect("must not start");
    assert!(
        missing.contains("cannot read /nonexistent/cert.pem"),
        "{missing}"
    );
}

#[tokio::test]
async fn only_tls_1_2_and_1_3_are_spoken() {
    let certs = tempfile::tempdir().expect("temp");
    let ca = TestCa::new("operator");
    let leaf = ca.leaf(certs.path(), "server", &[NAME]);
    let server = Server::start_with(&[
        (
            "LEDGERSYS_TLS_CERT_FILE",
            leaf.cert.to_str().expect("utf-8"),
        ),
        ("LEDGERSYS_TLS_KEY_FILE", leaf.key.to_str().expect("utf-8")),
    ]);
    let port = port_of(&server.url);
    let tls12 = reqwest::Client::builder()
        .no_proxy()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.root_pem.as_bytes()).expect("root"))
        .resolve(NAME, SocketAddr::from(([127, 0, 0, 1], port)))
        .min_tls_version(reqwest::tls::Version::TLS_1_2)
        .max_tls_version(reqwest::tls::Version::TLS_1_2)
        .build()
        .expect("client");
    let resp = tls12
        .get(format!("https://{NAME}:{port}/healthz"))
        .send()
        .await
        .expect("TLS 1.2");
    assert_eq!(resp.status(), 200);
    // TLS 1.1 and 1.0, offered by a client willing to use them, are refused
    // by the server with an alert.
    for version in ["-tls1_1", "-tls1"] {
        let out = std::process::Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &format!("127.0.0.1:{port}"),
                version,
            ])
            .args(["-cipher", "DEFAULT@SECLEVEL=0", "-servername", NAME])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("openssl");
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{version} was accepted: {said}");
        assert!(said.contains("SSL alert number"), "{version}: {said}");
        assert!(said.contains("Cipher is (NONE)"), "{version}: {said}");
    }
}

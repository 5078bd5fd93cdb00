//! A certificate from a real ACME server: Pebble (Let's Encrypt's test
//! server, from Debian's `pebble` package) validates the HTTP-01 challenge
//! against Ledgersys's plain-HTTP listener on loopback and issues the
//! certificate the HTTPS listener then serves. The account and the
//! certificate are kept sealed, so a restart serves the same certificate
//! without asking again.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::fakes::ca::TestCa;
use crate::support::Server;
use crate::tls::{port_of, wait_for_log};

const DOMAIN: &str = "localhost";

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port()
}

struct Pebble {
    child: Child,
    directory: String,
    management: u16,
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Pebble {
    /// Starts Pebble with its HTTPS certificate from `ca`, validating
    /// HTTP-01 challenges on `http_port`.
    fn start(dir: &Path, ca: &TestCa, http_port: u16) -> Pebble {
        let leaf = ca.leaf(dir, "pebble", &[DOMAIN, "127.0.0.1"]);
        let (listen, management) = (free_port(), free_port());
        let config = serde_json::json!({"pebble": {
            "listenAddress": format!("127.0.0.1:{listen}"),
            "managementListenAddress": format!("127.0.0.1:{management}"),
            "certificate": leaf.cert,
            "privateKey": leaf.key,
            "httpPort": http_port,
            "tlsPort": free_port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false,
        }});
        let config_path = dir.join("pebble.json");
        std::fs::write(&config_path, config.to_string()).expect("pebble config");
        let log = std::fs::File::create(dir.join("pebble.log")).expect("pebble log");
        let child = Command::new("pebble")
            .arg("-config")
            .arg(&config_path)
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("pebble is installed (scripts/test installs Debian's pebble package)");
        let pebble = Pebble {
            child,
            directory: format!("https://{DOMAIN}:{listen}/dir"),
            management,
        };
        for _ in 0..400 {
            if std::net::TcpStream::connect(("127.0.0.1", listen)).is_ok() {
                return pebble;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!(
            "pebble did not start: {}",
            std::fs::read_to_string(dir.join("pebble.log")).unwrap_or_default()
        );
    }

    /// The root Pebble issues under; it is new on every start.
    async fn root(&self, ca: &TestCa) -> String {
        reqwest::Client::builder()
            .no_proxy()
            .tls_built_in_root_certs(false)
            .add_root_certificate(
                reqwest::Certificate::from_pem(ca.root_pem.as_bytes()).expect("ca"),
            )
            .build()
            .expect("client")
            .get(format!("https://{DOMAIN}:{}/roots/0", self.management))
            .send()
            .await
            .expect("pebble roots")
            .text()
            .await
            .expect("root pem")
    }
}

fn https_client(root_pem: &str, port: u16) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(root_pem.as_bytes()).expect("root"))
        .resolve(DOMAIN, SocketAddr::from(([127, 0, 0, 1], port)))
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

#[tokio::test]
async fn a_certificate_from_a_real_acme_server_is_served_and_kept_across_restarts() {
    let dir = tempfile::tempdir().expect("temp");
    let ca = TestCa::new("pebble");
    let ca_file = ca.write_root(dir.path());
    let http_port = free_port();
    let pebble = Pebble::start(dir.path(), &ca, http_port);
    let http_listen = format!("127.0.0.1:{http_port}");
    let directory = pebble.directory.clone();
    let env = [
        ("LEDGERSYS_TLS_ACME_DOMAINS", DOMAIN),
        ("LEDGERSYS_TLS_ACME_DIRECTORY", directory.as_str()),
        (
            "LEDGERSYS_TLS_ACME_CA_FILE",
            ca_file.to_str().expect("utf-8"),
        ),
        ("LEDGERSYS_TLS_ACME_CONTACT", "owner@example.org"),
        ("LEDGERSYS_TLS_HTTP_LISTEN", http_listen.as_str()),
    ];
    let data = dir.path().join("data");
    let mut server = Server::start_in_with(&data, &env).expect("starts");
    let port = port_of(&server.url);
    assert_eq!(server.url, format!("https://{DOMAIN}:{port}/"));
    wait_for_log(
        &server,
        "HTTPS certificate obtained over ACME",
        Duration::from_secs(120),
    )
    .await;

    let root = pebble.root(&ca).await;
    let health = https_client(&root, port)
        .get(format!("https://{DOMAIN}:{port}/healthz"))
        .send()
        .await
        .expect("served with the issued certificate");
    assert_eq!(health.status(), 200);

    // Kept sealed: no PEM private key anywhere in the data directory.
    for entry in std::fs::read_dir(&data).expect("data dir") {
        let bytes = std::fs::read(entry.expect("entry").path()).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("PRIVATE KEY"), "a key in the clear");
    }
    assert!(server.terminate().success());

    // With the ACME server gone, a restart serves the kept certificate.
    drop(pebble);
    let again = Server::start_in_with(&data, &env).expect("restarts");
    let health = https_client(&root, port_of(&again.url))
        .get(format!("https://{DOMAIN}:{}/healthz", port_of(&again.url)))
        .send()
        .await
        .expect("the kept certificate");
    assert_eq!(health.status(), 200);
    assert!(
        !again.log().contains("temporary self-signed"),
        "{}",
        again.log()
    );
}

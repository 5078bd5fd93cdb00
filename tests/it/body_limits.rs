//! No request body is held past its route's cap, signed in or not: huge
//! bodies to every kind of route (HTML forms before sign-in, API JSON, an
//! upload with the CSRF token in the header, chunked or with a declared
//! length) are answered 413 while the server's memory stays flat; and a
//! stranger typing enormous usernames cannot grow the database or the audit
//! log.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

use crate::support::{PASSWORD, Server};

const MB: usize = 1024 * 1024;

/// The server process's resident memory, from the kernel.
fn rss_kib(server: &Server) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Sends `total` bytes of body to `path` (declared, or chunked when
/// `declared` is false) with `headers`, and returns the answer's status.
/// The server may answer and close before the body is all sent.
fn post(
    server: &Server,
    path: &str,
    headers: &[(&str, &str)],
    total: usize,
    declared: bool,
) -> u16 {
    let mut stream = TcpStream::connect(server.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        server.addr()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if declared {
        head.push_str(&format!("Content-Length: {total}\r\n\r\n"));
    } else {
        head.push_str("Transfer-Encoding: chunked\r\n\r\n");
    }
    let _ = stream.write_all(head.as_bytes());
    let chunk = vec![b'a'; MB];
    let mut sent = 0;
    while sent < total {
        let n = chunk.len().min(total - sent);
        let written = if declared {
            stream.write_all(&chunk[..n])
        } else {
            stream
                .write_all(format!("{n:x}\r\n").as_bytes())
                .and_then(|()| stream.write_all(&chunk[..n]))
                .and_then(|()| stream.write_all(b"\r\n"))
        };
        if written.is_err() {
            break;
        }
        sent += n;
    }
    if !declared {
        let _ = stream.write_all(b"0\r\n\r\n");
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_body_to_any_route_is_refused_with_413_and_memory_stays_flat() {
    let server = Server::start();
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let json = [("Content-Type", "application/json")];
    // The first requests open database connections and worker threads
    // whatever their size: measure from after one small refused body on
    // each route, so what is compared is the cost of the large ones.
    for (path, kind) in [
        ("/setup", &form),
        ("/login", &form),
        ("/api/v1/session", &json),
        ("/api/v1/setup", &json),
    ] {
        for declared in [true, false] {
            post(&server, path, kind, 2 * MB, declared);
        }
    }
    let start = rss_kib(&server);
    // Before anyone has signed in: the setup and sign-in forms and the API.
    for declared in [true, false] {
        assert_eq!(
            post(&server, "/setup", &form, 200 * MB, declared),
            413,
            "setup, declared {declared}"
        );
        assert_eq!(
            post(&server, "/login", &form, 200 * MB, declared),
            413,
            "login, declared {declared}"
        );
        assert_eq!(
            post(&server, "/api/v1/session", &json, 200 * MB, declared),
            413
        );
        assert_eq!(
            post(&server, "/api/v1/setup", &json, 200 * MB, declared),
            413
        );
    }
    let unauthenticated = rss_kib(&server);
    assert!(
        unauthenticated < start + 16 * 1024,
        "RSS grew from {start} kB to {unauthenticated} kB on refused bodies"
    );
    // An upload route: over the 50 MB default, with the CSRF token in the
    // header (the check must not read the body to look for it). A chunked
    // body is read up to the cap, never further.
    let owner = server.owner().await;
    let before = rss_kib(&server);
    let csrf = owner.csrf.clone();
    let upload = [
        ("Content-Type", "multipart/form-data; boundary=b"),
        ("X-CSRF-Token", csrf.as_str()),
    ];
    for declared in [true, false] {
        assert_eq!(
            post(&server, "/imports/preview", &upload, 200 * MB, declared),
            413
        );
        assert_eq!(
            post(
                &server,
                "/api/v1/workspaces/1/imports",
                &[("Content-Type", "application/octet-stream")],
                200 * MB,
                declared
            ),
            413
        );
    }
    // A form route that is not an upload gets the small cap, not 50 MB.
    assert_eq!(post(&server, "/imports/commit", &form, 2 * MB, true), 413);
    let after = rss_kib(&server);
    assert!(
        after < before + 64 * 1024,
        "RSS grew from {before} kB to {after} kB"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enormous_usernames_leave_the_database_and_the_audit_log_small() {
    let server = Server::start();
    let owner = server.owner().await;
    let database = server.data_dir.join("ledgersys.sqlite3");
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let wal = server.data_dir.join("ledgersys.sqlite3-wal");
    let before = size(&database) + size(&wal);
    let client = reqwest::Client::new();
    for i in 0..20 {
        let name = format!("{i}{}", "x".repeat(900 * 1024));
        let answer = client
            .post(server.at("/api/v1/session"))
            .json(&serde_json::json!({"username": name, "password": "wrong password 123"}))
            .send()
            .await
            .expect("login");
        assert!(
            matches!(answer.status().as_u16(), 401 | 429),
            "{}",
            answer.status()
        );
    }
    let after = size(&database) + size(&wal);
    assert!(
        after < before + 2 * MB as u64,
        "the database grew from {before} to {after} bytes"
    );
    let entries: Value = owner
        .get("/api/v1/instance/audit?limit=100")
        .await
        .json()
        .await
        .expect("audit");
    let failed: Vec<&Value> = entries
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| {
            e["action"]
                .as_str()
                .is_some_and(|a| a.starts_with("login."))
        })
        .collect();
    assert!(!failed.is_empty());
    for entry in failed {
        for field in ["actor", "target", "detail"] {
            let text = entry[field].as_str().unwrap_or("");
            assert!(
                text.chars().count() <= 201,
                "{field} keeps {} characters",
                text.chars().count()
            );
        }
    }
    let _ = PASSWORD;
}

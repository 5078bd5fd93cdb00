//! Starting the real binary and talking to it.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_ledgersys");

/// A command for the binary with a clean `LEDGERSYS_*` environment.
pub fn command() -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("LEDGERSYS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_COLOR", "1");
    // The fakes' Bitcoin Core cookie files live in temporary directories.
    cmd.env("LEDGERSYS_CHAIN_COOKIE_DIR", std::env::temp_dir());
    cmd
}

/// Runs the binary to completion.
pub fn run(args: &[&str]) -> Output {
    command().args(args).output().expect("run ledgersys")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A running server on an ephemeral loopback port, killed on drop.
pub struct Server {
    pub url: String,
    pub child: Child,
    pub data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts a server on a fresh data directory.
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// Starts a server on a fresh data directory with extra environment.
    pub fn start_with(env: &[(&str, &str)]) -> Server {
        let temp = tempfile::tempdir().expect("temp dir");
        let data_dir = temp.path().join("data");
        let mut server = Server::launch(&data_dir, env).expect("server starts");
        server._temp = Some(temp);
        server
    }

    /// Starts a server on `data_dir`; on failure returns its standard error.
    pub fn start_in(data_dir: &Path) -> Result<Server, String> {
        Server::launch(data_dir, &[])
    }

    /// Starts a server on `data_dir` with extra environment; on failure
    /// returns its standard error.
    pub fn start_in_with(data_dir: &Path, env: &[(&str, &str)]) -> Result<Server, String> {
        Server::launch(data_dir, env)
    }

    fn launch(data_dir: &Path, env: &[(&str, &str)]) -> Result<Server, String> {
        let log = data_dir.with_extension("log");
        let mut child = command()
            .args(["--data-dir"])
            .arg(data_dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ledgersys");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        if line.trim().is_empty() {
            let _ = child.kill();
            let mut err = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = stderr.read_to_string(&mut err);
            }
            let _ = child.wait();
            return Err(err);
        }
        // Keep the log in a file beside the data directory, so tests can
        // read it and a chatty server never blocks on a full pipe.
        if let Some(mut stderr) = child.stderr.take() {
            let mut file = std::fs::File::create(&log).expect("log file");
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut stderr, &mut file);
            });
        }
        Ok(Server {
            url: line.trim().to_string(),
            child,
            data_dir: data_dir.to_path_buf(),
            _temp: None,
        })
    }

    /// Everything the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.with_extension("log")).unwrap_or_default()
    }

    /// Runs `ledgersys --data-dir DIR ARGS...` against this server's data.
    pub fn cli(&self, args: &[&str]) -> Output {
        command()
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(args)
            .output()
            .expect("run ledgersys")
    }

    /// The one-time setup token, as the CLI prints it.
    pub fn setup_token(&self) -> String {
        let out = self.cli(&["admin", "setup-token"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    }

    /// Completes first-run setup as `owner` and signs in.
    pub async fn owner(&self) -> Session {
        let resp = client()
            .post(self.at("/api/v1/setup"))
            .json(&serde_json::json!({
                "setup_token": self.setup_token(),
                "username": "owner",
                "password": PASSWORD,
                "email": "owner@example.org",
            }))
            .send()
            .await
            .expect("setup");
        assert_eq!(
            resp.status(),
            201,
            "{}",
            resp.text().await.unwrap_or_default()
        );
        self.login("owner", PASSWORD).await
    }

    /// Signs in; panics unless it works.
    pub async fn login(&self, username: &str, password: &str) -> Session {
        self.login_from(username, password, "127.0.0.1").await
    }

    /// Signs in from a given loopback address.
    pub async fn login_from(&self, username: &str, password: &str, ip: &str) -> Session {
        let http = reqwest::Client::builder()
            .no_proxy()
            .cookie_store(true)
            .local_address(ip.parse::<std::net::IpAddr>().expect("ip"))
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client");
        let resp = http
            .post(self.at("/api/v1/session"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .expect("login");
        assert_eq!(resp.status(), 200, "login as {username}");
        let body: serde_json::Value = resp.json().await.expect("json");
        Session {
            http,
            csrf: body["csrf_token"].as_str().expect("csrf").to_string(),
            base: self.url.clone(),
        }
    }

    /// Adds a member to workspace 1 as the given session, creating the account.
    pub async fn add_member(&self, admin: &Session, username: &str, role: &str) {
        let resp = admin
            .post(
                "/api/v1/workspaces/1/members",
                serde_json::json!({"username": username, "role": role, "password": PASSWORD}),
            )
            .await;
        assert_eq!(
            resp.status(),
            201,
            "add {username}: {}",
            resp.text().await.unwrap_or_default()
        );
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url, path.trim_start_matches('/'))
    }

    pub fn addr(&self) -> String {
        self.url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        signal(&self.child, "TERM");
        self.child.wait().expect("wait")
    }
}

pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

pub const PASSWORD: &str = "correct horse battery staple 42";

/// A signed-in browser-like client: cookie jar plus CSRF token.
pub struct Session {
    pub http: reqwest::Client,
    pub csrf: String,
    pub base: String,
}

impl Session {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path.trim_start_matches('/'))
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("get")
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    /// Imports a generic CSV file into workspace 1 through the API and
    /// checks it was taken whole.
    pub async fn import_csv(&self, file: &str) {
        let resp = self
            .http
            .post(self.url("/api/v1/workspaces/1/imports"))
            .header("x-csrf-token", &self.csrf)
            .header("content-type", "application/octet-stream")
            .body(file.to_string())
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 200, "the import was refused");
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .request(method, self.url(path))
            .header("x-csrf-token", &self.csrf);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request")
    }
}

/// The single number `query` gives over the database file `db`.
pub async fn sqlite_count(db: &Path, query: &str) -> i64 {
    use sqlx::Connection;
    let url = format!("sqlite://{}", db.display());
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connect");
    sqlx::query_scalar(query)
        .fetch_one(&mut conn)
        .await
        .expect("count")
}

//! What the packages rely on: the chain source set from configuration with
//! no user typing (Umbrel's and StartOS's Electrum server), and a consistent
//! database snapshot inside the data directory for backup systems that copy
//! it while the server runs.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::{Value, json};

use crate::fakes::chain::Chain;
use crate::fakes::sources::{Source, Via};
use crate::support::{Server, text};
use crate::wallets::{Keys, xpub, zpub};

fn electrum_arg(source: &Source) -> String {
    let args = source.set_args();
    let at = args
        .iter()
        .position(|a| *a == "--electrum")
        .expect("electrum");
    args[at + 1].to_string()
}

async fn audit_count(server: &Server, action: &str) -> usize {
    let owner = server.login("owner", crate::support::PASSWORD).await;
    let entries: Value = owner
        .get("/api/v1/instance/audit?limit=500")
        .await
        .json()
        .await
        .expect("audit");
    entries
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == json!(action))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_source_comes_from_configuration_and_a_wallet_syncs_through_it() {
    let mut chain = Chain::new();
    let paid = chain.pay_from_outside(Keys::new(&xpub(71)).receive(0), 65_000, 71);
    chain.mine(vec![paid]);
    let electrum = Source::start(Via::Electrum, chain).await;
    let host_port = electrum_arg(&electrum);
    let data = tempfile::tempdir().expect("temp");
    let env = [("LEDGERSYS_CHAIN_ELECTRUM", host_port.as_str())];
    let mut server = Server::start_in_with(data.path(), &env).expect("start");
    let owner = server.owner().await;
    let source: Value = owner
        .get("/api/v1/instance/chain-source")
        .await
        .json()
        .await
        .expect("source");
    assert_eq!(source["kind"], json!("electrum"), "{source}");
    assert_eq!(source["host_port"], json!(host_port));
    assert_eq!(source["tls"], json!(false));

    let added: Value = owner
        .post(
            "/api/v1/workspaces/1/wallets",
            json!({"name": "Cold storage", "kind": "xpub", "input": zpub(&xpub(71))}),
        )
        .await
        .json()
        .await
        .expect("added");
    let id = added["id"].as_i64().expect("id");
    let done = crate::wallet_api::finished(&owner, id).await;
    assert_eq!(done["phase"], json!("done"), "{done}");
    let wallets: Value = owner
        .get("/api/v1/workspaces/1/wallets")
        .await
        .json()
        .await
        .expect("wallets");
    assert_eq!(wallets[0]["balance_sat"], json!(65_000), "{wallets}");
    assert_eq!(audit_count(&server, "chain.source_set").await, 1);

    // A restart with the same setting changes nothing and audits nothing.
    server.terminate();
    let server = Server::start_in_with(data.path(), &env).expect("restart");
    assert_eq!(audit_count(&server, "chain.source_set").await, 1);
}

#[test]
fn a_chain_source_setting_that_does_not_check_stops_start_up_with_the_reason() {
    let data = tempfile::tempdir().expect("temp");
    let env = [("LEDGERSYS_CHAIN_ELECTRUM", "no port here")];
    let failed = Server::start_in_with(data.path(), &env)
        .err()
        .expect("refused");
    assert!(failed.contains("chain.electrum"), "{failed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_is_a_whole_private_database_written_while_the_server_runs() {
    let data = tempfile::tempdir().expect("temp");
    let server = Server::start_in_with(data.path(), &[("LEDGERSYS_SNAPSHOT_INTERVAL", "1s")])
        .expect("start");
    let _owner = server.owner().await;
    let file = data.path().join("snapshot").join("ledgersys.sqlite3");

    let written = server.cli(&["snapshot"]);
    assert!(written.status.success(), "{}", text(&written.stderr));
    assert_eq!(text(&written.stdout).trim(), file.display().to_string());
    let mode = std::fs::metadata(&file)
        .expect("snapshot")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // It is a database of its own, with the owner created a moment ago.
    let connection = rusqlite_free_count(&file, "SELECT COUNT(*) FROM users");
    assert_eq!(connection, 1);
    assert!(
        !data
            .path()
            .join("snapshot")
            .join("ledgersys.sqlite3.partial")
            .exists()
    );

    // The schedule rewrites it: wait for a newer file, never on a sleep alone.
    let before = std::fs::metadata(&file).expect("m").modified().expect("t");
    let mut rewritten = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = std::fs::metadata(&file).expect("m").modified().expect("t");
        if now > before {
            rewritten = true;
            break;
        }
    }
    assert!(rewritten, "the scheduled snapshot never came");
}

/// Reads one number from a database file with the SQLite that sqlx bundles.
fn rusqlite_free_count(path: &std::path::Path, query: &str) -> i64 {
    use sqlx::{ConnectOptions, Connection};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let path = path.to_path_buf();
    let query = query.to_string();
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let mut connection = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .read_only(true)
                .connect()
                .await
                .expect("open snapshot");
            let count: i64 = sqlx::query_scalar(&query)
                .fetch_one(&mut connection)
                .await
                .expect("query");
            connection.close().await.expect("close");
            count
        })
    })
    .join()
    .expect("thread")
}

/// Every `LEDGERSYS_` variable the packages set, with what each package
/// would put in it (Umbrel's `${...}` from its apps' exports, StartOS's from
/// its code), is a setting the binary knows and accepts: an unknown one
/// stops start-up, so a package naming one could never run.
#[test]
fn every_setting_the_packages_give_is_one_the_binary_accepts() {
    let samples = [
        ("${APP_ELECTRS_NODE_IP}", "10.21.21.10"),
        ("${APP_ELECTRS_NODE_PORT}", "50001"),
        (
            "${APP_LEDGERSYS_BTCPAY_URL}",
            "http://btcpay-server_web_1:3003",
        ),
    ];
    let mut set: Vec<(String, String)> = Vec::new();
    let compose = include_str!("../../packaging/umbrel/ledgersys/docker-compose.yml");
    for line in compose.lines() {
        let Some((name, value)) = line.trim().split_once(':') else {
            continue;
        };
        if !name.starts_with("LEDGERSYS_") {
            continue;
        }
        let mut value = value.trim().trim_matches('"').to_string();
        for (placeholder, sample) in samples {
            value = value.replace(placeholder, sample);
        }
        assert!(
            !value.contains("${"),
            "no sample for {value} in {name}: add one above"
        );
        set.push((name.to_string(), value));
    }
    let startos: String = ["main.ts", "utils.ts"]
        .iter()
        .map(|f| std::fs::read_to_string(format!("packaging/startos/startos/{f}")).expect("read"))
        .collect();
    let startos_samples = [
        ("LEDGERSYS_DATA_DIR", "/data"),
        ("LEDGERSYS_LISTEN", "0.0.0.0:8420"),
        ("LEDGERSYS_LOG_FORMAT", "json"),
        ("LEDGERSYS_CHAIN_ELECTRUM", "electrs.startos:50001"),
        ("LEDGERSYS_SNAPSHOT_INTERVAL", "30m"),
    ];
    for name in startos
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("LEDGERSYS_"))
    {
        let sample = startos_samples
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("StartOS sets {name}: add a sample value above"));
        set.push((name.to_string(), sample.1.to_string()));
    }
    assert!(set.len() >= 8, "{set:?}");
    let data = tempfile::tempdir().expect("temp");
    let out = crate::support::command()
        .args(["config", "check"])
        .envs(set.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("LEDGERSYS_DATA_DIR", data.path())
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let described = text(&out.stdout);
    assert!(
        described.contains("btcpay.hint_url = \"http://btcpay-server_web_1:3003\""),
        "{described}"
    );
}

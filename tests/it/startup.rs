//! Start-up failures: each is a clear message and a clean exit, never a panic.

use std::process::Stdio;

use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;

use crate::support::{Server, command, run, text};

fn assert_clean_failure(output: &std::process::Output, expected: &str) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.stdout.is_empty(), "no URL may be printed on failure");
}

fn serve(data_dir: &std::path::Path) -> std::process::Output {
    command()
        .arg("--data-dir")
        .arg(data_dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .output()
        .expect("run")
}

#[test]
fn an_unusable_data_directory_is_reported() {
    let temp = tempfile::tempdir().expect("temp");
    let file = temp.path().join("a-file");
    std::fs::write(&file, "not a directory").expect("write");

    assert_clean_failure(&serve(&file), "exists but is not a directory");
    assert_clean_failure(
        &serve(&file.join("below")),
        "cannot create the data directory",
    );
}

#[test]
fn a_second_server_on_the_same_data_directory_is_refused() {
    let first = Server::start();
    let output = serve(&first.data_dir);
    assert_clean_failure(&output, "another Ledgersys server");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("pid {}", first.child.id())),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_database_locked_by_another_process_is_reported() {
    let temp = tempfile::tempdir().expect("temp");
    let data_dir = temp.path().join("data");
    std::fs::create_dir(&data_dir).expect("mkdir");
    let db = data_dir.join("ledgersys.sqlite3");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let mut holder = SqliteConnection::connect(&url).await.expect("connect");
    sqlx::query("CREATE TABLE held (x)")
        .execute(&mut holder)
        .await
        .expect("create");
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut holder)
        .await
        .expect("lock");

    let output = tokio::task::spawn_blocking(move || serve(&data_dir))
        .await
        .expect("join");
    assert_clean_failure(&output, "is locked by another process");
    sqlx::query("ROLLBACK")
        .execute(&mut holder)
        .await
        .expect("unlock");
}

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused_untouched() {
    let mut server = Server::start();
    let data_dir = server.data_dir.clone();
    assert!(server.terminate().success());

    let db = data_dir.join("ledgersys.sqlite3");
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("connect");
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', 1, x'00', 0)",
    )
    .execute(&mut conn)
    .await
    .expect("insert");
    conn.close().await.expect("close");

    let output = tokio::task::spawn_blocking(move || serve(&data_dir))
        .await
        .expect("join");
    assert_clean_failure(
        &output,
        "written by a newer version of Ledgersys (schema 9999",
    );
}

#[test]
fn a_port_in_use_is_reported() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let temp = tempfile::tempdir().expect("temp");
    let output = command()
        .arg("--data-dir")
        .arg(temp.path())
        .args(["serve", "--listen", &addr])
        .output()
        .expect("run");
    assert_clean_failure(&output, &format!("cannot listen on {addr}"));
}

#[test]
fn a_bad_configuration_is_a_usage_error() {
    let temp = tempfile::tempdir().expect("temp");
    let config = temp.path().join("ledgersys.toml");
    std::fs::write(&config, "[server]\nlisten_on = \"127.0.0.1:1\"\n").expect("write");
    let output = run(&[
        "--config",
        config.to_str().expect("utf-8"),
        "config",
        "check",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("unknown key `server.listen_on`"),
        "{stderr}"
    );
}

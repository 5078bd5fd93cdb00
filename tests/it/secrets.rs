//! Secrets at rest (policy sections 3 and 5): sealed the moment they
//! arrive, shown only as their last 4 characters, never logged, and bound to
//! the key that sealed them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fakes::smtp::FakeSmtp;
use crate::support::{PASSWORD, Server, Session, text};

const PLANTED: &str = "smtp-pw-PLANTED-7f3a9c";

async fn configure_mail(owner: &Session, port: u16) {
    let resp = owner
        .put(
            "/api/v1/instance/smtp",
            json!({"host": "127.0.0.1", "port": port, "security": "none", "username": "mailer",
                   "password": PLANTED, "from": "Ledgersys <ledgersys@example.org>"}),
        )
        .await;
    assert_eq!(
        resp.status(),
        StatusCode::NO_CONTENT,
        "{}",
        resp.text().await.unwrap_or_default()
    );
}

fn files_of(server: &Server) -> String {
    let mut all = Vec::new();
    for name in [
        "ledgersys.sqlite3",
        "ledgersys.sqlite3-wal",
        "ledgersys.sqlite3-shm",
    ] {
        all.extend(std::fs::read(server.data_dir.join(name)).unwrap_or_default());
    }
    String::from_utf8_lossy(&all).into_owned()
}

#[tokio::test]
async fn a_planted_secret_appears_in_no_file_log_or_response() {
    let smtp = FakeSmtp::start().await;
    let server = Server::start_with(&[("LEDGERSYS_LOG_LEVEL", "trace,sqlx=trace")]);
    let owner = server.owner().await;
    configure_mail(&owner, smtp.port).await;

    let mut responses = Vec::new();
    let shown = owner
        .get("/api/v1/instance/smtp")
        .await
        .text()
        .await
        .expect("body");
    let view: Value = serde_json::from_str(&shown).expect("json");
    assert_eq!(
        view["password_last4"], "3a9c",
        "shown as its last 4 characters"
    );
    responses.push(shown);
    // An alert makes the server open the secret and use it.
    let created = owner
        .post(
            "/api/v1/workspaces/1/tokens",
            json!({"name": "t", "role": "viewer"}),
        )
        .await;
    responses.push(created.text().await.expect("body"));
    let mail = smtp.wait_for(1).await;
    assert_eq!(mail[0].auth_user, "mailer");
    assert_eq!(
        mail[0].auth_password, PLANTED,
        "the sealed password opens to the right value"
    );
    for path in [
        "/api/v1/me",
        "/api/v1/me/alerts",
        "/api/v1/instance/audit",
        "/api/v1/workspaces/1/audit",
        "/settings",
        "/account",
    ] {
        responses.push(owner.get(path).await.text().await.expect("body"));
    }

    assert!(
        responses.iter().all(|r| !r.contains(PLANTED)),
        "no API response or page carries it"
    );
    assert!(
        !files_of(&server).contains(PLANTED),
        "the database holds only ciphertext"
    );
    assert!(
        !server.log().contains(PLANTED),
        "the log never has it, even at trace level"
    );
    assert!(server.log().contains("TRACE"), "the log was at trace level");
}

/// Every file in the data directory, with its permission bits.
fn modes(dir: &std::path::Path) -> Vec<(String, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut modes: Vec<(String, u32)> = std::fs::read_dir(dir)
        .expect("read data dir")
        .map(|entry| {
            let entry = entry.expect("entry");
            let mode = entry.metadata().expect("stat").permissions().mode() & 0o777;
            (entry.file_name().to_string_lossy().into_owned(), mode)
        })
        .filter(|(name, _)| name != "ledgersys.lock")
        .collect();
    modes.sort();
    modes
}

#[tokio::test]
async fn the_database_files_are_private_even_when_made_readable() {
    use std::os::unix::fs::PermissionsExt;
    let mut server = Server::start();
    server.owner().await;
    let files = modes(&server.data_dir);
    for name in [
        "ledgersys.sqlite3",
        "ledgersys.sqlite3-wal",
        "ledgersys.sqlite3-shm",
    ] {
        assert!(files.iter().any(|(f, _)| f == name), "{name} in {files:?}");
    }
    assert!(
        files.iter().all(|(_, mode)| mode & 0o077 == 0),
        "only the owner may read: {files:?}"
    );
    assert!(server.terminate().success());

    // An older install, or a careless copy, left the database world-readable:
    // the next start takes the group and other bits away again.
    let db = server.data_dir.join("ledgersys.sqlite3");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let mut again = Server::start_in(&server.data_dir).expect("starts");
    let files = modes(&again.data_dir);
    assert!(
        files.iter().all(|(_, mode)| mode & 0o077 == 0),
        "tightened on open: {files:?}"
    );
    assert!(again.terminate().success());
}

#[tokio::test]
async fn the_key_file_is_private_and_a_wrong_or_missing_key_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let mut server = Server::start();
    let owner = server.owner().await;
    configure_mail(&owner, 25).await;
    let key = server.data_dir.join("secret.key");
    assert_eq!(
        std::fs::metadata(&key).expect("key").permissions().mode() & 0o777,
        0o600
    );
    assert!(server.terminate().success());

    let original = std::fs::read(&key).expect("read");
    // Another valid key: refused by the key check, not used to make garbage.
    std::fs::write(&key, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n").expect("write");
    let wrong = Server::start_in(&server.data_dir)
        .err()
        .expect("must not start");
    assert!(
        wrong.contains("is not the key this database was sealed with"),
        "{wrong}"
    );

    std::fs::remove_file(&key).expect("remove");
    let missing = Server::start_in(&server.data_dir)
        .err()
        .expect("must not start");
    assert!(missing.contains("restore the key file"), "{missing}");
    assert!(
        !key.exists(),
        "no new key is made for a database with secrets"
    );

    std::fs::write(&key, &original).expect("restore");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let open = Server::start_in(&server.data_dir)
        .err()
        .expect("must not start");
    assert!(open.contains("chmod 600"), "{open}");

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let restarted = Server::start_in(&server.data_dir).expect("the right key starts");
    let again = restarted.login("owner", PASSWORD).await;
    let view: Value = again
        .get("/api/v1/instance/smtp")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(view["password_last4"], "3a9c");
}

#[tokio::test]
async fn rotate_key_reseals_every_secret_and_is_refused_while_serving() {
    let smtp = FakeSmtp::start().await;
    let mut server = Server::start();
    let owner = server.owner().await;
    configure_mail(&owner, smtp.port).await;
    let busy = server.cli(&["admin", "rotate-key"]);
    assert_eq!(busy.status.code(), Some(1));
    assert!(
        text(&busy.stderr).contains("another Ledgersys server"),
        "{}",
        text(&busy.stderr)
    );
    let key = server.data_dir.join("secret.key");
    let before = std::fs::read_to_string(&key).expect("key");
    assert!(server.terminate().success());

    let rotated = server.cli(&["admin", "rotate-key"]);
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    let after = std::fs::read_to_string(&key).expect("key");
    assert_ne!(before, after);

    let restarted = Server::start_in(&server.data_dir).expect("starts with the new key");
    let again = restarted.login("owner", PASSWORD).await;
    assert_eq!(
        again
            .post("/api/v1/instance/smtp/test", json!({}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let mail = smtp.wait_for(1).await;
    assert_eq!(mail.last().expect("mail").auth_password, PLANTED);
    let audit: Value = again
        .get("/api/v1/instance/audit")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        audit
            .as_array()
            .expect("list")
            .iter()
            .any(|e| e["action"] == "secret_key.rotated")
    );
}

#[tokio::test]
async fn a_backup_is_encrypted_and_restores_everything_on_a_new_machine() {
    let server = Server::start();
    let owner = server.owner().await;
    configure_mail(&owner, 25).await;
    let elsewhere = tempfile::tempdir().expect("temp");
    let phrase = elsewhere.path().join("phrase");
    std::fs::write(&phrase, "long backup passphrase for the safe\n").expect("write");
    let phrase_arg = phrase.to_str().expect("utf-8");
    let backup = elsewhere.path().join("books.lsbackup");
    let backup_arg = backup.to_str().expect("utf-8");

    let inside = server.data_dir.join("b.lsbackup");
    let refused = server.cli(&[
        "backup",
        "--out",
        inside.to_str().expect("utf-8"),
        "--passphrase-file",
        phrase_arg,
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("outside the data directory"));

    let made = server.cli(&[
        "backup",
        "--out",
        backup_arg,
        "--passphrase-file",
        phrase_arg,
    ]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    let bytes = std::fs::read(&backup).expect("backup");
    let visible = String::from_utf8_lossy(&bytes);
    for secret in ["SQLite format 3", "owner@example.org", "argon2id", PLANTED] {
        assert!(!visible.contains(secret), "the backup shows {secret:?}");
    }

    // A new machine: an empty data directory, the file and the passphrase.
    let new_dir = elsewhere.path().join("new-data");
    let run = |args: &[&str]| {
        crate::support::run(&[&["--data-dir", new_dir.to_str().expect("utf-8")], args].concat())
    };
    let wrong = elsewhere.path().join("wrong");
    std::fs::write(&wrong, "not the passphrase at all").expect("write");
    let bad = run(&[
        "restore",
        "--from",
        backup_arg,
        "--passphrase-file",
        wrong.to_str().expect("utf-8"),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("the passphrase is wrong, or the backup file is damaged"));
    assert!(
        !new_dir.join("ledgersys.sqlite3").exists(),
        "a failed restore changes nothing"
    );

    let restored = run(&[
        "restore",
        "--from",
        backup_arg,
        "--passphrase-file",
        phrase_arg,
    ]);
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    let revived = Server::start_in(&new_dir).expect("the restored instance starts");
    let again = revived.login("owner", PASSWORD).await;
    let view: Value = again
        .get("/api/v1/instance/smtp")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(view["password_last4"], "3a9c", "secrets come back readable");
}

#[tokio::test]
async fn restore_is_refused_while_a_server_runs() {
    let server = Server::start();
    let temp = tempfile::tempdir().expect("temp");
    let file = temp.path().join("x");
    std::fs::write(&file, "x").expect("write");
    let out = server.cli(&[
        "restore",
        "--from",
        file.to_str().expect("utf-8"),
        "--passphrase-file",
        file.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("another Ledgersys server"));
}

#[tokio::test]
async fn removing_mail_settings_deletes_the_sealed_password() {
    let server = Server::start();
    let owner = server.owner().await;
    configure_mail(&owner, 25).await;
    assert_eq!(
        owner.delete("/api/v1/instance/smtp").await.status(),
        StatusCode::NO_CONTENT
    );
    let view: Value = owner
        .get("/api/v1/instance/smtp")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(view["configured"], false);
    assert!(view["password_last4"].is_null());
    let audit: Value = owner
        .get("/api/v1/instance/audit")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(audit[0]["action"], "settings.smtp_removed");
}

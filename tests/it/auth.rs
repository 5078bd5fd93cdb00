//! Accounts and sessions as the security policy promises them (sections 4
//! and 7): first-run setup, passwords, sessions, CSRF, throttling.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{PASSWORD, Server, client, text};

async fn login_attempt(server: &Server, username: &str, password: &str) -> (StatusCode, Value) {
    let resp = client()
        .post(server.at("/api/v1/session"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn setup_needs_the_one_time_token_from_the_log() {
    let server = Server::start();
    let token = server.setup_token();
    assert!(
        server.log().contains(&token),
        "the token is printed to the log"
    );
    let attempt = |setup_token: String| {
        client().post(server.at("/api/v1/setup")).json(&json!({
            "setup_token": setup_token, "username": "owner", "password": PASSWORD,
        }))
    };
    let wrong = attempt("not-the-token".into()).send().await.expect("setup");
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let right = attempt(token.clone()).send().await.expect("setup");
    assert_eq!(right.status(), StatusCode::CREATED);
    let again = attempt(token).send().await.expect("setup");
    assert_eq!(again.status(), StatusCode::FORBIDDEN, "setup works once");
    let out = server.cli(&["admin", "setup-token"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("already has an account"));
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_phc_strings_only() {
    let server = Server::start();
    server.owner().await;
    let db = std::fs::read(server.data_dir.join("ledgersys.sqlite3")).expect("db");
    let wal = std::fs::read(server.data_dir.join("ledgersys.sqlite3-wal")).unwrap_or_default();
    let bytes = [db, wal].concat();
    let haystack = String::from_utf8_lossy(&bytes);
    assert!(
        !haystack.contains(PASSWORD),
        "the password itself is never stored"
    );
    assert!(
        haystack.contains("$argon2id$v=19$m=19456,t=2,p=1$"),
        "argon2id at OWASP's parameters"
    );
}

#[tokio::test]
async fn short_and_guessable_passwords_are_refused() {
    let server = Server::start();
    let owner = server.owner().await;
    for weak in ["short", "password1234", "qwertyuiop12"] {
        let resp = owner
            .post(
                "/api/v1/workspaces/1/members",
                json!({"username": "bob", "role": "viewer", "password": weak}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{weak}");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["code"], "weak_password", "{weak}");
    }
}

#[tokio::test]
async fn the_session_cookie_is_httponly_and_samesite_strict_with_a_new_token_each_login() {
    let server = Server::start();
    server.owner().await;
    let login = || async {
        let resp = client()
            .post(server.at("/api/v1/session"))
            .json(&json!({"username": "owner", "password": PASSWORD}))
            .send()
            .await
            .expect("login");
        resp.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .to_string()
    };
    let first = login().await;
    let second = login().await;
    assert!(first.starts_with("ledgersys_session="), "{first}");
    assert!(
        first.contains("; HttpOnly")
            && first.contains("; SameSite=Strict")
            && first.contains("; Path=/"),
        "{first}"
    );
    let value = |c: &str| c.split(';').next().unwrap_or("").to_string();
    assert_ne!(
        value(&first),
        value(&second),
        "a fresh token at every login"
    );
    let token = value(&first)
        .trim_start_matches("ledgersys_session=")
        .to_string();
    assert_eq!(token.len(), 43, "256 random bits");

    let db = std::fs::read(server.data_dir.join("ledgersys.sqlite3")).expect("db");
    let wal = std::fs::read(server.data_dir.join("ledgersys.sqlite3-wal")).unwrap_or_default();
    let haystack = String::from_utf8_lossy(&[db, wal].concat()).into_owned();
    assert!(
        !haystack.contains(&token),
        "only a keyed hash of the token is stored"
    );
}

#[tokio::test]
async fn logout_ends_the_session() {
    let server = Server::start();
    let owner = server.owner().await;
    assert_eq!(owner.get("/api/v1/me").await.status(), StatusCode::OK);
    let out = owner.delete("/api/v1/session").await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .contains("Max-Age=0")
    );
    assert_eq!(
        owner.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_password_change_ends_every_session_of_the_user() {
    let server = Server::start();
    let one = server.owner().await;
    let two = server.login("owner", PASSWORD).await;
    let new_password = "a different long passphrase 77";
    let wrong = one
        .post(
            "/api/v1/me/password",
            json!({"current_password": "nope nope nope", "new_password": new_password}),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let changed = one
        .post(
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": new_password}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        one.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        two.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_attempt(&server, "owner", PASSWORD).await.0,
        StatusCode::UNAUTHORIZED
    );
    server.login("owner", new_password).await;
}

#[tokio::test]
async fn an_idle_session_expires() {
    let server = Server::start_with(&[("LEDGERSYS_SESSION_IDLE_TIMEOUT", "1s")]);
    let owner = server.owner().await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        owner.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_session_expires_after_its_absolute_lifetime_even_when_busy() {
    let server = Server::start_with(&[("LEDGERSYS_SESSION_LIFETIME", "2s")]);
    let owner = server.owner().await;
    for _ in 0..4 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let _ = owner.get("/api/v1/me").await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(
        owner.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_state_change_without_the_csrf_token_is_refused() {
    let server = Server::start();
    let owner = server.owner().await;
    let body = json!({"username": "eve", "role": "viewer", "password": PASSWORD});
    let missing = owner
        .http
        .post(owner.url("/api/v1/workspaces/1/members"))
        .json(&body)
        .send()
        .await
        .expect("post");
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        missing.json::<Value>().await.expect("json")["code"],
        "csrf_failed"
    );
    let wrong = owner
        .http
        .post(owner.url("/api/v1/workspaces/1/members"))
        .header("x-csrf-token", "forged")
        .json(&body)
        .send()
        .await
        .expect("post");
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    // The form used by the pages must carry the token as a field too.
    let form = owner
        .http
        .post(owner.url("/account/email"))
        .form(&[("email", "x@example.org")])
        .send()
        .await
        .expect("form");
    assert_eq!(form.status(), StatusCode::FORBIDDEN);
    let good_form = owner
        .http
        .post(owner.url("/account/email"))
        .form(&[
            ("email", "x@example.org"),
            ("csrf_token", owner.csrf.as_str()),
        ])
        .send()
        .await
        .expect("form");
    assert_eq!(
        good_form.status(),
        StatusCode::OK,
        "redirected to the account page"
    );
    assert_eq!(
        owner
            .post("/api/v1/workspaces/1/members", body)
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn bearer_token_calls_need_no_csrf_token() {
    let server = Server::start();
    let owner = server.owner().await;
    let created: Value = owner
        .post(
            "/api/v1/workspaces/1/tokens",
            json!({"name": "script", "role": "admin"}),
        )
        .await
        .json()
        .await
        .expect("json");
    let token = created["token"].as_str().expect("token");
    assert!(token.starts_with("lsk_"));
    let resp = client()
        .post(server.at("/api/v1/workspaces/1/members"))
        .bearer_auth(token)
        .json(&json!({"username": "bot", "role": "viewer", "password": PASSWORD}))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn requests_from_another_site_are_refused() {
    let server = Server::start();
    let owner = server.owner().await;
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ] {
        let resp = owner
            .http
            .post(owner.url("/api/v1/me/alerts/read"))
            .header("x-csrf-token", &owner.csrf)
            .header(name, value)
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{name}");
        assert_eq!(
            resp.json::<Value>().await.expect("json")["code"],
            "cross_site_request"
        );
    }
    let login = client()
        .post(server.at("/login"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("username", "owner"), ("password", PASSWORD)])
        .send()
        .await
        .expect("login");
    assert_eq!(
        login.status(),
        StatusCode::FORBIDDEN,
        "no login CSRF either"
    );
}

#[tokio::test]
async fn five_failures_lock_the_account_even_against_the_right_password() {
    let server = Server::start();
    server.owner().await;
    for _ in 0..5 {
        assert_eq!(
            login_attempt(&server, "owner", "wrong password!!").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (status, body) = login_attempt(&server, "owner", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["code"], "locked_out");
    // The operator can clear it.
    let password_file = server.data_dir.with_extension("pw");
    std::fs::write(&password_file, "another good passphrase 31\n").expect("write");
    let out = server.cli(&[
        "admin",
        "reset-password",
        "--username",
        "owner",
        "--password-file",
        password_file.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    server.login("owner", "another good passphrase 31").await;
}

#[tokio::test]
async fn unknown_users_and_wrong_passwords_get_the_same_answer() {
    let server = Server::start();
    server.owner().await;
    let wrong_password = login_attempt(&server, "owner", "wrong password!!").await;
    let unknown_user = login_attempt(&server, "nobody", "wrong password!!").await;
    assert_eq!(wrong_password, unknown_user);
    for _ in 0..4 {
        login_attempt(&server, "nobody", "wrong password!!").await;
    }
    let (status, body) = login_attempt(&server, "nobody", "wrong password!!").await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "unknown names lock like real ones"
    );
    assert_eq!(body["code"], "locked_out");
}

#[tokio::test]
async fn one_address_trying_many_names_is_locked_out() {
    let server = Server::start();
    server.owner().await;
    for i in 0..20 {
        login_attempt(&server, &format!("guess{i}"), "wrong password!!").await;
    }
    let (status, _) = login_attempt(&server, "owner", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Another address is not affected.
    server.login_from("owner", PASSWORD, "127.0.0.2").await;
}

#[tokio::test]
async fn an_outdated_password_hash_is_upgraded_at_login() {
    use sqlx::Connection;
    let server = Server::start();
    server.owner().await;
    // An argon2id hash of PASSWORD at weaker parameters (m=8 MiB, t=1).
    let weak = {
        use argon2::password_hash::phc::PasswordHash;
        use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
        let hasher = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 1, 1, None).expect("params"),
        );
        let hash: PasswordHash = hasher.hash_password(PASSWORD.as_bytes()).expect("hash");
        hash.to_string()
    };
    let db = format!(
        "sqlite://{}",
        server.data_dir.join("ledgersys.sqlite3").display()
    );
    let mut conn = sqlx::SqliteConnection::connect(&db).await.expect("connect");
    sqlx::query("UPDATE users SET password_hash = ? WHERE username = 'owner'")
        .bind(&weak)
        .execute(&mut conn)
        .await
        .expect("downgrade");
    server.login("owner", PASSWORD).await;
    let stored: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'owner'")
            .fetch_one(&mut conn)
            .await
            .expect("read");
    assert!(stored.contains("m=19456,t=2,p=1"), "{stored}");
}

#[test]
fn the_admin_cli_works_offline_and_never_takes_a_password_argument() {
    let temp = tempfile::tempdir().expect("temp");
    let dir = temp.path().join("data");
    let dir_arg = dir.to_str().expect("utf-8");
    let pw = temp.path().join("pw");
    std::fs::write(&pw, format!("{PASSWORD}\n")).expect("write");
    let pw_arg = pw.to_str().expect("utf-8");
    let run = |args: &[&str]| crate::support::run(&[&["--data-dir", dir_arg], args].concat());

    let created = run(&[
        "admin",
        "create-user",
        "--username",
        "carol",
        "--password-file",
        pw_arg,
        "--role",
        "accountant",
        "--workspace",
        "books",
    ]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let listed = run(&["admin", "list-users", "--format", "json"]);
    let users: Value = serde_json::from_slice(&listed.stdout).expect("json");
    assert_eq!(users[0]["username"], "carol");
    assert_eq!(users[0]["workspaces"][0]["workspace"], "books");
    assert_eq!(users[0]["workspaces"][0]["role"], "accountant");

    let revoked = run(&["admin", "revoke-sessions", "--username", "carol"]);
    assert!(revoked.status.success());
    assert!(text(&revoked.stdout).contains("0 session(s)"));
    let help = text(&run(&["admin", "create-user", "--help"]).stdout);
    assert!(
        help.contains("--password-file") && !help.contains("--password "),
        "{help}"
    );
    let unknown = run(&[
        "admin",
        "reset-password",
        "--username",
        "nobody",
        "--password-file",
        pw_arg,
    ]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("there is no user"));
}

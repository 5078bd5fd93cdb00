//! Promises that must hold when requests arrive all at once: the sign-in
//! limits count every attempt (policy section 4: five tries per account,
//! twenty per address), setup makes exactly one owner, and `next=` after
//! sign-in never leaves the site.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{PASSWORD, Server, client};

fn from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .local_address(ip.parse::<std::net::IpAddr>().expect("ip"))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

/// Sends every request at once and counts the answers by status.
async fn statuses(requests: Vec<reqwest::RequestBuilder>) -> (usize, usize, Vec<StatusCode>) {
    let answers = join_all(
        requests
            .into_iter()
            .map(|r| async move { r.send().await.expect("answer").status() }),
    )
    .await;
    let count = |code| answers.iter().filter(|s| **s == code).count();
    (
        count(StatusCode::UNAUTHORIZED),
        count(StatusCode::TOO_MANY_REQUESTS),
        answers,
    )
}

#[tokio::test]
async fn forty_parallel_guesses_check_exactly_five_passwords_and_lock_the_account() {
    let server = Server::start();
    server.owner().await;
    let http = from("127.0.0.1");
    let guesses = (0..40)
        .map(|i| {
            http.post(server.at("/api/v1/session"))
                .json(&json!({"username": "owner", "password": format!("wrong guess number {i}")}))
        })
        .collect();
    let (checked, refused, all) = statuses(guesses).await;
    assert_eq!((checked, refused), (5, 35), "answers: {all:?}");

    // Locked: the right password from another address is refused too.
    let resp = from("127.0.0.2")
        .post(server.at("/api/v1/session"))
        .json(&json!({"username": "owner", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let db = server.data_dir.join("ledgersys.sqlite3");
    let audited = crate::support::sqlite_count(
        &db,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'login.failed'",
    )
    .await;
    assert_eq!(audited, 5, "exactly five passwords were checked");
}

#[tokio::test]
async fn the_sign_in_form_counts_parallel_guesses_the_same_way() {
    let server = Server::start();
    server.owner().await;
    let http = from("127.0.0.1");
    let guesses = (0..30)
        .map(|i| {
            http.post(server.at("/login")).form(&[
                ("username", "owner".to_string()),
                ("password", format!("wrong guess number {i}")),
            ])
        })
        .collect();
    let (checked, refused, all) = statuses(guesses).await;
    assert_eq!((checked, refused), (5, 25), "answers: {all:?}");
}

#[tokio::test]
async fn one_address_gets_twenty_parallel_guesses_across_names_and_no_more() {
    let server = Server::start();
    server.owner().await;
    let http = from("127.0.0.3");
    let guesses = (0..60)
        .map(|i| {
            http.post(server.at("/api/v1/session"))
                .json(&json!({"username": format!("guess{i}"), "password": "wrong password!!"}))
        })
        .collect();
    let (checked, refused, all) = statuses(guesses).await;
    assert_eq!((checked, refused), (20, 40), "answers: {all:?}");
    // The account itself was never guessed at, so another address signs in.
    server.login_from("owner", PASSWORD, "127.0.0.4").await;
}

#[tokio::test]
async fn a_right_password_gives_its_reserved_attempt_back() {
    let server = Server::start();
    server.owner().await;
    let http = from("127.0.0.5");
    for i in 0..19 {
        let resp = http
            .post(server.at("/api/v1/session"))
            .json(&json!({"username": format!("guess{i}"), "password": "wrong password!!"}))
            .send()
            .await
            .expect("guess");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    // The twentieth attempt is right: it is not a failure of the address.
    for _ in 0..3 {
        server.login_from("owner", PASSWORD, "127.0.0.5").await;
    }
    let last = http
        .post(server.at("/api/v1/session"))
        .json(&json!({"username": "guess19", "password": "wrong password!!"}))
        .send()
        .await
        .expect("guess");
    assert_eq!(
        last.status(),
        StatusCode::UNAUTHORIZED,
        "the 20th failure is checked"
    );
    let locked = http
        .post(server.at("/api/v1/session"))
        .json(&json!({"username": "owner", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn eight_parallel_setups_make_exactly_one_owner() {
    let server = Server::start();
    let token = server.setup_token();
    let http = client();
    let setups = (0..8).map(|i| {
        http.post(server.at("/api/v1/setup")).json(&json!({
            "setup_token": token, "username": format!("owner{i}"), "password": PASSWORD,
        }))
    });
    let answers =
        join_all(setups.map(|r| async move { r.send().await.expect("setup").status() })).await;
    let created = answers
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let refused = answers
        .iter()
        .filter(|s| **s == StatusCode::FORBIDDEN)
        .count();
    assert_eq!((created, refused), (1, 7), "answers: {answers:?}");

    let db = server.data_dir.join("ledgersys.sqlite3");
    let users = crate::support::sqlite_count(&db, "SELECT COUNT(*) FROM users").await;
    let owners =
        crate::support::sqlite_count(&db, "SELECT COUNT(*) FROM memberships WHERE role = 'owner'")
            .await;
    assert_eq!((users, owners), (1, 1));
    let again = http
        .post(server.at("/api/v1/setup"))
        .json(&json!({"setup_token": token, "username": "late", "password": PASSWORD}))
        .send()
        .await
        .expect("setup");
    assert_eq!(again.status(), StatusCode::FORBIDDEN, "the token is spent");
}

#[tokio::test]
async fn after_sign_in_next_only_ever_names_a_path_on_this_site() {
    let server = Server::start();
    server.owner().await;
    let http = from("127.0.0.6");
    let cases = [
        ("/reports?year=2024", "/reports?year=2024"),
        ("/\t/evil.example", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("https:evil.example", "/"),
        ("/%09/evil.example", "/"),
        ("/%5C/evil.example", "/"),
        ("/%2F/evil.example", "/"),
        ("/\r\nLocation: https://evil.example", "/"),
    ];
    for (next, expected) in cases {
        let resp = http
            .post(server.at("/login"))
            .form(&[
                ("username", "owner"),
                ("password", PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .expect("login");
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(resp.headers()["location"], expected, "{next:?}");
    }
    // The sign-in page carries only a safe `next` into its form.
    let page = http
        .get(server.at("/login?next=%2F%09%2Fevil.example"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains(r#"name="next" value="/""#), "{page}");
}

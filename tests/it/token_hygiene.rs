//! API tokens cannot make tokens, act with at most their creator's current
//! role, die with a password change unless the user keeps them, and expire.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::support::{PASSWORD, Server, Session, client};

const NEW_PASSWORD: &str = "a different horse battery staple 77";
const THIRD_PASSWORD: &str = "yet another horse battery staple 99";

async fn make_token(session: &Session, role: &str, extra: Value) -> Value {
    let mut body = json!({"name": "script", "role": role});
    body.as_object_mut()
        .expect("object")
        .extend(extra.as_object().expect("object").clone());
    let resp = session.post("/api/v1/workspaces/1/tokens", body).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.json().await.expect("json")
}

fn secret(created: &Value) -> String {
    created["token"].as_str().expect("token").to_string()
}

async fn status_with(server: &Server, token: &str, path: &str) -> (StatusCode, Value) {
    let resp = client()
        .get(server.at(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_token_cannot_mint_tokens_and_revoking_it_leaves_nothing_working() {
    let server = Server::start();
    let owner = server.owner().await;
    server.add_member(&owner, "vera", "viewer").await;
    let vera = server.login("vera", PASSWORD).await;
    let parent = secret(&make_token(&vera, "viewer", json!({})).await);
    let owners = secret(&make_token(&owner, "owner", json!({})).await);
    for token in [&parent, &owners] {
        let minted = client()
            .post(server.at("/api/v1/workspaces/1/tokens"))
            .bearer_auth(token)
            .json(&json!({"name": "child", "role": "viewer"}))
            .send()
            .await
            .expect("post");
        assert_eq!(minted.status(), StatusCode::FORBIDDEN);
        let body: Value = minted.json().await.expect("json");
        assert_eq!(body["code"], "session_required", "{body}");
    }
    let listed: Value = owner
        .get("/api/v1/workspaces/1/tokens")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed.as_array().expect("list").len(), 2, "no child exists");
    let id = listed
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["owner"] == "vera")
        .expect("vera's")["id"]
        .clone();
    assert_eq!(
        status_with(&server, &parent, "/api/v1/workspaces/1")
            .await
            .0,
        StatusCode::OK
    );
    let revoked = vera
        .delete(&format!("/api/v1/workspaces/1/tokens/{id}"))
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        status_with(&server, &parent, "/api/v1/workspaces/1")
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_token_has_at_most_its_creators_current_role() {
    let server = Server::start();
    let owner = server.owner().await;
    server.add_member(&owner, "adam", "admin").await;
    let adam = server.login("adam", PASSWORD).await;
    let token = secret(&make_token(&adam, "admin", json!({})).await);
    let members = "/api/v1/workspaces/1/members";
    assert_eq!(
        status_with(&server, &token, members).await.0,
        StatusCode::OK
    );

    let adam_id = owner
        .get(members)
        .await
        .json::<Value>()
        .await
        .expect("json")
        .as_array()
        .expect("list")
        .iter()
        .find(|m| m["username"] == "adam")
        .expect("adam")["user_id"]
        .clone();
    let demoted = owner
        .put(&format!("{members}/{adam_id}"), json!({"role": "viewer"}))
        .await;
    assert_eq!(demoted.status(), StatusCode::OK);
    let (status, body) = status_with(&server, &token, members).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("role_too_low")),
        "the admin token now acts as a viewer"
    );
    assert_eq!(
        status_with(&server, &token, "/api/v1/workspaces/1").await.0,
        StatusCode::OK
    );

    let removed = owner.delete(&format!("{members}/{adam_id}")).await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        status_with(&server, &token, "/api/v1/workspaces/1").await.0,
        StatusCode::UNAUTHORIZED,
        "a removed creator's token stops"
    );
}

#[tokio::test]
async fn a_password_change_revokes_api_tokens_unless_the_user_keeps_them() {
    let server = Server::start();
    let owner = server.owner().await;
    server.add_member(&owner, "bea", "accountant").await;
    let ws = "/api/v1/workspaces/1";

    // API, by default: revoked.
    let bea = server.login("bea", PASSWORD).await;
    let first = secret(&make_token(&bea, "viewer", json!({})).await);
    let changed = bea
        .post(
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        status_with(&server, &first, ws).await.0,
        StatusCode::UNAUTHORIZED
    );

    // API, asked to keep them: kept.
    let bea = server.login("bea", NEW_PASSWORD).await;
    let second = secret(&make_token(&bea, "viewer", json!({})).await);
    let changed = bea
        .post(
            "/api/v1/me/password",
            json!({
                "current_password": NEW_PASSWORD,
                "new_password": THIRD_PASSWORD,
                "revoke_api_tokens": false,
            }),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    assert_eq!(status_with(&server, &second, ws).await.0, StatusCode::OK);

    // The page says so, with the box ticked; ticked, the tokens go.
    let bea = server.login("bea", THIRD_PASSWORD).await;
    let page = bea.get("/account").await.text().await.expect("html");
    assert!(
        page.contains(r#"name="revoke_api_tokens" value="on" checked"#)
            && page.contains("Also sign out my API tokens")
            && page.contains("Your API tokens are revoked too"),
        "{page}"
    );
    let ticked = bea
        .http
        .post(bea.url("/account/password"))
        .form(&[
            ("current_password", THIRD_PASSWORD),
            ("new_password", PASSWORD),
            ("revoke_api_tokens", "on"),
            ("csrf_token", bea.csrf.as_str()),
        ])
        .send()
        .await
        .expect("form");
    assert!(ticked.url().path().ends_with("/login"), "{}", ticked.url());
    assert_eq!(
        status_with(&server, &second, ws).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Unticked on the page: kept.
    let bea = server.login("bea", PASSWORD).await;
    let third = secret(&make_token(&bea, "viewer", json!({})).await);
    let unticked = bea
        .http
        .post(bea.url("/account/password"))
        .form(&[
            ("current_password", PASSWORD),
            ("new_password", NEW_PASSWORD),
            ("csrf_token", bea.csrf.as_str()),
        ])
        .send()
        .await
        .expect("form");
    assert!(
        unticked.url().path().ends_with("/login"),
        "{}",
        unticked.url()
    );
    assert_eq!(status_with(&server, &third, ws).await.0, StatusCode::OK);
    server.login("bea", NEW_PASSWORD).await;
}

#[tokio::test]
async fn an_expired_token_is_refused_and_listed_as_expired() {
    let server = Server::start();
    let owner = server.owner().await;
    let created = make_token(&owner, "viewer", json!({"expires_in_days": 2})).await;
    let token = secret(&created);
    let expires = created["expires_at"].as_str().expect("expiry").to_string();
    let ws = "/api/v1/workspaces/1";
    assert_eq!(status_with(&server, &token, ws).await.0, StatusCode::OK);
    let listed: Value = owner
        .get("/api/v1/workspaces/1/tokens")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed[0]["expires_at"], json!(expires));
    assert_eq!(listed[0]["expired"], json!(false));
    let dated = make_token(&owner, "viewer", json!({"expires_on": "2030-12-31"})).await;
    assert_eq!(dated["expires_at"], json!("2031-01-01T00:00:00Z"));
    let forever = make_token(&owner, "viewer", json!({})).await;
    assert_eq!(forever["expires_at"], Value::Null);

    for bad in [
        json!({"expires_on": "2001-01-01"}),
        json!({"expires_in_days": 0}),
        json!({"expires_in_days": 3, "expires_on": "2099-01-01"}),
        json!({"expires_on": "next week"}),
    ] {
        let mut body = json!({"name": "x", "role": "viewer"});
        body.as_object_mut()
            .expect("object")
            .extend(bad.as_object().expect("o").clone());
        let resp = owner.post("/api/v1/workspaces/1/tokens", body).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["code"], "invalid_expiry", "{bad}");
    }

    // The clock cannot be set in a running server: move the expiry into
    // the past in the database instead.
    let db = format!(
        "sqlite://{}",
        server.data_dir.join("ledgersys.sqlite3").display()
    );
    let mut conn = sqlx::SqliteConnection::connect(&db).await.expect("connect");
    sqlx::query("UPDATE api_tokens SET expires_at = unixepoch() - 1 WHERE id = ?")
        .bind(created["id"].as_i64().expect("id"))
        .execute(&mut conn)
        .await
        .expect("expire");
    conn.close().await.expect("close");
    let (status, body) = status_with(&server, &token, ws).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );
    let listed: Value = owner
        .get("/api/v1/workspaces/1/tokens")
        .await
        .json()
        .await
        .expect("json");
    let row = listed
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["id"] == created["id"])
        .expect("listed")
        .clone();
    assert_eq!(row["expired"], json!(true), "{row}");

    // The page offers an expiry and shows it.
    let made = owner
        .http
        .post(owner.url("/account/tokens"))
        .form(&[
            ("name", "nightly"),
            ("role", "viewer"),
            ("expires_in_days", ""),
            ("expires_on", "2030-06-30"),
            ("csrf_token", owner.csrf.as_str()),
        ])
        .send()
        .await
        .expect("form");
    assert_eq!(made.status(), StatusCode::OK);
    let page = made.text().await.expect("html");
    assert!(
        page.contains("2030-07-01T00:00:00Z"),
        "the expiry is listed"
    );
    assert!(page.contains(">expired<"), "the expired token is marked");
    assert!(page.contains(r#"name="expires_in_days""#));
}

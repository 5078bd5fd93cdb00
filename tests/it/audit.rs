//! The audit log and security alerts (policy sections 4 and 7).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fakes::smtp::FakeSmtp;
use crate::support::{PASSWORD, Server, client, text};

fn actions(entries: &Value) -> Vec<String> {
    entries
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn security_events_are_recorded_and_exported_as_csv() {
    let server = Server::start();
    let owner = server.owner().await;
    let _ = client()
        .post(server.at("/api/v1/session"))
        .json(&json!({"username": "owner", "password": "not the password"}))
        .send()
        .await;
    server.add_member(&owner, "acct", "accountant").await;
    let members: Value = owner
        .get("/api/v1/workspaces/1/members")
        .await
        .json()
        .await
        .expect("json");
    let acct = members
        .as_array()
        .expect("list")
        .iter()
        .find(|m| m["username"] == "acct")
        .expect("acct")["user_id"]
        .clone();
    owner
        .put(
            &format!("/api/v1/workspaces/1/members/{acct}"),
            json!({"role": "viewer"}),
        )
        .await;
    let token: Value = owner
        .post(
            "/api/v1/workspaces/1/tokens",
            json!({"name": "ci", "role": "viewer"}),
        )
        .await
        .json()
        .await
        .expect("json");
    owner
        .delete(&format!("/api/v1/workspaces/1/tokens/{}", token["id"]))
        .await;

    let log: Value = owner
        .get("/api/v1/workspaces/1/audit")
        .await
        .json()
        .await
        .expect("json");
    let seen = actions(&log);
    for expected in [
        "setup.owner_created",
        "login",
        "login.failed",
        "user.created",
        "member.role_changed",
        "api_token.created",
        "api_token.revoked",
    ] {
        assert!(
            seen.iter().any(|a| a == expected),
            "{expected} missing from {seen:?}"
        );
    }
    let failed = log
        .as_array()
        .expect("list")
        .iter()
        .find(|e| e["action"] == "login.failed")
        .expect("failed login");
    assert_eq!(failed["client_addr"], "127.0.0.1");

    let csv = owner.get("/api/v1/workspaces/1/audit.csv").await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/csv")
    );
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .expect("cd")
            .contains("attachment")
    );
    let body = csv.text().await.expect("csv");
    let mut lines = body.lines();
    assert_eq!(
        lines.next(),
        Some("id,at,actor,workspace_id,action,target,client_addr,detail")
    );
    assert!(body.contains(",member.role_changed,"), "{body}");
    assert!(body.contains("accountant -> viewer"), "{body}");
    let after: Value = owner
        .get("/api/v1/workspaces/1/audit")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        after[0]["action"], "audit.exported",
        "the export is itself recorded"
    );
}

#[tokio::test]
async fn an_administrator_opens_another_workspace_only_with_a_recorded_reason() {
    let server = Server::start();
    let admin = server.owner().await;
    let pw = server.data_dir.with_extension("pw");
    std::fs::write(&pw, PASSWORD).expect("write");
    let out = server.cli(&[
        "admin",
        "create-user",
        "--username",
        "bookkeeper",
        "--password-file",
        pw.to_str().expect("utf-8"),
        "--role",
        "owner",
        "--workspace",
        "family",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let family_owner = server.login("bookkeeper", PASSWORD).await;

    assert_eq!(
        admin.get("/api/v1/workspaces/2").await.status(),
        StatusCode::FORBIDDEN
    );
    let no_reason = admin
        .post("/api/v1/workspaces/2/access", json!({"reason": "  "}))
        .await;
    assert_eq!(no_reason.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let granted = admin
        .post(
            "/api/v1/workspaces/2/access",
            json!({"reason": "support ticket 42"}),
        )
        .await;
    assert_eq!(granted.status(), StatusCode::NO_CONTENT);
    let view: Value = admin
        .get("/api/v1/workspaces/2")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(view["role"], "viewer", "read-only access");
    assert_eq!(
        admin.get("/api/v1/workspaces/2/members").await.status(),
        StatusCode::FORBIDDEN
    );

    let log: Value = family_owner
        .get("/api/v1/workspaces/2/audit")
        .await
        .json()
        .await
        .expect("json");
    let entry = log
        .as_array()
        .expect("list")
        .iter()
        .find(|e| e["action"] == "admin.access_granted")
        .expect("recorded");
    assert_eq!(entry["detail"], "support ticket 42");
    assert_eq!(entry["actor"], "owner");
    let alerts: Value = family_owner
        .get("/api/v1/me/alerts")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        alerts[0]["message"]
            .as_str()
            .expect("message")
            .contains("support ticket 42"),
        "{alerts}"
    );
}

#[tokio::test]
async fn security_alerts_are_shown_and_mailed() {
    let smtp = FakeSmtp::start().await;
    let server = Server::start();
    let owner = server.owner().await;
    owner
        .put(
            "/api/v1/instance/smtp",
            json!({"host": "127.0.0.1", "port": smtp.port, "security": "none", "from": "Ledgersys <ledgersys@example.org>"}),
        )
        .await;
    // A sign-in from an address not seen before.
    server.login_from("owner", PASSWORD, "127.0.0.2").await;
    let mails = smtp.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["<owner@example.org>".to_string()]);
    assert!(
        mails[0]
            .data
            .contains("Subject: Ledgersys security alert: new sign-in address"),
        "{}",
        mails[0].data
    );
    assert!(mails[0].data.contains("127.0.0.2"), "{}", mails[0].data);

    // A lockout.
    for _ in 0..5 {
        let _ = client()
            .post(server.at("/api/v1/session"))
            .json(&json!({"username": "owner", "password": "not the password"}))
            .send()
            .await;
    }
    let mails = smtp.wait_for(2).await;
    assert!(
        mails[1].data.contains("account locked"),
        "{}",
        mails[1].data
    );

    let alerts: Value = owner
        .get("/api/v1/me/alerts")
        .await
        .json()
        .await
        .expect("json");
    let kinds: Vec<&str> = alerts
        .as_array()
        .expect("list")
        .iter()
        .map(|a| a["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["account locked", "new sign-in address"]);
    assert!(alerts[0]["read"] == false);
    owner.post("/api/v1/me/alerts/read", json!({})).await;
    let read: Value = owner
        .get("/api/v1/me/alerts")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        read.as_array()
            .expect("list")
            .iter()
            .all(|a| a["read"] == true)
    );
}

#[tokio::test]
async fn security_txt_says_where_to_report() {
    let server = Server::start();
    let resp = client()
        .get(server.at("/.well-known/security.txt"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.text().await.expect("body");
    assert!(body.contains("Contact: mailto:"), "{body}");
    assert!(body.contains("Expires: 20"), "{body}");
}

//! Roles are enforced on the server for every API route: this walks every
//! operation of the OpenAPI document for every role, member and non-member,
//! so a new route without a rule fails here.

use std::collections::BTreeMap;

use ledgersys::auth::Role;
use ledgersys::http::api::policy::{RULES, Rule};

/// Who may call what, written out independently of the server's table: the
/// matrix below checks the server against this, so a rule changed by mistake
/// fails here. Viewers read; accountants read and classify; admins manage
/// members; only instance administrators touch instance settings.
const EXPECTED: &[(&str, &str, Rule)] = &[
    ("GET", "/status", Rule::Public),
    (
        "GET",
        "/workspaces/{workspace_id}/exchanges",
        Rule::Member(Role::Viewer),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/exchanges",
        Rule::Member(Role::Admin),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/exchanges/{exchange_id}/sync",
        Rule::Member(Role::Accountant),
    ),
    (
        "DELETE",
        "/workspaces/{workspace_id}/exchanges/{exchange_id}",
        Rule::Member(Role::Admin),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/wallets",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/wallets/sync-status",
        Rule::Member(Role::Viewer),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/wallets",
        Rule::Member(Role::Accountant),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/wallets/preview",
        Rule::Member(Role::Accountant),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/wallets/{wallet_id}/sync",
        Rule::Member(Role::Accountant),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/wallets/{wallet_id}/sync",
        Rule::Member(Role::Viewer),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/labels",
        Rule::Member(Role::Accountant),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/labels",
        Rule::Member(Role::Viewer),
    ),
    ("POST", "/setup", Rule::Public),
    ("POST", "/session", Rule::Public),
    ("DELETE", "/session", Rule::Session),
    ("GET", "/me", Rule::User),
    ("PUT", "/me/email", Rule::Session),
    ("POST", "/me/password", Rule::Session),
    ("GET", "/me/alerts", Rule::User),
    ("POST", "/workspaces", Rule::InstanceAdmin),
    ("POST", "/me/alerts/read", Rule::Session),
    (
        "GET",
        "/workspaces/{workspace_id}",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/members",
        Rule::Member(Role::Admin),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/members",
        Rule::Member(Role::Admin),
    ),
    (
        "PUT",
        "/workspaces/{workspace_id}/members/{user_id}",
        Rule::Member(Role::Admin),
    ),
    (
        "DELETE",
        "/workspaces/{workspace_id}/members/{user_id}",
        Rule::Member(Role::Admin),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/invitations",
        Rule::Member(Role::Admin),
    ),
    (
        "DELETE",
        "/workspaces/{workspace_id}/invitations/{invitation_id}",
        Rule::Member(Role::Admin),
    ),
    ("GET", "/me/invitations", Rule::Session),
    (
        "POST",
        "/me/invitations/{invitation_id}/accept",
        Rule::Session,
    ),
    (
        "POST",
        "/me/invitations/{invitation_id}/decline",
        Rule::Session,
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/tokens",
        Rule::Member(Role::Viewer),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/tokens",
        Rule::MemberSession(Role::Viewer),
    ),
    (
        "DELETE",
        "/workspaces/{workspace_id}/tokens/{token_id}",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/audit",
        Rule::Member(Role::Admin),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/audit.csv",
        Rule::Member(Role::Admin),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/access",
        Rule::InstanceAdmin,
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/imports",
        Rule::Member(Role::Accountant),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/reports/summary",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/reports/summary.csv",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/review",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/transfers",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/duplicates",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/transactions",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/reports/detail/{report}",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/reports/csv/{report}",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/reports/trail",
        Rule::Member(Role::Viewer),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/decisions",
        Rule::Member(Role::Viewer),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/decisions",
        Rule::Member(Role::Accountant),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/decisions/{decision_id}/undo",
        Rule::Member(Role::Accountant),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/settings",
        Rule::Member(Role::Viewer),
    ),
    (
        "PUT",
        "/workspaces/{workspace_id}/settings",
        Rule::Member(Role::Admin),
    ),
    (
        "GET",
        "/workspaces/{workspace_id}/transactions.csv",
        Rule::Member(Role::Viewer),
    ),
    ("GET", "/instance/audit", Rule::InstanceAdmin),
    ("GET", "/instance/smtp", Rule::InstanceAdmin),
    ("PUT", "/instance/smtp", Rule::InstanceAdmin),
    ("DELETE", "/instance/smtp", Rule::InstanceAdmin),
    ("POST", "/instance/smtp/test", Rule::InstanceAdmin),
    ("GET", "/instance/chain-source", Rule::InstanceAdmin),
    ("PUT", "/instance/chain-source", Rule::InstanceAdmin),
    (
        "GET",
        "/workspaces/{workspace_id}/price-overrides",
        Rule::Member(Role::Viewer),
    ),
    (
        "PUT",
        "/workspaces/{workspace_id}/price-overrides",
        Rule::Member(Role::Accountant),
    ),
    ("GET", "/instance/prices", Rule::InstanceAdmin),
    ("PUT", "/instance/prices", Rule::InstanceAdmin),
    ("PUT", "/instance/prices/coingecko-key", Rule::InstanceAdmin),
    (
        "DELETE",
        "/instance/prices/coingecko-key",
        Rule::InstanceAdmin,
    ),
    ("POST", "/instance/prices/fill", Rule::InstanceAdmin),
    ("GET", "/instance/prices/fill", Rule::InstanceAdmin),
    ("POST", "/btcpay/webhook/{integration_id}", Rule::Signed),
    (
        "GET",
        "/workspaces/{workspace_id}/btcpay",
        Rule::Member(Role::Admin),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/btcpay",
        Rule::Member(Role::Admin),
    ),
    (
        "POST",
        "/workspaces/{workspace_id}/btcpay/sweep",
        Rule::Member(Role::Admin),
    ),
    (
        "DELETE",
        "/workspaces/{workspace_id}/btcpay/{integration_id}",
        Rule::Member(Role::Admin),
    ),
    (
        "PUT",
        "/workspaces/{workspace_id}/btcpay/{integration_id}/api-key",
        Rule::Member(Role::Admin),
    ),
    (
        "PUT",
        "/workspaces/{workspace_id}/btcpay/{integration_id}/webhook-secret",
        Rule::Member(Role::Admin),
    ),
];
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{PASSWORD, Server, Session, client, text};

/// The codes the policy answers with when it refuses a caller.
const POLICY_REFUSALS: [&str; 5] = [
    "unauthorized",
    "session_required",
    "forbidden",
    "not_a_member",
    "role_too_low",
];

struct Caller {
    label: String,
    session: Option<Session>,
    /// The caller's role in workspace 1, if a member.
    role: Option<Role>,
    instance_admin: bool,
}

fn allowed(rule: Rule, caller: &Caller) -> bool {
    match rule {
        Rule::Public | Rule::Signed => true,
        Rule::Session | Rule::User => caller.session.is_some(),
        Rule::InstanceAdmin => caller.instance_admin,
        Rule::Member(required) | Rule::MemberSession(required) => {
            caller.role.is_some_and(|r| r.allows(required))
        }
    }
}

fn documented_operations(spec: &Value) -> Vec<(String, String)> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("item").keys() {
            ops.push((method.to_uppercase(), path.clone()));
        }
    }
    ops
}

#[tokio::test]
async fn every_route_has_a_rule_and_every_rule_a_route() {
    let server = Server::start();
    let spec: Value = client()
        .get(server.at("/api/openapi.json"))
        .send()
        .await
        .expect("spec")
        .json()
        .await
        .expect("json");
    let documented = documented_operations(&spec);
    for (method, path) in &documented {
        assert!(
            RULES.iter().any(|(m, p, _)| m == method && p == path),
            "{method} {path} has no access rule in http::api::policy::RULES"
        );
        assert!(
            EXPECTED.iter().any(|(m, p, _)| m == method && p == path),
            "{method} {path} has no expected rule in this test: decide who may call it"
        );
    }
    for (method, path, _) in RULES {
        assert!(
            documented.iter().any(|(m, p)| m == method && p == path),
            "the rule for {method} {path} names no route"
        );
    }
}

#[tokio::test]
async fn the_role_matrix_holds_for_every_route() {
    let server = Server::start();
    let owner = server.owner().await;
    // Workspace 1: one member of each role besides the instance owner.
    for (name, role) in [
        ("owner1", "owner"),
        ("admin1", "admin"),
        ("accountant1", "accountant"),
        ("viewer1", "viewer"),
    ] {
        server.add_member(&owner, name, role).await;
    }
    // Workspace 2, made offline: the same roles, none of them in workspace 1.
    let pw = server.data_dir.with_extension("pw");
    std::fs::write(&pw, PASSWORD).expect("write");
    for (name, role) in [
        ("owner2", "owner"),
        ("admin2", "admin"),
        ("accountant2", "accountant"),
        ("viewer2", "viewer"),
    ] {
        let out = server.cli(&[
            "admin",
            "create-user",
            "--username",
            name,
            "--password-file",
            pw.to_str().expect("utf-8"),
            "--role",
            role,
            "--workspace",
            "other",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    let mut callers = vec![Caller {
        label: "anonymous".into(),
        session: None,
        role: None,
        instance_admin: false,
    }];
    callers.push(Caller {
        label: "instance admin".into(),
        session: Some(owner),
        role: Some(Role::Owner),
        instance_admin: true,
    });
    for role in Role::ALL {
        for (suffix, member) in [("1", true), ("2", false)] {
            let name = format!("{role}{suffix}");
            callers.push(Caller {
                label: format!("{role} ({})", if member { "member" } else { "non-member" }),
                session: Some(server.login(&name, PASSWORD).await),
                role: member.then_some(role),
                instance_admin: false,
            });
        }
    }

    let spec: Value = client()
        .get(server.at("/api/openapi.json"))
        .send()
        .await
        .expect("spec")
        .json()
        .await
        .expect("json");
    let mut ops = documented_operations(&spec);
    // Signing out ends the session the other checks use: do it last.
    ops.sort_by_key(|(m, p)| (m == "DELETE" && p == "/session", p.clone()));
    let mut checked = BTreeMap::new();
    for (method, path) in &ops {
        let rule = EXPECTED
            .iter()
            .find(|(m, p, _)| m == method && p == path)
            .map(|r| r.2)
            .expect("expected rule");
        // Ids that exist nowhere: an allowed call then fails in its handler
        // (404, 400) and changes nothing.
        let url = format!("/api/v1{path}")
            .replace("{workspace_id}", "1")
            .replace("{user_id}", "9999")
            .replace("{token_id}", "9999")
            .replace("{invitation_id}", "9999");
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        for caller in &callers {
            let body = matches!(method, Method::POST | Method::PUT).then(|| json!({}));
            let resp = match &caller.session {
                Some(session) => session.send(method.clone(), &url, body).await,
                None => {
                    let mut req = client().request(method.clone(), server.at(&url));
                    if let Some(body) = body {
                        req = req.json(&body);
                    }
                    req.send().await.expect("request")
                }
            };
            let status = resp.status();
            let code = resp
                .json::<Value>()
                .await
                .ok()
                .and_then(|v| v["code"].as_str().map(String::from))
                .unwrap_or_default();
            let refused = matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                && POLICY_REFUSALS.contains(&code.as_str());
            assert_eq!(
                refused,
                !allowed(rule, caller),
                "{method} {path} as {}: got {status} {code}, rule {rule:?}",
                caller.label
            );
            if caller.session.is_none() && !allowed(rule, caller) {
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} anonymous"
                );
            }
            *checked.entry(refused).or_insert(0) += 1;
        }
    }
    assert!(checked[&true] > 50 && checked[&false] > 50, "{checked:?}");
}

#[tokio::test]
async fn a_token_can_never_outrank_its_creator() {
    let server = Server::start();
    let owner = server.owner().await;
    server.add_member(&owner, "acct", "accountant").await;
    let acct = server.login("acct", PASSWORD).await;
    let too_high = acct
        .post(
            "/api/v1/workspaces/1/tokens",
            json!({"name": "t", "role": "admin"}),
        )
        .await;
    assert_eq!(too_high.status(), StatusCode::FORBIDDEN);
    let ok: Value = acct
        .post(
            "/api/v1/workspaces/1/tokens",
            json!({"name": "t", "role": "accountant"}),
        )
        .await
        .json()
        .await
        .expect("json");
    let token = ok["token"].as_str().expect("token").to_string();
    let get = |path: &'static str| {
        let token = token.clone();
        let url = server.at(path);
        async move {
            client()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("get")
                .status()
        }
    };
    assert_eq!(get("/api/v1/workspaces/1").await, StatusCode::OK);
    assert_eq!(
        get("/api/v1/workspaces/1/members").await,
        StatusCode::FORBIDDEN,
        "accountants cannot manage members"
    );
    assert_eq!(
        get("/api/v1/workspaces/2").await,
        StatusCode::FORBIDDEN,
        "a token is scoped to its workspace"
    );

    // Demoted: the token follows its creator's current role.
    let users: Value = owner
        .get("/api/v1/workspaces/1/members")
        .await
        .json()
        .await
        .expect("json");
    let acct_id = users
        .as_array()
        .expect("list")
        .iter()
        .find(|u| u["username"] == "acct")
        .expect("acct")["user_id"]
        .clone();
    let demoted = owner
        .put(
            &format!("/api/v1/workspaces/1/members/{acct_id}"),
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(demoted.status(), StatusCode::OK);
    let audit = client()
        .get(server.at("/api/v1/workspaces/1/audit"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(audit.status(), StatusCode::FORBIDDEN);

    // Removed: the token stops working at all.
    assert_eq!(
        owner
            .delete(&format!("/api/v1/workspaces/1/members/{acct_id}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(get("/api/v1/workspaces/1").await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_revoked_token_is_refused() {
    let server = Server::start();
    let owner = server.owner().await;
    let created: Value = owner
        .post(
            "/api/v1/workspaces/1/tokens",
            json!({"name": "ci", "role": "viewer"}),
        )
        .await
        .json()
        .await
        .expect("json");
    let token = created["token"].as_str().expect("token");
    let listed: Value = owner
        .get("/api/v1/workspaces/1/tokens")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed[0]["last4"], token[token.len() - 4..]);
    assert!(
        !listed.to_string().contains(token),
        "the list never shows a token"
    );
    let id = created["id"].as_i64().expect("id");
    assert_eq!(
        owner
            .delete(&format!("/api/v1/workspaces/1/tokens/{id}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let resp = client()
        .get(server.at("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn only_owners_make_or_unmake_owners() {
    let server = Server::start();
    let owner = server.owner().await;
    server.add_member(&owner, "adm", "admin").await;
    let adm = server.login("adm", PASSWORD).await;
    let grant = adm
        .post(
            "/api/v1/workspaces/1/members",
            json!({"username": "newowner", "role": "owner", "password": PASSWORD}),
        )
        .await;
    assert_eq!(grant.status(), StatusCode::FORBIDDEN);
    let demote_owner = adm
        .put("/api/v1/workspaces/1/members/1", json!({"role": "viewer"}))
        .await;
    assert_eq!(demote_owner.status(), StatusCode::FORBIDDEN);
    let last_owner = owner
        .put("/api/v1/workspaces/1/members/1", json!({"role": "admin"}))
        .await;
    assert_eq!(
        last_owner.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a workspace keeps an owner"
    );
}

#[tokio::test]
async fn page_actions_check_the_role_on_the_server() {
    let server = Server::start();
    let owner = server.owner().await;
    server.add_member(&owner, "acct", "accountant").await;
    let acct = server.login("acct", PASSWORD).await;
    let form = |s: &Session, path: &str, fields: Vec<(&str, &str)>| {
        let mut fields: Vec<(String, String)> = fields
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        fields.push(("csrf_token".into(), s.csrf.clone()));
        s.http.post(s.url(path)).form(&fields).send()
    };
    let new_member = vec![
        ("username", "mallory"),
        ("role", "owner"),
        ("password", PASSWORD),
    ];
    let refused = form(&acct, "/settings/members", new_member.clone())
        .await
        .expect("post");
    assert_eq!(
        refused.status(),
        StatusCode::FORBIDDEN,
        "an accountant cannot add members"
    );
    let smtp = vec![
        ("host", "mail.example.org"),
        ("port", "587"),
        ("security", "starttls"),
        ("from", "a@example.org"),
    ];
    let refused = form(&acct, "/settings/smtp", smtp).await.expect("post");
    assert_eq!(
        refused.status(),
        StatusCode::FORBIDDEN,
        "only instance administrators set mail"
    );

    let added = form(
        &owner,
        "/settings/members",
        vec![
            ("username", "dora"),
            ("role", "viewer"),
            ("password", PASSWORD),
        ],
    )
    .await
    .expect("post");
    assert_eq!(added.status(), StatusCode::OK, "back on the settings page");
    let members: Value = owner
        .get("/api/v1/workspaces/1/members")
        .await
        .json()
        .await
        .expect("json");
    assert!(members.to_string().contains("\"dora\""), "{members}");
    let settings = acct.get("/settings").await.text().await.expect("html");
    assert!(
        !settings.contains("Add a member"),
        "the form is not offered to accountants either"
    );
}

#[tokio::test]
async fn an_instance_administrator_creates_workspaces_and_members_switch_between_them() {
    let server = Server::start();
    let owner = server.owner().await;
    let created = owner
        .post("/api/v1/workspaces", json!({"name": "Shop"}))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let shop: Value = created.json().await.expect("json");
    assert_eq!(shop["role"], "owner");
    let taken = owner
        .post("/api/v1/workspaces", json!({"name": "Shop"}))
        .await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    let me: Value = owner.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(me["workspaces"].as_array().expect("list").len(), 2);

    let switch = |id: String| {
        owner
            .http
            .post(owner.url("/workspace"))
            .form(&[
                ("workspace_id", id.as_str()),
                ("csrf_token", owner.csrf.as_str()),
            ])
            .send()
    };
    let switched = switch(shop["id"].to_string()).await.expect("switch");
    assert_eq!(switched.status(), StatusCode::OK);
    let page = owner.get("/settings").await.text().await.expect("html");
    assert!(
        page.contains(&format!(
            "<option value=\"{}\" selected>Shop · owner",
            shop["id"]
        )),
        "{page}"
    );

    server.add_member(&owner, "viewer1", "viewer").await;
    let viewer = server.login("viewer1", PASSWORD).await;
    let elsewhere = viewer
        .http
        .post(viewer.url("/workspace"))
        .form(&[
            ("workspace_id", shop["id"].to_string().as_str()),
            ("csrf_token", viewer.csrf.as_str()),
        ])
        .send()
        .await
        .expect("switch");
    assert_eq!(
        elsewhere.status(),
        StatusCode::FORBIDDEN,
        "only to one's own workspaces"
    );
}

#[tokio::test]
async fn a_token_made_on_the_account_page_is_shown_once() {
    let server = Server::start();
    let owner = server.owner().await;
    let made = owner
        .http
        .post(owner.url("/account/tokens"))
        .form(&[
            ("name", "backup script"),
            ("role", "viewer"),
            ("csrf_token", owner.csrf.as_str()),
        ])
        .send()
        .await
        .expect("post")
        .text()
        .await
        .expect("html");
    let start = made.find("lsk_").expect("the new token is shown");
    let token: String = made[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert_eq!(token.len(), 4 + 43);
    let later = owner.get("/account").await.text().await.expect("html");
    assert!(!later.contains(&token), "never shown again");
    assert!(
        later.contains(&token[token.len() - 4..]),
        "listed by its last 4 characters"
    );
    let works = client()
        .get(server.at("/api/v1/workspaces/1"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(works.status(), StatusCode::OK);
}

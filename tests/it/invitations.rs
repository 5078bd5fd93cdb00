//! Adding someone by name invites them: nobody joins a workspace without
//! accepting, and the inviting admin cannot tell whether the name is an
//! account. Wallet names are unique per workspace only.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fakes::webdriver::Browser;
use crate::support::{PASSWORD, Server, Session, text};
use crate::wallets::{xpub, zpub};

/// `bob` owns workspace "other"; the instance owner owns workspace 1.
async fn two_workspaces() -> (Server, Session) {
    let server = Server::start();
    let owner = server.owner().await;
    let pw = server.data_dir.with_extension("pw");
    std::fs::write(&pw, PASSWORD).expect("write");
    for name in ["bob", "carol"] {
        let out = server.cli(&[
            "admin",
            "create-user",
            "--username",
            name,
            "--password-file",
            pw.to_str().expect("utf-8"),
            "--role",
            "owner",
            "--workspace",
            "other",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    (server, owner)
}

async fn json_of(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    (status, resp.json().await.expect("json"))
}

async fn member_names(owner: &Session) -> Vec<String> {
    let (_, members) = json_of(owner.get("/api/v1/workspaces/1/members").await).await;
    members
        .as_array()
        .expect("list")
        .iter()
        .map(|m| m["username"].as_str().expect("name").to_string())
        .collect()
}

async fn actions(owner: &Session) -> Vec<(String, String)> {
    let (_, log) = json_of(owner.get("/api/v1/workspaces/1/audit").await).await;
    log.as_array()
        .expect("list")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action").to_string(),
                e["target"].as_str().expect("target").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_invitation_answers_alike_for_any_name_and_joins_only_when_accepted() {
    let (server, owner) = two_workspaces().await;
    let invite = |name: &'static str| {
        owner.post(
            "/api/v1/workspaces/1/members",
            json!({"username": name, "role": "viewer"}),
        )
    };
    let (existing_status, existing) = json_of(invite("bob").await).await;
    let (missing_status, missing) = json_of(invite("nosuch").await).await;
    assert_eq!(existing_status, StatusCode::ACCEPTED);
    assert_eq!((missing_status, &missing), (existing_status, &existing));
    assert_eq!(existing, json!({"status": "invited"}));
    assert_eq!(member_names(&owner).await, ["owner"], "nobody joined yet");

    // The admin's list looks the same for both names.
    let (_, sent) = json_of(owner.get("/api/v1/workspaces/1/invitations").await).await;
    let sent = sent.as_array().expect("list");
    assert_eq!(sent.len(), 2);
    let keys = |v: &Value| {
        v.as_object()
            .expect("o")
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&sent[0]), keys(&sent[1]));
    assert!(sent.iter().all(|i| i.get("user_id").is_none()));

    let bob = server.login("bob", PASSWORD).await;
    let carol = server.login("carol", PASSWORD).await;
    let (_, mine) = json_of(bob.get("/api/v1/me/invitations").await).await;
    assert_eq!(mine.as_array().expect("list").len(), 1, "{mine}");
    assert_eq!(mine[0]["workspace_id"], json!(1));
    assert_eq!(mine[0]["role"], "viewer");
    assert_eq!(mine[0]["invited_by"], "owner");
    let id = mine[0]["id"].as_i64().expect("id");
    let (_, theirs) = json_of(carol.get("/api/v1/me/invitations").await).await;
    assert_eq!(theirs, json!([]));
    assert_eq!(
        bob.get("/api/v1/workspaces/1").await.status(),
        StatusCode::FORBIDDEN,
        "not a member before accepting"
    );
    let stolen = carol
        .post(&format!("/api/v1/me/invitations/{id}/accept"), json!({}))
        .await;
    assert_eq!(
        stolen.status(),
        StatusCode::NOT_FOUND,
        "only the invitee accepts"
    );

    let accepted = bob
        .post(&format!("/api/v1/me/invitations/{id}/accept"), json!({}))
        .await;
    assert_eq!(accepted.status(), StatusCode::NO_CONTENT);
    assert_eq!(member_names(&owner).await, ["bob", "owner"]);
    let (_, ws) = json_of(bob.get("/api/v1/workspaces/1").await).await;
    assert_eq!(ws["role"], "viewer");
    let (_, mine) = json_of(bob.get("/api/v1/me/invitations").await).await;
    assert_eq!(mine, json!([]));
    let (_, sent) = json_of(owner.get("/api/v1/workspaces/1/invitations").await).await;
    assert_eq!(
        sent.as_array().expect("list").len(),
        1,
        "nosuch still waits"
    );
    let again = bob
        .post(&format!("/api/v1/me/invitations/{id}/accept"), json!({}))
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);

    let log = actions(&owner).await;
    for wanted in [
        ("invitation.sent", "bob"),
        ("invitation.sent", "nosuch"),
        ("invitation.accepted", "bob"),
    ] {
        assert!(
            log.contains(&(wanted.0.to_string(), wanted.1.to_string())),
            "{wanted:?} in {log:?}"
        );
    }
}

#[tokio::test]
async fn invitations_are_declined_cancelled_and_never_create_accounts_for_admins() {
    let (server, owner) = two_workspaces().await;
    let invite = || {
        owner.post(
            "/api/v1/workspaces/1/members",
            json!({"username": "bob", "role": "accountant"}),
        )
    };
    assert_eq!(invite().await.status(), StatusCode::ACCEPTED);
    let bob = server.login("bob", PASSWORD).await;
    let (_, mine) = json_of(bob.get("/api/v1/me/invitations").await).await;
    let id = mine[0]["id"].as_i64().expect("id");
    let declined = bob
        .post(&format!("/api/v1/me/invitations/{id}/decline"), json!({}))
        .await;
    assert_eq!(declined.status(), StatusCode::NO_CONTENT);
    assert_eq!(member_names(&owner).await, ["owner"]);

    assert_eq!(invite().await.status(), StatusCode::ACCEPTED);
    let (_, sent) = json_of(owner.get("/api/v1/workspaces/1/invitations").await).await;
    let id = sent[0]["id"].as_i64().expect("id");
    let cancelled = owner
        .delete(&format!("/api/v1/workspaces/1/invitations/{id}"))
        .await;
    assert_eq!(cancelled.status(), StatusCode::NO_CONTENT);
    let (_, mine) = json_of(bob.get("/api/v1/me/invitations").await).await;
    assert_eq!(mine, json!([]));
    let late = bob
        .post(&format!("/api/v1/me/invitations/{id}/accept"), json!({}))
        .await;
    assert_eq!(late.status(), StatusCode::NOT_FOUND);
    assert_eq!(member_names(&owner).await, ["owner"]);
    let log = actions(&owner).await;
    for wanted in ["invitation.declined", "invitation.cancelled"] {
        assert!(log.iter().any(|(a, _)| a == wanted), "{wanted} in {log:?}");
    }

    // A workspace admin who is no instance administrator cannot create
    // accounts, and is told so alike whether or not the name exists.
    server.add_member(&owner, "adm", "admin").await;
    let adm = server.login("adm", PASSWORD).await;
    let mut answers = Vec::new();
    for name in ["bob", "nosuch"] {
        answers.push(
            json_of(
                adm.post(
                    "/api/v1/workspaces/1/members",
                    json!({"username": name, "role": "viewer", "password": PASSWORD}),
                )
                .await,
            )
            .await,
        );
    }
    assert_eq!(answers[0].0, StatusCode::FORBIDDEN);
    assert_eq!(answers[0], answers[1]);

    // An invitation is worth no more than its sender's current role.
    let sent = adm
        .post(
            "/api/v1/workspaces/1/members",
            json!({"username": "bob", "role": "admin"}),
        )
        .await;
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    let (_, members) = json_of(owner.get("/api/v1/workspaces/1/members").await).await;
    let adm_id = members
        .as_array()
        .expect("list")
        .iter()
        .find(|m| m["username"] == "adm")
        .expect("adm")["user_id"]
        .clone();
    let demoted = owner
        .put(
            &format!("/api/v1/workspaces/1/members/{adm_id}"),
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(demoted.status(), StatusCode::OK);
    let (_, mine) = json_of(bob.get("/api/v1/me/invitations").await).await;
    let id = mine[0]["id"].as_i64().expect("id");
    let refused = bob
        .post(&format!("/api/v1/me/invitations/{id}/accept"), json!({}))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        member_names(&owner).await,
        ["adm", "owner"],
        "bob did not join"
    );
}

#[tokio::test]
async fn the_pages_list_invitations_with_accept_decline_and_cancel_buttons() {
    let (server, owner) = two_workspaces().await;
    let form = |s: &Session, path: String| {
        s.http
            .post(s.url(&path))
            .form(&[("csrf_token", s.csrf.clone())])
            .send()
    };
    let added = owner
        .http
        .post(owner.url("/settings/members"))
        .form(&[
            ("username", "bob"),
            ("role", "viewer"),
            ("csrf_token", owner.csrf.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(added.status(), StatusCode::OK);
    let settings = added.text().await.expect("html");
    assert!(settings.contains("Pending invitations") && settings.contains("<strong>bob</strong>"));
    assert!(
        settings.contains("/settings/invitations/"),
        "a cancel button"
    );
    assert_eq!(member_names(&owner).await, ["owner"]);

    let bob = server.login("bob", PASSWORD).await;
    let account = bob.get("/account").await.text().await.expect("html");
    let (_, mine) = json_of(bob.get("/api/v1/me/invitations").await).await;
    let id = mine[0]["id"].as_i64().expect("id");
    assert!(account.contains(&format!("/account/invitations/{id}/accept")));
    assert!(account.contains(&format!("/account/invitations/{id}/decline")));
    let forged = bob
        .http
        .post(bob.url(&format!("/account/invitations/{id}/accept")))
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "no CSRF token");
    assert_eq!(member_names(&owner).await, ["owner"]);
    let accepted = form(&bob, format!("/account/invitations/{id}/accept"))
        .await
        .expect("post");
    assert_eq!(accepted.status(), StatusCode::OK);
    assert!(
        accepted
            .text()
            .await
            .expect("html")
            .contains("You joined the workspace")
    );
    assert_eq!(member_names(&owner).await, ["bob", "owner"]);

    // Cancelling from the settings page.
    let invited = owner
        .post(
            "/api/v1/workspaces/1/members",
            json!({"username": "carol", "role": "viewer"}),
        )
        .await;
    assert_eq!(invited.status(), StatusCode::ACCEPTED);
    let (_, sent) = json_of(owner.get("/api/v1/workspaces/1/invitations").await).await;
    let id = sent[0]["id"].as_i64().expect("id");
    let cancelled = form(&owner, format!("/settings/invitations/{id}/cancel"))
        .await
        .expect("post");
    assert_eq!(cancelled.status(), StatusCode::OK);
    let (_, sent) = json_of(owner.get("/api/v1/workspaces/1/invitations").await).await;
    assert_eq!(sent, json!([]));
}

#[tokio::test]
async fn two_workspaces_each_have_a_wallet_named_cold() {
    let server = Server::start();
    let owner = server.owner().await;
    let (status, shop) = json_of(
        owner
            .post("/api/v1/workspaces", json!({"name": "Shop"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let shop_id = shop["id"].as_i64().expect("id");
    let add = |ws: i64, seed: u8| {
        let path = format!("/api/v1/workspaces/{ws}/wallets");
        let owner = &owner;
        async move {
            owner
                .post(
                    &path,
                    json!({"name": "Cold", "kind": "xpub", "input": zpub(&xpub(seed))}),
                )
                .await
        }
    };
    assert_eq!(add(1, 61).await.status(), StatusCode::CREATED);
    assert_eq!(
        add(shop_id, 62).await.status(),
        StatusCode::CREATED,
        "another workspace's name is free"
    );
    let (status, again) = json_of(add(1, 63).await).await;
    assert_eq!(
        (status, &again["code"]),
        (StatusCode::CONFLICT, &json!("wallet_exists"))
    );

    // The command line cannot mistake one for the other.
    let set = server.cli(&["chain", "set", "--esplora", "http://127.0.0.1:9"]);
    assert!(set.status.success(), "{}", text(&set.stderr));
    let ambiguous = server.cli(&["wallet", "sync", "--name", "Cold"]);
    assert_eq!(ambiguous.status.code(), Some(2));
    assert!(
        text(&ambiguous.stderr).contains("2 workspaces have a wallet named \"Cold\""),
        "{}",
        text(&ambiguous.stderr)
    );
    let chosen = server.cli(&["wallet", "sync", "--name", "Cold", "--workspace", "Shop"]);
    assert_eq!(
        chosen.status.code(),
        Some(1),
        "picked one; the source is down"
    );
    assert!(
        text(&chosen.stderr).contains("Cold:"),
        "{}",
        text(&chosen.stderr)
    );
    let nowhere = server.cli(&["wallet", "sync", "--name", "Cold", "--workspace", "nope"]);
    assert_eq!(nowhere.status.code(), Some(2));
}

#[tokio::test]
async fn an_invitee_accepts_in_a_browser_on_a_360_pixel_phone() {
    let (server, owner) = two_workspaces().await;
    let invited = owner
        .post(
            "/api/v1/workspaces/1/members",
            json!({"username": "bob", "role": "viewer"}),
        )
        .await;
    assert_eq!(invited.status(), StatusCode::ACCEPTED);
    let bob = server.login("bob", PASSWORD).await;
    let made = bob
        .post(
            "/api/v1/workspaces/2/tokens",
            json!({"name": "a rather long token name", "role": "viewer", "expires_in_days": 30}),
        )
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);

    let phone = Browser::phone(360, 780).await;
    phone.goto(&server.at("/login")).await;
    phone.type_into("input[name=username]", "bob").await;
    phone.type_into("input[name=password]", PASSWORD).await;
    phone.click("button[type=submit]").await;
    phone.wait_until("location.pathname === '/'").await;
    phone.goto(&server.at("/account")).await;
    let overflow =
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth";
    assert_eq!(
        phone.script(overflow).await,
        json!(0),
        "the account page fits 360 px"
    );
    crate::browser::keep_screenshot("account-invitation-phone.png", &phone.screenshot().await);
    phone.click("#invitations button[type=submit]").await;
    phone
        .wait_until("document.body.innerText.includes('You joined the workspace')")
        .await;
    assert_eq!(phone.script(overflow).await, json!(0));
    crate::browser::assert_clean_console(&phone.console().await);
    phone.quit().await;
    assert_eq!(member_names(&owner).await, ["bob", "owner"]);

    // The admin's pending list, on the same phone.
    let invited = owner
        .post(
            "/api/v1/workspaces/1/members",
            json!({"username": "someone.with.a.long.name@example.org", "role": "accountant"}),
        )
        .await;
    assert_eq!(invited.status(), StatusCode::ACCEPTED);
    let phone = Browser::phone(360, 780).await;
    crate::browser::sign_in(&phone, &server).await;
    phone.goto(&server.at("/settings")).await;
    let pending = phone
        .script(
            "const l = document.querySelector('ul.plain'); \
             const inside = [...l.querySelectorAll('li, li *')] \
               .every(e => e.getBoundingClientRect().right <= 360 && e.scrollWidth <= e.clientWidth + 1); \
             return [inside, l.querySelectorAll('button').length, \
               l.closest('section').scrollWidth - l.closest('section').clientWidth]",
        )
        .await;

    assert_eq!(
        pending,
        json!([true, 1, 0]),
        "one cancel button; the members card fits (its table scrolls inside)"
    );
    crate::browser::keep_screenshot("settings-invitations-phone.png", &phone.screenshot().await);

    phone.quit().await;
}

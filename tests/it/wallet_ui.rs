//! Adding a wallet from the Wallets page (a check showing its first
//! receive addresses, then a confirmation), syncing it with the "Sync now"
//! button in a real browser, and private material refused by the page and
//! the API without a trace in the data directory or the log.

use bip39::Mnemonic;
use reqwest::multipart::Form;
use serde_json::json;

use crate::fakes::esplora::{Chain, FakeEsplora};
use crate::fakes::webdriver::Browser;
use crate::support::{Server, Session, text};
use crate::wallet_secrets::{contains, files};
use crate::wallets::{Keys, master, xpub, zpub};

async fn check(owner: &Session, kind: &str, input: &str, name: &str) -> reqwest::Response {
    let form = Form::new()
        .text("csrf_token", owner.csrf.clone())
        .text("name", name.to_string())
        .text("kind", kind.to_string())
        .text("input", input.to_string())
        .text("gap_limit", "20")
        .text("birthday", "");
    owner
        .http
        .post(owner.url("/wallets/preview"))
        .multipart(form)
        .send()
        .await
        .expect("post")
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).map(|i| i + start.len()).expect("start");
    let to = html[from..].find(end).expect("end");
    &html[from..from + to]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_the_first_addresses_before_saving_a_wallet() {
    let server = Server::start();
    let owner = server.owner().await;
    let key = xpub(91);
    let keys = Keys::new(&key);
    let descriptor = format!("wpkh({key}/0/*)");
    let page = check(&owner, "descriptor", &descriptor, "Cold UI").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    for i in 0..5 {
        assert!(
            html.contains(&format!("<li><code>{}</code></li>", keys.address(i))),
            "{html}"
        );
    }
    let before = owner
        .get("/api/v1/workspaces/1/wallets")
        .await
        .text()
        .await
        .expect("list");
    assert_eq!(before, "[]", "the check stores nothing");
    let token = between(&html, "name=\"token\" value=\"", "\"").to_string();
    let saved = owner
        .http
        .post(owner.url("/wallets/add"))
        .form(&[
            ("csrf_token", owner.csrf.as_str()),
            ("token", token.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(saved.status(), 200);
    assert!(saved.url().as_str().ends_with("/wallets?added=Cold+UI"));
    let html = saved.text().await.expect("html");
    assert!(html.contains("<td>Cold UI</td>"), "{html}");
    assert!(html.contains("Sync now"), "{html}");
    // A confirmation is used once.
    let again = owner
        .http
        .post(owner.url("/wallets/add"))
        .form(&[
            ("csrf_token", owner.csrf.as_str()),
            ("token", token.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(again.status(), 410);
    let list: serde_json::Value = owner
        .get("/api/v1/workspaces/1/wallets")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list[0]["name"], json!("Cold UI"));
    assert_eq!(list[0]["gap_limit"], json!(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_material_is_refused_by_the_page_and_the_api_and_left_nowhere() {
    let server = Server::start();
    let owner = server.owner().await;
    let xprv = master(93).to_string();
    let phrase = Mnemonic::from_entropy(&[7u8; 16])
        .expect("phrase")
        .to_string();
    let descriptor = format!("wpkh({xprv}/84'/0'/0'/0/*)");
    let export = format!("{{\"label\": \"x\", \"descriptor\": \"{descriptor}\"}}");
    let secrets = [
        ("xpub", xprv.as_str()),
        ("descriptor", descriptor.as_str()),
        ("export", export.as_str()),
        ("addresses", phrase.as_str()),
    ];
    for (kind, input) in secrets {
        let page = check(&owner, kind, input, "Hot").await;
        assert_eq!(page.status(), 422, "{kind}");
        let html = page.text().await.expect("html");
        assert!(
            html.contains("Ledgersys never takes private keys or seeds"),
            "{html}"
        );
        assert!(
            html.contains("<textarea name=\"input\" rows=\"4\" autocomplete=\"off\" spellcheck=\"false\"></textarea>"),
            "the form is not filled again: {html}"
        );
        assert!(html.contains("value=\"Hot\""), "the name is kept");
        for path in [
            "/api/v1/workspaces/1/wallets/preview",
            "/api/v1/workspaces/1/wallets",
        ] {
            let resp = owner
                .post(path, json!({"name": "Hot", "kind": kind, "input": input}))
                .await;
            assert_eq!(resp.status(), 422, "{kind} {path}");
            let body: serde_json::Value = resp.json().await.expect("json");
            assert_eq!(body["code"], json!("private_material"), "{body}");
            assert!(!body.to_string().contains(&xprv[4..40]), "{body}");
        }
    }
    // A secret pasted into the name field is refused too, and not shown.
    let page = check(&owner, "xpub", &zpub(&xpub(94)), &xprv).await;
    assert_eq!(page.status(), 422);
    let html = page.text().await.expect("html");
    assert!(!html.contains(&xprv[4..40]), "{html}");
    let resp = owner
        .post(
            "/api/v1/workspaces/1/wallets",
            json!({"name": xprv, "kind": "xpub", "input": zpub(&xpub(94))}),
        )
        .await;
    assert_eq!(resp.status(), 422);
    let list = owner
        .get("/api/v1/workspaces/1/wallets")
        .await
        .text()
        .await
        .expect("list");
    assert_eq!(list, "[]");
    let words: Vec<&str> = phrase.split(' ').collect();
    let needles = [xprv[4..40].to_string(), words[..4].join(" ")];
    let mut everything = files(server.data_dir.parent().expect("temp"));
    everything.push(("log".into(), server.log().into_bytes()));
    assert!(everything.len() > 2, "the database and the log are read");
    for (path, bytes) in &everything {
        for needle in &needles {
            assert!(!contains(bytes, needle), "{path} holds part of a secret");
        }
    }
}

#[tokio::test]
async fn a_person_adds_a_wallet_and_syncs_it_in_a_browser() {
    let server = Server::start();
    let owner = server.owner().await;
    let key = xpub(92);
    let keys = Keys::new(&key);
    let mut chain = Chain::new();
    let first = chain.pay_from_outside(keys.receive(0), 100_000, 1);
    chain.mine(vec![first]);
    let second = chain.pay_from_outside(keys.receive(3), 23_000, 2);
    chain.mine(vec![second]);
    let esplora = FakeEsplora::start(chain).await;
    let set = server.cli(&["chain", "set", "--esplora", &esplora.url]);
    assert!(set.status.success(), "{}", text(&set.stderr));
    drop(owner);

    let browser = Browser::start(1280, 900, false).await;
    crate::browser::sign_in(&browser, &server).await;
    browser.goto(&server.at("/wallets")).await;
    browser
        .type_into("#add-wallet input[name=name]", "Browser cold")
        .await;
    browser
        .type_into("#add-wallet textarea[name=input]", &zpub(&key))
        .await;
    browser.click("#add-wallet button[type=submit]").await;
    assert!(
        browser
            .wait_until("document.querySelector('#wallet-preview') !== null")
            .await
    );
    let shown = browser
        .script("return Array.from(document.querySelectorAll('#wallet-preview code')).map(c => c.textContent)")
        .await;
    let expected: Vec<String> = (0..5).map(|i| keys.address(i)).collect();
    assert_eq!(shown, json!(expected));
    // Saving starts the first sync, held here at its first request.
    esplora.hold();
    browser
        .click("#wallet-preview form button[type=submit]")
        .await;
    assert!(
        browser
            .wait_until("location.search.endsWith('&started=1')")
            .await
    );
    let status = "document.querySelector('.sync-status').textContent";
    assert!(
        browser
            .wait_until(&format!("{status}.startsWith('Syncing')"))
            .await
    );
    esplora.release();
    assert!(
        browser
            .wait_until(&format!("{status}.startsWith('Last sync')"))
            .await,
        "the page follows the sync to its end"
    );
    let row = browser
        .script("return document.querySelector('tbody tr').innerText")
        .await;
    let row = row.as_str().expect("text").to_string();
    assert!(row.contains("123000"), "{row}");
    assert!(row.contains("2 transactions, 2 new rows"), "{row}");
    crate::browser::assert_clean_console(&browser.console().await);
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_wallets_but_cannot_add_sync_or_label_them() {
    let server = Server::start();
    let owner = server.owner().await;
    crate::wallet_api::add(&owner, "Cold", &zpub(&xpub(96))).await;
    server.add_member(&owner, "vera", "viewer").await;
    let vera = server.login("vera", crate::support::PASSWORD).await;
    let page = vera.get("/wallets").await.text().await.expect("html");
    assert!(page.contains("<td>Cold</td>"), "{page}");
    assert!(
        !page.contains("Sync now") && !page.contains("Add a wallet"),
        "{page}"
    );
    for path in ["/wallets/1/sync", "/wallets/add"] {
        let resp = vera
            .http
            .post(vera.url(path))
            .form(&[("csrf_token", vera.csrf.as_str()), ("token", "x")])
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 403, "{path}");
    }
    for path in ["/wallets/preview", "/wallets/labels"] {
        let form = Form::new()
            .text("csrf_token", vera.csrf.clone())
            .text("kind", "xpub")
            .text("input", zpub(&xpub(96)));
        let resp = vera
            .http
            .post(vera.url(path))
            .multipart(form)
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 403, "{path}");
    }
    let status = vera.get("/api/v1/workspaces/1/wallets/1/sync").await;
    assert_eq!(status.status(), 200);
    let body: serde_json::Value = status.json().await.expect("json");
    assert_eq!(body["phase"], json!("idle"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_wallet_export_is_read_as_one() {
    use reqwest::multipart::Part;
    let server = Server::start();
    let owner = server.owner().await;
    let key = xpub(89);
    let keys = Keys::new(&key);
    let export = format!(
        "{{\"label\": \"Sparrow\", \"blockheight\": 800000, \"descriptor\": \"wpkh({key}/<0;1>/*)\"}}"
    );
    let form = Form::new()
        .text("csrf_token", owner.csrf.clone())
        .text("name", "Exported")
        .text("kind", "xpub")
        .text("input", "")
        .part(
            "file",
            Part::bytes(export.into_bytes()).file_name("wallet.json"),
        );
    let page = owner
        .http
        .post(owner.url("/wallets/preview"))
        .multipart(form)
        .send()
        .await
        .expect("post");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(
        html.contains(&format!("<li><code>{}</code></li>", keys.address(4))),
        "{html}"
    );
}

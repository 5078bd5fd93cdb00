//! The chain source through the API and the Settings page: each kind set
//! by an instance administrator, bad input refused with nothing changed,
//! the RPC password sealed and shown by its last four only; and a wallet
//! added with a source set syncing by itself to its exact balance.

use serde_json::{Value, json};

use crate::fakes::chain::Chain;
use crate::fakes::sources::{RPC_PASSWORD, Source, Via};
use crate::support::{Server, Session};
use crate::wallet_api::finished;
use crate::wallet_secrets::{contains, files};
use crate::wallets::{Keys, xpub, zpub};

const PATH: &str = "/api/v1/instance/chain-source";

/// A chain where wallet `xpub(seed)` received 80,000 sat in block 1.
fn funded(seed: u8) -> Chain {
    let mut chain = Chain::new();
    let paid = chain.pay_from_outside(Keys::new(&xpub(seed)).receive(0), 80_000, seed);
    chain.mine(vec![paid]);
    chain
}

async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.text().await.expect("body");
    (status, serde_json::from_str(&body).expect("json"))
}

/// The value after `flag` in the source's `chain set` arguments.
fn arg(source: &Source, flag: &str) -> String {
    let args = source.set_args();
    let at = args.iter().position(|a| *a == flag).expect("flag");
    args[at + 1].to_string()
}

/// Adds a wallet through the API; it must start its own first sync.
async fn add_and_sync(owner: &Session, name: &str, seed: u8) -> Value {
    let (status, added) = json_of(
        owner
            .post(
                "/api/v1/workspaces/1/wallets",
                json!({"name": name, "kind": "xpub", "input": zpub(&xpub(seed))}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["sync_started"], json!(true), "{added}");
    assert_eq!(added["sync_note"], Value::Null);
    let id = added["id"].as_i64().expect("id");
    let done = finished(owner, id).await;
    assert_eq!(done["phase"], json!("done"), "{done}");
    assert_eq!(done["mode"], json!("full"));
    assert_eq!(done["transactions_found"], json!(1));
    assert_eq!(done["rows_added"], json!(1));
    let (_, list) = json_of(owner.get("/api/v1/workspaces/1/wallets").await).await;
    list.as_array()
        .expect("list")
        .iter()
        .find(|w| w["id"] == json!(id))
        .cloned()
        .expect("listed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_is_set_through_the_api_and_an_added_wallet_syncs_by_itself() {
    let server = Server::start_with(&[("LEDGERSYS_LOG_LEVEL", "trace")]);
    let owner = server.owner().await;

    let esplora = Source::start(Via::Esplora, funded(91)).await;
    let url = arg(&esplora, "--esplora");
    let (status, view) = json_of(
        owner
            .put(PATH, json!({"kind": "esplora", "url": format!("{url}/")}))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["configured"], json!(true));
    assert_eq!(view["kind"], json!("esplora"));
    assert_eq!(view["url"], json!(url), "the trailing slash is dropped");
    let wallet = add_and_sync(&owner, "Esplora wallet", 91).await;
    assert_eq!(wallet["balance_sat"], json!(80_000));
    let page = owner.get("/wallets").await.text().await.expect("html");
    assert!(!page.contains("No chain source is set"), "{page}");

    let electrum = Source::start(Via::ElectrumTls, funded(92)).await;
    let pem = std::fs::read_to_string(arg(&electrum, "--tls-cert")).expect("pem");
    let host_port = arg(&electrum, "--electrum");
    let (status, view) = json_of(
        owner
            .put(
                PATH,
                json!({"kind": "electrum", "host_port": host_port, "tls": true, "tls_cert_pem": pem}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["kind"], json!("electrum"));
    assert_eq!(view["host_port"], json!(host_port));
    assert_eq!(view["tls"], json!(true));
    let pin = view["cert_sha256"].as_str().expect("pinned").to_string();
    assert_eq!(pin.len(), 64);
    let wallet = add_and_sync(&owner, "Electrum wallet", 92).await;
    assert_eq!(wallet["balance_sat"], json!(80_000));
    // The pin itself is taken too, and gives the same source.
    let (status, again) = json_of(
        owner
            .put(
                PATH,
                json!({"kind": "electrum", "host_port": host_port, "tls": true, "tls_cert_sha256": pin.to_uppercase()}),
            )
            .await,
    )
    .await;
    assert_eq!((status, &again), (200, &view));

    let core = Source::start(Via::CorePassword, funded(93)).await;
    let (status, view) = json_of(
        owner
            .put(
                PATH,
                json!({"kind": "core_rpc", "url": arg(&core, "--core-rpc"),
                       "rpc_user": "ledger", "rpc_password": RPC_PASSWORD}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["kind"], json!("core_rpc"));
    assert_eq!(view["core_auth"], json!("user"));
    assert_eq!(view["rpc_user"], json!("ledger"));
    assert_eq!(view["password_last4"], json!("9c2d"));
    assert!(view.get("rpc_password").is_none(), "{view}");
    let wallet = add_and_sync(&owner, "Core wallet", 93).await;
    assert_eq!(wallet["balance_sat"], json!(80_000));
    let (_, got) = json_of(owner.get(PATH).await).await;
    assert_eq!(got, view);
    assert!(!got.to_string().contains(RPC_PASSWORD));

    // Sealed: in no file of the data directory and not in the log.
    let everything = files(&server.data_dir);
    assert!(!everything.is_empty());
    for (path, bytes) in &everything {
        assert!(!contains(bytes, RPC_PASSWORD), "{path} holds the password");
    }
    let log = server.log();
    assert!(!log.is_empty());
    assert!(!log.contains(RPC_PASSWORD), "the log holds the password");

    // Another kind removes the stored password.
    let (status, view) = json_of(
        owner
            .put(PATH, json!({"kind": "esplora", "url": url}))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(view["password_last4"], Value::Null);
    let store = ledgersys::store::Store::open(&server.data_dir)
        .await
        .expect("store");
    assert!(
        store
            .secret("chain.core_rpc_password")
            .await
            .expect("read")
            .is_none()
    );
    let actions: Vec<String> = store
        .audit_log(None, 100)
        .await
        .expect("audit")
        .into_iter()
        .filter(|r| r.action.starts_with("chain."))
        .map(|r| format!("{} {}", r.actor, r.action))
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "owner chain.source_set")
            .count(),
        5,
        "{actions:?}"
    );
    assert!(actions.contains(&"owner chain.rpc_password_set".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_422_and_changes_nothing() {
    let server = Server::start();
    let owner = server.owner().await;
    let (status, before) = json_of(
        owner
            .put(
                PATH,
                json!({"kind": "esplora", "url": "http://10.0.0.2:3002/api"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let cases = [
        (json!({"kind": "gopher"}), "invalid_kind"),
        (json!({"kind": "esplora"}), "missing_field"),
        (json!({"kind": "esplora", "url": "ftp://x"}), "invalid_url"),
        (
            json!({"kind": "electrum", "host_port": "10.0.0.2"}),
            "invalid_host_port",
        ),
        (
            json!({"kind": "electrum", "host_port": "h:99999"}),
            "invalid_host_port",
        ),
        (
            json!({"kind": "electrum", "host_port": "h:1", "tls_cert_sha256": "ab".repeat(32)}),
            "invalid_certificate",
        ),
        (
            json!({"kind": "electrum", "host_port": "h:1", "tls": true, "tls_cert_sha256": "abc"}),
            "invalid_certificate",
        ),
        (
            json!({"kind": "electrum", "host_port": "h:1", "tls": true, "tls_cert_pem": "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----"}),
            "invalid_certificate",
        ),
        (
            json!({"kind": "core_rpc", "url": "https://n:8332", "cookie_file": "/nope"}),
            "invalid_url",
        ),
        (
            json!({"kind": "core_rpc", "url": "http://n:8332", "cookie_file": "/nonexistent/.cookie"}),
            "unusable_cookie",
        ),
        (
            json!({"kind": "core_rpc", "url": "http://n:8332", "rpc_user": "u"}),
            "no_password",
        ),
        (
            json!({"kind": "core_rpc", "url": "http://n:8332", "rpc_user": "a:b", "rpc_password": "secret-pw-1234"}),
            "invalid_user",
        ),
        (
            json!({"kind": "core_rpc", "url": "http://n:8332"}),
            "missing_field",
        ),
    ];
    for (input, code) in cases {
        let (status, refused) = json_of(owner.put(PATH, input.clone()).await).await;
        assert_eq!((status, &refused["code"]), (422, &json!(code)), "{input}");
        assert!(refused["message"].is_string());
        let (_, now) = json_of(owner.get(PATH).await).await;
        assert_eq!(now, before, "{input} changed the source");
    }
    // The CLI refuses the same input with the same message.
    let out = server.cli(&["chain", "set", "--electrum", "10.0.0.2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        crate::support::text(&out.stderr)
            .contains("\"10.0.0.2\" is not HOST:PORT (e.g. 192.168.1.5:50001)")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_form_sets_the_source_for_instance_admins_only() {
    let server = Server::start();
    let owner = server.owner().await;
    server.add_member(&owner, "boss", "owner").await;
    let boss = server.login("boss", crate::support::PASSWORD).await;
    let page = owner.get("/settings").await.text().await.expect("html");
    assert!(page.contains("No chain source is set"), "{page}");
    assert!(page.contains("never asks a"), "{page}");
    let other = boss.get("/settings").await.text().await.expect("html");
    assert!(
        !other.contains("Chain source"),
        "a workspace owner is no instance admin"
    );

    let fields = |s: &Session| {
        vec![
            ("csrf_token", s.csrf.clone()),
            ("kind", "core_rpc".to_string()),
            ("url", "http://10.0.0.2:8332".to_string()),
            ("rpc_user", "ledger".to_string()),
            ("rpc_password", RPC_PASSWORD.to_string()),
        ]
    };
    let refused = boss
        .http
        .post(boss.url("/settings/chain-source"))
        .form(&fields(&boss))
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), 403);
    let no_csrf: Vec<_> = fields(&owner).into_iter().skip(1).collect();
    let refused = owner
        .http
        .post(owner.url("/settings/chain-source"))
        .form(&no_csrf)
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), 403);
    let (_, view) = json_of(owner.get(PATH).await).await;
    assert_eq!(view["configured"], json!(false));

    let saved = owner
        .http
        .post(owner.url("/settings/chain-source"))
        .form(&fields(&owner))
        .send()
        .await
        .expect("post");
    assert_eq!(saved.status(), 200);
    let page = saved.text().await.expect("html");
    assert!(
        page.contains("Bitcoin Core RPC at <code>http://10.0.0.2:8332</code>"),
        "{page}"
    );
    assert!(page.contains("ends in <code>9c2d</code>"), "{page}");
    assert!(!page.contains(RPC_PASSWORD));
    let (_, view) = json_of(owner.get(PATH).await).await;
    assert_eq!(view["url"], json!("http://10.0.0.2:8332"));
    assert_eq!(view["password_last4"], json!("9c2d"));

    // A bad form is refused with the shared message, changing nothing.
    let bad = owner
        .http
        .post(owner.url("/settings/chain-source"))
        .form(&[
            ("csrf_token", owner.csrf.as_str()),
            ("kind", "electrum"),
            ("host_port", "10.0.0.2"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(bad.status(), 422);
    let page = bad.text().await.expect("html");
    assert!(page.contains("is not HOST:PORT"), "{page}");
    assert!(
        page.contains("Save chain source"),
        "the settings page again"
    );
    let (_, again) = json_of(owner.get(PATH).await).await;
    assert_eq!(again, view);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_source_a_wallet_is_added_and_the_answer_says_to_set_one() {
    let server = Server::start();
    let owner = server.owner().await;
    let (status, added) = json_of(
        owner
            .post(
                "/api/v1/workspaces/1/wallets",
                json!({"name": "Cold", "kind": "xpub", "input": zpub(&xpub(94))}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["sync_started"], json!(false));
    assert!(
        added["sync_note"]
            .as_str()
            .expect("note")
            .starts_with("no chain source is set"),
        "{added}"
    );
    let (_, listed) = json_of(owner.get("/api/v1/workspaces/1/wallets").await).await;
    assert_eq!(listed[0]["balance_sat"], json!(0));
    assert_eq!(listed[0]["last_sync"], Value::Null);
    let page = owner.get("/wallets").await.text().await.expect("html");
    assert!(page.contains("No chain source is set"), "{page}");
    assert!(page.contains("href=\"/settings#chain-source\""), "{page}");
    let (status, refused) = json_of(
        owner
            .post("/api/v1/workspaces/1/wallets/1/sync", json!({}))
            .await,
    )
    .await;
    assert_eq!((status, &refused["code"]), (422, &json!("no_chain_source")));
    assert!(
        refused["message"]
            .as_str()
            .expect("message")
            .contains("PUT /api/v1/instance/chain-source"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_file_is_read_only_from_the_node_directories_and_refused_alike_otherwise() {
    let node = tempfile::tempdir().expect("node dir");
    let elsewhere = tempfile::tempdir().expect("elsewhere");
    let cookie = node.path().join(".cookie");
    std::fs::write(
        &cookie,
        format!("__cookie__:{}\n", crate::fakes::sources::COOKIE),
    )
    .expect("cookie");
    let stray = elsewhere.path().join(".cookie");
    std::fs::copy(&cookie, &stray).expect("copy");
    let not_a_cookie = node.path().join("settings.conf");
    std::fs::write(&not_a_cookie, "rpcuser=alice\nrpcpassword=hunter2\n").expect("conf");
    let link = node.path().join("environ");
    std::os::unix::fs::symlink("/proc/self/environ", &link).expect("link");
    let dir = node.path().display().to_string();
    let server = Server::start_with(&[("LEDGERSYS_CHAIN_COOKIE_DIR", dir.as_str())]);
    let owner = server.owner().await;
    let (_, before) = json_of(owner.get(PATH).await).await;

    let mut messages = Vec::new();
    for path in [
        "/etc/passwd".to_string(),
        "/proc/self/environ".to_string(),
        node.path().join("missing").display().to_string(),
        stray.display().to_string(),
        not_a_cookie.display().to_string(),
        link.display().to_string(),
        format!(
            "{dir}/../{}/.cookie",
            elsewhere.path().file_name().expect("n").to_string_lossy()
        ),
    ] {
        let body = json!({"kind": "core_rpc", "url": "http://127.0.0.1:9", "cookie_file": path});
        let (status, refused) = json_of(owner.put(PATH, body).await).await;
        assert_eq!(
            (status, &refused["code"]),
            (422, &json!("unusable_cookie")),
            "{path}"
        );
        let message = refused["message"].as_str().expect("message").to_string();
        assert!(
            !message.contains("root:") && !message.contains("No such file"),
            "{message}"
        );
        messages.push(message);
        let (_, now) = json_of(owner.get(PATH).await).await;
        assert_eq!(now, before, "{path} changed the source");
    }
    assert!(messages.iter().all(|m| *m == messages[0]), "{messages:#?}");
    // The CLI gives the same answer (with its own directories).
    let out = server.cli(&[
        "chain",
        "set",
        "--core-rpc",
        "http://127.0.0.1:9",
        "--cookie-file",
        "/etc/passwd",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        crate::support::text(&out.stderr).contains("cannot use this file as Bitcoin Core's cookie"),
        "{}",
        crate::support::text(&out.stderr)
    );

    // Bitcoin Core's own cookie, in the node's directory, is taken.
    let body = json!({"kind": "core_rpc", "url": "http://127.0.0.1:9", "cookie_file": cookie.display().to_string()});
    let (status, view) = json_of(owner.put(PATH, body).await).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["kind"], json!("core_rpc"));
}

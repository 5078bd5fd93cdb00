//! The chain source as the user meets it: `chain set` refusing bad input,
//! a source that cannot be reached or refuses the sign-in named plainly
//! (exit code, message, and the Wallets page), a TLS certificate that is
//! not the pinned one, and Bitcoin Core's RPC password kept sealed.

use std::sync::{Arc, Mutex};

use crate::fakes::chain::Chain;
use crate::fakes::core_rpc::FakeCore;
use crate::fakes::electrum::FakeElectrum;
use crate::fakes::sources::{RPC_PASSWORD, Source, Via, self_signed};
use crate::support::text;
use crate::wallet_secrets::{contains, files};
use crate::wallets::{Keys, Listed, cli, ok, xpub, zpub};

/// A chain where wallet `xpub(seed)` received 80,000 sat in block 1.
fn funded(seed: u8) -> Chain {
    let mut chain = Chain::new();
    let paid = chain.pay_from_outside(Keys::new(&xpub(seed)).receive(0), 80_000, seed);
    chain.mine(vec![paid]);
    chain
}

#[test]
fn chain_set_refuses_bad_input_with_exit_2() {
    let dir = tempfile::tempdir().expect("temp");
    let data = dir.path().join("data");
    let cookie = dir.path().join(".cookie");
    std::fs::write(
        &cookie,
        format!("__cookie__:{}\n", crate::fakes::sources::COOKIE),
    )
    .expect("cookie");
    let cookie = cookie.display().to_string();
    let missing = dir.path().join("nope").display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--esplora", "ftp://x"], "http:// or https://"),
        (vec!["--electrum", "10.0.0.2"], "not HOST:PORT"),
        (vec!["--electrum", "tcp://10.0.0.2:50001"], "not HOST:PORT"),
        (vec!["--electrum", "h:99999"], "not HOST:PORT"),
        (vec!["--electrum", "h:1", "--tls-cert", &cookie], "--tls"),
        (
            vec!["--electrum", "h:1", "--tls", "--tls-cert", &missing],
            "cannot read",
        ),
        (vec!["--core-rpc", "http://127.0.0.1:8332"], "--cookie-file"),
        (
            vec!["--core-rpc", "https://n:8332", "--cookie-file", &cookie],
            "http://",
        ),
        (
            vec!["--core-rpc", "http://n:8332", "--cookie-file", &missing],
            "cannot use this file as Bitcoin Core's cookie",
        ),
        (
            vec!["--core-rpc", "http://n:8332", "--rpc-user", "u"],
            "--rpc-password-file",
        ),
        (
            vec![
                "--core-rpc",
                "http://n:8332",
                "--rpc-user",
                "u",
                "--rpc-password-file",
                &missing,
            ],
            "cannot read",
        ),
        (
            vec!["--esplora", "http://a", "--electrum", "h:1"],
            "cannot be used with",
        ),
        (vec![], "required"),
    ];
    for (args, message) in cases {
        let mut all = vec!["chain", "set"];
        all.extend(&args);
        let out = cli(&data, &all);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(message),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_source_is_named_and_the_wallets_page_says_so() {
    let server = crate::support::Server::start();
    let owner = server.owner().await;
    let key = xpub(81);
    ok(&server.cli(&["wallet", "add", "--name", "Cold", "--xpub", &zpub(&key)]));
    let dir = tempfile::tempdir().expect("temp");
    let cookie = dir.path().join(".cookie");
    std::fs::write(
        &cookie,
        format!("__cookie__:{}\n", crate::fakes::sources::COOKIE),
    )
    .expect("cookie");
    let cookie = cookie.display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--electrum", "127.0.0.1:9"],
            "error: Cold: the Electrum server at 127.0.0.1:9 cannot be used: ",
        ),
        (
            vec!["--electrum", "127.0.0.1:9", "--tls"],
            "error: Cold: the Electrum server at 127.0.0.1:9 (TLS) cannot be used: ",
        ),
        (
            vec!["--core-rpc", "http://127.0.0.1:9", "--cookie-file", &cookie],
            "error: Cold: Bitcoin Core's RPC at http://127.0.0.1:9 cannot be used: ",
        ),
    ];
    for (args, message) in cases {
        let mut all = vec!["chain", "set"];
        all.extend(&args);
        ok(&server.cli(&all));
        let failed = server.cli(&["wallet", "sync"]);
        assert_eq!(failed.status.code(), Some(1), "{args:?}");
        assert!(
            text(&failed.stderr).contains(message),
            "{}",
            text(&failed.stderr)
        );
        let page = owner.get("/wallets").await.text().await.expect("page");
        assert!(page.contains("Chain source unreachable."), "{page}");
        assert!(page.contains(&message["error: Cold: ".len()..]), "{page}");
        let status: serde_json::Value = owner
            .get("/api/v1/workspaces/1/wallets/sync-status")
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(status["unreachable"], true, "{status}");
        assert_eq!(status["wallet"], "Cold", "{status}");
        let said = status["message"].as_str().expect("message");
        assert!(
            said.starts_with(&message["error: Cold: ".len()..]),
            "{status}"
        );
    }

    // Once a sync works again, the page stops warning.
    let source = Source::start(Via::Electrum, funded(81)).await;
    ok(&server.cli(&source.set_args()));
    let synced = ok(&server.cli(&["wallet", "sync"]));
    assert!(
        synced.contains("Cold: 1 transactions, balance 80000 sat"),
        "{synced}"
    );
    let page = owner.get("/wallets").await.text().await.expect("page");
    assert!(!page.contains("Chain source unreachable"), "{page}");
    let status: serde_json::Value = owner
        .get("/api/v1/workspaces/1/wallets/sync-status")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        status,
        serde_json::json!({"unreachable": false, "failed_at": null, "wallet": null, "message": null})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_sign_in_or_certificate_is_said_plainly() {
    let chain = Arc::new(Mutex::new(funded(82)));
    let dir = tempfile::tempdir().expect("temp");
    let data = dir.path().join("data");
    ok(&cli(
        &data,
        &[
            "wallet",
            "add",
            "--name",
            "Cold",
            "--xpub",
            &zpub(&xpub(82)),
        ],
    ));

    // A wrong RPC password.
    let core = FakeCore::start(chain.clone(), "ledger", "right-password-1234").await;
    let wrong = dir.path().join("wrong.pass");
    std::fs::write(&wrong, "wrong-password-5678\n").expect("write");
    let wrong = wrong.display().to_string();
    let set = [
        "chain",
        "set",
        "--core-rpc",
        &core.url,
        "--rpc-user",
        "ledger",
    ];
    ok(&cli(
        &data,
        &[&set[..], &["--rpc-password-file", &wrong]].concat(),
    ));
    let failed = cli(&data, &["wallet", "sync"]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        text(&failed.stderr).contains("the node refused the RPC user or password (HTTP 401)"),
        "{}",
        text(&failed.stderr)
    );

    // The cookie file is read at every sync: a node restart rotates it.
    let cookie_core = FakeCore::start(
        chain.clone(),
        "__cookie__",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    )
    .await;
    let cookie = dir.path().join(".cookie");
    std::fs::write(
        &cookie,
        "__cookie__:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    )
    .expect("cookie");
    let cookie_arg = cookie.display().to_string();
    ok(&cli(
        &data,
        &[
            "chain",
            "set",
            "--core-rpc",
            &cookie_core.url,
            "--cookie-file",
            &cookie_arg,
        ],
    ));
    let synced = ok(&cli(&data, &["wallet", "sync"]));
    assert!(synced.contains("balance 80000 sat"), "{synced}");
    std::fs::write(
        &cookie,
        "__cookie__:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    )
    .expect("cookie");
    let failed = cli(&data, &["wallet", "sync"]);
    assert!(
        text(&failed.stderr).contains("HTTP 401"),
        "{}",
        text(&failed.stderr)
    );

    // TLS: a certificate that is not the pinned one, and a self-signed
    // certificate checked against the public authorities.
    let served = dir.path().join("served");
    let other = dir.path().join("other");
    for d in [&served, &other] {
        std::fs::create_dir_all(d).expect("mkdir");
        self_signed(d);
    }
    let electrum =
        FakeElectrum::start_tls(chain, &served.join("cert.pem"), &served.join("key.pem")).await;
    let pin = other.join("cert.pem").display().to_string();
    let host = &electrum.host_port;
    ok(&cli(
        &data,
        &[
            "chain",
            "set",
            "--electrum",
            host,
            "--tls",
            "--tls-cert",
            &pin,
        ],
    ));
    let failed = cli(&data, &["wallet", "sync"]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        text(&failed.stderr).contains("is not the pinned one"),
        "{}",
        text(&failed.stderr)
    );
    ok(&cli(&data, &["chain", "set", "--electrum", host, "--tls"]));
    let failed = cli(&data, &["wallet", "sync"]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        text(&failed.stderr).contains("TLS handshake failed"),
        "{}",
        text(&failed.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rpc_password_is_sealed_and_shown_by_its_last_four_only() {
    let source = Source::start(Via::CorePassword, funded(83)).await;
    let dir = tempfile::tempdir().expect("temp");
    let data = dir.path().join("data");
    let logged = |args: &[&str]| cli(&data, &[&["--log-level", "trace"], args].concat());
    let set = logged(&source.set_args());
    let said = ok(&set);
    assert!(
        said.contains("RPC password stored sealed (ends in 9c2d)"),
        "{said}"
    );
    ok(&logged(&[
        "wallet",
        "add",
        "--name",
        "Cold",
        "--xpub",
        &zpub(&xpub(83)),
    ]));
    let synced = logged(&["wallet", "sync"]);
    assert!(ok(&synced).contains("Cold: 1 transactions, balance 80000 sat"));
    let listed = ok(&cli(&data, &["wallet", "list", "--format", "json"]));
    let listed: Vec<Listed> = serde_json::from_str(&listed).expect("json");
    assert_eq!(listed[0].balance_sat, 80_000);
    for out in [&set, &synced] {
        assert!(!contains(&out.stdout, RPC_PASSWORD));
        assert!(!contains(&out.stderr, RPC_PASSWORD));
    }
    let everything = files(&data);
    assert!(!everything.is_empty());
    for (path, bytes) in &everything {
        assert!(!contains(bytes, RPC_PASSWORD), "{path} holds the password");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bitcoin_core_is_read_from_the_wallets_birthday() {
    let mut chain = funded(84);
    let keys = Keys::new(&xpub(84));
    let later = chain.pay_from_outside(keys.receive(1), 5_000, 85);
    chain.mine(Vec::new());
    chain.mine(vec![later]);
    let hashes: Vec<String> = chain
        .blocks
        .iter()
        .map(|b| b.block_hash().to_string())
        .collect();
    let source = Source::start(Via::CoreCookie, chain).await;
    let dir = tempfile::tempdir().expect("temp");
    let data = dir.path().join("data");
    ok(&cli(&data, &source.set_args()));
    let key = zpub(&xpub(84));
    ok(&cli(
        &data,
        &[
            "wallet",
            "add",
            "--name",
            "Late",
            "--xpub",
            &key,
            "--birthday",
            "3",
        ],
    ));
    let synced = ok(&cli(&data, &["wallet", "sync"]));
    // The receive in block 1 is before the birthday: not read, not booked.
    assert!(
        synced.contains("Late: 1 transactions, balance 5000 sat"),
        "{synced}"
    );
    let requests = source.chain.lock().expect("lock").requests.clone();
    let fetched: Vec<usize> = (0..hashes.len())
        .filter(|h| {
            requests
                .iter()
                .any(|r| r == &format!("core getblock {}", hashes[*h]))
        })
        .collect();
    assert_eq!(fetched, [0, 3], "{requests:?}");
}

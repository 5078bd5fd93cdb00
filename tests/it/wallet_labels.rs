//! BIP-329 labels: imported through the API and the page (checked whole,
//! bad lines named, nothing stored unless all are good), shown as the notes
//! of the rows they name, keyword labels classifying unexplained rows, and
//! exported with the notes Ledgersys has.

use serde_json::{Value, json};

use crate::fakes::esplora::{Chain, FakeEsplora};
use crate::support::{Server, Session, text};
use crate::wallet_api::{add, finished};
use crate::wallets::{Keys, master, xpub, zpub};
use ledgersys::ledger::Kind;

async fn post_labels(owner: &Session, file: &str) -> (u16, Value) {
    let resp = owner
        .http
        .post(owner.url("/api/v1/workspaces/1/labels"))
        .header("x-csrf-token", &owner.csrf)
        .header("content-type", "application/octet-stream")
        .body(file.to_string())
        .send()
        .await
        .expect("post");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

async fn export(owner: &Session) -> String {
    owner
        .get("/api/v1/workspaces/1/labels")
        .await
        .text()
        .await
        .expect("text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_become_notes_classify_unexplained_rows_and_export_with_the_notes() {
    let server = Server::start();
    let owner = server.owner().await;
    let key = xpub(97);
    let keys = Keys::new(&key);
    let mut chain = Chain::new();
    let invoice = chain.pay_from_outside(keys.receive(0), 400_000, 1);
    chain.mine(vec![invoice.clone()]);
    let other = chain.pay_from_outside(keys.receive(1), 50_000, 2);
    chain.mine(vec![other.clone()]);
    let esplora = FakeEsplora::start(chain).await;
    let set = server.cli(&["chain", "set", "--esplora", &esplora.url]);
    assert!(set.status.success(), "{}", text(&set.stderr));
    // The add starts the first sync.
    let id = add(&owner, "Cold", &zpub(&key)).await;
    finished(&owner, id).await;
    // An exchange row with a txid and a note of its own.
    let exchange_txid = "ab".repeat(32);
    owner
        .import_csv(&format!(
            "timestamp,type,account,btc,fiat_value,fiat_currency,txid,note\n\
             2020-01-01T00:00:00Z,buy,exchange,1,10000,USD,{exchange_txid},first coins\n"
        ))
        .await;

    let invoice_txid = invoice.compute_txid().to_string();
    let other_txid = other.compute_txid().to_string();
    let file = format!(
        "{{\"type\":\"tx\",\"ref\":\"{invoice_txid}\",\"label\":\"Income: March invoice\",\"origin\":\"wpkh([d34db33f/84'/0'/0'])\"}}\n\
         {{\"type\":\"tx\",\"ref\":\"{}\",\"label\":\"from Bob\"}}\n\
         {{\"type\":\"addr\",\"ref\":\"{}\",\"label\":\"Invoices\"}}\n\
         {{\"type\":\"output\",\"ref\":\"{invoice_txid}:0\",\"label\":\"\",\"spendable\":false}}\n",
        other_txid.to_uppercase(),
        keys.address(0)
    );

    // One bad line: nothing is stored.
    let bad = format!("{file}{{\"type\":\"tx\",\"ref\":\"nope\",\"label\":\"x\"}}\nnot json\n");
    let (status, refused) = post_labels(&owner, &bad).await;
    assert_eq!(status, 422);
    assert_eq!(refused["code"], json!("invalid_labels"));
    let message = refused["message"].as_str().expect("message");
    assert!(
        message.contains("line 5: a tx label's \"ref\" is a txid"),
        "{message}"
    );
    assert!(message.contains("line 6: not a JSON object"), "{message}");
    let before = export(&owner).await;
    assert_eq!(
        before,
        format!("{{\"type\":\"tx\",\"ref\":\"{exchange_txid}\",\"label\":\"first coins\"}}\n"),
        "only the exchange row's note"
    );

    let (status, done) = post_labels(&owner, &file).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done, json!({"labels": 4, "changed": 4, "classified": 1}));
    let (_, again) = post_labels(&owner, &file).await;
    assert_eq!(again, json!({"labels": 4, "changed": 0, "classified": 0}));

    let store = ledgersys::store::Store::open(&server.data_dir)
        .await
        .expect("store");
    let loaded = ledgersys::review::load(&store, ledgersys::store::WorkspaceId(1))
        .await
        .expect("book");
    let view: Vec<(Kind, i64, Option<&str>)> = loaded
        .book
        .rows
        .iter()
        .filter(|r| r.account == "Cold")
        .map(|r| (r.kind, r.btc.0, r.note.as_deref()))
        .collect();
    assert_eq!(
        view,
        vec![
            (Kind::Income, 400_000, Some("Income: March invoice")),
            (Kind::Deposit, 50_000, Some("from Bob")),
        ]
    );

    let exported = export(&owner).await;
    let lines: Vec<Value> = exported
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 5, "{exported}");
    assert!(lines.contains(&json!({"type": "tx", "ref": invoice_txid, "label": "Income: March invoice", "origin": "wpkh([d34db33f/84'/0'/0'])"})));
    assert!(lines.contains(&json!({"type": "tx", "ref": other_txid, "label": "from Bob"})));
    assert!(lines.contains(&json!({"type": "output", "ref": format!("{invoice_txid}:0"), "label": "", "spendable": false})));
    assert!(lines.contains(&json!({"type": "tx", "ref": exchange_txid, "label": "first coins"})));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_imports_and_exports_labels_and_refuses_bad_files_and_secrets() {
    use reqwest::multipart::{Form, Part};
    let server = Server::start();
    let owner = server.owner().await;
    let upload = |file: String| {
        Form::new().text("csrf_token", owner.csrf.clone()).part(
            "file",
            Part::bytes(file.into_bytes()).file_name("labels.jsonl"),
        )
    };
    let txid = "cd".repeat(32);
    let good = format!("{{\"type\":\"tx\",\"ref\":\"{txid}\",\"label\":\"rent\"}}\n");
    let resp = owner
        .http
        .post(owner.url("/wallets/labels"))
        .multipart(upload(good.clone()))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200);
    assert!(
        resp.url()
            .as_str()
            .ends_with("/wallets?labels=1&classified=0")
    );
    let html = resp.text().await.expect("html");
    assert!(html.contains("Imported 1 labels"), "{html}");
    let file = owner.get("/wallets/labels.jsonl").await;
    assert_eq!(file.status(), 200);
    assert_eq!(file.text().await.expect("text"), good);

    let resp = owner
        .http
        .post(owner.url("/wallets/labels"))
        .multipart(upload("{\"type\":\"tx\"}\n".into()))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.expect("html");
    assert!(
        html.contains("Nothing was stored. line 1: &quot;ref&quot; is missing"),
        "{html}"
    );

    let xprv = master(98).to_string();
    let secret = format!("{{\"type\":\"xpub\",\"ref\":\"{xprv}\",\"label\":\"oops\"}}\n");
    let (status, refused) = post_labels(&owner, &secret).await;
    assert_eq!(
        (status, &refused["code"]),
        (422, &json!("private_material"))
    );
    assert!(!refused.to_string().contains(&xprv[4..40]));
    assert_eq!(export(&owner).await, good, "nothing more was stored");
}

#[test]
fn the_command_line_imports_and_exports_labels() {
    use crate::wallets::{cli, ok};
    let temp = tempfile::tempdir().expect("temp");
    let data = temp.path().join("data");
    ok(&cli(
        &data,
        &[
            "wallet",
            "add",
            "--name",
            "Cold",
            "--xpub",
            &zpub(&xpub(99)),
        ],
    ));
    let file = temp.path().join("labels.jsonl");
    let txid = "ef".repeat(32);
    let line = format!("{{\"type\":\"tx\",\"ref\":\"{txid}\",\"label\":\"gift: from Ana\"}}\n");
    std::fs::write(&file, &line).expect("write");
    let done = ok(&cli(
        &data,
        &["wallet", "labels", "import", file.to_str().expect("path")],
    ));
    assert_eq!(
        done,
        "1 labels read, 1 new or changed, 0 transactions classified\n"
    );
    assert_eq!(ok(&cli(&data, &["wallet", "labels", "export"])), line);
    std::fs::write(&file, "{\"type\":\"tx\",\"ref\":\"x\"}\n").expect("write");
    let refused = cli(
        &data,
        &["wallet", "labels", "import", file.to_str().expect("path")],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).starts_with("line 1: a tx label's \"ref\" is a txid"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(ok(&cli(&data, &["wallet", "labels", "export"])), line);
}

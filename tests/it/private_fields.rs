//! Free text that is stored is checked by one shared validator: a seed
//! however spelt (hyphens, run together, CamelCase, four-letter
//! abbreviations) or an extended private key is refused with 422
//! `private_material`, an over-long field with 422 `too_long`, and an
//! import holding either anywhere is refused whole with the line number,
//! leaving nothing of it in the data directory.

use bip39::{Language, Mnemonic};
use bitcoin::Network;
use bitcoin::bip32::Xpriv;
use serde_json::{Value, json};

use crate::imports::import;
use crate::support::{Server, Session};
use crate::wallet_secrets::{contains, files};
use crate::wallets::xpub;

fn phrase(entropy: &[u8]) -> Vec<String> {
    Mnemonic::from_entropy_in(Language::English, entropy)
        .expect("mnemonic")
        .words()
        .map(str::to_string)
        .collect()
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// An extended private key with SLIP-132 `zprv` version bytes.
fn zprv() -> String {
    let key = Xpriv::new_master(Network::Bitcoin, &[42u8; 32]).expect("master");
    let mut bytes = key.encode();
    bytes[..4].copy_from_slice(&[0x04, 0xb2, 0x43, 0x0c]);
    let text = bitcoin::base58::encode_check(&bytes);
    assert!(text.starts_with("zprv"));
    text
}

async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

async fn add_wallet(owner: &Session, name: &str) -> (u16, Value) {
    let key = xpub(3).to_string();
    answer(
        owner
            .post(
                "/api/v1/workspaces/1/wallets",
                json!({"name": name, "kind": "xpub", "input": key}),
            )
            .await,
    )
    .await
}

/// Neither the data directory (database, WAL, logs) nor the server's log
/// holds `needle`.
fn nowhere(server: &Server, needle: &str) {
    for (path, content) in files(&server.data_dir) {
        assert!(!contains(&content, needle), "{needle:?} is in {path}");
    }
    assert!(!server.log().contains(needle), "{needle:?} is in the log");
}

#[tokio::test]
async fn every_spelling_of_a_seed_as_a_wallet_workspace_or_token_name_is_refused() {
    let server = Server::start();
    let owner = server.owner().await;
    let words = phrase(&[0x3cu8; 16]);
    let short: Vec<String> = words.iter().map(|w| w.chars().take(4).collect()).collect();
    let spellings = [
        ("hyphens", words.join("-")),
        ("run together", words.concat()),
        (
            "CamelCase",
            words.iter().map(|w| capitalised(w)).collect::<String>(),
        ),
        ("abbreviated", short.join(" ")),
        ("abbreviated with hyphens", short.join("-")),
    ];
    for (spelling, name) in &spellings {
        let (status, body) = add_wallet(&owner, name).await;
        assert_eq!(status, 422, "{spelling}: {body}");
        assert_eq!(body["code"], "private_material", "{spelling}");
        let message = body["message"].as_str().expect("message");
        assert!(message.contains("BIP-39 seed phrase"), "{message}");
        assert!(!message.contains(&words[1]), "{message}");
    }
    let (status, body) = answer(
        owner
            .post("/api/v1/workspaces", json!({"name": spellings[0].1}))
            .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("private_material"))
    );
    let (status, body) = answer(
        owner
            .post(
                "/api/v1/workspaces/1/tokens",
                json!({"name": spellings[2].1, "role": "viewer"}),
            )
            .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("private_material"))
    );

    // Ordinary names pass, and nothing refused was kept.
    let (status, body) = add_wallet(&owner, "paid back for the pizza and the coffee").await;
    assert_eq!(status, 201, "{body}");
    let (_, wallets) = answer(owner.get("/api/v1/workspaces/1/wallets").await).await;
    assert_eq!(wallets.as_array().map(Vec::len), Some(1), "{wallets}");
    for (_, name) in &spellings {
        nowhere(&server, name);
    }
}

#[tokio::test]
async fn a_username_spelling_a_seed_in_abbreviations_is_refused_at_setup() {
    let server = Server::start();
    let short: Vec<String> = phrase(&[0x3cu8; 16])
        .iter()
        .map(|w| w.chars().take(4).collect())
        .collect();
    let username = short.join("-");
    assert!(username.len() <= 64, "it fits the old limit: {username}");
    let setup = |username: String| {
        crate::support::client()
            .post(server.at("/api/v1/setup"))
            .json(&json!({
                "setup_token": server.setup_token(),
                "username": username,
                "password": "a long and unusual passphrase 42",
            }))
            .send()
    };
    let (status, body) = answer(setup(username.clone()).await.expect("setup")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("private_material")),
        "{body}"
    );
    nowhere(&server, &username);
    let (status, body) = answer(setup("w".repeat(65)).await.expect("setup")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("too_long")),
        "{body}"
    );
}

#[tokio::test]
async fn over_long_names_are_refused_with_too_long() {
    let server = Server::start();
    let owner = server.owner().await;
    let (status, body) = add_wallet(&owner, &"w".repeat(101)).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "too_long");
    assert_eq!(
        body["message"],
        "the wallet name is too long: at most 100 characters"
    );
    let (status, body) = add_wallet(&owner, &"w".repeat(100)).await;
    assert_eq!(status, 201, "{body}");

    // The mail settings and an administrator's reason for opening a
    // workspace are stored too, and bounded the same way.
    let (status, body) = answer(
        owner
            .put(
                "/api/v1/instance/smtp",
                json!({"host": "h".repeat(101), "port": 25, "security": "none", "from": "a@example.org"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("at most 100"),
        "{body}"
    );
    let (status, body) = answer(
        owner
            .post(
                "/api/v1/workspaces/1/access",
                json!({"reason": "r".repeat(1001)}),
            )
            .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("too_long")),
        "{body}"
    );
}

const GENERIC: &str = "id,timestamp,type,account,btc,fiat_value,fiat_currency,fee_btc,fee_fiat,to_account,note\n\
b1,2020-01-01T12:00:00Z,buy,exchange,1,10000,USD,,,,paid back for the pizza and the coffee\n";

/// Refused whole with one error naming `line`; nothing stored.
async fn refused(owner: &Session, query: &str, file: String, line: u64, what: &str) {
    let (status, body) = answer(import(owner, 1, query, file.into_bytes()).await).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "file_refused");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(body["errors"][0]["line"], line, "{body}");
    let message = body["errors"][0]["message"].as_str().expect("message");
    assert!(message.contains(what), "{message}");
    let summary: Value = owner
        .get("/api/v1/workspaces/1/reports/summary?jurisdiction=us")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(summary["years"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn an_import_with_a_seed_or_a_zprv_in_a_note_is_refused_with_its_line() {
    let server = Server::start();
    let owner = server.owner().await;
    let seed = phrase(&[0x77u8; 32]).join(" ");
    let zprv = zprv();

    // Generic CSV: the key is on line 3, after an ordinary note.
    let generic =
        format!("{GENERIC}s1,2021-03-01T12:00:00Z,sell,exchange,0.5,45000,USD,,,,backup {zprv}\n");
    let query = "file_name=history.csv&format=generic";
    refused(
        &owner,
        query,
        generic,
        3,
        "the note: the input contains an extended private key",
    )
    .await;
    let hyphens = format!(
        "{GENERIC}s1,2021-03-01T12:00:00Z,sell,exchange,0.5,45000,USD,,,,{}\n",
        seed.replace(' ', "-")
    );
    refused(&owner, query, hyphens, 3, "BIP-39 seed phrase").await;
    let long = format!(
        "{GENERIC}s1,2021-03-01T12:00:00Z,sell,exchange,0.5,45000,USD,,,,{}\n",
        "n".repeat(1001)
    );
    refused(
        &owner,
        query,
        long,
        3,
        "the note is too long: at most 1000 characters",
    )
    .await;

    // An exchange format: Sparrow's label becomes the note.
    let sparrow = format!(
        "Date (UTC),Label,Value,Balance,Fee,Value (USD),Txid\n\
         2024-01-02 10:00:00,from exchange,0.50000000,0.50000000,,21000.00,{a}\n\
         2024-01-20 12:30:00,{seed},-0.10002000,0.39998000,0.00002000,-4100.82,{b}\n",
        a = "a1".repeat(32),
        b = "b2".repeat(32),
    );
    refused(
        &owner,
        "file_name=sparrow.csv",
        sparrow,
        3,
        "BIP-39 seed phrase",
    )
    .await;

    // The same files without the secrets import: no false positive.
    let (status, body) = answer(
        import(
            &owner,
            1,
            "file_name=history.csv",
            GENERIC.as_bytes().to_vec(),
        )
        .await,
    )
    .await;
    assert_eq!((status, body["added"].as_u64()), (200, Some(1)), "{body}");

    let words: Vec<&str> = seed.split(' ').collect();
    nowhere(&server, &zprv[4..40]);
    nowhere(&server, &words[..3].join(" "));
    nowhere(&server, &words[..3].join("-"));
}
